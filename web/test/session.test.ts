import { describe, expect, it, vi } from 'vitest'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { Awareness } from 'y-protocols/awareness'
import { userFor } from '../src/model/identity'
import { NotebookSession, type ProviderLike, type ProviderOptions, type SocketLike } from '../src/model/session'

type Handler = (...args: never[]) => void

/** Records what is sent; the test plays the hub's answers. */
class FakeSocket implements SocketLike {
  readyState = 1
  sent: Uint8Array[] = []
  private listeners = new Set<(event: { data: unknown }) => void>()
  send(data: Uint8Array): void {
    this.sent.push(data)
  }
  addEventListener(_: 'message', listener: (event: { data: unknown }) => void): void {
    this.listeners.add(listener)
  }
  removeEventListener(_: 'message', listener: (event: { data: unknown }) => void): void {
    this.listeners.delete(listener)
  }
  receive(bytes: number[]): void {
    for (const listener of [...this.listeners]) listener({ data: new Uint8Array(bytes).buffer })
  }
}

class FakeProvider implements ProviderLike {
  readonly awareness: Awareness
  synced = false
  ws: FakeSocket | null = null
  calls: string[] = []
  messageHandlers: Array<(encoder: unknown, decoder: decoding.Decoder) => void> = []
  private handlers = new Map<string, Handler[]>()
  constructor(readonly options: ProviderOptions) {
    this.awareness = options.notebook.awareness
  }
  on(event: string, listener: Handler): void {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), listener])
  }
  fire(event: string, ...args: unknown[]): void {
    for (const h of this.handlers.get(event) ?? []) (h as (...a: unknown[]) => void)(...args)
  }
  connect(): void { this.calls.push('connect') }
  disconnect(): void { this.calls.push('disconnect') }
  destroy(): void { this.calls.push('destroy') }
}

function start(): { session: NotebookSession; provider: FakeProvider } {
  let provider: FakeProvider | null = null
  const session = new NotebookSession({
    serverUrl: 'ws://hub/ws',
    sessionId: 'S1',
    token: 'T',
    user: userFor('Ada'),
    createProvider: (options) => (provider = new FakeProvider(options)),
  })
  return { session, provider: provider! }
}

describe('notebook session', () => {
  it('joins the room named by the session with the token', () => {
    const { session, provider } = start()
    expect(provider.options).toMatchObject({ serverUrl: 'ws://hub/ws', room: 'S1', token: 'T' })
    expect(provider.options.notebook).toBe(session.notebook)
    expect(session.awareness).toBeInstanceOf(Awareness)
    expect(session.awareness.getLocalState()?.user).toEqual(userFor('Ada'))
  })

  it('publishes the active cell and scroll position', () => {
    const { session } = start()
    session.setActiveCell('c1')
    session.setScroll({ cell: 'c1', offset: 5 })
    expect(session.awareness.getLocalState()).toMatchObject({ cell: 'c1', scroll: { cell: 'c1', offset: 5 } })
  })

  it('tracks the connection and stops/resumes with the browser', async () => {
    const { session, provider } = start()
    const seen: string[] = []
    session.connectionChanged.on((s) => seen.push(s.status))
    provider.fire('status', { status: 'connected' })
    provider.fire('sync', true)
    await session.synced
    session.setBrowserOnline(false)
    provider.fire('status', { status: 'disconnected' })
    session.setBrowserOnline(true)
    provider.fire('status', { status: 'connected' })
    provider.fire('connection-close', { code: 4404 })
    expect(seen).toEqual(['connected', 'offline', 'reconnecting', 'connected', 'closed'])
    expect(provider.calls).toEqual(['disconnect', 'connect'])
    expect(session.connection.reason).toMatch(/does not exist/)
  })

  it('flush waits for the hub to answer a sync step 1, and nothing else', async () => {
    const { session, provider } = start()
    expect(await Promise.race([session.flush(), Promise.resolve('offline: at once')])).toBeUndefined()
    const socket = new FakeSocket()
    provider.ws = socket
    provider.fire('status', { status: 'connected' })
    let flushed = false
    const done = session.flush(60_000).then(() => (flushed = true))
    expect(socket.sent).toHaveLength(1)
    expect([...socket.sent[0].slice(0, 2)]).toEqual([0, 0]) // sync, step 1
    socket.receive([0, 2, 0]) // someone else's update: not the answer
    await Promise.resolve()
    expect(flushed).toBe(false)
    socket.receive([0, 1, 0]) // sync step 2
    await done
    expect(flushed).toBe(true)
  })

  it('edits made here are pending until the hub acknowledges them; others\' edits never are', async () => {
    vi.useFakeTimers()
    try {
      const { session, provider } = start()
      const socket = new FakeSocket()
      provider.ws = socket
      provider.fire('status', { status: 'connected' })
      const seen: boolean[] = []
      session.pendingChanged.on((p) => seen.push(p))
      // Someone else's update (applied, not a local transaction): nothing pending.
      const other = new Y.Doc()
      other.getText('elsewhere').insert(0, 'x')
      Y.applyUpdate(session.notebook.ydoc, Y.encodeStateAsUpdate(other), provider)
      expect(session.pendingEdits).toBe(false)
      session.notebook.insertCell(0, { cell_type: 'code', source: 'x = 1' })
      expect(session.pendingEdits).toBe(true)
      await vi.advanceTimersByTimeAsync(1000)
      expect(socket.sent).toHaveLength(1) // the barrier, a moment after the edit
      socket.receive([0, 1, 0])
      await vi.advanceTimersByTimeAsync(0)
      expect(session.pendingEdits).toBe(false)
      expect(seen).toEqual([true, false])
    } finally {
      vi.useRealTimers()
    }
  })

  it('asks on the websocket and settles with the answer to its own id; null when not connected', async () => {
    const { session, provider } = start()
    expect(session.request('execute', { cell_id: 'c' })).toBeNull() // not connected: HTTP then
    const socket = new FakeSocket()
    provider.ws = socket
    provider.fire('status', { status: 'connected' })
    const answer = (body: object): void => {
      const encoder = encoding.createEncoder()
      encoding.writeVarUint8Array(encoder, new TextEncoder().encode(JSON.stringify(body)))
      provider.messageHandlers[100](null, decoding.createDecoder(encoding.toUint8Array(encoder)))
    }
    const ran = session.request('execute', { cell_id: 'c', by: { name: 'Ada', client_id: 1 } })
    const refused = session.request('execute', { cell_id: 'gone' })
    expect(ran).not.toBeNull()
    const sent = socket.sent.map((frame) => {
      const decoder = decoding.createDecoder(frame)
      expect(decoding.readVarUint(decoder)).toBe(100)
      return JSON.parse(new TextDecoder().decode(decoding.readVarUint8Array(decoder)))
    })
    expect(sent).toEqual([
      { cell_id: 'c', by: { name: 'Ada', client_id: 1 }, id: 1, op: 'execute' },
      { cell_id: 'gone', id: 2, op: 'execute' },
    ])
    answer({ id: 2, ok: false, status: 404, error: 'unknown_cell', detail: 'no such cell' })
    answer({ id: 99, ok: true }) // not ours: ignored
    answer({ id: 1, ok: true, request_id: 'r1' })
    await expect(ran).resolves.toMatchObject({ request_id: 'r1' })
    await expect(refused).rejects.toMatchObject({ status: 404, code: 'unknown_cell', detail: 'no such cell' })
    const lost = session.request('execute', { cell_id: 'c' })
    provider.fire('connection-close', { code: 1006 })
    await expect(lost).rejects.toThrow(/closed before the hub answered/)
  })
})
