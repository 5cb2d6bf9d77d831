/**
 * Find and replace across cells, without DOM. Matches are ranges in cell sources; a replacement
 * edits the shared text (Y.Text) in place, last match first, so that offsets stay right and
 * others' cursors in untouched text stay where they are. One transaction: one undo step.
 */
import type { YNotebook } from '@jupyter/ydoc'

export interface FindOptions {
  caseSensitive: boolean
  /** The query is a regular expression (an invalid one finds nothing). */
  regex: boolean
}

export interface Match {
  cellId: string
  from: number
  to: number
}

export interface CellText {
  id: string
  source: string
}

function pattern(query: string, options: FindOptions): RegExp | null {
  if (!query) return null
  const source = options.regex ? query : query.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  try {
    return new RegExp(source, options.caseSensitive ? 'g' : 'gi')
  } catch {
    return null
  }
}

export function findMatches(cells: readonly CellText[], query: string, options: FindOptions): Match[] {
  const re = pattern(query, options)
  if (!re) return []
  const found: Match[] = []
  for (const cell of cells) {
    re.lastIndex = 0
    for (let m = re.exec(cell.source); m; m = re.exec(cell.source)) {
      if (m[0].length === 0) {
        re.lastIndex++ // an empty match: step on
        continue
      }
      found.push({ cellId: cell.id, from: m.index, to: m.index + m[0].length })
      if (found.length >= 10_000) return found
    }
  }
  return found
}

/** The match to go to next from a position (cell index, offset), wrapping around. */
export function nextMatch(matches: readonly Match[], order: readonly string[], at: { cellId: string | null; offset: number }, delta: 1 | -1): number {
  if (!matches.length) return -1
  const cellAt = at.cellId === null ? -1 : order.indexOf(at.cellId)
  const key = (m: Match): number => order.indexOf(m.cellId) * 1e9 + m.from
  const here = cellAt * 1e9 + at.offset
  if (delta > 0) {
    const i = matches.findIndex((m) => key(m) > here)
    return i >= 0 ? i : 0
  }
  for (let i = matches.length - 1; i >= 0; i--) if (key(matches[i]) < here) return i
  return matches.length - 1
}

/** What replaces one match: with a regex, `$1`-style groups are filled in. */
export function replacementFor(text: string, query: string, replacement: string, options: FindOptions): string {
  if (!options.regex) return replacement
  const re = pattern(query, options)
  return re ? text.replace(new RegExp(re.source, re.flags.replace('g', '')), replacement) : replacement
}

/** Replaces these matches in the shared cells; returns how many were replaced. */
export function replaceMatches(notebook: YNotebook, matches: readonly Match[], query: string, replacement: string, options: FindOptions): number {
  let done = 0
  notebook.transact(() => {
    const byCell = new Map<string, Match[]>()
    for (const m of matches) byCell.set(m.cellId, [...(byCell.get(m.cellId) ?? []), m])
    for (const cell of notebook.cells) {
      const list = byCell.get(cell.id)
      if (!list) continue
      const text = cell.ysource
      const source = text.toString()
      for (const m of [...list].sort((a, b) => b.from - a.from)) {
        if (m.to > source.length) continue
        const current = source.slice(m.from, m.to)
        text.delete(m.from, m.to - m.from)
        text.insert(m.from, replacementFor(current, query, replacement, options))
        done++
      }
    }
  })
  return done
}
