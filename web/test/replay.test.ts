import { YNotebook } from '@jupyter/ydoc'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness'
import {
  advance,
  type Clock,
  bars,
  filterRuns,
  formatOffset,
  IDLE_LEAD_S,
  initialClock,
  momentFileName,
  runLabel,
  runMoment,
  skipIdle,
  type RunInfo,
} from '../src/replay/model'
import { FAR_ENTRIES, ReplayDoc, WINDOW_S } from '../src/replay/player'
import type { PlaybackWindow, RecordingApi, WindowEntry } from '../src/replay/source'

const summary = { start: 100, end: 200, idle: [[110, 150]] as [number, number][] }

describe('playback clock', () => {
  it('moves at the chosen speed and stops at the end', () => {
    let clock: Clock = { ...initialClock(summary), playing: true, skipIdle: false, speed: 4 }
    clock = advance(clock, 1, summary)
    expect(clock.position).toBe(104)
    clock = advance(clock, 100, summary)
    expect(clock).toMatchObject({ position: 200, playing: false })
    expect(advance({ ...clock, position: 120 }, 1, summary).position).toBe(120) // paused
  })

  it('skips idle stretches, stopping just before the activity that ends them', () => {
    const clock = { ...initialClock(summary), position: 109.5, playing: true, speed: 1 as const }
    expect(advance(clock, 1, summary).position).toBe(150 - IDLE_LEAD_S)
    expect(advance({ ...clock, skipIdle: false }, 1, summary).position).toBe(110.5)
    expect(skipIdle(160, summary.idle)).toBe(160)
  })

  it('names, bars and run moments', () => {
    expect(formatOffset(3725)).toBe('1:02:05')
    expect(formatOffset(65)).toBe('1:05')
    expect(momentFileName('dir/nb.ipynb', Date.UTC(2026, 0, 1, 9, 5, 7) / 1000)).toBe('nb-at-090507.ipynb')
    expect(bars([[10, 5], [20, 10]], 200, 10)).toEqual([
      { left: 0.05, width: 0.005, height: 0.5 },
      { left: 0.1, width: 0.005, height: 1 },
    ])
    const run = { started: null, queued_at: 5, ended: 9 } as unknown as RunInfo
    expect(runMoment(run)).toBe(5)
  })
})

/** A recorded history: what the notebook's first cell said after each update, and when. */
function history(parts = false, steps = 40): { entries: WindowEntry[]; sources: [number, string][]; api: RecordingApi; windows: string[] } {
  const nb = new YNotebook()
  const updates: Uint8Array[] = []
  nb.ydoc.on('update', (u: Uint8Array) => updates.push(u))
  nb.insertCell(0, { cell_type: 'code', source: '' })
  const entries: WindowEntry[] = []
  const sources: [number, string][] = []
  const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64')
  let t = 1000
  const push = (kind: string, u: Uint8Array): void => {
    entries.push({ seq: entries.length + 1, ts: t, kind, origin: 'peer:1', update: b64(u) })
  }
  for (const u of updates.splice(0)) push('update', u)
  sources.push([t, ''])
  const other = new Awareness(new Y.Doc())
  for (let i = 0; i < steps; i++) {
    t += i === 20 ? 300 : 1 // a gap longer than a fetch window
    const len = nb.cells[0].getSource().length
    nb.cells[0].updateSource(len, len, String(i % 10))
    for (const u of updates.splice(0)) push('update', u)
    other.setLocalState({ user: { name: 'bob', color: '#123' }, cell: nb.cells[0].id, i })
    push('awareness', encodeAwarenessUpdate(other, [other.clientID]))
    sources.push([t, nb.cells[0].getSource()])
  }
  const windows: string[] = []
  const api = {
    sessionId: 'S',
    async window(from: number, to: number, afterSeq?: number, limit?: number): Promise<PlaybackWindow> {
      windows.push(afterSeq === undefined ? `base@${from}` : `after@${afterSeq}`)
      let base: PlaybackWindow['base'] = null
      let after = afterSeq ?? 0
      if (afterSeq === undefined) {
        const doc = new Y.Doc()
        const upto = entries.filter((e) => e.ts <= from)
        after = upto.length ? upto[upto.length - 1].seq : 0
        const applied = upto.filter((e) => e.kind === 'update')
        // in parts, as the hub sends them: a snapshot halfway, and the updates after it
        const snapshotAt = parts ? Math.floor(applied.length / 2) : applied.length
        for (const e of applied.slice(0, snapshotAt)) Y.applyUpdate(doc, Buffer.from(e.update!, 'base64'))
        const updates = parts ? applied.slice(snapshotAt).map((e) => e.update!) : undefined
        base = { seq: after, state: b64(Y.encodeStateAsUpdate(doc)), updates, presence: [] }
      }
      const rest = entries.filter((e) => e.seq > after && e.ts <= to)
      if (limit !== undefined && rest.length > limit) { // as the hub cuts a window
        rest.length = limit
        return { from, to: rest[limit - 1].ts, truncated: true, base, entries: rest }
      }
      return { from, to, truncated: false, base, entries: rest }
    },
  } as unknown as RecordingApi
  return { entries, sources, api, windows }
}

