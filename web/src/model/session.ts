/**
 * The sync layer: one shared notebook (YNotebook over a Y.Doc) joined to the hub's room with
 * the standard y-websocket protocol, plus the local participant's presence. No DOM: the view
 * reports the browser's online/offline events through `setBrowserOnline`.
 */
import { YNotebook } from '@jupyter/ydoc'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { writeSyncStep1 } from 'y-protocols/sync'
import type { Awareness } from 'y-protocols/awareness'
import { WebsocketProvider } from 'y-websocket'
import type { Transaction } from 'yjs'
import {
  type ConnectionEvent,
  type ConnectionState,
  fatalReason,
  initialConnection,
  nextConnection,
} from './connection'
import { ApiError } from './api'
import { Emitter } from './emitter'
import type { User } from './identity'
import type { ScrollSpot } from './presence'
import type { Announcement } from './structureNotice'
import { Message, SyncStep } from './wire'
import { changed } from './ychanged'

/** The part of a WebSocket that `flush` uses. */
export interface SocketLike {
  readonly readyState: number
  send(data: Uint8Array): void
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void
  removeEventListener(type: 'message', listener: (event: { data: unknown }) => void): void
}

/** What the session needs from a provider; y-websocket's WebsocketProvider fits. */
export interface ProviderLike {
  readonly awareness: Awareness
  readonly synced: boolean
  /** The open socket, if any (y-websocket exposes it). */
  readonly ws?: SocketLike | null
  /** Handlers by message type (y-websocket's): where the hub's answers to requests are read. */
  readonly messageHandlers?: Array<(encoder: unknown, decoder: decoding.Decoder, ...rest: unknown[]) => void>
  on(event: 'status', listener: (event: { status: 'connected' | 'connecting' | 'disconnected' }) => void): void
  on(event: 'sync', listener: (synced: boolean) => void): void
  on(event: 'connection-close', listener: (event: CloseEvent | null) => void): void
  connect(): void
  disconnect(): void
  destroy(): void
}


export interface ProviderOptions {
  serverUrl: string
  room: string
  notebook: YNotebook
  token: string
}

export type ProviderFactory = (options: ProviderOptions) => ProviderLike

export const websocketProvider: ProviderFactory = ({ serverUrl, room, notebook, token }) =>
  new WebsocketProvider(serverUrl, room, notebook.ydoc, {
    params: { token },
    awareness: notebook.awareness,
    // The hub is the one source of truth (and the one that checks the token): no tab-to-tab channel.
    disableBc: true,
    shouldReconnect: (event: CloseEvent) => fatalReason(event.code) === null,
  }) as unknown as ProviderLike

export interface SessionOptions {
  serverUrl: string
  sessionId: string
  token: string
  user: User
  createProvider?: ProviderFactory
}

export class NotebookSession {
  readonly notebook: YNotebook
  readonly provider: ProviderLike
  readonly connectionChanged = new Emitter<ConnectionState>()
  /** Resolves once the first full sync with the hub is done. */
  readonly synced: Promise<void>
  /** Whether edits made here have not all been acknowledged by the hub yet (see `flush`). */
  readonly pendingChanged = new Emitter<boolean>()
  private state: ConnectionState = initialConnection
  private announced = 0
  /** Local edits made, and how many of them the hub has acknowledged. */
  private edits = 0
  private acknowledged = 0
  private ackTimer: ReturnType<typeof setTimeout> | null = null
  /** Requests sent on the websocket, awaiting the hub's answer, by id. */
  private readonly asked = new Map<number, (answer: Record<string, unknown> | Error) => void>()
  private lastRequest = 0

