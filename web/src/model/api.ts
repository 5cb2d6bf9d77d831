/** The hub's HTTP API for one session (see the public contract). No DOM: `fetch` is injected. */

export type Role = 'admin' | 'edit' | 'view'

export interface SessionInfo {
  id: string
  path: string
  role: Role
  view_url: string
  edit_url?: string
}

export interface RunBy {
  name: string
  client_id: number
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(`${status} ${code}: ${detail}`)
  }
}

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>

const defaultFetch: Fetch = (input, init) => fetch(input, init)

/**
 * A caller of one session's endpoints: the token goes in a header (never in a URL), and an
 * error answer becomes an ApiError with the hub's code and detail.
 */
export function sessionCaller(
  origin: string,
  sessionId: string,
  token: string,
  fetchFn: Fetch = defaultFetch,
): (method: string, path: string, body?: unknown) => Promise<Response> {
  const base = `${origin}/api/sessions/${encodeURIComponent(sessionId)}`
  return async (method, path, body) => {
    const headers: Record<string, string> = { Authorization: `Bearer ${token}` }
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    const response = await fetchFn(base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      referrerPolicy: 'no-referrer',
    })
    if (!response.ok) {
      const text = await response.text()
      const err = (safeJson(text) ?? {}) as { error?: string; detail?: string }
      throw new ApiError(response.status, err.error ?? 'http_error', err.detail ?? text)
    }
    return response
  }
}

export class SessionApi {
  private readonly call: ReturnType<typeof sessionCaller>

  constructor(
    readonly origin: string,
    readonly sessionId: string,
    token: string,
    fetchFn: Fetch = defaultFetch,
  ) {
    this.call = sessionCaller(origin, sessionId, token, fetchFn)
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const text = await (await this.call(method, path, body)).text()
    return (text ? safeJson(text) : null) as T
  }

  info(): Promise<SessionInfo> {
    return this.request('GET', '')
  }

  execute(cellIds: string[], by: RunBy): Promise<{ request_id?: string; request_ids?: string[] }> {
    const body = cellIds.length === 1 ? { cell_id: cellIds[0], by } : { cell_ids: cellIds, by }
    return this.request('POST', '/execute', body)
  }

  /** Kernel control and cancelling say who did it, for everyone to see and the recording. */
  cancel(requestId: string, by: RunBy): Promise<unknown> {
    return this.request('DELETE', `/queue/${encodeURIComponent(requestId)}`, { by })
  }

  interrupt(by: RunBy): Promise<unknown> {
    return this.request('POST', '/kernel/interrupt', { by })
  }

  restart(by: RunBy): Promise<unknown> {
    return this.request('POST', '/kernel/restart', { by })
  }

  answerInput(requestId: string, value: string): Promise<unknown> {
    return this.request('POST', '/input', { request_id: requestId, value })
  }

  /**
   * The notebook file (nbformat JSON) as a blob for the browser to save. Fetched with the token in
   * a header rather than `?token=` in a link, so that it stays out of URLs and access logs.
   */
  async notebookFile(): Promise<Blob> {
    return (await this.call('GET', '/notebook?download=1')).blob()
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

/** Share links on the origin the participant actually uses (the hub may know itself by another name). */
export function rebaseLink(link: string, origin: string): string {
  try {
    const url = new URL(link)
    return origin + url.pathname + url.search + url.hash
  } catch {
    return link
  }
}
