/**
 * Chat and comments on the notebook page: reads the document's `chat` array, sends the way this
 * participant may (an editor writes the document, a viewer posts through the hub), keeps the
 * unread count, and tells of @mentions (a toast; a browser notification only if that permission
 * was already granted — the page never asks for it).
 */
import {
  ChatApi,
  type ChatMessage,
  ChatSender,
  chatArray,
  chatMessages,
  type Draft,
  mentions,
  messagesOf,
  Unread,
} from '../model/chat'
import type { NotebookSession } from '../model/session'
import { chatPanel } from './chatPanel'
import { comments } from './comments'
import { frameScheduler, h } from './dom'

export interface ChatMountOptions {
  session: NotebookSession
  readOnly: boolean
  sessionId: string
  token: string
  /** Who this participant is: a named link's name when it is one (the hub enforces it). */
  me(): { name: string; client_id: number }
  notify(message: string | Node): void
  cellsRoot: HTMLElement
  cellElement(cellId: string): HTMLElement | null
  cellNumber(cellId: string): number
  select(cellId: string, scroll?: boolean): void
}

export interface ChatMount {
  /** The panels for the side bar. */
  readonly panels: HTMLElement[]
  refresh(): void
}

function words(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

export function mountChat(options: ChatMountOptions): ChatMount {
  const { session } = options
  const doc = session.notebook.ydoc
  const api = new ChatApi(location.origin, options.sessionId, options.token)
  const sender = new ChatSender({ api, me: options.me })
  const unread = new Unread()
  const announced = new Set<string>()
  let messages: ChatMessage[] = []
  const now = (): number => Date.now() / 1000
  const cellIds = (): string[] => session.notebook.cells.map((c) => c.id)
  const jump = (n: number): void => {
    const id = cellIds()[n - 1]
    if (id) options.select(id, true)
    else options.notify(`There is no cell ${n}.`)
  }
  const send = async (draft: Draft): Promise<void> => {
    try {
      await sender.send(draft)
    } catch (e) {
      options.notify(`Your message was not sent: ${words(e)}`)
      throw e
    }
  }
  const hide = options.readOnly
    ? undefined
    : (m: ChatMessage): void => {
      api.hide(m.id, options.me()).catch((e: unknown) => options.notify(`Could not hide the message: ${words(e)}`))
    }
  const row = {
    jump,
    hide,
    now,
    mentionsMe: (m: ChatMessage) => m.by.client_id !== session.clientId && mentions(m.text, options.me().name),
    replyTo: (m: ChatMessage) => (m.reply_to ? messages.find((p) => p.id === m.reply_to) : undefined),
  }
  const panel = chatPanel({
    send: (text) => send({ text }),
    row,
    visibility: (visible) => {
      if (visible) markRead()
    },
  })
  const threads = comments({
    cellsRoot: options.cellsRoot,
    cellElement: options.cellElement,
    cellIds,
    cellNumber: options.cellNumber,
    select: (id) => options.select(id),
    send,
    resolve: options.readOnly
      ? null
      : (id, resolved) => {
        api.resolve(id, resolved).catch((e: unknown) => options.notify(`Could not ${resolved ? 'resolve' : 'reopen'}: ${words(e)}`))
      },
    row,
  })
  const baseTitle = document.title
  const showUnread = (count: number): void => {
    panel.setUnread(count)
    // Also where it shows when the panels are a closed drawer, and on the browser tab.
    document.body.classList.toggle('chat-has-unread', count > 0)
    document.body.style.setProperty('counter-reset', `chat-unread ${count}`)
    document.title = count > 0 ? `(${count}) ${baseTitle}` : baseTitle
  }
  const markRead = (): void => {
    if (!ready) return
    unread.markSeen(messages)
    showUnread(0)
  }
  const announce = (fresh: ChatMessage[]): void => {
    const me = options.me()
    for (const m of fresh) {
      if (m.by.client_id === me.client_id || m.hidden || !mentions(m.text, me.name)) continue
      const where = m.cell_id ? ` on cell ${options.cellNumber(m.cell_id)}` : ''
      const text = m.text.length > 140 ? `${m.text.slice(0, 140)}…` : m.text
      options.notify(h('span', { class: 'chat-mention-toast' }, `${m.by.name} mentioned you${where}: ${text} `,
        m.cell_id ? h('button', { type: 'button', class: 'link', onclick: () => threads.open(m.cell_id!) }, 'show') : null))
      if (typeof Notification !== 'undefined' && Notification.permission === 'granted' && document.hidden) {
        try {
          new Notification(`${m.by.name} mentioned you`, { body: text, tag: `collabd-chat-${m.id}` })
        } catch {
          // some browsers allow notifications from service workers only: the toast is there
        }
      }
    }
  }
  // What was said before this page joined is neither unread nor announced.
  let ready = false
  const refresh = frameScheduler(() => {
    messages = messagesOf(doc)
    if (ready) announce(unread.fresh(messages, announced))
    const talk = chatMessages(messages)
    panel.update(talk)
    threads.update(messages)
    if (!ready) return
    if (panel.visible) markRead()
    else showUnread(unread.count(talk, session.clientId))
  })
  void session.synced.then(() => {
    const now = messagesOf(doc)
    unread.prime(now)
    for (const m of now) announced.add(m.id)
    ready = true
    refresh()
  })
  chatArray(doc).observe(refresh)
  // Cell numbers in the list and badges follow the cells.
  session.notebook.changed.connect(refresh)
  return { panels: [panel.el, threads.panel], refresh }
}
