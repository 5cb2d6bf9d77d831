/**
 * The page's widget manager: jupyter-widgets' ManagerBase whose models live in the document's
 * `widgets` map (written by the hub, the kernel's comm peer) instead of a kernel connection.
 * Entries become models (in dependency order), changes reach them as a kernel's `update`
 * messages would (applied in the state lock: nothing is echoed), removed entries close them.
 * What a model sends goes to the hub through its HubComm. Only the controls, base and output
 * modules are known; any other module's widgets show a short note instead.
 */
import * as base from '@jupyter-widgets/base'
import { ManagerBase } from '@jupyter-widgets/base-manager'
import * as controls from '@jupyter-widgets/controls'
import renderMathInElement from 'katex/contrib/auto-render'
import type * as Y from 'yjs'
import { HubComm, type CommOptions } from './comm'
import type { WidgetChange } from './comm'
import { changedKeys, type JsonObject, pick, readEntry, type WidgetEntry, withBuffers } from './entry'
import { cleanState, disabledState } from './htmlState'
import { dependencyOrder } from './order'
import * as output from './output'
import { UnavailableView } from './unavailable'

type ClassOf = typeof base.WidgetModel | typeof base.WidgetView

const MODULES: Record<string, Record<string, unknown>> = {
  '@jupyter-widgets/base': base,
  '@jupyter-widgets/controls': controls,
  '@jupyter-widgets/output': output,
}

/** The class `name` of a module the page has, else null. */
export function knownClass(name: unknown, module: unknown): ClassOf | null {
  if (typeof name !== 'string' || typeof module !== 'string') return null
  const mod = Object.prototype.hasOwnProperty.call(MODULES, module) ? MODULES[module] : null
  const cls = mod && Object.prototype.hasOwnProperty.call(mod, name) ? mod[name] : null
  return typeof cls === 'function' ? (cls as ClassOf) : null
}

export interface ManagerOptions {
  map: Y.Map<unknown>
  readOnly: boolean
  post: CommOptions['post']
  by: CommOptions['by']
  /** Cleans HTML as markdown cells are cleaned. */
  clean(html: string): string
}

const MATH_DELIMITERS = [
  { left: '$$', right: '$$', display: true },
  { left: '\\[', right: '\\]', display: true },
  { left: '$', right: '$', display: false },
  { left: '\\(', right: '\\)', display: false },
]

/** How long a change the hub took may wait for the map to show it before the map counts again. */
export const ECHO_WAIT_MS = 3000

/** A key this page changed: sends in flight, and the value last sent (JSON), which the hub writes into the map. */
interface Pending {
  inFlight: number
  sent: string | undefined
  timer?: ReturnType<typeof setTimeout>
}

interface Live {
  comm: HubComm
  entry: WidgetEntry
  /** Keys this page is changing: until the map shows the change, the map's older values wait. */
  pending: Map<string, Pending>
}

export class CollabWidgetManager extends ManagerBase {
  private readonly live = new Map<string, Live>()
  private readonly goneListeners = new Set<() => void>()
  private readonly createdListeners = new Set<(id: string) => void>()
  private readonly observer = (event: Y.YMapEvent<unknown>): void => this.applyKeys([...event.keysChanged])

  constructor(private readonly options: ManagerOptions) {
    super()
    options.map.observe(this.observer)
    this.applyKeys([...options.map.keys()])
  }

  /** Whether the model's kernel is gone (its last state shown, read-only). */
  isGone(modelId: string): boolean {
    return this.live.get(modelId)?.entry.gone ?? false
  }

  onGoneChange(listener: () => void): () => void {
    this.goneListeners.add(listener)
    return () => this.goneListeners.delete(listener)
  }

  /** Calls `listener` with the id of each model made from now on. */
  onCreated(listener: (id: string) => void): () => void {
    this.createdListeners.add(listener)
    return () => this.createdListeners.delete(listener)
  }

  dispose(): void {
    this.options.map.unobserve(this.observer)
  }

  /**
   * Math in `HTMLMath` values, labels and descriptions, typeset with KaTeX as in markdown cells
   * (the controls ask the manager's rendermime for a typesetter; KaTeX writes no script).
   */
  readonly _rendermime = {
    latexTypesetter: {
      typeset: (el: HTMLElement): void => renderMathInElement(el, { delimiters: MATH_DELIMITERS, throwOnError: false }),
    },
  }

  override inline_sanitize(source: string): string {
    return this.options.clean(source)
  }

  protected override async loadClass(className: string, moduleName: string): Promise<ClassOf> {
    const cls = knownClass(className, moduleName)
    if (cls) return cls
    // Models of other libraries still hold state (a box may refer to one); their views say what they are.
    return className.endsWith('Model') ? base.DOMWidgetModel : UnavailableView
  }

  protected override async _create_comm(_target: string, modelId?: string): Promise<HubComm> {
    return this.comm(modelId ?? '')
  }

  protected override async _get_comm_info(): Promise<Record<string, never>> {
    return {}
  }

