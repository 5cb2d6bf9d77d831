/**
 * The replayed document: a NotebookSession (the same model the live page uses) whose provider is
 * the recording instead of a websocket. Going forward applies the recorded Yjs updates and
 * awareness updates in order; going back (or far ahead: past FAR_ENTRIES entries) starts a new
 * session from the hub's state at that moment, since a Yjs document cannot un-apply an update.
 *
 * That state is the recorded document (a snapshot and the updates after it), whose size is the
 * whole history's: ~1 s for Yjs to apply 3.7 MB. Where the hub's seek index reaches the moment, a
 * far seek first shows the notebook as the hub reads it there (a document holding just that, in
 * milliseconds: ~150 KB), a preview, and puts the recorded document in its place once it has
 * loaded, unless another seek came first; going on from a preview (playing) waits for it. No DOM.
 */
import * as Y from 'yjs'
import { type Awareness, applyAwarenessUpdate } from 'y-protocols/awareness'
import { Emitter } from '../model/emitter'
import { readLastRun } from '../model/kernelState'
import { NotebookSession, type ProviderLike } from '../model/session'
import { fromBase64, type PlaybackWindow, type RecordingApi, type WindowEntry } from './source'

export const ORIGIN = 'replay'
/** Recorded seconds fetched at a time. */
export const WINDOW_S = 120
/**
 * Entries applied to the document shown to reach a moment, at most. Further on (a jump across a
 * busy stretch), the hub's base at that moment (its snapshot and the updates after it, applied in
 * one transaction) is quicker: its cost is the document's size, not the length of the jump.
 */
export const FAR_ENTRIES = 2000

/** A provider that never connects: the document is fed from the recording. */
export function recordingProvider(awareness: Awareness): ProviderLike {
  return {
    awareness,
    synced: true,
    on: () => undefined,
    connect: () => undefined,
    disconnect: () => undefined,
    destroy: () => undefined, // the notebook disposes of its awareness
  }
}

function replaySession(sessionId: string): NotebookSession {
  const session = new NotebookSession({
    serverUrl: 'replay:',
    sessionId,
    token: '',
    user: { name: '', color: '#000', colorLight: '#0003' },
    createProvider: ({ notebook }) => {
      const awareness = notebook.awareness
      // Recorded states are as fresh as the moment shown, however long playback is paused.
      clearInterval((awareness as unknown as { _checkInterval: ReturnType<typeof setInterval> })._checkInterval)
      return recordingProvider(awareness)
    },
  })
  session.awareness.setLocalState(null) // the viewer is not a participant
  return session
}

export class ReplayDoc {
  session: NotebookSession
  /** A new session replaced the old one (the view must be rebuilt on it). */
  readonly rebuilt = new Emitter<NotebookSession>()
  /** Events (join, leave, run, kernel) passed while moving forward. */
  readonly passed = new Emitter<WindowEntry>()
  private window: PlaybackWindow | null = null
  private applied = 0
  private position = -Infinity
  private lastSeq = 0
  private chain: Promise<void> = Promise.resolve()
  /** A preview is shown (`t`), its recorded document on the way. */
  private loading: { t: number; window: Promise<PlaybackWindow> } | null = null
  private seeks = 0

  constructor(
    private readonly api: RecordingApi,
    private end: number,
  ) {
    this.session = replaySession(api.sessionId)
  }

  get shown(): number {
    return this.position
  }

  /** Show the moment `t`. Seeks run one after another, in the order asked. */
  seek(t: number): Promise<void> {
    this.chain = this.chain.then(() => this.seekNow(t)).catch((e: unknown) => {
      console.error('replay: seek failed', e)
    })
    return this.chain
  }

  /** Whether a preview is shown (the recorded document for it still loading). */
  get previewing(): boolean {
    return this.loading !== null
  }

  private async seekNow(t: number): Promise<void> {
    const seek = ++this.seeks
    if (this.loading && t >= this.loading.t) await this.settle() // going on: from the document
    this.loading = null // going back: the preview's document is not needed
    const w = this.window
    if (w && t >= w.from && t >= this.position && (await this.reach(t)) && this.count(this.applied, t) <= FAR_ENTRIES) {
      this.applyUntil(t)
    } else if (w && t >= w.from && t <= w.to && this.count(0, t) <= FAR_ENTRIES) {
      this.reset(w)
      this.applyUntil(t)
    } else {
      const window = (): Promise<PlaybackWindow> => this.api.window(t, Math.min(this.end, t + WINDOW_S))
      const content = this.api.contentAt ? await this.api.contentAt(t) : null
      if (content) {
        this.preview(content)
        // asked for once the preview is up: its megabytes, parsed on this thread, would hold it up
        const fresh = window()
        fresh.catch(() => undefined) // a failure shows when the document is needed
        this.loading = { t, window: fresh }
        // once loaded, the document takes the preview's place, unless another seek came first
        void fresh.then(() => {
          this.chain = this.chain
            .then(() => (seek === this.seeks ? this.settle() : undefined))
            .catch((e: unknown) => console.error('replay: loading the document failed', e))
        }, () => undefined)
      } else {
        this.reset(await window())
        this.applyUntil(t)
      }
    }
    this.position = t
  }

