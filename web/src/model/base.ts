/**
 * Where collabd is served: at the root, or under a path prefix (a JupyterHub service is under
 * `/services/<name>`, a proxy may add one). The hub writes the prefix into the page
 * (`<meta name="collabd-base">`); every API, websocket and frame address starts with it.
 */

/** The prefix as `''` or `/a/b` (a leading slash, no trailing one), whatever the meta held. */
export function basePath(meta: string | null | undefined): string {
  const trimmed = (meta ?? '').trim().replace(/^\/+|\/+$/g, '')
  return trimmed ? `/${trimmed}` : ''
}

/** The page's own path below the prefix (`/services/collabd/s/x` -> `/s/x`). */
export function stripBase(pathname: string, base: string): string {
  if (!base) return pathname
  if (pathname === base) return '/'
  return pathname.startsWith(base + '/') ? pathname.slice(base.length) : pathname
}

/** A session shared with a signed-in user, as `GET /api/sessions` lists it for them. */
export interface UserSession {
  id: string
  path: string
  role: string
  owner?: boolean
  url: string
  participants?: number
}

export interface SharedRow {
  path: string
  role: string
  href: string
  participants: number
}

/** The home page's list for a signed-in user: by path, with the role in words, opened by the
 * session's address on this page's origin and prefix (the sign-in cookie lets them in). */
export function sharedRows(sessions: UserSession[], appOrigin: string): SharedRow[] {
  return [...sessions]
    .sort((a, b) => a.path.localeCompare(b.path))
    .map((s) => ({
      path: s.path,
      role: s.role === 'owner' || s.owner ? 'owner' : s.role === 'view' ? 'can view' : 'can edit',
      href: `${appOrigin}/s/${encodeURIComponent(s.id)}`,
      participants: s.participants ?? 0,
    }))
}
