/**
 * The session's chat and cell comments (no DOM): the top-level `chat` Y.Array of JSON messages
 * (see the README's document keys). The hub is its only author: every page (an editor's too)
 * sends through the hub (`ChatApi`), which sets the sender's identity, and hides and resolves; it
 * repairs any direct write into the array (a forged name comes back with `by.corrected`).
 *
 * A message with `cell_id` starts (or, with `reply_to`, answers) a comment thread on that cell;
 * the others are the chat. Everything a client wrote is read defensively: an element that is not
 * a message is skipped and a repeated id counts once (its last version), as the hub reads it.
 */
import type * as Y from 'yjs'
import { sessionCaller, type Fetch } from './api'

export const CHAT_KEY = 'chat'
/** What the page lets one type (the hub's default `CHAT_MAX_CHARS`). */
export const MAX_CHARS = 4000

export interface ChatBy {
  name: string
  client_id: number | null
  verified?: boolean
  link_id?: string
  /** The page had written another name; the hub put the connection's own. */
  corrected?: boolean
}

export interface ChatMessage {
  id: string
  by: ChatBy
  /** Unix seconds. */
  at: number
  text: string
  cell_id?: string
  reply_to?: string
  resolved?: boolean
  hidden?: boolean
  hidden_by?: string
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** One element of the array as a message, or null when it is not one. */
export function readMessage(raw: unknown): ChatMessage | null {
  if (!isObject(raw) || typeof raw.id !== 'string' || !raw.id) return null
  const by = isObject(raw.by) ? raw.by : {}
  const message: ChatMessage = {
    id: raw.id,
    by: {
      name: typeof by.name === 'string' && by.name.trim() ? by.name.slice(0, 64) : 'anonymous',
      client_id: typeof by.client_id === 'number' ? by.client_id : null,
    },
    at: typeof raw.at === 'number' && Number.isFinite(raw.at) ? raw.at : 0,
    text: typeof raw.text === 'string' ? raw.text : '',
  }
  if (by.verified === true) message.by.verified = true
  if (typeof by.link_id === 'string') message.by.link_id = by.link_id
  if (by.corrected === true) message.by.corrected = true
  if (typeof raw.cell_id === 'string' && raw.cell_id) message.cell_id = raw.cell_id
  if (typeof raw.reply_to === 'string' && raw.reply_to) message.reply_to = raw.reply_to
  if (raw.resolved === true) message.resolved = true
  if (raw.hidden === true) {
    message.hidden = true
    message.text = ''
    if (typeof raw.hidden_by === 'string') message.hidden_by = raw.hidden_by
  }
  return message
}

/** The messages in document order; a repeated id keeps its last version, at its last place. */
export function readMessages(items: readonly unknown[]): ChatMessage[] {
  const found = new Map<string, ChatMessage>()
  for (const item of items) {
    const message = readMessage(item)
    if (!message) continue
    found.delete(message.id)
    found.set(message.id, message)
  }
  return [...found.values()]
}

export function chatArray(doc: Y.Doc): Y.Array<unknown> {
  return doc.getArray<unknown>(CHAT_KEY)
}

export function messagesOf(doc: Y.Doc): ChatMessage[] {
  return readMessages(chatArray(doc).toArray())
}

export interface Draft {
  text: string
  cell_id?: string
  reply_to?: string
}

/** Why a draft cannot be sent, or null. */
export function draftProblem(text: string, maxChars = MAX_CHARS): string | null {
  if (!text.trim()) return 'Write something first.'
  if (text.length > maxChars) return `A message is at most ${maxChars} characters (this one has ${text.length}).`
  return null
}

// --- threads (cell comments) ---------------------------------------------------------------

export interface Thread {
  root: ChatMessage
  replies: ChatMessage[]
  cellId: string
  resolved: boolean
  /** Its cell is no longer in the notebook. */
  onDeletedCell: boolean
}

/** Every comment thread, oldest first; replies whose thread is gone are left out. */
export function threads(messages: readonly ChatMessage[], cellIds: ReadonlySet<string>): Thread[] {
  const byRoot = new Map<string, Thread>()
  for (const m of messages) {
    if (!m.reply_to && m.cell_id) {
      byRoot.set(m.id, { root: m, replies: [], cellId: m.cell_id, resolved: m.resolved === true, onDeletedCell: !cellIds.has(m.cell_id) })
    }
  }
  for (const m of messages) {
    if (m.reply_to) byRoot.get(m.reply_to)?.replies.push(m)
  }
  return [...byRoot.values()]
}

export interface CellComments {
  /** Messages in open threads (roots and replies). */
  open: number
  threads: number
  resolved: number
}

/** Per cell: how many comments its badge shows. */
export function commentCounts(all: readonly Thread[]): Map<string, CellComments> {
  const counts = new Map<string, CellComments>()
  for (const t of all) {
    const c = counts.get(t.cellId) ?? { open: 0, threads: 0, resolved: 0 }
    c.threads += 1
    if (t.resolved) c.resolved += 1
    else c.open += 1 + t.replies.length
    counts.set(t.cellId, c)
  }
  return counts
}

/** The chat itself: messages not on a cell (replies to them included). */
export function chatMessages(messages: readonly ChatMessage[]): ChatMessage[] {
  return messages.filter((m) => !m.cell_id)
}

// --- words in messages -----------------------------------------------------------------------

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** Whether `text` @mentions `name` (the whole name or its first word, any case). */
export function mentions(text: string, name: string): boolean {
  const clean = name.trim()
  if (!clean) return false
  const forms = [clean]
  const first = clean.split(/\s+/)[0]
  if (first && first !== clean) forms.push(first)
  return forms.some((form) => new RegExp(`(^|[^\\w@])@${escapeRegExp(form)}(?![\\w])`, 'iu').test(text))
}

/** Messages whose text or sender's name holds `query` (any case); hidden ones never (the
 * playback page's search, beside the runs: `GET …/recording/search` on the hub). */
export function searchMessages(messages: readonly ChatMessage[], query: string): ChatMessage[] {
  const needle = query.trim().toLocaleLowerCase()
  if (!needle) return []
  return messages.filter((m) => !m.hidden && (m.text.toLocaleLowerCase().includes(needle) || m.by.name.toLocaleLowerCase().includes(needle)))
}

export type TextPart = { text: string } | { text: string; cell: number }

const CELL_REF = /\b[Cc]ell\s+(\d{1,6})\b|(?<![\w&#/])#(\d{1,6})\b/g

/** Splits plain text at the cell references in it ("cell 4", "#4"), numbered from 1. */
export function cellRefs(text: string): TextPart[] {
  const parts: TextPart[] = []
  let last = 0
  for (const match of text.matchAll(CELL_REF)) {
    const n = Number(match[1] ?? match[2])
    if (!(n > 0)) continue
    if (match.index > last) parts.push({ text: text.slice(last, match.index) })
    parts.push({ text: match[0], cell: n })
    last = match.index + match[0].length
  }
  if (last < text.length) parts.push({ text: text.slice(last) })
  return parts
}

// --- unread ---------------------------------------------------------------------------------

/** Messages someone else sent that this participant has not seen (the chat panel was closed). */
export class Unread {
  private readonly seen = new Set<string>()
  private primed = false

  /** What was there when the page joined counts as read. */
  prime(messages: readonly ChatMessage[]): void {
    if (this.primed) return
    this.primed = true
    for (const m of messages) this.seen.add(m.id)
  }

  markSeen(messages: readonly ChatMessage[]): void {
    for (const m of messages) this.seen.add(m.id)
  }

  count(messages: readonly ChatMessage[], me: number): number {
    return messages.filter((m) => !this.seen.has(m.id) && m.by.client_id !== me && !m.hidden).length
  }

  /** Messages new since the last call (not yet seen nor announced), for notifications. */
  fresh(messages: readonly ChatMessage[], announced: Set<string>): ChatMessage[] {
    const found = messages.filter((m) => !this.seen.has(m.id) && !announced.has(m.id))
    for (const m of found) announced.add(m.id)
    return found
  }
}

// --- words ------------------------------------------------------------------------------------

export function clockTime(at: number, now: number): string {
  const d = new Date(at * 1000)
  const pad = (n: number): string => String(n).padStart(2, '0')
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`
  const sameDay = new Date(now * 1000).toDateString() === d.toDateString()
  return sameDay ? hm : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hm}`
}

export function hiddenWords(m: ChatMessage): string {
  return m.hidden_by ? `hidden by an editor (${m.hidden_by})` : 'hidden by an editor'
}

// --- the hub --------------------------------------------------------------------------------

/** Chat over the hub's HTTP API: how viewers post, and how editors hide and resolve. */
export class ChatApi {
  private readonly call: ReturnType<typeof sessionCaller>

  constructor(origin: string, sessionId: string, token: string, fetchFn?: Fetch) {
    this.call = sessionCaller(origin, sessionId, token, fetchFn)
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await (await this.call(method, path, body)).json()) as T
  }

  post(draft: Draft, by: { name: string; client_id: number }): Promise<{ message: ChatMessage }> {
    return this.json('POST', '/chat', { ...draft, name: by.name, client_id: by.client_id })
  }

  hide(messageId: string, by: { name: string; client_id: number }): Promise<{ message: ChatMessage }> {
    return this.json('POST', `/chat/${encodeURIComponent(messageId)}/hide`, { by })
  }

  resolve(messageId: string, resolved: boolean): Promise<{ message: ChatMessage }> {
    return this.json('POST', `/chat/${encodeURIComponent(messageId)}/resolve`, { resolved })
  }

  /** The messages as they were at `t` (the recording). */
  at(t: number): Promise<{ t: number; messages: unknown[] }> {
    return this.json('GET', `/recording/chat?t=${encodeURIComponent(String(t))}`)
  }
}

// --- sending ----------------------------------------------------------------------------------

export interface ChatSenderOptions {
  api: Pick<ChatApi, 'post'>
  me(): { name: string; client_id: number }
}

/** Sends a draft through the hub, which writes it into the document with this participant's
 * identity (the page never writes the `chat` array itself). */
export class ChatSender {
  constructor(private readonly options: ChatSenderOptions) {}

  async send(draft: Draft): Promise<ChatMessage> {
    const problem = draftProblem(draft.text)
    if (problem) throw new Error(problem)
    return (await this.options.api.post(draft, this.options.me())).message
  }
}