  constructor(options: SessionOptions) {
    this.notebook = new YNotebook()
    const create = options.createProvider ?? websocketProvider
    this.provider = create({
      serverUrl: options.serverUrl,
      room: options.sessionId,
      notebook: this.notebook,
      token: options.token,
    })
    this.awareness.setLocalStateField('joined', Date.now())
    this.setUser(options.user)
    this.synced = new Promise((resolve) => {
      if (this.provider.synced) resolve()
      this.provider.on('sync', (synced) => {
        if (synced) resolve()
      })
    })
    this.provider.on('status', ({ status }) => this.apply({ type: 'socket', status }))
    // Updates made here (typing, cell edits) are local transactions; the hub's and a replay's are
    // not. After each transaction, not on 'update': Yjs encodes every transaction as an update for
    // 'update' listeners, which for a replay's seek is the whole document (~0.3 s of a 1.4 s seek
    // in a 3.7 MB one).
    this.notebook.ydoc.on('afterTransaction', (tr: Transaction) => {
      if (!tr.local || !changed(tr)) return
      this.edits += 1
      if (this.edits === this.acknowledged + 1) this.pendingChanged.emit(true)
      this.scheduleAcknowledgement()
    })
    // Once back and synced, the hub has our offline edits: ask it to say so.
    this.provider.on('sync', (synced) => {
      if (synced && this.pendingEdits) this.scheduleAcknowledgement()
    })
    this.provider.on('connection-close', (event) => {
      if (event) this.apply({ type: 'close', code: event.code })
      const gone = new Error('the connection closed before the hub answered')
      for (const settle of this.asked.values()) settle(gone)
      this.asked.clear()
    })
    const handlers = this.provider.messageHandlers
    if (handlers) handlers[Message.REQUEST] = (_encoder, decoder) => this.answered(decoding.readVarUint8Array(decoder))
  }

