/**
 * Sorting and filtering the experiments table (no DOM). Columns are keyed `when`, `who`, `cell`,
 * `host`, `status`, `param:<name>` and `metric:<name>`; cells are known to people by position,
 * which only the page knows, so `cellNumber` is passed in (0: a cell that is gone).
 */
import { type Experiment, formatParam } from './experiments'

export type ColumnKey = 'when' | 'who' | 'cell' | 'host' | 'status' | `param:${string}` | `metric:${string}`

export interface SortOrder {
  key: ColumnKey
  descending: boolean
}

export type CellNumber = (cellId: string) => number

/** The value a column sorts by; null sorts last whichever way. */
export function sortValue(row: Experiment, key: ColumnKey, cellNumber: CellNumber): string | number | null {
  if (key === 'when') return row.started ?? row.ended
  if (key === 'who') return row.by.name.toLowerCase()
  if (key === 'cell') return cellNumber(row.cell_id) || null
  if (key === 'host') return row.host.toLowerCase() || null
  if (key === 'status') return row.status
  if (key.startsWith('metric:')) return row.metrics[key.slice(7)] ?? null
  const value = row.params[key.slice(6)]
  if (value === undefined || value === null) return null
  return typeof value === 'number' ? value : formatParam(value).toLowerCase()
}

function compare(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b
  if (typeof a === 'number') return -1 // numbers before text in one column
  if (typeof b === 'number') return 1
  return a < b ? -1 : a > b ? 1 : 0
}

/** A stable sort: equal rows keep the hub's order (oldest first). */
export function sortRows(rows: Experiment[], order: SortOrder, cellNumber: CellNumber): Experiment[] {
  const keyed = rows.map((row, i) => ({ row, i, v: sortValue(row, order.key, cellNumber) }))
  keyed.sort((a, b) => {
    if (a.v === null || b.v === null) return a.v === b.v ? a.i - b.i : a.v === null ? 1 : -1
    const c = compare(a.v, b.v)
    return c === 0 ? a.i - b.i : order.descending ? -c : c
  })
  return keyed.map((k) => k.row)
}

/** Clicking a column: sorted by it ascending, again descending; metrics start descending (best first if higher). */
export function nextOrder(current: SortOrder | null, key: ColumnKey): SortOrder {
  if (current?.key === key) return { key, descending: !current.descending }
  return { key, descending: key === 'when' || key.startsWith('metric:') }
}

/** What a row is found by: who, "cell N", status, host, and each parameter as `name=value`. */
export function searchTokens(row: Experiment, cellNumber: CellNumber): string[] {
  const n = cellNumber(row.cell_id)
  const params = Object.entries(row.params).map(([name, value]) => `${name}=${formatParam(value)}`)
  return [row.by.name, n > 0 ? `cell ${n}` : 'deleted cell', row.status, row.host, ...params].map((t) => t.toLowerCase())
}

/**
 * Rows matching every word of the filter (any case), each found in part of who, status, host or a
 * parameter. "cell 4" and "lr=0.1" match whole: `cell` followed by a number is taken with it (so
 * "cell 4" is not cell 40), and a `name=value` word must equal a parameter.
 */
export function filterRows(rows: Experiment[], filter: string, cellNumber: CellNumber): Experiment[] {
  const terms = filterTerms(filter)
  if (!terms.length) return rows
  return rows.filter((row) => {
    const tokens = searchTokens(row, cellNumber)
    return terms.every((term) =>
      /^cell \d+$/.test(term) || term.includes('=') ? tokens.includes(term) : tokens.some((t) => t.includes(term)))
  })
}

export function filterTerms(filter: string): string[] {
  const words = filter.trim().toLowerCase().split(/\s+/).filter(Boolean)
  const terms: string[] = []
  for (let i = 0; i < words.length; i++) {
    if (words[i] === 'cell' && /^\d+$/.test(words[i + 1] ?? '')) terms.push(`cell ${words[++i]}`)
    else terms.push(words[i])
  }
  return terms
}
