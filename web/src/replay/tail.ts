/**
 * The live tail of a recording: polls the hub for entries logged after the last one known
 * (`after_seq`, so each poll costs what is new, not the whole log) and, after edits or events, the
 * summary at most every SUMMARY_EVERY_MS. Timers, clock and network are injected.
 */
import {
  changesSummary,
  isRecent,
  lastOf,
  pollDelay,
  SUMMARY_EVERY_MS,
} from './live'
import type { Summary } from './model'
import type { PlaybackWindow, WindowEntry } from './source'

export interface TailSource {
  lastSeqAt(t: number): Promise<number>
  window(from: number, to: number, afterSeq?: number): Promise<PlaybackWindow>
  summary(): Promise<Summary>
}

export interface TailHooks {
  /** New entries, and the end they reach. */
  grew(entries: WindowEntry[], end: number): void | Promise<void>
  /** A fresh summary (people, runs, activity). */
  summary(summary: Summary): void
}

export interface TailEnv {
  nowMs(): number
  setTimer(fn: () => void, ms: number): unknown
  clearTimer(handle: unknown): void
  /** A hidden tab does not poll. */
  hidden(): boolean
}

/** How far past the known end to ask: a later entry is taken on the next poll. */
const AHEAD_S = 24 * 3600

export class LiveTail {
  private seq = -1
  private end: number
  private lastGrewMs: number
  private lastSummaryMs: number
  private summaryDue = false
  /** Entries not yet handed over (logged at the known end's very moment). */
  private pending: WindowEntry[] = []
  private timer: unknown = null
  private stopped = false

  constructor(
    private readonly source: TailSource,
    private readonly hooks: TailHooks,
    summary: Pick<Summary, 'end'>,
    private readonly env: TailEnv,
  ) {
    this.end = summary.end
    const now = env.nowMs()
    this.lastGrewMs = isRecent(summary.end, now / 1000) ? now : -Infinity
    this.lastSummaryMs = now
  }

  get knownEnd(): number {
    return this.end
  }

  start(): void {
    this.schedule()
  }

  stop(): void {
    this.stopped = true
    if (this.timer !== null) this.env.clearTimer(this.timer)
    this.timer = null
  }

  private schedule(): void {
    if (this.stopped) return
    this.timer = this.env.setTimer(() => void this.tick(), pollDelay(this.env.nowMs(), this.lastGrewMs))
  }

  /** One poll; also called directly by tests. */
  async tick(): Promise<void> {
    this.timer = null
    try {
      if (!this.env.hidden()) await this.poll()
    } catch (e) {
      console.warn('replay: polling the live session failed', e)
    }
    this.schedule()
  }

  private async poll(): Promise<void> {
    if (this.seq < 0) this.seq = await this.source.lastSeqAt(this.end)
    const w = await this.source.window(this.end, this.end + AHEAD_S, this.seq)
    if (this.stopped) return
    const next = lastOf(w.entries, this.seq, this.end)
    if (w.entries.length) {
      this.pending.push(...w.entries)
      this.seq = next.seq
      this.lastGrewMs = this.env.nowMs()
      if (changesSummary(w.entries)) this.summaryDue = true
    }
    if (next.end > this.end) {
      this.end = next.end
      const entries = this.pending
      this.pending = []
      await this.hooks.grew(entries, next.end)
    }
    if (this.summaryDue && this.env.nowMs() - this.lastSummaryMs >= SUMMARY_EVERY_MS) {
      this.summaryDue = false
      this.lastSummaryMs = this.env.nowMs()
      const fresh = await this.source.summary()
      if (!this.stopped) this.hooks.summary(fresh)
    }
  }
}
