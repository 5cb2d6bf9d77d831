/**
 * The conversation in playback: a timeline row with a marker per message (chat and cell
 * comments) at its moment, and a panel with the messages as the document held them at the moment
 * shown (the recording replays the document, `chat` array included). Read-only.
 */
import { type ChatMessage, chatMessages, messagesOf, readMessages, threads } from '../model/chat'
import type { NotebookSession } from '../model/session'
import { chatPanel, messageRow } from '../view/chatPanel'
import { h } from '../view/dom'
import { fraction, type Summary } from './model'

/** When to show a message: its `at`, inside the recording. */
export function messageMoment(m: Pick<ChatMessage, 'at'>, summary: Pick<Summary, 'start' | 'end'>): number {
  return Math.min(summary.end, Math.max(summary.start, m.at))
}

/** A seek that lands just after a message was written (the hub logs it a moment after `at`). */
export function seekFor(m: Pick<ChatMessage, 'at'>, summary: Pick<Summary, 'start' | 'end'>): number {
  return Math.min(summary.end, messageMoment(m, summary) + 1)
}

function label(m: ChatMessage): string {
  const where = m.cell_id ? ' (comment)' : ''
  const text = m.hidden ? 'hidden by an editor' : m.text.length > 80 ? `${m.text.slice(0, 80)}…` : m.text
  return `${m.by.name}${where}: ${text}`
}

export interface ChatTrackActions {
  seek(t: number): void
  session(): NotebookSession
  select(cellId: string): void
}

export interface ChatTrack {
  /** The timeline row (under the activity rows). */
  readonly row: HTMLElement
  /** The side panel. */
  readonly panel: HTMLElement
  /** Markers for every message of the recording (`all`: the chat at its end). */
  draw(summary: Summary, all: unknown[]): void
  /** The panel as of the moment shown. */
  show(t: number): void
}

export function chatTrack(actions: ChatTrackActions): ChatTrack {
  let summary: Summary | null = null
  const track = h('div', { class: 'replay-track replay-chat' })
  track.addEventListener('click', (e) => {
    if (!summary) return
    const box = track.getBoundingClientRect()
    actions.seek(summary.start + ((e.clientX - box.left) / box.width) * (summary.end - summary.start))
  })
  const row = h('div', { class: 'replay-row replay-chat-row' }, h('span', { class: 'replay-row-label' }, 'Chat'), track)
  const cellIds = (): string[] => actions.session().notebook.cells.map((c) => c.id)
  const jump = (n: number): void => {
    const id = cellIds()[n - 1]
    if (id) actions.select(id)
  }
  let shownAt = 0
  let hiddenNow = new Set<string>()
  const panel = chatPanel({
    send: null,
    title: 'Conversation',
    row: { jump, now: () => shownAt },
  })
  panel.el.classList.add('replay-chat-list')
  const comments = h('ul', { class: 'comments-list replay-comments' })
  const commentsPanel = h('section', { class: 'panel comments-panel', 'aria-label': 'Comments' }, h('h2', {}, 'Comments'), comments)
  const both = h('div', { class: 'replay-chat-panels' }, panel.el, commentsPanel)
  return {
    row,
    panel: both,
    draw(next, all) {
      summary = next
      const messages = readMessages(all)
      const hidden = new Set(messages.filter((m) => m.hidden).map((m) => m.id))
      const newlyHidden = [...hidden].some((id) => !hiddenNow.has(id))
      hiddenNow = hidden
      if (newlyHidden && shownAt) this.show(shownAt) // the moment shown may hold one
      row.hidden = messages.length === 0
      track.replaceChildren(...messages.map((m) => h('button', {
        type: 'button',
        class: 'replay-chat-marker' + (m.cell_id ? ' comment' : '') + (m.hidden ? ' hidden-message' : ''),
        'data-message-id': m.id,
        style: `left:${fraction(messageMoment(m, next), next) * 100}%`,
        title: label(m), 'aria-label': `Jump to message: ${label(m)}`,
        onclick: (e: Event) => { e.stopPropagation(); actions.seek(seekFor(m, next)) },
      })))
    },
    show(t) {
      shownAt = t
      const session = actions.session()
      // hidden since: shown hidden at every moment (the hub blanks its text in the recording)
      const messages = messagesOf(session.notebook.ydoc).map((m) => hiddenNow.has(m.id) ? { ...m, hidden: true, text: '' } : m)
      panel.update(chatMessages(messages))
      for (const el of panel.el.querySelectorAll<HTMLElement>('.chat-message')) {
        const m = messages.find((x) => x.id === el.dataset.messageId)
        el.classList.toggle('just-sent', !!m && t - m.at >= 0 && t - m.at < 3)
      }
      const found = threads(messages, new Set(cellIds()))
      const number = (id: string): number => cellIds().indexOf(id) + 1
      commentsPanel.hidden = found.length === 0
      comments.replaceChildren(...found.map((th) => h('li', { class: 'comments-item' + (th.resolved ? ' resolved' : ''), 'data-thread-id': th.root.id },
        th.onDeletedCell
          ? h('span', { class: 'comment-deleted-tag' }, 'on a deleted cell')
          : h('button', { type: 'button', class: 'link', onclick: () => actions.select(th.cellId) }, `cell ${number(th.cellId)}`),
        th.resolved ? h('span', { class: 'comment-resolved-tag' }, ' · resolved') : null,
        messageRow(th.root, { jump, now: () => t }, 'div'),
        ...th.replies.map((r) => messageRow(r, { jump, now: () => t }, 'div')),
      )))
    },
  }
}
