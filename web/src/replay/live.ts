/**
 * Following a live session from the playback page, without DOM or network: when it counts as
 * live, how often to ask for more, how the summary grows with what arrives, and where the
 * playhead goes (one at the end stays at the end).
 */
import type { Summary } from './model'
import type { WindowEntry } from './source'

/** A recording whose last entry is this recent (or that grew this recently) is live. */
export const LIVE_RECENT_S = 300
/** How often to ask for new entries while live, and while quiet (it may come back). */
export const POLL_LIVE_MS = 3000
export const POLL_QUIET_MS = 30_000
/** The full summary (people, runs, activity) is refetched at most this often, and only after edits or events. */
export const SUMMARY_EVERY_MS = 10_000
/** A playhead this close to the end is "at the end" (live). */
export const AT_END_S = 1e-3

/** Whether a recording can grow at all (a hub's session, not a recording file). */
export function canGrow(summary: Pick<Summary, 'replay'>): boolean {
  return !summary.replay
}

export function isRecent(end: number, nowS: number): boolean {
  return nowS - end < LIVE_RECENT_S
}

/** The next poll's delay: often while something happened lately, rarely otherwise. */
export function pollDelay(nowMs: number, lastGrewMs: number): number {
  return nowMs - lastGrewMs < LIVE_RECENT_S * 1000 ? POLL_LIVE_MS : POLL_QUIET_MS
}

export function atEnd(position: number, end: number): boolean {
  return position >= end - AT_END_S
}

/** Presence renewals only move the end; edits and events change people, runs or activity. */
export function changesSummary(entries: Pick<WindowEntry, 'kind'>[]): boolean {
  return entries.some((e) => e.kind !== 'awareness')
}

export function lastOf(entries: Pick<WindowEntry, 'seq' | 'ts'>[], seq: number, end: number): { seq: number; end: number } {
  for (const e of entries) {
    seq = Math.max(seq, e.seq)
    end = Math.max(end, e.ts)
  }
  return { seq, end }
}

/**
 * The summary with a later end. A trailing idle stretch grows with it when only presence
 * arrived (nothing else happened), as the hub would count it.
 */
export function extendSummary(summary: Summary, end: number, onlyPresence: boolean): Summary {
  if (end <= summary.end) return summary
  const idle = summary.idle.map(([a, b]): [number, number] => [a, b])
  const tail = idle[idle.length - 1]
  if (onlyPresence && tail && tail[1] === summary.end) tail[1] = end
  return { ...summary, end, duration: end - summary.start, idle }
}

/** A freshly fetched summary, keeping the end the page already follows (never going back). */
export function mergeSummary(fresh: Summary, end: number): Summary {
  const e = Math.max(end, fresh.start)
  return { ...fresh, end: e, duration: e - fresh.start }
}

/** Where the playhead goes when the end moves: along with it if it was at the old end and paused. */
export function followEnd(position: number, playing: boolean, oldEnd: number, newEnd: number): number | null {
  if (playing || newEnd <= oldEnd || !atEnd(position, oldEnd)) return null
  return newEnd
}
