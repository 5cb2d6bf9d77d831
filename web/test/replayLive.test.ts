import { YNotebook } from '@jupyter/ydoc'
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import {
  atEnd,
  canGrow,
  changesSummary,
  extendSummary,
  followEnd,
  isRecent,
  lastOf,
  LIVE_RECENT_S,
  mergeSummary,
  POLL_LIVE_MS,
  POLL_QUIET_MS,
  pollDelay,
  SUMMARY_EVERY_MS,
} from '../src/replay/live'
import { barsOver, type Summary } from '../src/replay/model'
import { ReplayDoc } from '../src/replay/player'
import type { PlaybackWindow, RecordingApi, WindowEntry } from '../src/replay/source'
import { LiveTail, type TailEnv, type TailSource } from '../src/replay/tail'

function summaryOf(over: Partial<Summary> = {}): Summary {
  return {
    start: 100, end: 200, duration: 100, participants: [], runs: [], counts: {},
    activity: { buckets: 10, bucket_s: 10, kernel: [] }, idle: [[150, 200]],
    session: { id: 'S', path: 'nb.ipynb' }, replay: false, ...over,
  }
}

const entry = (seq: number, ts: number, kind = 'update'): WindowEntry => ({ seq, ts, kind, origin: 'peer:1' })

describe('live rules', () => {
  it('tells a live hub session from a quiet one and from a recording file', () => {
    expect(canGrow(summaryOf())).toBe(true)
    expect(canGrow(summaryOf({ replay: true }))).toBe(false)
    expect(isRecent(200, 200 + LIVE_RECENT_S - 1)).toBe(true)
    expect(isRecent(200, 200 + LIVE_RECENT_S + 1)).toBe(false)
    expect(pollDelay(10_000, 9_000)).toBe(POLL_LIVE_MS)
    expect(pollDelay(10_000 + LIVE_RECENT_S * 1000, 9_000)).toBe(POLL_QUIET_MS)
    expect(pollDelay(0, -Infinity)).toBe(POLL_QUIET_MS)
  })

  it('keeps a paused playhead at the end with the end, and leaves any other where it is', () => {
    expect(atEnd(200, 200)).toBe(true)
    expect(atEnd(199, 200)).toBe(false)
    expect(followEnd(200, false, 200, 230)).toBe(230)
    expect(followEnd(150, false, 200, 230)).toBeNull()
    expect(followEnd(200, true, 200, 230)).toBeNull() // playing goes on by itself
    expect(followEnd(200, false, 200, 200)).toBeNull()
  })

  it('grows the summary: the end, and a trailing idle stretch only when nothing but presence came', () => {
    const s = summaryOf()
    const presence = extendSummary(s, 260, true)
    expect(presence).toMatchObject({ end: 260, duration: 160, idle: [[150, 260]] })
    expect(s.idle).toEqual([[150, 200]]) // not changed in place
    expect(extendSummary(s, 260, false).idle).toEqual([[150, 200]])
    expect(extendSummary(s, 190, false)).toBe(s)
    const fresh = summaryOf({ end: 240, runs: [{ cell_id: 'c' } as Summary['runs'][0]] })
    expect(mergeSummary(fresh, 260)).toMatchObject({ end: 260, duration: 160, runs: fresh.runs })
    expect(mergeSummary(fresh, 230).end).toBe(230) // the page's end moves with the entries it holds
  })

  it('only edits and events call for a new summary; the last seq and moment', () => {
    expect(changesSummary([entry(1, 1, 'awareness')])).toBe(false)
    expect(changesSummary([entry(1, 1, 'awareness'), entry(2, 2, 'run')])).toBe(true)
    expect(lastOf([entry(4, 210), entry(7, 205)], 3, 200)).toEqual({ seq: 7, end: 210 })
    expect(lastOf([], 3, 200)).toEqual({ seq: 3, end: 200 })
  })

  it('places activity by time, so bars stay put while the end moves on', () => {
    expect(barsOver([[2, 5]], 10, 100, 5)).toEqual([{ left: 0.2, width: 0.1, height: 1 }])
    expect(barsOver([[2, 5]], 10, 200, 10)).toEqual([{ left: 0.1, width: 0.05, height: 0.5 }])
    expect(barsOver([[2, 5]], 10, 0, 10)).toEqual([])
  })
})

/** A hub whose log grows as the test appends to it. */
function fakeHub(): { log: WindowEntry[]; source: TailSource; calls: string[] } {
  const log: WindowEntry[] = [entry(1, 100), entry(2, 200, 'awareness')]
  const calls: string[] = []
  const source: TailSource = {
    async lastSeqAt(t) {
      calls.push(`seq@${t}`)
      return Math.max(0, ...log.filter((e) => e.ts <= t).map((e) => e.seq))
    },
    async window(from, to, afterSeq) {
      calls.push(`after@${afterSeq}`)
      const entries = log.filter((e) => e.seq > (afterSeq ?? 0) && e.ts <= to)
      return { from, to, truncated: false, base: null, entries }
    },
    async summary() {
      calls.push('summary')
      return summaryOf({ end: log[log.length - 1].ts })
    },
  }
  return { log, source, calls }
}