  /**
   * Asks the hub on the websocket (a run): the request goes after every edit sent before it, so
   * no flush is needed first. Resolves with the answer's fields, rejects with an ApiError as HTTP
   * would; null when there is no open connection to ask on (use HTTP then).
   */
  request(op: string, fields: Record<string, unknown>, timeoutMs = 15_000): Promise<Record<string, unknown>> | null {
    const ws = this.provider.ws ?? null
    if (!ws || ws.readyState !== 1 /* OPEN */ || this.state.status !== 'connected' || !this.provider.messageHandlers) return null
    const id = ++this.lastRequest
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => settle(new Error('the hub did not answer in time')), timeoutMs)
      const settle = (answer: Record<string, unknown> | Error): void => {
        clearTimeout(timer)
        this.asked.delete(id)
        if (answer instanceof Error) reject(answer)
        else if (answer.ok === true) resolve(answer)
        else reject(new ApiError(Number(answer.status ?? 0), String(answer.error ?? 'refused'), String(answer.detail ?? '')))
      }
      this.asked.set(id, settle)
      const encoder = encoding.createEncoder()
      encoding.writeVarUint(encoder, Message.REQUEST)
      encoding.writeVarUint8Array(encoder, new TextEncoder().encode(JSON.stringify({ ...fields, id, op })))
      ws.send(encoding.toUint8Array(encoder))
    })
  }

  private answered(body: Uint8Array): void {
    let answer: unknown
    try {
      answer = JSON.parse(new TextDecoder().decode(body))
    } catch {
      return
    }
    if (typeof answer !== 'object' || answer === null) return
    const id = (answer as { id?: unknown }).id
    if (typeof id === 'number') this.asked.get(id)?.(answer as Record<string, unknown>)
  }

  get connection(): ConnectionState {
    return this.state
  }

  get awareness(): Awareness {
    return this.provider.awareness
  }

  get clientId(): number {
    return this.notebook.ydoc.clientID
  }

  get ystate(): YNotebook['ystate'] {
    return this.notebook.ystate
  }

  private apply(event: ConnectionEvent): void {
    const next = nextConnection(this.state, event)
    if (next === this.state) return
    this.state = next
    this.connectionChanged.emit(next)
  }

  /** Edits made here that the hub has not acknowledged yet. */
  get pendingEdits(): boolean {
    return this.acknowledged < this.edits
  }

  /** A moment after typing pauses, asks the hub to acknowledge the edits so far. */
  private scheduleAcknowledgement(delayMs = 400): void {
    if (this.ackTimer !== null) clearTimeout(this.ackTimer)
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null
      void this.acknowledge()
    }, delayMs)
  }

  private async acknowledge(): Promise<void> {
    const upTo = this.edits
    if (upTo <= this.acknowledged) return
    if (await this.barrier(10_000)) this.acknowledgedUpTo(upTo)
  }

  /** Offline: stop trying (edits keep accumulating in the doc); online: reconnect and merge. */
  setBrowserOnline(online: boolean): void {
    this.apply({ type: 'browser', online })
    if (online) this.provider.connect()
    else this.provider.disconnect()
  }

  /**
   * Resolves once the hub has applied every edit this client sent so far. Run requests go over
   * HTTP and the hub takes the cell's source when the request arrives, so a cell typed and run at
   * once must not race its own last keystrokes. The hub handles one connection's messages in
   * order, and answers a sync step 1 with a step 2 (which it sends for nothing else): that answer
   * is the barrier. Offline or on timeout it resolves anyway; the run then uses what the hub has.
   */
  flush(timeoutMs = 3000): Promise<void> {
    const upTo = this.edits
    const answered = this.barrier(timeoutMs)
    if (!answered) return Promise.resolve()
    return answered.then((ok) => {
      if (ok) this.acknowledgedUpTo(upTo)
    })
  }

  private acknowledgedUpTo(upTo: number): void {
    const was = this.pendingEdits
    this.acknowledged = Math.max(this.acknowledged, upTo)
    if (was && !this.pendingEdits) this.pendingChanged.emit(false)
  }

  /**
   * Sends a sync step 1; resolves true once a step 2 answer came (the hub has applied all sent
   * before), false on timeout; null when there is no open connection to ask on.
   */
  private barrier(timeoutMs: number): Promise<boolean> | null {
    const ws = this.provider.ws ?? null
    if (!ws || ws.readyState !== 1 /* OPEN */ || this.state.status !== 'connected') return null
    return new Promise((resolve) => {
      const done = (answered: boolean): void => {
        clearTimeout(timer)
        ws.removeEventListener('message', onMessage)
        resolve(answered)
      }
      const onMessage = (event: { data: unknown }): void => {
        const data = new Uint8Array(event.data as ArrayBuffer)
        if (data[0] === Message.SYNC && data[1] === SyncStep.STEP2) done(true)
      }
      const timer = setTimeout(() => done(false), timeoutMs)
      ws.addEventListener('message', onMessage)
      const encoder = encoding.createEncoder()
      encoding.writeVarUint(encoder, Message.SYNC)
      writeSyncStep1(encoder, this.notebook.ydoc)
      ws.send(encoding.toUint8Array(encoder))
    })
  }

  setUser(user: User): void {
    this.awareness.setLocalStateField('user', user)
  }

  setActiveCell(cellId: string | null): void {
    if (this.awareness.getLocalState()?.cell !== cellId) this.awareness.setLocalStateField('cell', cellId)
  }

  setFollowing(clientId: number | null): void {
    this.awareness.setLocalStateField('following', clientId)
  }

  /** Says, before a structural edit, which cells it touches: others can then name who did it. */
  announce(op: Announcement['op'], cells: string[]): void {
    this.announced += 1
    this.awareness.setLocalStateField('did', { op, cells, n: this.announced })
  }

  /** Says whether this participant only watches (shown to others; the hub enforces it). */
  setRole(role: 'edit' | 'view'): void {
    this.awareness.setLocalStateField('role', role)
  }

  setScroll(spot: ScrollSpot | null): void {
    this.awareness.setLocalStateField('scroll', spot)
  }

  destroy(): void {
    if (this.ackTimer !== null) clearTimeout(this.ackTimer)
    this.provider.destroy()
    this.notebook.dispose()
  }
}
