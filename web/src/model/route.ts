/** Which page the URL asks for. The hub serves one index.html for every route. */
export type Route =
  | { kind: 'notebook'; sessionId: string; token: string | null }
  | { kind: 'replay'; sessionId: string; token: string | null }
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

export function parseRoute(pathname: string, hash: string): Route {
  const token = tokenFromHash(hash)
  const replay = REPLAY.exec(pathname)
  if (replay) return { kind: 'replay', sessionId: decodeURIComponent(replay[1]), token }
  const notebook = NOTEBOOK.exec(pathname)
  if (notebook) return { kind: 'notebook', sessionId: decodeURIComponent(notebook[1]), token }
  if (pathname === '/' || pathname === '') return { kind: 'home' }
  return { kind: 'unknown' }
}

/** `http://h/x` -> `ws://h/ws`: the y-websocket server URL (the provider appends `/{room}`). */
export function websocketBase(origin: string): string {
  return origin.replace(/^http/, 'ws') + '/ws'
}
