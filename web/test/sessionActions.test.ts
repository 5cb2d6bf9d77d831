import { describe, expect, it, vi } from 'vitest'
import { readOnlyActions, sessionActions } from '../src/model/sessionActions'

function fakeApi() {
  return {
    execute: vi.fn(async () => ({})),
    interrupt: vi.fn(async () => ({})),
    restart: vi.fn(async () => ({})),
    cancel: vi.fn(async () => ({})),
    answerInput: vi.fn(async () => ({})),
  }
}

describe('sessionActions', () => {
  it('runs only after the flush, as one batch, saying who', async () => {
    const api = fakeApi()
    let release: () => void = () => undefined
    const flushed = new Promise<void>((r) => (release = r))
    const actions = sessionActions({ api, flush: () => flushed, me: () => ({ name: 'Ada', client_id: 7 }), notify: vi.fn() })
    actions.run(['a', 'b'], 'the notebook')
    await Promise.resolve()
    expect(api.execute).not.toHaveBeenCalled()
    release()
    await flushed
    await Promise.resolve()
    expect(api.execute).toHaveBeenCalledWith(['a', 'b'], { name: 'Ada', client_id: 7 })
  })

  it('reports failures in words', async () => {
    const api = fakeApi()
    api.interrupt.mockRejectedValueOnce(new Error('boom'))
    const notify = vi.fn()
    sessionActions({ api, flush: async () => undefined, me: () => ({ name: 'A', client_id: 1 }), notify }).interrupt()
    await vi.waitFor(() => expect(notify).toHaveBeenCalledWith('Interrupting the kernel failed: boom'))
  })

  it('sends nothing while offline, and says so', () => {
    const api = fakeApi()
    const notify = vi.fn()
    const flush = vi.fn(async () => undefined)
    sessionActions({ api, flush, me: () => ({ name: 'A', client_id: 1 }), notify, online: () => false }).run(['a'], 'the cell')
    expect(flush).not.toHaveBeenCalled()
    expect(api.execute).not.toHaveBeenCalled()
    expect(notify).toHaveBeenCalledWith('You are offline — running the cell will work again once the connection is back.')
  })

  it('runs nothing for an empty list', async () => {
    const api = fakeApi()
    const flush = vi.fn(async () => undefined)
    sessionActions({ api, flush, me: () => ({ name: 'A', client_id: 1 }), notify: vi.fn() }).run([], 'x')
    expect(flush).not.toHaveBeenCalled()
  })

  it('view-only actions cannot edit and do nothing', () => {
    expect(readOnlyActions.canEdit).toBe(false)
    expect(() => readOnlyActions.run(['a'], 'x')).not.toThrow()
  })
})