function sourceNow(doc: ReplayDoc): string {
  return doc.session.notebook.cells[0]?.getSource() ?? '<none>'
}

describe('replayed document', () => {
  it.each([
    ['a document rebuilt by the hub', false],
    ['a snapshot and the updates after it', true],
  ])('shows each moment forwards, backwards and across fetch windows (%s)', async (_, parts) => {
    const { sources, api, windows } = history(parts)
    const end = sources[sources.length - 1][0]
    const doc = new ReplayDoc(api, end)
    let rebuilt = 0
    doc.rebuilt.on(() => rebuilt++)
    for (const [t, expected] of sources) {
      await doc.seek(t)
      expect(sourceNow(doc)).toBe(expected)
    }
    expect(rebuilt).toBe(1) // forward play never rebuilds: it extends the window
    expect(windows.filter((w) => w.startsWith('after@')).length).toBeGreaterThan(0)
    await doc.seek(sources[3][0])
    expect(sourceNow(doc)).toBe(sources[3][1])
    expect(rebuilt).toBe(2)
    await doc.seek(sources[5][0] + 0.5)
    expect(sourceNow(doc)).toBe(sources[5][1])
    expect(end - sources[0][0]).toBeGreaterThan(WINDOW_S)
    const states = doc.session.awareness.getStates()
    expect([...states.values()].map((s) => (s.user as { name: string }).name)).toEqual(['bob'])
    doc.destroy()
  })

  it('applies what a seek covers in one transaction, and jumps far ahead from a new base', async () => {
    const steps = FAR_ENTRIES // two entries a step (an update, a presence): twice FAR_ENTRIES
    const { sources, api, windows } = history(true, steps)
    const end = sources[sources.length - 1][0]
    const doc = new ReplayDoc(api, end)
    let rebuilt = 0
    doc.rebuilt.on(() => rebuilt++)
    await doc.seek(sources[0][0])
    let updates = 0
    const count = (): void => void updates++
    doc.session.notebook.ydoc.on('update', count)
    await doc.seek(sources[10][0]) // ten updates, one change for the notebook's observers
    expect(sourceNow(doc)).toBe(sources[10][1])
    expect(updates).toBe(1)
    expect(rebuilt).toBe(1)
    // across the 300 s gap and ~3,900 entries: not applied one by one but from a new base
    await doc.seek(sources[steps - 5][0])
    expect(sourceNow(doc)).toBe(sources[steps - 5][1])
    expect(rebuilt).toBe(2)
    expect(windows[windows.length - 1]).toBe(`base@${sources[steps - 5][0]}`)
    const fetched = windows.length
    await doc.seek(end) // near: the window held covers it
    expect(sourceNow(doc)).toBe(sources[steps][1])
    expect(rebuilt).toBe(2)
    expect(windows.length).toBe(fetched)
    doc.destroy()
  })
})

/** The notebook at `t` as the hub gives it from its seek index: a new document with it alone. */
function contentAt(entries: WindowEntry[], t: number): Uint8Array {
  const nb = new YNotebook()
  for (const e of entries) {
    if (e.ts <= t && e.kind === 'update') Y.applyUpdate(nb.ydoc, Buffer.from(e.update!, 'base64'))
  }
  const fresh = new YNotebook()
  fresh.fromJSON({ ...nb.toJSON(), metadata: {} })
  return Y.encodeStateAsUpdate(fresh.ydoc)
}

