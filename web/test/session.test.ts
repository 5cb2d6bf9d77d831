import { describe, expect, it } from 'vitest'
import { Awareness } from 'y-protocols/awareness'
import { userFor } from '../src/model/identity'
import { NotebookSession, type ProviderLike, type ProviderOptions } from '../src/model/session'

type Handler = (...args: never[]) => void

class FakeProvider implements ProviderLike {
  readonly awareness: Awareness
  synced = false
  calls: string[] = []
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
})
