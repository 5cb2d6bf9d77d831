import { describe, expect, it } from 'vitest'
import { ApiError, createAsUser, rebaseLink, SessionApi, signOutUser } from '../src/model/api'

function recorder(status = 200, body: unknown = {}) {
  const calls: { url: string; init: RequestInit | undefined }[] = []
  const fetchFn = async (url: string, init?: RequestInit): Promise<Response> => {
    calls.push({ url, init })
    return new Response(JSON.stringify(body), { status })
  }
  return { calls, api: new SessionApi('http://h', 'S 1', 'TOK', fetchFn) }
}

describe('session api', () => {
  it('runs cells with the token in a header and says who ran them', async () => {
    const { calls, api } = recorder(202, { request_id: 'r1' })
    expect(await api.execute(['c1'], { name: 'Ada', client_id: 7 })).toEqual({ request_id: 'r1' })
    await api.execute(['c1', 'c2'], { name: 'Ada', client_id: 7 })
    expect(calls[0].url).toBe('http://h/api/sessions/S%201/execute')
    expect(calls[0].init?.method).toBe('POST')
    expect((calls[0].init?.headers as Record<string, string>).Authorization).toBe('Bearer TOK')
    expect(JSON.parse(String(calls[0].init?.body))).toEqual({ cell_id: 'c1', by: { name: 'Ada', client_id: 7 } })
    expect(JSON.parse(String(calls[1].init?.body))).toEqual({ cell_ids: ['c1', 'c2'], by: { name: 'Ada', client_id: 7 } })
    expect(calls[0].url).not.toContain('TOK')
  })

  it('addresses the kernel, queue and input endpoints', async () => {
    const { calls, api } = recorder()
    const by = { name: 'Ada', client_id: 7 }
    await api.cancel('r/1', by)
    await api.interrupt(by)
    await api.restart(by)
    await api.answerInput('r2', 'yes')
    await api.info()
    expect(calls.map((c) => `${c.init?.method} ${c.url.replace('http://h/api/sessions/S%201', '')}`)).toEqual([
      'DELETE /queue/r%2F1', 'POST /kernel/interrupt', 'POST /kernel/restart', 'POST /input', 'GET ',
    ])
    expect(JSON.parse(String(calls[3].init?.body))).toEqual({ request_id: 'r2', value: 'yes' })
    expect(JSON.parse(String(calls[0].init?.body))).toEqual({ by })
  })

  it('turns error bodies into ApiError', async () => {
    const { api } = recorder(403, { error: 'forbidden', detail: 'view token' })
    await expect(api.interrupt({ name: 'A', client_id: 1 })).rejects.toEqual(new ApiError(403, 'forbidden', 'view token'))
  })

  it('rebases share links on the origin in use', () => {
    expect(rebaseLink('http://0.0.0.0:8765/s/x#token=a', 'https://nb.example')).toBe('https://nb.example/s/x#token=a')
    expect(rebaseLink('not a url', 'https://o')).toBe('not a url')
  })
})

describe('a signed-in user (by their sign-in, no token)', () => {
  const calls: { url: string; init: RequestInit | undefined }[] = []
  const answer = (status: number, body: unknown) => async (url: string, init?: RequestInit): Promise<Response> => {
    calls.push({ url, init })
    return new Response(JSON.stringify(body), { status })
  }

  it('creates a notebook, says whether the file was made, and signs out', async () => {
    const made = await createAsUser('http://h', 'a.ipynb', answer(201, { id: 's1', path: 'a.ipynb', created_file: true }))
    expect(made).toEqual({ id: 's1', path: 'a.ipynb', created_file: true })
    expect(calls[0].url).toBe('http://h/api/sessions')
    expect(JSON.parse(String(calls[0].init?.body))).toEqual({ path: 'a.ipynb' })
    expect((calls[0].init?.headers as Record<string, string>).Authorization).toBeUndefined()
    await signOutUser('http://h', answer(200, { signed_out: true }))
    expect(calls[1].url).toBe('http://h/api/logout')
    expect(calls[1].init?.method).toBe('POST')
  })

  it('passes the hub\'s refusal on', async () => {
    const refused = createAsUser('http://h', 'theirs.ipynb', answer(403, { error: 'forbidden', detail: 'ask its owners to share it' }))
    await expect(refused).rejects.toMatchObject({ status: 403, message: expect.stringContaining('ask its owners') })
  })
})
