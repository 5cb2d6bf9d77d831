/**
 * Participants' colours: distinct among everyone present (up to dozens), stable per person. Each
 * name prefers a slot (a hash of the name); whoever arrived first keeps theirs and later arrivals
 * whose slot is taken get the next free one. Every client computes the same assignment from the
 * same awareness states, and each publishes its own colour so that cursors match the list.
 */

/** Hues spread by the golden angle, so neighbouring slots differ most; two lightnesses. */
export const SLOTS = 48

function hslToHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l)
  const f = (n: number): string => {
    const k = (n + h / 30) % 12
    const c = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))
    return Math.round(c * 255).toString(16).padStart(2, '0')
  }
  return `#${f(0)}${f(8)}${f(4)}`
}

/** Every colour is dark enough for white text on it and visible on white. */
export const PALETTE: readonly string[] = Array.from({ length: SLOTS }, (_, i) => {
  const hue = (i * 137.508) % 360
  const light = i < SLOTS / 2 ? 0.42 : 0.32
  return hslToHex(hue, 0.72, light)
})

/** FNV-1a: the same on every visit and device. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

export function preferredSlot(name: string): number {
  return hashString(name) % SLOTS
}

export interface ColourClaim {
  clientId: number
  name: string
  /** When they arrived (their own clock, ms); unknown sorts last. */
  joined: number | null
}

/** The colour of each client present. Clients with the same name (one person, two tabs) share one. */
export function assignColours(claims: readonly ColourClaim[]): Map<number, string> {
  const ordered = [...claims].sort((a, b) =>
    (a.joined ?? Infinity) - (b.joined ?? Infinity) || a.clientId - b.clientId)
  const taken = new Map<number, string>() // slot -> name
  const byName = new Map<string, number>()
  const result = new Map<number, string>()
  for (const claim of ordered) {
    let slot = byName.get(claim.name)
    if (slot === undefined) {
      slot = preferredSlot(claim.name)
      for (let probe = 0; probe < SLOTS && taken.has(slot); probe++) slot = (slot + 1) % SLOTS
      taken.set(slot, claim.name)
      byName.set(claim.name, slot)
    }
    result.set(claim.clientId, PALETTE[slot])
  }
  return result
}
