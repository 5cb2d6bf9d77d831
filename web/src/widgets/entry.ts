/**
 * One entry of the document's top-level `widgets` map, as the hub writes it (see the README's
 * document keys): read defensively, and its binary buffers put back where the widget manager
 * expects them. No DOM, no widget library: plain data in, plain data out.
 */

export type JsonObject = Record<string, unknown>

export interface WidgetBuffer {
  /** Keys and indices from the state's root to where the buffer goes. */
  path: (string | number)[]
  /** Base64. */
  data: string
}

export interface WidgetEntry {
  model_name: string
  model_module: string
  model_module_version: string
  /** The model's full JSON state without its binary buffers. */
  state: JsonObject
  buffers: WidgetBuffer[]
  /** The kernel that owned it restarted or died: the last state is shown, read-only. */
  gone: boolean
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v)

function readBuffer(value: unknown): WidgetBuffer | null {
  if (!isObject(value) || typeof value.data !== 'string' || !Array.isArray(value.path)) return null
  const path = value.path
  if (path.length === 0 || !path.every((p) => typeof p === 'string' || (typeof p === 'number' && Number.isInteger(p) && p >= 0))) return null
  return { path: path as (string | number)[], data: value.data }
}

/** The entry, or null when it is not one (anything in the map that is not a widget is skipped). */
export function readEntry(value: unknown): WidgetEntry | null {
  if (!isObject(value) || !isObject(value.state)) return null
  const { model_name, model_module, model_module_version } = value
  if (typeof model_name !== 'string' || typeof model_module !== 'string') return null
  const buffers = Array.isArray(value.buffers) ? value.buffers.map(readBuffer).filter((b): b is WidgetBuffer => b !== null) : []
  return {
    model_name,
    model_module,
    model_module_version: typeof model_module_version === 'string' ? model_module_version : '',
    state: value.state,
    buffers,
    gone: value.gone === true,
  }
}

export function base64ToBytes(data: string): Uint8Array {
  const binary = atob(data.replace(/\s+/g, ''))
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(binary)
}

/** A buffer of any kind the widget libraries hand out, as bytes. */
export function asBytes(buffer: ArrayBuffer | ArrayBufferView): Uint8Array {
  return buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}

/** A deep copy of JSON (the map's values must never be changed in place). */
function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}

/**
 * The state with each buffer put back at its path as a DataView (what `put_buffers` does with a
 * comm message's buffers). A path whose parent is missing is skipped: bad input harms only itself.
 */
export function withBuffers(state: JsonObject, buffers: WidgetBuffer[]): JsonObject {
  const out = clone(state)
  for (const { path, data } of buffers) {
    let parent: unknown = out
    for (const key of path.slice(0, -1)) parent = isObject(parent) || Array.isArray(parent) ? (parent as Record<string | number, unknown>)[key] : undefined
    if (!isObject(parent) && !Array.isArray(parent)) continue
    let bytes: Uint8Array
    try {
      bytes = base64ToBytes(data)
    } catch {
      continue
    }
    ;(parent as Record<string | number, unknown>)[path[path.length - 1]] = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }
  return out
}

/** The top-level keys whose value (or whose buffers) differ between two versions of an entry. */
export function changedKeys(before: WidgetEntry | null, after: WidgetEntry): string[] {
  const buffersOf = (entry: WidgetEntry | null, key: string): string =>
    JSON.stringify((entry?.buffers ?? []).filter((b) => b.path[0] === key))
  const keys = new Set([...Object.keys(after.state), ...after.buffers.map((b) => String(b.path[0]))])
  return [...keys].filter((key) =>
    before === null ||
    JSON.stringify(before.state[key]) !== JSON.stringify(after.state[key]) ||
    buffersOf(before, key) !== buffersOf(after, key))
}

/** Only `keys` of the entry: its state and the buffers under them. */
export function pick(entry: WidgetEntry, keys: Iterable<string>): { state: JsonObject; buffers: WidgetBuffer[] } {
  const wanted = new Set(keys)
  const state: JsonObject = {}
  for (const key of wanted) if (key in entry.state) state[key] = entry.state[key]
  return { state, buffers: entry.buffers.filter((b) => wanted.has(String(b.path[0]))) }
}
