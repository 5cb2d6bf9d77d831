/**
 * The comm a widget model talks through, standing in for the kernel's: what the model sends
 * (`save_changes` → `update`, `send` → `custom`) becomes one POST to the hub, which is the
 * kernel's comm peer; what the hub writes into the `widgets` map comes in as the same `update`
 * messages a kernel would send, so the model applies it inside its state lock and never echoes
 * it back. Viewers' comms send nothing. No DOM, no widget library.
 */
import { asBytes, bytesToBase64, type JsonObject, type WidgetBuffer } from './entry'

export interface WidgetBy {
  name: string
  client_id: number
}

/** The body of `POST /api/sessions/{id}/widgets/{model_id}`. */
export interface WidgetChange {
  state?: JsonObject
  buffers?: WidgetBuffer[]
  custom?: unknown
  by?: WidgetBy
}

type Buffers = (ArrayBuffer | ArrayBufferView)[] | undefined

/**
 * What a comm message from a model asks the hub: `update` → changed state (its buffers at their
 * paths, base64), `custom` → the content; anything else (request_state…) needs no hub: null.
 */
export function changeBody(data: unknown, buffers: Buffers, by: WidgetBy | null): WidgetChange | null {
  if (typeof data !== 'object' || data === null) return null
  const msg = data as { method?: unknown; state?: unknown; buffer_paths?: unknown; content?: unknown }
  const withBy = (body: WidgetChange): WidgetChange => (by ? { ...body, by } : body)
  if (msg.method === 'update' && typeof msg.state === 'object' && msg.state !== null) {
    const paths = Array.isArray(msg.buffer_paths) ? (msg.buffer_paths as (string | number)[][]) : []
    const sent = (buffers ?? []).slice(0, paths.length).map((b, i) => ({ path: paths[i], data: bytesToBase64(asBytes(b)) }))
    return withBy(sent.length ? { state: msg.state as JsonObject, buffers: sent } : { state: msg.state as JsonObject })
  }
  if (msg.method === 'custom') return withBy({ custom: msg.content ?? null })
  return null
}

/** The widget libraries' message callbacks, as far as this comm calls them. */
interface Callbacks {
  iopub?: { status?: (msg: unknown) => void }
}

type Handler = (msg: unknown) => void

export interface CommOptions {
  /** Whether the hub took the change (it reports its refusals itself). null: a viewer: nothing is sent. */
  post: ((modelId: string, body: WidgetChange) => Promise<boolean>) | null
  by(): WidgetBy | null
  /** A change is on its way / answered (the manager holds the map's older values of those keys meanwhile). */
  sending?(modelId: string, change: WidgetChange): void
  sent?(modelId: string, change: WidgetChange, accepted: boolean): void
}

let counter = 0

/** At most this often one model's changes go to the hub (20 a second; the hub allows `WIDGET_RATE`, 60 a second). */
export const MIN_SEND_INTERVAL_MS = 50

/** The IClassicComm of one model (jupyter-widgets' services-shim interface). */
export class HubComm {
  readonly target_name = 'jupyter.widget'
  private readonly handlers: Handler[] = []
  private readonly closers: Handler[] = []

  constructor(
    readonly comm_id: string,
    private readonly options: CommOptions,
  ) {}

  open(): string {
    return ''
  }

  send(data: unknown, callbacks?: Callbacks, _metadata?: unknown, buffers?: Buffers): string {
    const body = this.options.post ? changeBody(data, buffers, this.options.by()) : null
    const msgId = `collabd-${++counter}`
    // The model counts an update as pending until the kernel says idle: here, until the hub answers.
    const idle = (): void => callbacks?.iopub?.status?.({ content: { execution_state: 'idle' }, parent_header: { msg_id: msgId } })
    if (!body || !this.options.post) {
      queueMicrotask(idle)
      return msgId
    }
    this.options.sending?.(this.comm_id, body)
    const started = Date.now()
    const done = (accepted: boolean): void => {
      // A drag sends at most one change per MIN_SEND_INTERVAL_MS: the model merges the rest into
      // the next one meanwhile, which keeps a fast drag under the hub's rate limit.
      setTimeout(() => {
        idle()
        this.options.sent?.(this.comm_id, body, accepted)
      }, Math.max(0, MIN_SEND_INTERVAL_MS - (Date.now() - started)))
    }
    this.options.post(this.comm_id, body).then(done, () => done(false))
    return msgId
  }

  /** The page never closes a kernel's widget: only the kernel does. */
  close(): string {
    return ''
  }

  on_msg(handler: Handler): void {
    this.handlers.push(handler)
  }

  on_close(handler: Handler): void {
    this.closers.push(handler)
  }

  /** A state change from the map, handled exactly like a kernel's `update` message. */
  receive(state: JsonObject): void {
    // Buffers are already in place (DataViews at their paths), so the message lists none.
    const msg = { content: { comm_id: this.comm_id, data: { method: 'update', state, buffer_paths: [] } }, buffers: [] }
    for (const handler of this.handlers) handler(msg)
  }

  /** The kernel closed the model (its entry left the map). */
  closed(): void {
    const msg = { content: { comm_id: this.comm_id, data: {} } }
    for (const handler of this.closers) handler(msg)
  }
}
