/**
 * The chat panel (side panel): messages with sender and time, markdown rendered and sanitised as
 * markdown cells are (`markdownToHtml`), cell references ("cell 4", "#4") as links to the cell,
 * an unread count while the panel is closed or out of sight, and a box to write in. Editors can
 * hide a message. Shared with the playback page (read-only there) and the comments.
 */
import {
  cellRefs,
  type ChatMessage,
  clockTime,
  hiddenWords,
  MAX_CHARS,
} from '../model/chat'
import { h } from './dom'
import { markdownToHtml } from './markdown'
import './chat.css'

const NO_LINKS = 'code, pre, a, button, .katex, svg, math'

/** Turns "cell 4" and "#4" in the text (not in code or links) into buttons that jump there. */
export function linkCells(root: HTMLElement, jump: (n: number) => void): void {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT)
  const nodes: Text[] = []
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!(node.parentElement?.closest(NO_LINKS))) nodes.push(node as Text)
  }
  for (const node of nodes) {
    const parts = cellRefs(node.data)
    if (!parts.some((p) => 'cell' in p)) continue
    node.replaceWith(...parts.map((p) => 'cell' in p
      ? h('button', { type: 'button', class: 'cell-ref', 'data-cell': String(p.cell), title: `Go to cell ${p.cell}`, onclick: () => jump(p.cell) }, p.text)
      : document.createTextNode(p.text)))
  }
}

/** A message's text as the page shows it. */
export function messageBody(m: ChatMessage, jump: (n: number) => void): HTMLElement {
  if (m.hidden) return h('div', { class: 'chat-text chat-hidden' }, hiddenWords(m))
  const body = h('div', { class: 'chat-text markdown' })
  body.innerHTML = markdownToHtml(m.text.slice(0, MAX_CHARS * 2))
  linkCells(body, jump)
  return body
}

export interface MessageRowOptions {
  jump(n: number): void
  /** Present for editors: hides the message for everyone. */
  hide?: (m: ChatMessage) => void
  mentionsMe?: (m: ChatMessage) => boolean
  replyTo?: (m: ChatMessage) => ChatMessage | undefined
  now(): number
}

export function messageRow(m: ChatMessage, options: MessageRowOptions, tag: 'li' | 'div' = 'li'): HTMLElement {
  const parent = options.replyTo?.(m)
  const name = h('span', { class: 'chat-name' }, m.by.name)
  const row = h(tag, {
    class: 'chat-message' + (options.mentionsMe?.(m) ? ' mentions-me' : '') + (m.hidden ? ' hidden-message' : ''),
    'data-message-id': m.id,
  },
    h('div', { class: 'chat-meta' },
      name,
      m.by.verified
        ? h('span', { class: 'chat-verified', title: 'The hub vouches for this name (a named link)' }, '✓')
        : null,
      m.by.corrected
        ? h('span', { class: 'chat-corrected', title: 'This page wrote another name on the message; the hub put the sender\'s own' }, '(name set by the hub)')
        : null,
      h('time', { datetime: new Date(m.at * 1000).toISOString(), title: new Date(m.at * 1000).toLocaleString() }, clockTime(m.at, options.now())),
      parent ? h('span', { class: 'chat-reply-to' }, `↪ ${parent.by.name}`) : null,
    ),
    messageBody(m, options.jump),
    options.hide && !m.hidden
      ? h('button', { type: 'button', class: 'chat-hide', title: 'Hide this message for everyone', onclick: () => options.hide?.(m) }, 'Hide')
      : null,
  )
  return row
}

export interface ComposerOptions {
  placeholder: string
  label: string
  send(text: string): Promise<void>
  hint?: string
}

