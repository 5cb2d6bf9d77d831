/**
 * Presence over Yjs awareness. Each participant publishes `user` (name, colour), `cell` (the id of
 * their active cell) and `scroll` (the cell at the top of their view and how far into it), plus
 * y-codemirror.next's `cursor`.
 */
import type { User } from './identity'
import { type Announcement, readAnnouncement } from './structureNotice'

export interface ScrollSpot {
  cell: string
  /** Pixels from the top of that cell to the top of the view. */
  offset: number
}

export interface Participant {
  clientId: number
  user: User
  cell: string | null
  scroll: ScrollSpot | null
  /** Whom this participant follows: the followed one publishes its scroll position only then. */
  following?: number | null
  /** Their last structural edit, announced (see structureNotice.ts). */
  did?: Announcement | null
  /** A view-only participant (they say so; the hub enforces it). */
  viewer?: boolean
  /** The hub vouches for the name: they joined with a named link (`user.verified`, set by the hub only). */
  verified?: boolean
  /** When they arrived, by their clock (ms): the first to arrive keeps their colour. */
  joined?: number | null
  self: boolean
}

type StateLike = Record<string, unknown>

/** Colours go into style attributes: accept hex colours only, never arbitrary CSS. */
const HEX_COLOUR = /^#[0-9a-f]{3,8}$/i
const FALLBACK_COLOUR = '#6b7280'

function readUser(value: unknown): User | null {
  if (typeof value !== 'object' || value === null) return null
  const user = value as Record<string, unknown>
  if (typeof user.name !== 'string') return null
  const color = typeof user.color === 'string' && HEX_COLOUR.test(user.color) ? user.color : FALLBACK_COLOUR
  const light = typeof user.colorLight === 'string' && HEX_COLOUR.test(user.colorLight) ? user.colorLight : color + '33'
  return { name: user.name.slice(0, 80), color, colorLight: light }
}

function readScroll(value: unknown): ScrollSpot | null {
  if (typeof value !== 'object' || value === null) return null
  const spot = value as Record<string, unknown>
  if (typeof spot.cell !== 'string') return null
  return { cell: spot.cell, offset: typeof spot.offset === 'number' ? spot.offset : 0 }
}

/** Everyone who announced a name, oneself first, then by name. */
export function participants(states: Map<number, StateLike>, selfId: number): Participant[] {
  const list: Participant[] = []
  states.forEach((state, clientId) => {
    const user = readUser(state.user)
    if (!user) return
    const cell = typeof state.cell === 'string' ? state.cell : null
    const following = typeof state.following === 'number' ? state.following : null
    list.push({
      clientId, user, cell, scroll: readScroll(state.scroll), following,
      did: readAnnouncement(state.did), viewer: state.role === 'view', self: clientId === selfId,
      verified: (state.user as { verified?: unknown }).verified === true,
      joined: typeof state.joined === 'number' ? state.joined : null,
    })
  })
  return list.sort(
    (a, b) => Number(b.self) - Number(a.self) || a.user.name.localeCompare(b.user.name) || a.clientId - b.clientId,
  )
}

/** Whether anyone follows `clientId` (then it is worth publishing where it scrolls). */
export function isFollowed(people: Participant[], clientId: number): boolean {
  return people.some((p) => p.following === clientId && p.clientId !== clientId)
}

/** What the follower should do when the followed participant's state changes. */
export type FollowStep =
  | { kind: 'none' }
  | { kind: 'lost' }
  | { kind: 'scroll'; spot: ScrollSpot }
  | { kind: 'reveal'; cell: string }

export interface FollowMemory {
  cell: string | null
  scroll: ScrollSpot | null
}

/**
 * Follow their scrolling; when their active cell changes, make sure it is in view. A scroll
 * report wins when both changed, since it says precisely what they see.
 */
export function followStep(prev: FollowMemory, target: Participant | undefined): FollowStep {
  if (!target) return { kind: 'lost' }
  const scrollChanged =
    target.scroll !== null &&
    (prev.scroll === null || prev.scroll.cell !== target.scroll.cell || prev.scroll.offset !== target.scroll.offset)
  if (scrollChanged && target.scroll) return { kind: 'scroll', spot: target.scroll }
  if (target.cell !== null && target.cell !== prev.cell) return { kind: 'reveal', cell: target.cell }
  return { kind: 'none' }
}

/** The participants with the colours every client agrees on (see colours.ts). */
export function withColours(people: Participant[], colours: Map<number, string>): Participant[] {
  return people.map((p) => {
    const color = colours.get(p.clientId)
    return color && color !== p.user.color ? { ...p, user: { ...p.user, color, colorLight: color + '33' } } : p
  })
}

/** The names of those following `clientId`. */
export function followersOf(people: Participant[], clientId: number): string[] {
  return people.filter((p) => p.following === clientId && p.clientId !== clientId).map((p) => p.user.name)
}
