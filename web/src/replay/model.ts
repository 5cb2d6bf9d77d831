/**
 * The playback model, without DOM or network: the recording's summary as the hub sends it, the
 * playback clock (speeds, skipping idle stretches) and what the timeline draws.
 */

export interface RunInfo {
  seq: number
  request_id: string
  cell_id: string
  by: { name: string; client_id: number | null }
  status: string
  execution_count: number | null
  queued_at: number | null
  started: number | null
  ended: number | null
  code: string
  outputs: string
}

export interface PersonInfo {
  name: string
  color: string | null
  client_ids: number[]
  roles: string[]
  joined?: number
  left?: number
  updates: number
  runs: number
  /** [bucket, count] pairs of the buckets with edits. */
  activity: [number, number][]
}

export interface Summary {
  start: number
  end: number
  duration: number
  participants: PersonInfo[]
  runs: RunInfo[]
  counts: Record<string, unknown>
  activity: { buckets: number; bucket_s: number; kernel: [number, number][] }
  idle: [number, number][]
  session: { id: string; path: string }
  replay: boolean
}

export const SPEEDS = [1, 2, 4, 8, 16] as const
export type Speed = (typeof SPEEDS)[number]

/** Stop this far before the activity that ends an idle stretch, so it is seen arriving. */
export const IDLE_LEAD_S = 0.5

export interface Clock {
  position: number
  playing: boolean
  speed: Speed
  skipIdle: boolean
}

export function initialClock(summary: Pick<Summary, 'start'>): Clock {
  return { position: summary.start, playing: false, speed: 1, skipIdle: true }
}

/** Where the playhead is after `elapsed` seconds of wall time. Stops at the end. */
export function advance(clock: Clock, elapsed: number, summary: Pick<Summary, 'end' | 'idle'>): Clock {
  if (!clock.playing) return clock
  let position = clock.position + elapsed * clock.speed
  if (clock.skipIdle) position = skipIdle(position, summary.idle)
  if (position >= summary.end) return { ...clock, position: summary.end, playing: false }
  return { ...clock, position }
}

/** Inside an idle stretch, jump to just before it ends. */
export function skipIdle(position: number, idle: [number, number][]): number {
  for (const [from, to] of idle) {
    const target = to - IDLE_LEAD_S
    if (position > from && position < target) return target
  }
  return position
}

export function clamp(t: number, summary: Pick<Summary, 'start' | 'end'>): number {
  return Math.min(summary.end, Math.max(summary.start, t))
}

/** The moment to show for a run: when it started (or, if it never did, when it ended). */
export function runMoment(run: RunInfo): number {
  return run.started ?? run.queued_at ?? run.ended ?? 0
}

/**
 * Where "jump to run" goes: a moment after it ended, so that its output shows (the last output
 * is stored a little after the end is noted); when it never ended, when it started.
 */
export const OUTPUT_SETTLE_S = 1

export function runOutputMoment(run: RunInfo): number {
  return run.ended !== null ? run.ended + OUTPUT_SETTLE_S : runMoment(run)
}

/** A fraction of the timeline (0..1) for a moment. */
export function fraction(t: number, summary: Pick<Summary, 'start' | 'end'>): number {
  const span = summary.end - summary.start
  return span > 0 ? Math.min(1, Math.max(0, (t - summary.start) / span)) : 0
}

export interface Bar {
  left: number
  width: number
  /** 0..1 of the busiest bucket of anyone. */
  height: number
}

/** Activity bars for one person, scaled against the busiest bucket in the whole recording. */
export function bars(activity: [number, number][], buckets: number, busiest: number): Bar[] {
  return activity.map(([bucket, count]) => ({
    left: bucket / buckets,
    width: 1 / buckets,
    height: busiest > 0 ? Math.max(0.15, count / busiest) : 0,
  }))
}

/**
 * The same bars placed by time (`bucketS` seconds each over a span of `span` seconds), so they
 * stay where they were while a live recording's end moves on between summaries.
 */
export function barsOver(activity: [number, number][], bucketS: number, span: number, busiest: number): Bar[] {
  if (span <= 0) return []
  return activity.map(([bucket, count]) => ({
    left: Math.min(1, (bucket * bucketS) / span),
    width: Math.min(1, bucketS / span),
    height: busiest > 0 ? Math.max(0.15, count / busiest) : 0,
  }))
}

export function busiest(summary: Pick<Summary, 'participants'>): number {
  let most = 0
  for (const p of summary.participants) for (const [, n] of p.activity) most = Math.max(most, n)
  return most
}

export function pad2(n: number): string {
  return String(Math.floor(n)).padStart(2, '0')
}

/** "m:ss" (or "h:mm:ss") since the start. */
export function formatOffset(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  return h > 0 ? `${h}:${pad2(m)}:${pad2(s % 60)}` : `${m}:${pad2(s % 60)}`
}

/** Wall-clock time of day, UTC, as the fork and download names use it. */
export function formatMoment(t: number): string {
  const d = new Date(t * 1000)
  return `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} UTC`
}

export function momentFileName(path: string, t: number): string {
  const stem = (path.split('/').pop() ?? 'notebook').replace(/\.ipynb$/, '')
  const d = new Date(t * 1000)
  return `${stem}-at-${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}${pad2(d.getUTCSeconds())}.ipynb`
}

/** "[3] x = fit(…) — Ada — ok": the code's first line says which cell better than its id. */
export function runLabel(run: RunInfo, cellNumber: number | null): string {
  const line = run.code.split('\n').find((l) => l.trim()) ?? ''
  const code = line.length > 32 ? line.slice(0, 31) + '…' : line
  const cell = cellNumber !== null ? `cell ${cellNumber}` : code || `cell ${run.cell_id.slice(0, 8)}`
  const count = run.execution_count !== null ? `[${run.execution_count}] ` : ''
  return `${count}${cell} — ${run.by.name || 'someone'} — ${run.status}`
}

export interface RunFilter {
  /** In code or outputs, any case. */
  text: string
  status: string
  /** A name (any case) or a client id. */
  by: string
}

/** The run history search, as the hub's GET /runs does it. */
export function filterRuns(runs: RunInfo[], filter: RunFilter): RunInfo[] {
  const text = filter.text.trim().toLowerCase()
  const by = filter.by.trim().toLowerCase()
  return runs.filter(
    (run) =>
      (!filter.status || run.status === filter.status) &&
      (!by || run.by.name.toLowerCase() === by || String(run.by.client_id) === by) &&
      (!text || run.code.toLowerCase().includes(text) || run.outputs.toLowerCase().includes(text)),
  )
}
