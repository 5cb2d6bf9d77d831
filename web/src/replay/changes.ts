/**
 * "What changed" between two moments of a recording, without DOM: the hub's answer
 * (`GET …/recording/diff`, from nbdime) read defensively, and each cell as rows of a line diff
 * (the `diff` package's `diffLines`) with who changed it.
 */
import { diffLines } from 'diff'

export type ChangeKind = 'added' | 'changed' | 'removed'

export interface ChangedCell {
  kind: ChangeKind
  id: string
  cellType: string
  /** Where the cell stands (after, or before for a removed cell); null when unknown. */
  index: number | null
  authors: string[]
  /** The parts of the cell that changed (source, outputs, metadata, …), for changed cells. */
  fields: string[]
  before: string
  after: string
}

export interface Changes {
  from: number
  to: number
  cells: ChangedCell[]
  authors: string[]
}

export type Row =
  | { kind: 'same' | 'added' | 'removed'; text: string }
  | { kind: 'skip'; count: number }

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown): string => (typeof v === 'string' ? v : '')
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])
const KIND_ORDER: Record<ChangeKind, number> = { removed: 0, changed: 1, added: 2 }

function readCell(kind: ChangeKind, value: unknown): ChangedCell | null {
  if (!isObject(value)) return null
  const source = str(value.source)
  return {
    kind,
    id: str(value.id),
    cellType: str(value.cell_type) || 'code',
    index: typeof value.index === 'number' ? value.index : null,
    authors: strings(value.authors),
    fields: strings(value.fields),
    before: kind === 'added' ? '' : kind === 'changed' && typeof value.before === 'string' ? value.before : source,
    after: kind === 'removed' ? '' : kind === 'changed' && typeof value.after === 'string' ? value.after : source,
  }
}

/** The hub's answer, cells in notebook order (a removed cell where it stood). */
export function readChanges(value: unknown): Changes {
  const json = isObject(value) ? value : {}
  const cells: ChangedCell[] = []
  for (const kind of ['added', 'changed', 'removed'] as const) {
    for (const item of Array.isArray(json[kind]) ? json[kind] : []) {
      const cell = readCell(kind, item)
      if (cell) cells.push(cell)
    }
  }
  cells.sort((a, b) => (a.index ?? Infinity) - (b.index ?? Infinity) || KIND_ORDER[a.kind] - KIND_ORDER[b.kind])
  return {
    from: typeof json.from === 'number' ? json.from : 0,
    to: typeof json.to === 'number' ? json.to : 0,
    cells,
    authors: strings(json.authors),
  }
}

function linesOf(text: string): string[] {
  const lines = text.split('\n')
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop()
  return lines
}

/**
 * The line diff of before and after; runs of more than 2 × `context` unchanged lines keep
 * `context` lines either side and say how many are left out.
 */
export function lineRows(before: string, after: string, context = 3): Row[] {
  const rows: Row[] = []
  // Cell sources end without a newline: a line added at the end must not change the one before.
  const ended = (text: string): string => (text === '' || text.endsWith('\n') ? text : `${text}\n`)
  for (const part of diffLines(ended(before), ended(after))) {
    const kind = part.added ? 'added' : part.removed ? 'removed' : 'same'
    for (const text of linesOf(part.value)) rows.push({ kind, text })
  }
  return collapse(rows, context)
}

function collapse(rows: Row[], context: number): Row[] {
  const out: Row[] = []
  let i = 0
  while (i < rows.length) {
    if (rows[i].kind !== 'same') {
      out.push(rows[i++])
      continue
    }
    let j = i
    while (j < rows.length && rows[j].kind === 'same') j++
    const keepHead = i === 0 ? 0 : context
    const keepTail = j === rows.length ? 0 : context
    if (j - i > keepHead + keepTail + 1) {
      out.push(...rows.slice(i, i + keepHead), { kind: 'skip', count: j - i - keepHead - keepTail }, ...rows.slice(j - keepTail, j))
    } else {
      out.push(...rows.slice(i, j))
    }
    i = j
  }
  return out
}

export function joinNames(names: string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`
}

/** "Cell 3 (code) changed by Ada and Bob — source, outputs" */
export function describeCell(cell: ChangedCell): string {
  const where = cell.index === null ? 'A cell' : `Cell ${cell.index + 1}`
  const by = cell.authors.length ? ` by ${joinNames(cell.authors)}` : ''
  const what = cell.kind === 'changed' && cell.fields.length ? ` — ${cell.fields.join(', ')}` : ''
  return `${where} (${cell.cellType}) ${cell.kind}${by}${what}`
}

/** "2 cells changed, 1 added by Ada and Bob" */
export function summarize(changes: Changes): string {
  if (changes.cells.length === 0) return 'Nothing changed between these two moments.'
  const counts = (['changed', 'added', 'removed'] as const)
    .map((kind) => [kind, changes.cells.filter((c) => c.kind === kind).length] as const)
    .filter(([, n]) => n > 0)
    .map(([kind, n], i) => (i === 0 ? `${n} cell${n === 1 ? '' : 's'} ${kind}` : `${n} ${kind}`))
  const by = changes.authors.length ? ` by ${joinNames(changes.authors)}` : ''
  return `${counts.join(', ')}${by}`
}
