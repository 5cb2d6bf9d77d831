/**
 * The sync layer: one shared notebook (YNotebook over a Y.Doc) joined to the hub's room with
 * the standard y-websocket protocol, plus the local participant's presence. No DOM: the view
 * reports the browser's online/offline events through `setBrowserOnline`.
 */
import { YNotebook } from '@jupyter/ydoc'
import type { Awareness } from 'y-protocols/awareness'
import { WebsocketProvider } from 'y-websocket'
import {
  type ConnectionEvent,
  type ConnectionState,
  fatalReason,
  initialConnection,
  nextConnection,
} from './connection'
import { Emitter } from './emitter'
import type { User } from './identity'
import type { ScrollSpot } from './presence'

/** What the session needs from a provider; y-websocket's WebsocketProvider fits. */
export interface ProviderLike {
  readonly awareness: Awareness
  readonly synced: boolean
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
  private state: ConnectionState = initialConnection

  constructor(options: SessionOptions) {
    this.notebook = new YNotebook()
    const create = options.createProvider ?? websocketProvider
    this.provider = create({
      serverUrl: options.serverUrl,
      room: options.sessionId,
      notebook: this.notebook,
      token: options.token,
    })
    this.setUser(options.user)
    this.synced = new Promise((resolve) => {
      if (this.provider.synced) resolve()
      this.provider.on('sync', (synced) => {
        if (synced) resolve()
      })
    })
    this.provider.on('status', ({ status }) => this.apply({ type: 'socket', status }))
    this.provider.on('connection-close', (event) => {
      if (event) this.apply({ type: 'close', code: event.code })
    })
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

  /** Offline: stop trying (edits keep accumulating in the doc); online: reconnect and merge. */
  setBrowserOnline(online: boolean): void {
    this.apply({ type: 'browser', online })
    if (online) this.provider.connect()
    else this.provider.disconnect()
  }

  setUser(user: User): void {
    this.awareness.setLocalStateField('user', user)
  }

  setActiveCell(cellId: string | null): void {
    if (this.awareness.getLocalState()?.cell !== cellId) this.awareness.setLocalStateField('cell', cellId)
  }

  setScroll(spot: ScrollSpot | null): void {
    this.awareness.setLocalStateField('scroll', spot)
  }

  destroy(): void {
    this.provider.destroy()
    this.notebook.dispose()
  }
}