function env(now: { ms: number }): TailEnv {
  return { nowMs: () => now.ms, setTimer: () => 1, clearTimer: () => undefined, hidden: () => false }
}

describe('live tail', () => {
  it('asks only for what follows the last entry, and for the summary only after edits, at most so often', async () => {
    const { log, source, calls } = fakeHub()
    const now = { ms: 200_000 }
    const grew: [number[], number][] = []
    const summaries: number[] = []
    const tail = new LiveTail(source, {
      grew: (entries, end) => void grew.push([entries.map((e) => e.seq), end]),
      summary: (s) => void summaries.push(s.end),
    }, summaryOf(), env(now))
    await tail.tick()
    expect(calls).toEqual(['seq@200', 'after@2'])
    expect(grew).toEqual([])
    log.push(entry(3, 203, 'awareness'))
    now.ms += 3000
    await tail.tick()
    expect(grew).toEqual([[[3], 203]])
    expect(calls.slice(2)).toEqual(['after@2']) // presence only: no summary
    log.push(entry(4, 205), entry(5, 206, 'run'))
    now.ms += 3000
    await tail.tick()
    expect(grew[1]).toEqual([[4, 5], 206])
    expect(summaries).toEqual([]) // the last summary is too recent
    now.ms += SUMMARY_EVERY_MS
    await tail.tick()
    expect(summaries).toEqual([206])
    expect(calls.slice(3)).toEqual(['after@3', 'after@5', 'summary'])
    expect(tail.knownEnd).toBe(206)
  })

  it('polls often while the session is live, rarely when quiet, never once stopped', async () => {
    const { log, source } = fakeHub()
    const now = { ms: 10_000_000 } // long after the recording's end: quiet
    const delays: number[] = []
    const tail = new LiveTail(source, { grew: () => undefined, summary: () => undefined }, summaryOf(), {
      ...env(now), setTimer: (_fn, ms) => (delays.push(ms), delays.length),
    })
    tail.start()
    expect(delays).toEqual([POLL_QUIET_MS])
    log.push(entry(3, 10_000))
    await tail.tick()
    expect(delays[1]).toBe(POLL_LIVE_MS)
    tail.stop()
    await tail.tick()
    expect(delays).toHaveLength(2)
  })

  it('keeps polling after a failed request', async () => {
    const { source } = fakeHub()
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const delays: number[] = []
    const tail = new LiveTail({ ...source, window: () => Promise.reject(new Error('offline')) },
      { grew: () => undefined, summary: () => undefined }, summaryOf(), { ...env({ ms: 200_000 }), setTimer: (_f, ms) => delays.push(ms) })
    await tail.tick()
    expect(delays).toEqual([POLL_LIVE_MS])
    expect(warn).toHaveBeenCalled()
    warn.mockRestore()
  })
})

describe('replayed document growing live', () => {
  it('takes new entries into a window that reaches the end, so following costs no fetch', async () => {
    const nb = new YNotebook()
    const updates: Uint8Array[] = []
    nb.ydoc.on('update', (u: Uint8Array) => updates.push(u))
    nb.insertCell(0, { cell_type: 'code', source: '' })
    const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64')
    const log: WindowEntry[] = updates.splice(0).map((u, i) => ({ seq: i + 1, ts: 100, kind: 'update', origin: 'p', update: b64(u) }))
    const type = (text: string, ts: number): WindowEntry[] => {
      const len = nb.cells[0].getSource().length
      nb.cells[0].updateSource(len, len, text)
      const fresh = updates.splice(0).map((u) => ({ seq: log.length + 1, ts, kind: 'update', origin: 'p', update: b64(u) }))
      log.push(...fresh)
      return fresh
    }
    type('a', 101)
    const fetched: string[] = []
    const api = {
      sessionId: 'S',
      async window(from: number, to: number, afterSeq?: number): Promise<PlaybackWindow> {
        fetched.push(afterSeq === undefined ? 'base' : `after@${afterSeq}`)
        const base = afterSeq === undefined ? { seq: 0, state: b64(Y.encodeStateAsUpdate(new Y.Doc())), presence: [] } : null
        return { from, to, truncated: false, base, entries: log.filter((e) => e.seq > (afterSeq ?? 0) && e.ts <= to) }
      },
    } as unknown as RecordingApi
    const doc = new ReplayDoc(api, 101)
    await doc.seek(101)
    expect(doc.session.notebook.cells[0].getSource()).toBe('a')
    await doc.grow(type('b', 105), 105)
    await doc.seek(105)
    expect(doc.session.notebook.cells[0].getSource()).toBe('ab')
    expect(fetched).toEqual(['base'])
    // behind the end, a later grow is fetched when playback gets there
    await doc.seek(100)
    await doc.grow(type('c', 110), 110)
    await doc.seek(110)
    expect(doc.session.notebook.cells[0].getSource()).toBe('abc')
    doc.destroy()
  })
})
