/**
 * Comments on cells: a badge on each cell (the count of open comments; a faint "+" on hover for
 * none) that opens the cell's threads under it, with replies, resolve / reopen (editors) and a
 * new thread; and a side panel listing every thread. Threads are keyed by cell id, so a comment
 * follows its cell when it moves; one whose cell is gone is listed "on a deleted cell".
 */
import { type ChatMessage, commentCounts, type Draft, type Thread, threads } from '../model/chat'
import { composer, messageRow, type MessageRowOptions } from './chatPanel'
import { h } from './dom'

export interface CommentsOptions {
  /** The cells' list (their direct parent): new cell elements (a cell moved by someone comes back as a new one) get their badge. */
  cellsRoot: HTMLElement
  cellElement(cellId: string): HTMLElement | null
  cellIds(): string[]
  cellNumber(cellId: string): number
  select(cellId: string): void
  send(draft: Draft): Promise<void>
  /** Editors only. */
  resolve: ((rootId: string, resolved: boolean) => void) | null
  row: MessageRowOptions
}

export interface Comments {
  /** The side panel listing the threads. */
  readonly panel: HTMLElement
  update(messages: ChatMessage[]): void
  open(cellId: string): void
}

export function comments(options: CommentsOptions): Comments {
  let all: Thread[] = []
  let messages: ChatMessage[] = []
  let openCell: string | null = null
  let openKey = ''
  const box = h('div', { class: 'cell-comments', role: 'region', 'aria-label': 'Comments on this cell' })
  const replyInputs = new Map<string, ReturnType<typeof composer>>()
  const newThread = composer({
    placeholder: 'Comment on this cell…', label: 'Comment',
    send: async (text) => {
      if (openCell) await options.send({ text, cell_id: openCell })
    },
  })

  const list = h('ul', { class: 'comments-list' })
  const empty = h('p', { class: 'panel-empty' }, 'No comments yet: the bubble at the bottom right of a cell starts one.')
  const showResolved = h('input', { type: 'checkbox', class: 'comments-show-resolved' })
  const panel = h('section', { class: 'panel comments-panel', 'aria-label': 'Comments' },
    h('h2', {}, 'Comments', h('label', { class: 'comments-filter' }, showResolved, 'resolved')),
    empty, list)
  showResolved.addEventListener('change', () => drawList())

  const where = (t: Thread): string => {
    if (t.onDeletedCell) return 'on a deleted cell'
    return `cell ${options.cellNumber(t.cellId)}`
  }

  function drawList(): void {
    const shown = all.filter((t) => showResolved.checked || !t.resolved)
    empty.hidden = shown.length > 0
    list.replaceChildren(...shown.map((t) => h('li', {
      class: 'comments-item' + (t.resolved ? ' resolved' : '') + (t.onDeletedCell ? ' deleted' : ''),
      'data-thread-id': t.root.id,
    },
      t.onDeletedCell
        ? h('span', { class: 'comment-deleted-tag' }, 'on a deleted cell')
        : h('button', { type: 'button', class: 'link', onclick: () => openAndShow(t.cellId) }, where(t)),
      ' ',
      h('span', { class: 'chat-name' }, t.root.by.name),
      t.replies.length ? ` · ${t.replies.length} ${t.replies.length === 1 ? 'reply' : 'replies'}` : '',
      t.resolved ? h('span', { class: 'comment-resolved-tag' }, ' · resolved') : null,
      h('div', { class: 'comments-item-text' }, t.root.hidden ? 'hidden by an editor' : t.root.text),
    )))
  }

  function threadView(t: Thread): HTMLElement {
    let reply = replyInputs.get(t.root.id)
    if (!reply) {
      reply = composer({ placeholder: 'Reply…', label: 'Reply', send: (text) => options.send({ text, reply_to: t.root.id }) })
      replyInputs.set(t.root.id, reply)
    }
    const resolve = options.resolve
    return h('div', { class: 'comment-thread' + (t.resolved ? ' resolved' : ''), 'data-thread-id': t.root.id },
      messageRow(t.root, options.row, 'div'),
      t.replies.length ? h('div', { class: 'comment-replies' }, ...t.replies.map((r) => messageRow(r, options.row, 'div'))) : null,
      h('div', { class: 'comment-thread-actions' },
        t.resolved ? h('span', { class: 'comment-resolved-tag' }, 'Resolved') : null,
        resolve
          ? h('button', { type: 'button', class: t.resolved ? 'comment-reopen' : 'comment-resolve', onclick: () => resolve(t.root.id, !t.resolved) },
            t.resolved ? 'Reopen' : 'Resolve')
          : null),
      t.resolved ? null : reply.el,
    )
  }

  function drawBox(): void {
    if (openCell === null) return
    const mine = all.filter((t) => t.cellId === openCell)
    const key = JSON.stringify([options.cellNumber(openCell), mine])
    const cell = options.cellElement(openCell)
    if (!cell) {
      box.remove()
      return
    }
    if (box.parentElement !== cell) cell.append(box)
    if (key === openKey) return
    openKey = key
    // Keep what someone is typing (and where) across a redraw.
    const active = document.activeElement
    const caret = active instanceof HTMLTextAreaElement ? [active.selectionStart, active.selectionEnd] as const : null
    box.replaceChildren(
      h('div', { class: 'cell-comments-head' },
        `Comments on cell ${options.cellNumber(openCell)}`,
        h('span', { class: 'spacer' }),
        h('button', { type: 'button', class: 'link cell-comments-close', onclick: () => close() }, 'Close')),
      ...mine.map(threadView),
      newThread.el,
    )
    if (active instanceof HTMLTextAreaElement && box.contains(active) && document.activeElement !== active) {
      active.focus()
      if (caret) active.setSelectionRange(caret[0], caret[1])
    }
  }

  function close(): void {
    openCell = null
    openKey = ''
    box.remove()
  }

  function badges(): void {
    const counts = commentCounts(all)
    for (const cell of options.cellsRoot.querySelectorAll<HTMLElement>('.cell[data-cell-id]')) {
      const id = cell.dataset.cellId ?? ''
      let badge = cell.querySelector<HTMLButtonElement>(':scope > .cell-comment-badge')
      if (!badge) {
        badge = h('button', { type: 'button', class: 'cell-comment-badge' })
        badge.addEventListener('mousedown', (e) => e.stopPropagation())
        badge.addEventListener('click', (e) => {
          e.stopPropagation()
          if (openCell === id) close()
          else openAndShow(id, false)
        })
        cell.append(badge)
      }
      const c = counts.get(id)
      const text = !c ? '+' : c.open ? String(c.open) : `✓ ${c.resolved}`
      // one element per cell, its bubble drawn by the style sheet: every cell has a badge
      if (badge.textContent !== text) badge.textContent = text
      badge.classList.toggle('empty', !c)
      badge.classList.toggle('has-open', !!c && c.open > 0)
      const title = !c ? 'Comment on this cell' : `${c.threads} thread${c.threads === 1 ? '' : 's'} (${c.resolved} resolved) — open`
      if (badge.title !== title) {
        // set only when it changes: an attribute set has Chromium look at the element's style again
        badge.title = title
        badge.setAttribute('aria-label', title)
      }
      if (openCell === id && box.parentElement !== cell) cell.append(box)
    }
  }

  function openAndShow(cellId: string, scroll = true): void {
    openCell = cellId
    openKey = ''
    options.select(cellId)
    drawBox()
    if (scroll) options.cellElement(cellId)?.scrollIntoView({ block: 'center' })
    box.querySelector<HTMLTextAreaElement>('.comment-thread:not(.resolved) textarea, textarea')?.focus({ preventScroll: true })
  }

  function refresh(): void {
    all = threads(messages, new Set(options.cellIds()))
    badges()
    drawBox()
    drawList()
  }
  // At once (a microtask after the cells went in), not at the next frame: the badges are then
  // in the page's first layout instead of laying the whole notebook out a second time.
  new MutationObserver(() => badges()).observe(options.cellsRoot, { childList: true })

  return {
    panel,
    update(next) {
      messages = next
      refresh()
    },
    open: (cellId) => openAndShow(cellId),
  }
}