/** A text box that sends on Enter (Shift-Enter: a new line) and says why it could not. */
export function composer(options: ComposerOptions): { el: HTMLElement; input: HTMLTextAreaElement } {
  const input = h('textarea', { class: 'chat-input', placeholder: options.placeholder, 'aria-label': options.label, maxlength: String(MAX_CHARS), rows: '2' })
  const button = h('button', { type: 'submit', class: 'primary chat-send' }, options.label)
  const el = h('form', { class: 'chat-form panel-form' },
    input,
    h('div', { class: 'chat-form-row' }, options.hint ? h('span', { class: 'chat-form-hint' }, options.hint) : null, button))
  let sending = false
  let again = false // Enter was pressed again while a message was on its way
  const submit = async (): Promise<void> => {
    if (sending) {
      again = true
      return
    }
    const text = input.value
    if (!text.trim()) return
    sending = true
    again = false
    button.disabled = true
    try {
      await options.send(text)
      // only what was sent goes: the next message may be typed in already
      if (input.value.startsWith(text)) input.value = input.value.slice(text.length)
    } finally {
      sending = false
      button.disabled = false
    }
    if (again) {
      again = false
      void submit()
    }
  }
  el.addEventListener('submit', (e) => {
    e.preventDefault()
    void submit()
  })
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault()
      void submit()
    }
  })
  return { el, input }
}

export interface ChatPanelOptions {
  /** Null: nothing can be written here (the playback page). */
  send: ((text: string) => Promise<void>) | null
  row: MessageRowOptions
  /** The panel came into sight (or out of it). */
  visibility?: (visible: boolean) => void
  title?: string
}

export interface ChatPanel {
  readonly el: HTMLElement
  update(messages: ChatMessage[]): void
  setUnread(count: number): void
  /** Open and in sight: what arrives is read. */
  readonly visible: boolean
}

export function chatPanel(options: ChatPanelOptions): ChatPanel {
  const list = h('ol', { class: 'chat-list', 'aria-live': 'polite' })
  const empty = h('p', { class: 'panel-empty' }, 'No messages yet.')
  const unread = h('span', { class: 'chat-unread', hidden: true, 'aria-label': 'unread messages' })
  const toggle = h('button', { type: 'button', class: 'chat-toggle', 'aria-expanded': 'true' }, options.title ?? 'Chat')
  const form = options.send
    ? composer({ placeholder: 'Message everyone — markdown, @name, #4 for cell 4', label: 'Send', send: options.send, hint: 'Enter sends' })
    : null
  const el = h('section', { class: 'panel chat-panel', 'aria-label': options.title ?? 'Chat' },
    h('h2', {}, toggle, unread),
    h('div', { class: 'chat-body' }, empty, list, form?.el ?? null))
  let inView = true
  let open = true
  let shown = ''
  // Whether the list is scrolled to (near) its end, kept as it scrolls: reading it in `update`
  // would lay out the whole page there, and again once the notebook changes in the same frame
  // (~35 ms at 1,000 cells, on every open).
  let nearEnd = true
  list.addEventListener('scroll', () => {
    nearEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 40
  }, { passive: true })
  const state = { get visible() { return open && inView && !document.hidden } }
  const tell = (): void => options.visibility?.(state.visible)
  toggle.addEventListener('click', () => {
    open = !open
    el.classList.toggle('collapsed', !open)
    toggle.setAttribute('aria-expanded', String(open))
    tell()
  })
  new IntersectionObserver((entries) => {
    inView = entries.some((e) => e.isIntersecting)
    tell()
  }).observe(el)
  document.addEventListener('visibilitychange', tell)
  return {
    el,
    get visible() { return state.visible },
    update(messages) {
      const key = JSON.stringify(messages)
      if (key === shown) return
      shown = key
      list.replaceChildren(...messages.map((m) => messageRow(m, options.row)))
      empty.hidden = messages.length > 0
      // once the frame is laid out, when reading the height costs nothing
      if (nearEnd && messages.length > 0) {
        requestAnimationFrame(() => setTimeout(() => { list.scrollTop = list.scrollHeight }))
      }
    },
    setUnread(count) {
      unread.hidden = count === 0
      unread.textContent = String(count)
      unread.title = `${count} unread`
    },
  }
}
