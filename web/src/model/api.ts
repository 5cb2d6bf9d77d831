/** The hub's HTTP API for one session (see the public contract). No DOM: `fetch` is injected. */
import type { AssistRequest, CompleteReply, InspectReply } from './kernelAssist'

export type Role = 'admin' | 'owner' | 'edit' | 'view'

/** The named link a page joined with (`GET /api/sessions/{id}` says so). */
export interface OwnLink {
  id: string
  name: string
  role: string
  expires: number | null
}

export interface SessionInfo {
  id: string
  path: string
  /** What this page's token may do; see roles.ts (the one place roles are interpreted). */
  role: Role
  view_url: string
  edit_url?: string
  edit_token?: string
  view_token?: string
  link?: OwnLink
  /** For a signed-in user (no token): whether they own the session (manage links, grants). */
  owner?: boolean
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
 * A caller of the hub's endpoints with one token: the token goes in a header (never in a URL),
 * and an error answer becomes an ApiError with the hub's code and detail. `path` starts at /api.
 */
export function hubCaller(
  origin: string,
  token: string,
  fetchFn: Fetch = defaultFetch,
): (method: string, path: string, body?: unknown) => Promise<Response> {
  return async (method, path, body) => {
    // No token: a signed-in user, whose sign-in cookie the browser sends to our own origin.
    const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {}
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    const response = await fetchFn(origin + path, {
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

/** A caller of one session's endpoints (`path` follows `/api/sessions/{id}`). */
export function sessionCaller(
  origin: string,
  sessionId: string,
  token: string,
  fetchFn: Fetch = defaultFetch,
): (method: string, path: string, body?: unknown) => Promise<Response> {
  const call = hubCaller(origin, token, fetchFn)
  const base = `/api/sessions/${encodeURIComponent(sessionId)}`
  return (method, path, body) => call(method, base + path, body)
}

/** `POST …/links` answers: the only time a named link's token is shown. */
export interface CreatedLink {
  id: string
  name: string
  role: string
  created: number
  expires: number | null
  url: string
  token: string
}

/** `POST …/save` answers. */
export interface Saved {
  path: string
  saved_at: number
}

/** One kernel host of `GET /api/kernel-hosts`. */
export interface KernelSpec {
  name: string
  display_name: string
  language: string
}

export interface KernelHost {
  name: string
  description: string
  specs: KernelSpec[]
  error?: string
}

/** `POST …/checkpoint` answers. */
export interface Checkpoint {
  commit: string
  message: string
  authors: { name: string; email: string }[]
  path: string
  changes?: { added: number; changed: number; removed: number }
  runs?: Record<string, number>
}

export class SessionApi {
  private readonly call: ReturnType<typeof sessionCaller>
  private readonly hub: ReturnType<typeof hubCaller>

  constructor(
    readonly origin: string,
    readonly sessionId: string,
    token: string,
    fetchFn: Fetch = defaultFetch,
  ) {
    this.call = sessionCaller(origin, sessionId, token, fetchFn)
    this.hub = hubCaller(origin, token, fetchFn)
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

  /** A widget's changed state or custom message, for the hub to send to the kernel (`202`). */
  changeWidget(modelId: string, body: unknown): Promise<unknown> {
    return this.request('POST', `/widgets/${encodeURIComponent(modelId)}`, body)
  }

  answerInput(requestId: string, value: string): Promise<unknown> {
    return this.request('POST', '/input', { request_id: requestId, value })
  }

  /** Completions from the shared kernel (`cursor_pos` in code points), for this participant only. */
  complete(request: AssistRequest): Promise<CompleteReply> {
    return this.request('POST', '/complete', request)
  }

  inspect(request: AssistRequest): Promise<InspectReply> {
    return this.request('POST', '/inspect', { ...request, detail_level: 0 })
  }

  /** Writes the .ipynb now. */
  save(): Promise<Saved> {
    return this.request('POST', '/save')
  }

  /** Where kernels can run (edit token); not under the session's path. */
  async kernelHosts(): Promise<KernelHost[]> {
    return (await (await this.hub('GET', '/api/kernel-hosts')).json()) as KernelHost[]
  }

  selectKernel(host: string, spec: string, by: RunBy): Promise<{ host: string; spec: string; status: string }> {
    return this.request('POST', '/kernel/select', { host, spec, by })
  }

  /** Saves, then commits the notebook's file into its git repository. */
  checkpoint(message: string | null): Promise<Checkpoint> {
    return this.request('POST', '/checkpoint', message ? { message } : {})
  }

  /** The tracked runs (JSON, read with `readExperiments`). */
  async experiments(): Promise<unknown> {
    return (await this.call('GET', '/experiments')).json()
  }

  /** The experiments as the hub's CSV, to save. */
  async experimentsFile(): Promise<Blob> {
    return (await this.call('GET', '/experiments?format=csv&download=1')).blob()
  }

  /** The notebook's tracking settings (read with `readTracking`). */
  tracking(): Promise<unknown> {
    return this.request('GET', '/tracking')
  }

  /** `metrics: null` brings back the hub's default patterns. */
  setTracking(change: { metrics?: string[] | null; enabled?: boolean }): Promise<unknown> {
    return this.request('POST', '/tracking', change)
  }

  /** The named links (owners; never a token). Read with `readLinks`. */
  links(): Promise<unknown> {
    return this.request('GET', '/links')
  }

  /** A named link; its token and URL are in this answer only. */
  createLink(name: string, role: 'edit' | 'view', expiresInS: number | null): Promise<CreatedLink> {
    return this.request('POST', '/links', expiresInS === null ? { name, role } : { name, role, expires_in_s: expiresInS })
  }

  /** Revokes a link and the links made with it; their connections are closed (4410). */
  revokeLink(linkId: string): Promise<{ revoked_links: string[]; closed: number }> {
    return this.request('DELETE', `/links/${encodeURIComponent(linkId)}`)
  }

  /** Replaces an anonymous link: the old one stops working, its connections are closed. */
  rotateLink(role: 'edit' | 'view'): Promise<{ role: string; token: string; url: string; closed: number }> {
    return this.request('POST', '/links/rotate', { role })
  }

  /**
   * The notebook file (nbformat JSON) as a blob for the browser to save. Fetched with the token in
   * a header rather than `?token=` in a link, so that it stays out of URLs and access logs.
   */
  async notebookFile(): Promise<Blob> {
    return (await this.call('GET', '/notebook?download=1')).blob()
  }
}

/** A notebook under the hub's root (`GET /api/notebooks`), with its session when it has one. */
export interface NotebookEntry {
  path: string
  size: number
  modified: number
  session?: SessionLinks & { participants: number }
}

export interface SessionLinks {
  id: string
  path: string
  edit_url: string
  view_url: string
  /** Whether the hub made the file (false: one was there already); absent from older hubs. */
  created_file?: boolean
}

export interface NotebookListing {
  root: string
  notebooks: NotebookEntry[]
  truncated: boolean
}

/** The admin token's endpoints the home page uses (the token in a header, never in a URL). */
export class AdminApi {
  private readonly call: ReturnType<typeof hubCaller>

  constructor(origin: string, token: string, fetchFn: Fetch = defaultFetch) {
    this.call = hubCaller(origin, token, fetchFn)
  }

  async notebooks(): Promise<NotebookListing> {
    return (await (await this.call('GET', '/api/notebooks')).json()) as NotebookListing
  }

  /** Creates the session of `path` (and the file, when missing), or returns the one it has. */
  async open(path: string): Promise<SessionLinks> {
    return (await (await this.call('POST', '/api/sessions', { path })).json()) as SessionLinks
  }
}

/** `GET /api/me`: who the browser is signed in as (no token: by its sign-in cookie). */
export interface Me {
  user: string | null
  admin: boolean
  groups: string[]
  can_create: boolean
  login_url: string | null
  /** How this hub signs people in: only a JupyterHub sign-in (a cookie of ours) can be signed out of here. */
  signin?: { jupyterhub: boolean; header: boolean }
}

export async function whoAmI(origin: string, fetchFn: Fetch = defaultFetch): Promise<Me | null> {
  try {
    return (await (await hubCaller(origin, '', fetchFn)('GET', '/api/me')).json()) as Me
  } catch {
    return null // an older hub, or none: as if nobody signed in
  }
}

/** Where to send someone who came with no token and is not signed in, if the hub signs in. */
export function loginTarget(me: Me | null, pathname: string): string | null {
  if (!me || me.user || !me.login_url) return null
  return `${me.login_url}?next=${encodeURIComponent(pathname)}`
}

/** The sessions shared with the signed-in user (and theirs). */
export async function sharedWithMe(origin: string, fetchFn: Fetch = defaultFetch): Promise<unknown[]> {
  return (await (await hubCaller(origin, '', fetchFn)('GET', '/api/sessions')).json()) as unknown[]
}

/** A signed-in user's new notebook (or the session its path has): theirs, opened by their sign-in. */
export async function createAsUser(origin: string, path: string, fetchFn: Fetch = defaultFetch): Promise<{ id: string; path: string; created_file?: boolean }> {
  return (await (await hubCaller(origin, '', fetchFn)('POST', '/api/sessions', { path })).json()) as { id: string; path: string; created_file?: boolean }
}

/** Forget the JupyterHub sign-in cookie (JupyterHub's own session is JupyterHub's to end). */
export async function signOutUser(origin: string, fetchFn: Fetch = defaultFetch): Promise<void> {
  await hubCaller(origin, '', fetchFn)('POST', '/api/logout')
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