describe('a far seek where the hub has a seek index', () => {
  /** The history's api, with the notebook from the index, and windows that arrive when let. */
  function indexed(): { api: RecordingApi; sources: [number, string][]; arrive: () => Promise<void>; asked: number[] } {
    const { entries, sources, api } = history(true)
    const held: (() => void)[] = []
    const asked: number[] = []
    const slow = {
      sessionId: 'S',
      contentAt: async (t: number) => { asked.push(t); return contentAt(entries, t) },
      window: async (...args: Parameters<RecordingApi['window']>) => {
        await new Promise<void>((resolve) => held.push(resolve))
        return api.window(...args)
      },
    } as unknown as RecordingApi
    const arrive = async (): Promise<void> => {
      for (let i = 0; i < 5; i++) {
        held.splice(0).forEach((go) => go())
        await new Promise((r) => setTimeout(r, 0))
      }
    }
    return { api: slow, sources, arrive, asked }
  }

  it('shows the notebook at once, then the recorded document, and plays on with presence', async () => {
    const { api, sources, arrive } = indexed()
    const doc = new ReplayDoc(api, sources[sources.length - 1][0])
    let rebuilt = 0
    doc.rebuilt.on(() => rebuilt++)
    await doc.seek(sources[30][0]) // resolves with the window still on its way
    expect(doc.previewing).toBe(true)
    expect(sourceNow(doc)).toBe(sources[30][1])
    expect(doc.session.awareness.getStates().size).toBe(0)
    expect(rebuilt).toBe(1)
    await arrive()
    await doc.seek(doc.shown) // after the document took the preview's place
    expect(doc.previewing).toBe(false)
    expect(rebuilt).toBe(2)
    expect(sourceNow(doc)).toBe(sources[30][1])
    await doc.seek(sources[31][0]) // and plays on from it
    expect(sourceNow(doc)).toBe(sources[31][1])
    expect(rebuilt).toBe(2)
    const names = [...doc.session.awareness.getStates().values()].map((s) => (s.user as { name: string }).name)
    expect(names).toEqual(['bob'])
    doc.destroy()
  })

  it('goes on from a preview once the document is there, and back from it at once', async () => {
    const { api, sources, arrive, asked } = indexed()
    const doc = new ReplayDoc(api, sources[sources.length - 1][0])
    await doc.seek(sources[30][0])
    const going = doc.seek(sources[32][0]) // playing on: waits for the document
    await arrive()
    await going
    expect(doc.previewing).toBe(false)
    expect(sourceNow(doc)).toBe(sources[32][1])
    await doc.seek(sources[2][0]) // far back: a new preview
    expect(doc.previewing).toBe(true)
    expect(sourceNow(doc)).toBe(sources[2][1])
    await doc.seek(sources[1][0]) // and further back before its document came: another one
    expect(sourceNow(doc)).toBe(sources[1][1])
    await arrive() // the first preview's document does not replace the second preview
    await doc.seek(doc.shown)
    expect(sourceNow(doc)).toBe(sources[1][1])
    expect(asked).toEqual([sources[30][0], sources[2][0], sources[1][0]])
    doc.destroy()
  })

  it('loads the document as before where the hub has no index there', async () => {
    const { sources, api } = history(true)
    const none = { sessionId: 'S', contentAt: async () => null, window: api.window } as unknown as RecordingApi
    const doc = new ReplayDoc(none, sources[sources.length - 1][0])
    await doc.seek(sources[30][0])
    expect(doc.previewing).toBe(false)
    expect(sourceNow(doc)).toBe(sources[30][1])
    doc.destroy()
  })
})

describe('run labels', () => {
  it('name the run by its code', () => {
    const run = { cell_id: 'abcdef123', code: '\nscore = fit(model, data, epochs=10, lr=0.001)\n', by: { name: 'Ada', client_id: 1 }, status: 'ok', execution_count: 3 } as unknown as RunInfo
    expect(runLabel(run, null)).toBe('[3] score = fit(model, data, epochs… — Ada — ok')
    expect(runLabel({ ...run, code: '' }, null)).toBe('[3] cell abcdef12 — Ada — ok')
    expect(runLabel(run, 2)).toBe('[3] cell 2 — Ada — ok')
  })
})

describe('run search', () => {
  const run = (over: Partial<RunInfo>): RunInfo => ({
    seq: 1, request_id: 'r', cell_id: 'c', by: { name: 'Ada', client_id: 7 }, status: 'ok',
    execution_count: 1, queued_at: 1, started: 1, ended: 2, code: 'fit(lr=0.1)', outputs: 'score 0.93', ...over,
  })
  const runs = [run({}), run({ by: { name: 'bob', client_id: 8 }, status: 'error', code: '1/0', outputs: 'ZeroDivisionError' })]
  it('finds by text in code or output, status and person', () => {
    expect(filterRuns(runs, { text: 'SCORE', status: '', by: '' })).toEqual([runs[0]])
    expect(filterRuns(runs, { text: '1/0', status: '', by: '' })).toEqual([runs[1]])
    expect(filterRuns(runs, { text: '', status: 'error', by: '' })).toEqual([runs[1]])
    expect(filterRuns(runs, { text: '', status: '', by: 'ADA' })).toEqual([runs[0]])
    expect(filterRuns(runs, { text: '', status: '', by: '8' })).toEqual([runs[1]])
    expect(filterRuns(runs, { text: '', status: 'ok', by: 'bob' })).toEqual([])
  })
})

describe('jumping to a run and its preview', async () => {
  const { runOutputMoment } = await import('../src/replay/model')
  const { outputPreview, runsEmptyNote } = await import('../src/replay/runsPanel')

  it('goes to just after the run ended, so that its output shows', () => {
    const run = { started: 5, queued_at: 4, ended: 9 } as unknown as RunInfo
    expect(runOutputMoment(run)).toBeGreaterThan(9)
    expect(runOutputMoment({ started: 5, queued_at: 4, ended: null } as unknown as RunInfo)).toBe(5)
  })

  it('shows a progress bar as its final state', () => {
    expect(outputPreview('10%\r50%\r100%\ndone\n')).toBe('100%\ndone\n')
    expect(outputPreview('x'.repeat(500))).toHaveLength(300)
  })

  it('says why no run is listed, and nothing when some are', () => {
    expect(runsEmptyNote(0, 0)).toBe('No runs')
    expect(runsEmptyNote(3, 0)).toBe('No run matches')
    expect(runsEmptyNote(3, 1)).toBe('')
  })
})
