import { describe, expect, it, vi } from 'vitest'
import { ApiError } from '../src/model/api'
import { readOnlyActions, sessionActions } from '../src/model/sessionActions'

function fakeApi() {
  return {
    execute: vi.fn(async () => ({})),
    interrupt: vi.fn(async () => ({})),
    restart: vi.fn(async () => ({})),
    cancel: vi.fn(async () => ({})),
    answerInput: vi.fn(async () => ({})),
    save: vi.fn(async () => ({ path: 'nb.ipynb', saved_at: 1 })),
    complete: vi.fn(async () => ({ matches: ['shared_value'], cursor_start: 0, cursor_end: 6 })),
    inspect: vi.fn(async () => ({ found: true, data: { 'text/plain': 'Docstring' } })),
    kernelHosts: vi.fn(async () => [{ name: 'local', description: '', specs: [] }]),
    selectKernel: vi.fn(async () => ({ host: 'local', spec: 'python3', status: 'starting' })),
    checkpoint: vi.fn(async () => ({ commit: 'abc', message: 'm', authors: [], path: 'nb.ipynb' })),
  }
}

describe('sessionActions', () => {
  it('runs on the websocket when connected: no flush, no HTTP; a refusal is told in words', async () => {
    const api = fakeApi()
    const flush = vi.fn(async () => undefined)
    const notify = vi.fn()
    const request = vi.fn((_op: string, _fields: Record<string, unknown>): Promise<unknown> | null => Promise.resolve({ request_id: 'r' }))
    const actions = sessionActions({ api, flush, request, me: () => ({ name: 'Ada', client_id: 7 }), notify })
    actions.run(['a'], 'the cell')
    actions.run(['a', 'b'], 'the notebook')
    expect(request.mock.calls).toEqual([
      ['execute', { cell_id: 'a', by: { name: 'Ada', client_id: 7 } }],
      ['execute', { cell_ids: ['a', 'b'], by: { name: 'Ada', client_id: 7 } }],
    ])
    expect(flush).not.toHaveBeenCalled()
    expect(api.execute).not.toHaveBeenCalled()
    request.mockReturnValueOnce(Promise.reject(new ApiError(409, 'closing', 'the kernel is being replaced')))
    actions.run(['a'], 'the cell')
    await vi.waitFor(() => expect(notify).toHaveBeenCalledWith(expect.stringMatching(/^Running the cell failed: .*the kernel is being replaced/)))
    request.mockReturnValueOnce(null) // not connected: over HTTP after the flush
    actions.run(['a'], 'the cell')
    await vi.waitFor(() => expect(api.execute).toHaveBeenCalledWith(['a'], { name: 'Ada', client_id: 7 }))
    expect(flush).toHaveBeenCalledTimes(1)
  })

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

  it('view-only actions answer nothing', async () => {
    expect(await readOnlyActions.save()).toBeNull()
    expect(await readOnlyActions.complete('x', 1)).toBeNull()
    expect(await readOnlyActions.inspect('x', 1)).toBeNull()
    expect(await readOnlyActions.selectKernel('local', 'python3')).toBe(false)
    expect(await readOnlyActions.checkpoint(null)).toBeNull()
  })

  it('saves after the flush', async () => {
    const api = fakeApi()
    const order: string[] = []
    const flush = async (): Promise<void> => void order.push('flush')
    api.save.mockImplementation(async () => (order.push('save'), { path: 'nb.ipynb', saved_at: 5 }))
    const saved = await sessionActions({ api, flush, me: () => ({ name: 'A', client_id: 1 }), notify: vi.fn() }).save()
    expect(saved).toEqual({ path: 'nb.ipynb', saved_at: 5 })
    expect(order).toEqual(['flush', 'save'])
  })

  it('asks the kernel in code points and answers in UTF-16', async () => {
    const api = fakeApi()
    api.complete.mockResolvedValueOnce({ matches: ['émoji_var'], cursor_start: 4, cursor_end: 7 })
    const actions = sessionActions({ api, flush: async () => undefined, me: () => ({ name: 'A', client_id: 1 }), notify: vi.fn() })
    const code = '"😀"\némo'
    const result = await actions.complete(code, code.length)
    expect(api.complete).toHaveBeenCalledWith({ code, cursor_pos: 7 })
    expect(result).toEqual({ value: { from: 5, to: 8, options: [{ label: 'émoji_var' }] } })
  })

  it('turns the kernel refusals into hints', async () => {
    const api = fakeApi()
    api.inspect.mockRejectedValueOnce(new ApiError(409, 'no_kernel', 'no kernel yet'))
    api.complete.mockRejectedValueOnce(new ApiError(409, 'kernel_busy', 'busy'))
    const notify = vi.fn()
    const actions = sessionActions({ api, flush: async () => undefined, me: () => ({ name: 'A', client_id: 1 }), notify })
    expect(await actions.inspect('len(', 4)).toEqual({ hint: expect.stringMatching(/run a cell first to start the kernel/i) })
    expect(await actions.complete('x', 1)).toEqual({ hint: expect.stringMatching(/the kernel is busy running a cell/i) })
    expect(await actions.inspect('len(', 4)).toEqual({ value: 'Docstring' })
    expect(notify).not.toHaveBeenCalled()
  })

  it('says why a checkpoint did not happen', async () => {
    const api = fakeApi()
    api.checkpoint.mockRejectedValueOnce(new ApiError(422, 'nothing_changed', 'nb.ipynb is as its last commit has it'))
    const actions = sessionActions({ api, flush: async () => undefined, me: () => ({ name: 'A', client_id: 1 }), notify: vi.fn() })
    expect(await actions.checkpoint('x')).toEqual({ hint: expect.stringContaining('Nothing changed since the last commit') })
    expect(await actions.checkpoint(null)).toMatchObject({ value: { commit: 'abc' } })
  })

  it('switches the kernel saying who', async () => {
    const api = fakeApi()
    const actions = sessionActions({ api, flush: async () => undefined, me: () => ({ name: 'Ada', client_id: 3 }), notify: vi.fn() })
    expect(await actions.selectKernel('local', 'python3')).toBe(true)
    expect(api.selectKernel).toHaveBeenCalledWith('local', 'python3', { name: 'Ada', client_id: 3 })
  })
})
