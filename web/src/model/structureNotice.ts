/**
 * Telling a participant that someone else deleted or moved the cell they were in, in words, with
 * who did it. No DOM. Who did it comes from awareness: the one who announced the change (`did`,
 * published just before a structural edit), else the one whose cell it was last, else the client
 * that inserted the moved copy; else "Someone".
 */
import type { Participant } from './presence'

export interface Removal {
  kind: 'deleted' | 'moved'
  cellId: string
  /** Where it stood (index) before, and where it stands now (moved only). */
  from: number
  to: number | null
  /** The client that inserted the moved copy, if known. */
  inserter: number | null
}

/** What a participant announces before a structural edit, so others can name who did it. */
export interface Announcement {
  op: 'delete' | 'move' | 'cut' | 'merge' | 'type'
  cells: string[]
  /** Increases with each announcement, so that two alike still differ. */
  n: number
}

export function readAnnouncement(value: unknown): Announcement | null {
  if (typeof value !== 'object' || value === null) return null
  const did = value as Record<string, unknown>
  if (typeof did.op !== 'string' || !Array.isArray(did.cells)) return null
  return {
    op: did.op as Announcement['op'],
    cells: did.cells.filter((c): c is string => typeof c === 'string').slice(0, 1000),
    n: typeof did.n === 'number' ? did.n : 0,
  }
}

/** Remembers which cells each participant was in lately (their `cell` field changes first, often). */
export class CellVisits {
  private readonly recent = new Map<number, string[]>()

  constructor(private readonly keep = 4) {}

  observe(people: readonly Participant[]): void {
    for (const p of people) {
      if (p.self || p.cell === null) continue
      const list = this.recent.get(p.clientId) ?? []
      if (list[list.length - 1] !== p.cell) {
        list.push(p.cell)
        if (list.length > this.keep) list.shift()
        this.recent.set(p.clientId, list)
      }
    }
  }

  /** The clients whose most recent cells include this one, most recent visit first. */
  visitors(cellId: string): number[] {
    const found: [number, number][] = []
    this.recent.forEach((cells, clientId) => {
      const at = cells.lastIndexOf(cellId)
      if (at >= 0) found.push([clientId, cells.length - at])
    })
    return found.sort((a, b) => a[1] - b[1]).map(([id]) => id)
  }
}

export function whoChanged(removal: Removal, people: readonly Participant[], visits: CellVisits): string | null {
  const others = people.filter((p) => !p.self)
  const announced = others.find((p) => p.did?.cells.includes(removal.cellId))
  if (announced) return announced.user.name
  if (removal.inserter !== null) {
    const inserter = others.find((p) => p.clientId === removal.inserter)
    if (inserter) return inserter.user.name
  }
  for (const clientId of visits.visitors(removal.cellId)) {
    const visitor = others.find((p) => p.clientId === clientId)
    if (visitor) return visitor.user.name
  }
  return null
}

export function describeRemoval(removal: Removal, by: string | null): string {
  const who = by ?? 'Someone'
  if (removal.kind === 'deleted') return `${who} deleted the cell you were in (cell ${removal.from + 1}).`
  return `${who} moved the cell you were in (from cell ${removal.from + 1} to cell ${(removal.to ?? removal.from) + 1}).`
}