  private comm(modelId: string): HubComm {
    const post = this.options.post
    return new HubComm(modelId, {
      // A widget of a kernel that is gone changes no more: nothing to ask the hub.
      post: this.options.readOnly || !post ? null : (id, body) => (this.isGone(id) ? Promise.resolve(false) : post(id, body)),
      by: this.options.by,
      sending: (id, change) => this.sending(id, change),
      sent: (id, change, accepted) => this.settled(id, change, accepted),
    })
  }

  /** What a model is shown from: cleaned, and disabled where nobody may change it. */
  private shown(entry: WidgetEntry, state: JsonObject): JsonObject {
    const cleaned = cleanState(entry.model_module, entry.model_name, state, this.options.clean)
    return this.options.readOnly || entry.gone ? disabledState(cleaned) : cleaned
  }

  private applyKeys(ids: string[]): void {
    const created: string[] = []
    let goneChanged = false
    for (const id of ids) {
      const entry = readEntry(this.options.map.get(id))
      const live = this.live.get(id)
      if (!entry) {
        if (live) this.remove(id, live)
      } else if (!live) {
        this.live.set(id, { comm: this.comm(id), entry, pending: new Map() })
        created.push(id)
      } else {
        goneChanged ||= live.entry.gone !== entry.gone
        this.update(live, entry)
      }
    }
    // All new models are registered before any of them resolves a reference (new_model registers
    // synchronously); referenced ones first all the same.
    const states = new Map(created.map((id) => [id, this.live.get(id)?.entry.state ?? {}]))
    for (const id of dependencyOrder(states)) this.create(id)
    if (goneChanged) for (const listener of this.goneListeners) listener()
  }

  private create(id: string): void {
    const live = this.live.get(id)
    if (!live) return
    const { entry } = live
    const state = withBuffers(this.shown(entry, entry.state), entry.buffers)
    void this.new_model(
      { model_name: entry.model_name, model_module: entry.model_module, model_module_version: entry.model_module_version, model_id: id, comm: live.comm },
      state,
    ).catch((e: unknown) => console.error(`widget ${id} could not be made`, e))
    for (const listener of this.createdListeners) listener(id)
  }

  private update(live: Live, entry: WidgetEntry): void {
    // The hub wrote what this page sent: from now on the map's value of that key counts again.
    for (const [key, pending] of live.pending) {
      if (pending.inFlight === 0 && JSON.stringify(entry.state[key]) === pending.sent) this.release(live, key)
    }
    const keys = changedKeys(live.entry, entry).filter((key) => !live.pending.has(key))
    const disabledNow = entry.gone && !live.entry.gone
    live.entry = entry
    if (disabledNow && !keys.includes('disabled') && 'disabled' in entry.state) keys.push('disabled')
    if (keys.length) this.receive(live, keys)
  }

  private receive(live: Live, keys: Iterable<string>): void {
    const { state, buffers } = pick(live.entry, keys)
    live.comm.receive(withBuffers(this.shown(live.entry, state), buffers))
  }

  private static changeKeys(change: WidgetChange): string[] {
    return [...new Set([...Object.keys(change.state ?? {}), ...(change.buffers ?? []).map((b) => String(b.path[0]))])]
  }

  private sending(id: string, change: WidgetChange): void {
    const live = this.live.get(id)
    if (!live) return
    for (const key of CollabWidgetManager.changeKeys(change)) {
      const pending = live.pending.get(key) ?? { inFlight: 0, sent: undefined }
      clearTimeout(pending.timer)
      pending.inFlight++
      // Buffers have no JSON to recognise in the map: such a key counts again once answered.
      pending.sent = change.state && key in change.state && !change.buffers?.length ? JSON.stringify(change.state[key]) : undefined
      live.pending.set(key, pending)
    }
  }

  /**
   * A send is answered. Refused: the map's value shows again at once. Taken: the hub writes it
   * into the map, and that may reach this page after the answer; the key waits for it (or for
   * ECHO_WAIT_MS, should the map already hold that value), so the control never jumps back.
   */
  private settled(id: string, change: WidgetChange, accepted: boolean): void {
    const live = this.live.get(id)
    if (!live) return
    for (const key of CollabWidgetManager.changeKeys(change)) {
      const pending = live.pending.get(key)
      if (!pending || --pending.inFlight > 0) continue
      const shown = JSON.stringify(live.entry.state[key])
      if (!accepted || pending.sent === undefined || shown === pending.sent) this.release(live, key)
      else pending.timer = setTimeout(() => this.release(live, key), ECHO_WAIT_MS)
    }
  }

  /** The map's value of `key` counts again (and is shown, if this page shows something else). */
  private release(live: Live, key: string): void {
    clearTimeout(live.pending.get(key)?.timer)
    live.pending.delete(key)
    if (this.live.get(live.comm.comm_id) === live) this.receive(live, [key])
  }

  private remove(id: string, live: Live): void {
    this.live.delete(id)
    live.comm.closed()
  }
}
