/**
 * "What changed" on the playback page: between two moments (an earlier one — the recording's
 * start or a mark — and the moment shown, or two marks), the cells added, changed and removed,
 * each with who changed it and a line diff of its source (replay/changes.ts).
 */
import { h } from '../view/dom'
import { type ChangedCell, type Changes, describeCell, lineRows, readChanges, summarize } from './changes'
import { formatMoment } from './model'

export interface Moment {
  t: number
  label: string
}

function cellDiff(cell: ChangedCell): HTMLElement {
  const sourceChanged = cell.before !== cell.after
  const rows = sourceChanged ? lineRows(cell.before, cell.after) : []
  const table = h('div', { class: 'diff-lines', role: 'table', 'aria-label': 'Line changes' },
    ...rows.map((row) => row.kind === 'skip'
      ? h('div', { class: 'diff-line diff-skip', role: 'row' }, `… ${row.count} unchanged line${row.count === 1 ? '' : 's'} …`)
      : h('div', { class: `diff-line diff-${row.kind}`, role: 'row' },
        h('span', { class: 'diff-sign', 'aria-label': row.kind }, row.kind === 'added' ? '+' : row.kind === 'removed' ? '−' : ' '),
        h('span', { class: 'diff-text' }, row.text || ' '))))
  return h('li', { class: `changed-cell changed-${cell.kind}`, 'data-cell-id': cell.id },
    h('div', { class: 'changed-head' },
      h('span', { class: `change-badge badge-${cell.kind}` }, cell.kind),
      h('span', { class: 'changed-what' }, describeCell(cell))),
    cell.authors.length ? h('div', { class: 'changed-authors' }, ...cell.authors.map((name) => h('span', { class: 'author-chip' }, name))) : null,
    sourceChanged ? table : h('p', { class: 'hint' }, cell.kind === 'changed' ? 'The source is the same; its outputs or metadata changed.' : 'An empty cell.'),
  )
}

export function showChanges(changes: Changes): HTMLElement {
  return h('div', { class: 'changes-body' },
    h('p', { class: 'changes-summary' }, summarize(changes)),
    h('ol', { class: 'changed-cells' }, ...changes.cells.map(cellDiff)))
}

export interface ChangesOptions {
  /** Moments to compare from and to (the recording's start, marks, the moment shown, the end). */
  froms: Moment[]
  tos: Moment[]
  /** The `froms` entry chosen first (the latest one before the moment shown). */
  fromIndex: number
  load(from: number, to: number): Promise<unknown>
}

export function showChangesDialog({ froms, tos, fromIndex, load }: ChangesOptions): void {
  const select = (cls: string, label: string, moments: Moment[], chosen: number): HTMLSelectElement => {
    const el = h('select', { class: cls, 'aria-label': label },
      ...moments.map((m, i) => h('option', { value: String(i), selected: i === chosen }, `${m.label} (${formatMoment(m.t)})`)))
    el.addEventListener('change', () => void refresh())
    return el
  }
  const from = select('changes-from', 'From', froms, fromIndex)
  const to = select('changes-to', 'To', tos, 0)
  const body = h('div', { class: 'changes-result', 'aria-live': 'polite' })
  const dialog = h('dialog', { class: 'changes-dialog', 'aria-label': 'What changed' },
    h('form', { method: 'dialog' },
      h('h1', {}, 'What changed'),
      h('div', { class: 'changes-range' }, h('label', {}, 'From ', from), h('label', {}, 'to ', to)),
      body,
      h('div', { class: 'dialog-actions' }, h('button', { type: 'submit' }, 'Close'))))
  let asked = 0
  const refresh = async (): Promise<void> => {
    let a = froms[Number(from.value)].t
    let b = tos[Number(to.value)].t
    if (b < a) [a, b] = [b, a]
    const n = ++asked
    body.replaceChildren(h('p', { class: 'hint' }, 'Comparing…'))
    try {
      const changes = readChanges(await load(a, b))
      if (n === asked) body.replaceChildren(showChanges(changes))
    } catch (e) {
      if (n === asked) body.replaceChildren(h('p', { class: 'changes-error' }, `Could not compare: ${e instanceof Error ? e.message : String(e)}`))
    }
  }
  dialog.addEventListener('close', () => dialog.remove())
  document.body.append(dialog)
  dialog.showModal()
  void refresh()
}
