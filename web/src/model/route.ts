/** Which page the URL asks for. The hub serves one index.html for every route. */
export type Route =
  | { kind: 'notebook'; sessionId: string; token: string | null }
  | { kind: 'replay'; sessionId: string; token: string | null; at?: ReplayMoment }
  | { kind: 'home' }
  | { kind: 'unknown' }

const NOTEBOOK = /^\/s\/([^/]+)\/?$/
const REPLAY = /^\/s\/([^/]+)\/replay\/?$/

/** The token travels in the fragment (`#token=...`) so that it never reaches logs or Referer. */
export function tokenFromHash(hash: string): string | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''))
  const token = params.get('token')
  return token ? token : null
}

/**
 * Where the playback page opens: a moment (Unix s) and the cell to show there. With a cell, the
 * moment is a run's end (`last_run.ended`): the page shows the first moment from it on that holds
 * that run's end and outputs, before anything after it.
 */
export interface ReplayMoment {
  t: number
  cell: string | null
}

/** `#token=…&t=<Unix s>&cell=<id>`: the playback page opened at a moment (say, a run's). */
export function momentFromHash(hash: string): ReplayMoment | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''))
  const t = Number(params.get('t') ?? NaN)
  if (!params.has('t') || !Number.isFinite(t) || t <= 0) return null
  return { t, cell: params.get('cell') || null }
}

/** The playback page's address at a moment, the token in the fragment as every link has it. */
export function replayLink(origin: string, sessionId: string, token: string, at: ReplayMoment): string {
  const hash = new URLSearchParams({ token, t: String(at.t) })
  if (at.cell) hash.set('cell', at.cell)
  return `${origin}/s/${encodeURIComponent(sessionId)}/replay#${hash.toString()}`
}

export function parseRoute(pathname: string, hash: string): Route {
  const token = tokenFromHash(hash)
  const replay = REPLAY.exec(pathname)
  if (replay) {
    const at = momentFromHash(hash)
    return { kind: 'replay', sessionId: decodeURIComponent(replay[1]), token, ...(at ? { at } : {}) }
  }
  const notebook = NOTEBOOK.exec(pathname)
  if (notebook) return { kind: 'notebook', sessionId: decodeURIComponent(notebook[1]), token }
  if (pathname === '/' || pathname === '') return { kind: 'home' }
  return { kind: 'unknown' }
}

/** `http://h/x` -> `ws://h/ws`: the y-websocket server URL (the provider appends `/{room}`). */
export function websocketBase(origin: string): string {
  return origin.replace(/^http/, 'ws') + '/ws'
}

/** Where a page keeps its session token once it has taken it out of the address bar. */
export function tokenKey(sessionId: string): string {
  return `collabd.token.${sessionId}`
}

/**
 * The token from the link's fragment is kept in this tab's session storage and taken out of the
 * address bar (so it is not shown, bookmarked or copied with the address); a reload in the same
 * tab finds it there. Share links come from the share dialog.
 */
export function takeToken(
  route: Route,
  storage: Pick<Storage, 'getItem' | 'setItem'>,
  clearHash: () => void,
): Route {
  if (route.kind !== 'notebook' && route.kind !== 'replay') return route
  if (route.token) {
    storage.setItem(tokenKey(route.sessionId), route.token)
    clearHash()
    return route
  }
  return { ...route, token: storage.getItem(tokenKey(route.sessionId)) }
}