  /** Show a document of the notebook alone (no history: it cannot take recorded updates). */
  private preview(content: Uint8Array): void {
    this.window = null
    Y.applyUpdate(this.newSession().notebook.ydoc, content, ORIGIN)
    this.rebuilt.emit(this.session)
  }

  /** A new session in the old one's place (the view is rebuilt on it once it is filled). */
  private newSession(): NotebookSession {
    this.applied = 0
    this.session.destroy()
    this.session = replaySession(this.api.sessionId)
    return this.session
  }

  /** Put the recorded document in the preview's place. */
  private async settle(): Promise<void> {
    const loading = this.loading
    if (!loading) return
    let w: PlaybackWindow
    try {
      w = await loading.window
    } catch (e) {
      if (this.loading === loading) this.loading = null // the next seek fetches it again
      throw e
    }
    if (this.loading !== loading) return
    this.loading = null
    this.reset(w)
    this.applyUntil(loading.t)
  }

  /**
   * The recording grew (a live session): `entries` are what was logged after the end known so far,
   * up to `end`. A window reaching the old end takes them in, so following the end costs no fetch;
   * any other window fetches them when playback gets there.
   */
  grow(entries: WindowEntry[], end: number): Promise<void> {
    this.chain = this.chain.then(() => {
      if (end <= this.end) return
      const w = this.window
      if (w && w.to >= this.end) {
        // Held entries are in log order; anything at or before the last one is already there.
        const last = w.entries.length ? w.entries[w.entries.length - 1].seq : this.lastSeq
        w.entries.push(...entries.filter((e) => e.seq > last && e.ts <= end))
        w.to = end
      }
      this.end = end
    })
    return this.chain
  }

  /**
   * Hold the entries up to `t`, fetching what follows the window without a new base (the view
   * carries on); false when more than FAR_ENTRIES lie between the held end and `t`.
   */
  private async reach(t: number): Promise<boolean> {
    while (t > this.window!.to && this.window!.to < this.end) {
      if (!(await this.extend(t))) return false
    }
    return true
  }

  private async extend(t: number): Promise<boolean> {
    const w = this.window!
    const next = await this.api.window(w.to, Math.min(this.end, Math.max(t, w.to) + WINDOW_S), this.lastSeq, FAR_ENTRIES)
    const seen = new Set(w.entries.map((e) => e.seq))
    w.entries.push(...next.entries.filter((e) => !seen.has(e.seq)))
    w.to = next.to
    if (!next.entries.length && !next.truncated) w.to = Math.max(w.to, Math.min(this.end, t))
    return !(next.truncated && next.to < t)
  }

  /** Held entries from index `from` logged at or before `t`. */
  private count(from: number, t: number): number {
    const entries = this.window!.entries
    let n = 0
    for (let i = from; i < entries.length && entries[i].ts <= t; i++) n++
    return n
  }

  private reset(w: PlaybackWindow): void {
    this.window = w
    this.newSession()
    const base = w.base
    if (base) {
      const doc = this.session.notebook.ydoc
      // one transaction: the notebook's observers see the document once, not per update
      Y.transact(doc, () => {
        Y.applyUpdate(doc, fromBase64(base.state), ORIGIN)
        for (const update of base.updates ?? []) Y.applyUpdate(doc, fromBase64(update), ORIGIN)
      }, ORIGIN)
      this.lastSeq = base.seq
      const awareness = this.session.awareness
      const added: number[] = []
      for (const { client_id, state } of base.presence) {
        awareness.states.set(client_id, state)
        awareness.meta.set(client_id, { clock: 0, lastUpdated: Date.now() })
        added.push(client_id)
      }
      if (added.length) awareness.emit('change', [{ added, updated: [], removed: [] }, ORIGIN])
    }
    this.rebuilt.emit(this.session)
  }

  private applyUntil(t: number): void {
    const w = this.window!
    const doc = this.session.notebook.ydoc
    const later: WindowEntry[] = [] // presence and events: once the notebook holds the updates
    // One transaction: the notebook's observers, and every editor, see the change once, however
    // many updates a seek or a frame of playback covers.
    Y.transact(doc, () => {
      while (this.applied < w.entries.length && w.entries[this.applied].ts <= t) {
        const entry = w.entries[this.applied++]
        this.lastSeq = Math.max(this.lastSeq, entry.seq)
        if (entry.kind === 'update' && entry.update) Y.applyUpdate(doc, fromBase64(entry.update), ORIGIN)
        else later.push(entry)
      }
    }, ORIGIN)
    for (const entry of later) {
      if (entry.kind === 'awareness' && entry.update) {
        applyAwarenessUpdate(this.session.awareness, fromBase64(entry.update), ORIGIN)
      } else this.passed.emit(entry)
    }
  }

  /** Whether the notebook shown holds a run that ended at `ended` or later (its outputs are in). */
  holdsRunEnded(ended: number): boolean {
    return this.session.notebook.cells.some((cell) => (readLastRun(cell.getMetadata())?.ended ?? -Infinity) >= ended)
  }

  destroy(): void {
    this.session.destroy()
  }
}
