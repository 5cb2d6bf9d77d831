/** The recording endpoints of one session (on a hub or on `collabd replay`). `fetch` is injected. */
import { type Fetch, sessionCaller } from '../model/api'
import type { Summary } from './model'

export interface WindowEntry {
  seq: number
  ts: number
  kind: string
  origin: string
  /** base64 of a Yjs update ("update") or an awareness update ("awareness"). */
  update?: string
  data?: Record<string, unknown>
}

export interface PlaybackWindow {
  from: number
  to: number
  truncated: boolean
  base: {
    seq: number
    /** The snapshot the document at `from` is built from (base64 Yjs update)... */
    state: string
    /** ...and the updates after it, to apply in order (asked with `base=parts`). */
    updates?: string[]
    presence: { client_id: number; state: Record<string, unknown> }[]
  } | null
  entries: WindowEntry[]
}

export interface Forked {
  id: string
  path: string
  edit_url: string
  view_url: string
}

export class RecordingApi {
  private readonly call: ReturnType<typeof sessionCaller>

  constructor(
    readonly origin: string,
    readonly sessionId: string,
    token: string,
    fetchFn: Fetch = (input, init) => fetch(input, init),
  ) {
    this.call = sessionCaller(origin, sessionId, token, fetchFn)
  }

  async summary(): Promise<Summary> {
    return (await (await this.call('GET', '/recording')).json()) as Summary
  }

  /**
   * The document at `from` and what follows up to `to`; with `afterSeq`, only what follows. The
   * document comes in parts (a snapshot and the updates after it): the hub then reads them and
   * rebuilds nothing, which for a large document would hold up every room it serves. With
   * `limit`, at most that many entries (`truncated` says some were left, `to` where they stop).
   */
  async window(from: number, to: number, afterSeq?: number, limit?: number): Promise<PlaybackWindow> {
    const after = afterSeq === undefined ? '' : `&after_seq=${afterSeq}`
    const most = limit === undefined ? '' : `&limit=${limit}`
    const path = `/recording/events?from=${from}&to=${to}&updates=1&base=parts${after}${most}`
    return (await (await this.call('GET', path)).json()) as PlaybackWindow
  }

  /** The last log seq at or before `t` (0 if none): where a live tail starts. Entries without bytes. */
  async lastSeqAt(t: number): Promise<number> {
    const found = (await (await this.call('GET', `/recording/events?from=${t}&to=${t}`)).json()) as { events?: { seq: number }[] }
    return (found.events ?? []).reduce((most, e) => Math.max(most, e.seq), 0)
  }

  /**
   * The notebook at `t` where the hub's seek index reaches it, else null: a Yjs update of a new
   * document holding that notebook and none of its history (~150 KB where the recorded document
   * is 3.7 MB), a quick first sight of a far moment while the recorded document loads.
   */
  async contentAt(t: number): Promise<Uint8Array | null> {
    try {
      const found = await this.call('GET', `/recording/notebook?t=${t}&indexed=1&format=yjs`)
      return new Uint8Array(await found.arrayBuffer())
    } catch {
      return null // not indexed yet, or an older hub: the recorded document alone then
    }
  }

  async notebookAt(t: number): Promise<Blob> {
    return (await this.call('GET', `/recording/notebook?t=${t}&download=1`)).blob()
  }

  /** The run history as a file: CSV or JSON, as the hub exports it. */
  async runsFile(format: 'csv' | 'json'): Promise<Blob> {
    return (await this.call('GET', `/runs?format=${format}&download=1`)).blob()
  }

  /** What changed from `from` to `to` (Unix s): cells added, changed and removed, and by whom. */
  async diff(from: number, to: number): Promise<unknown> {
    return (await this.call('GET', `/recording/diff?from=${from}&to=${to}`)).json()
  }

  async fork(t: number): Promise<Forked> {
    return (await (await this.call('POST', '/fork', { t })).json()) as Forked
  }

  async role(): Promise<string> {
    const info = (await (await this.call('GET', '')).json()) as { role?: string }
    return info.role ?? 'view'
  }
}

/** Browsers since 2025 decode base64 natively: a seek's 5 MB snapshot without a loop in JS. */
const nativeFromBase64 = (Uint8Array as unknown as { fromBase64?: (text: string) => Uint8Array }).fromBase64?.bind(Uint8Array)

export function fromBase64(text: string): Uint8Array {
  if (nativeFromBase64) return nativeFromBase64(text)
  const raw = atob(text)
  const bytes = new Uint8Array(raw.length)
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i)
  return bytes
}
