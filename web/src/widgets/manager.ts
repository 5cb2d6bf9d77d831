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
import type * as Y from 'yjs'
import { HubComm, type CommOptions } from './comm'
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

interface Live {
  comm: HubComm
  entry: WidgetEntry
  /** Keys being sent to the hub (count of sends in flight): the map's older values wait. */
  sending: Map<string, number>
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

  entry(modelId: string): WidgetEntry | null {
    return this.live.get(modelId)?.entry ?? null
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
      post: this.options.readOnly || !post ? null : (id, body) => (this.isGone(id) ? Promise.resolve() : post(id, body)),
      by: this.options.by,
      sending: (id, keys) => {
        const sending = this.live.get(id)?.sending
        for (const key of keys) sending?.set(key, (sending.get(key) ?? 0) + 1)
      },
      sent: (id, keys) => this.settled(id, keys),
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
        this.live.set(id, { comm: this.comm(id), entry, sending: new Map() })
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
    const keys = changedKeys(live.entry, entry).filter((key) => !live.sending.has(key))
    const disabledNow = entry.gone && !live.entry.gone
    live.entry = entry
    if (disabledNow && !keys.includes('disabled') && 'disabled' in entry.state) keys.push('disabled')
    if (keys.length) this.receive(live, keys)
  }

  private receive(live: Live, keys: Iterable<string>): void {
    const { state, buffers } = pick(live.entry, keys)
    live.comm.receive(withBuffers(this.shown(live.entry, state), buffers))
  }

  /** A send is answered: the map's value of those keys counts again (the hub may have refused it). */
  private settled(id: string, keys: string[]): void {
    const live = this.live.get(id)
    if (!live) return
    const done = keys.filter((key) => {
      const n = (live.sending.get(key) ?? 1) - 1
      if (n > 0) live.sending.set(key, n)
      else live.sending.delete(key)
      return n <= 0
    })
    if (done.length) this.receive(live, done)
  }

  private remove(id: string, live: Live): void {
    this.live.delete(id)
    live.comm.closed()
  }
}
