/** Who the local participant is: a display name remembered in the browser and a colour. */

export interface KeyValueStore {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
}

export interface User {
  name: string
  color: string
  /** Selection background, as y-codemirror.next expects it. */
  colorLight: string
}

export const NAME_KEY = 'collabd.name'
export const MAX_NAME_LENGTH = 40

/** Distinct, legible on white, and not red/green only. */
export const PALETTE = [
  '#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf',
  '#e377c2', '#8c564b', '#bcbd22', '#3949ab', '#00897b', '#c2185b',
] as const

export function cleanName(raw: string): string {
  return raw.replace(/\s+/g, ' ').trim().slice(0, MAX_NAME_LENGTH)
}

export function loadName(store: KeyValueStore): string | null {
  const name = cleanName(store.getItem(NAME_KEY) ?? '')
  return name ? name : null
}

export function saveName(store: KeyValueStore, raw: string): string {
  const name = cleanName(raw)
  if (name) store.setItem(NAME_KEY, name)
  return name
}

/** FNV-1a: a colour that depends on the name only, so it is the same on every visit and device. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

export function userFor(name: string): User {
  const color = PALETTE[hashString(name) % PALETTE.length]
  return { name, color, colorLight: color + '33' }
}
