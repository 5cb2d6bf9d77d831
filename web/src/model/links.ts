/**
 * A session's named links (`GET …/links`) read defensively, and what the share dialog says about
 * them (no DOM): status, expiry choices, refusals in words.
 */
import { ApiError } from './api'
import { failureWords } from './wording'

export interface NamedLink {
  id: string
  name: string
  role: string
  created: number | null
  expires: number | null
  revoked: number | null
  last_seen: number | null
  created_by: string | null
  status: 'active' | 'revoked' | 'expired' | string
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)

export function readLinks(json: unknown): NamedLink[] {
  const list = typeof json === 'object' && json !== null ? (json as { links?: unknown }).links : null
  if (!Array.isArray(list)) return []
  const found: NamedLink[] = []
  for (const item of list) {
    if (typeof item !== 'object' || item === null) continue
    const o = item as Record<string, unknown>
    if (typeof o.id !== 'string' || typeof o.name !== 'string') continue
    found.push({
      id: o.id, name: o.name, role: str(o.role) ?? 'view',
      created: num(o.created), expires: num(o.expires), revoked: num(o.revoked), last_seen: num(o.last_seen),
      created_by: str(o.created_by), status: str(o.status) ?? 'active',
    })
  }
  return found
}

/** Active links first (newest first), then the ones that no longer work. */
export function orderLinks(links: NamedLink[]): NamedLink[] {
  const rank = (l: NamedLink): number => (l.status === 'active' ? 0 : 1)
  return [...links].sort((a, b) => rank(a) - rank(b) || (b.created ?? 0) - (a.created ?? 0))
}

/** Who made a link: the name of the named link it was made with, else an owner's anonymous access. */
export function madeBy(link: NamedLink, all: NamedLink[]): string {
  if (!link.created_by) return 'an owner'
  return all.find((l) => l.id === link.created_by)?.name ?? 'a removed link'
}

export const EXPIRY_CHOICES: readonly { label: string; seconds: number | null }[] = [
  { label: 'never', seconds: null },
  { label: 'in 1 hour', seconds: 3600 },
  { label: 'in 1 day', seconds: 86_400 },
  { label: 'in 7 days', seconds: 7 * 86_400 },
  { label: 'in 30 days', seconds: 30 * 86_400 },
]

/** "3 min ago", "in 2 h", "5 d ago": for created, expires and last seen. */
export function relativeTime(t: number | null, nowS: number, never = '—'): string {
  if (t === null) return never
  const d = t - nowS
  const a = Math.abs(d)
  const size = a < 60 ? 'just now' : a < 3600 ? `${Math.round(a / 60)} min` : a < 86_400 ? `${Math.round(a / 3600)} h` : `${Math.round(a / 86_400)} d`
  if (size === 'just now') return size
  return d > 0 ? `in ${size}` : `${size} ago`
}

/** The name a person typed, as the hub takes it: trimmed, 1 to 64 characters, no control characters. */
export function checkLinkName(name: string): { name: string } | { error: string } {
  const trimmed = name.trim()
  if (!trimmed) return { error: 'Give the name of the person (or bot) the link is for.' }
  if ([...trimmed].length > 64) return { error: 'A name has at most 64 characters.' }
  if (/\p{Cc}/u.test(trimmed)) return { error: 'A name cannot contain control characters.' }
  return { name: trimmed }
}

/** Why a link operation did not happen. */
export function linkFailure(what: string, error: unknown, online = true): string {
  if (error instanceof ApiError) {
    if (error.status === 403) return `Only the session's owners can manage its links — ${what} did not happen.`
    if (error.code === 'too_many_links') return 'This session has too many links: revoke some first.'
    if (error.code === 'link_revoked' || error.code === 'link_expired') return 'Your own link no longer works, so it cannot manage links.'
    if (error.status === 404) return 'That link does not exist (any more).'
    if (error.status === 422) return error.detail
  }
  return failureWords(what, error, online)
}
