import { describe, expect, it } from 'vitest'
import { type ConnectionEvent, connectionLabel, initialConnection, nextConnection } from '../src/model/connection'

const run = (...events: ConnectionEvent[]) => events.reduce(nextConnection, initialConnection)

describe('connection state', () => {
  it('goes connecting -> connected -> reconnecting', () => {
    expect(run().status).toBe('connecting')
    expect(run({ type: 'socket', status: 'connected' }).status).toBe('connected')
    const lost = run({ type: 'socket', status: 'connected' }, { type: 'socket', status: 'disconnected' })
    expect(lost.status).toBe('reconnecting')
    expect(run({ type: 'socket', status: 'disconnected' }).status).toBe('connecting')
  })

  it('stays offline until the browser is back, whatever the socket says', () => {
    const offline = run({ type: 'socket', status: 'connected' }, { type: 'browser', online: false }, { type: 'socket', status: 'disconnected' })
    expect(offline.status).toBe('offline')
    expect(connectionLabel(offline)).toMatch(/Offline/)
    const back = nextConnection(offline, { type: 'browser', online: true })
    expect(back.status).toBe('reconnecting')
    expect(nextConnection(back, { type: 'socket', status: 'connected' }).status).toBe('connected')
  })

  it('treats refusals as final and other closes as transient', () => {
    const refused = run({ type: 'close', code: 4401 })
    expect(refused.status).toBe('closed')
    expect(refused.reason).toMatch(/not valid/)
    expect(nextConnection(refused, { type: 'socket', status: 'connected' })).toBe(refused)
    expect(run({ type: 'close', code: 4404 }).status).toBe('closed')
    expect(run({ type: 'close', code: 1009 }).status).toBe('closed')
    const revoked = run({ type: 'socket', status: 'connected' }, { type: 'close', code: 4410 })
    expect(revoked.status).toBe('closed')
    expect(revoked.reason).toMatch(/revoked/)
    expect(run({ type: 'socket', status: 'connected' }, { type: 'close', code: 4429 }).status).toBe('connected')
    expect(run({ type: 'close', code: 1006 }).status).toBe('connecting')
  })
})
