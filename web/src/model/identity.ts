/** Who the local participant is: a display name remembered in the browser and a colour. */
import { PALETTE, preferredSlot } from './colours'

export { hashString, PALETTE } from './colours'

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

/** A name's preferred colour; `colours.ts` makes them distinct among those present. */
export function userFor(name: string, color: string = PALETTE[preferredSlot(name)]): User {
  return { name, color, colorLight: color + '33' }
}
