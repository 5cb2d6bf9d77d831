/**
 * Structural edits on the shared notebook, addressed by cell id (indices move under our feet
 * while others edit). Each edit is one Yjs transaction, so peers see it whole.
 */
import type { YCellType, YNotebook } from '@jupyter/ydoc'

export type CellType = 'code' | 'markdown' | 'raw'

export function cellIndex(notebook: YNotebook, id: string): number {
  return notebook.cells.findIndex((cell) => cell.id === id)
}

export function cellById(notebook: YNotebook, id: string): YCellType | null {
  return notebook.cells.find((cell) => cell.id === id) ?? null
}

function clampIndex(notebook: YNotebook, index: number): number {
  return Math.max(0, Math.min(notebook.cells.length, index))
}

/** Inserts an empty cell and returns its id. */
export function insertCell(notebook: YNotebook, index: number, type: CellType = 'code'): string {
  const cell = notebook.insertCell(clampIndex(notebook, index), { cell_type: type, source: '', metadata: {} })
  return cell.id
}

export function insertRelative(
  notebook: YNotebook,
  id: string | null,
  where: 'above' | 'below',
  type: CellType = 'code',
): string {
  const at = id === null ? -1 : cellIndex(notebook, id)
  if (at < 0) return insertCell(notebook, notebook.cells.length, type)
  return insertCell(notebook, where === 'above' ? at : at + 1, type)
}

/** Deletes the cell; returns the id of the cell that takes its place in the selection. */
export function deleteCell(notebook: YNotebook, id: string): string | null {
  const index = cellIndex(notebook, id)
  if (index < 0) return null
  notebook.deleteCell(index)
  const next = notebook.cells[Math.min(index, notebook.cells.length - 1)]
  return next ? next.id : null
}

/** Moves a cell up (-1) or down (+1). Ids survive the move (ydoc re-inserts a copy). */
export function moveCell(notebook: YNotebook, id: string, delta: -1 | 1): boolean {
  const from = cellIndex(notebook, id)
  const to = from + delta
  if (from < 0 || to < 0 || to >= notebook.cells.length) return false
  notebook.moveCell(from, to)
  return true
}

/**
 * Changes a cell's type by replacing it with a new cell holding the same source and metadata.
 * The new cell gets a new id: two people changing the same cell at once must not leave two
 * cells sharing one id. Returns the new id.
 */
export function changeCellType(notebook: YNotebook, id: string, type: CellType): string | null {
  const index = cellIndex(notebook, id)
  if (index < 0) return null
  const old = notebook.cells[index]
  if (old.cell_type === type) return id
  // Read before deleting: a deleted cell's shared text reads as empty.
  const source = old.getSource()
  const metadata = old.getMetadata()
  let newId = id
  notebook.transact(() => {
    notebook.deleteCell(index)
    const cell = notebook.insertCell(index, { cell_type: type, source, metadata })
    newId = cell.id
  })
  return newId
}

export function neighbour(notebook: YNotebook, id: string | null, delta: number): string | null {
  if (notebook.cells.length === 0) return null
  const index = id === null ? -1 : cellIndex(notebook, id)
  if (index < 0) return notebook.cells[0].id
  const next = Math.max(0, Math.min(notebook.cells.length - 1, index + delta))
  return notebook.cells[next].id
}

/** A cell as nbformat JSON (what copy, paste and restore carry). */
export type CellJSON = Record<string, unknown> & { cell_type: string; source?: unknown; id?: unknown }

/** Deletes cells [from, to) in one transaction; returns the id that takes the selection. */
export function deleteRange(notebook: YNotebook, from: number, to: number): string | null {
  if (from < 0 || to <= from) return null
  notebook.deleteCellRange(from, Math.min(to, notebook.cells.length))
  const next = notebook.cells[Math.min(from, notebook.cells.length - 1)]
  return next ? next.id : null
}

/** Moves cells [from, to) one place up (-1) or down (+1), ids kept. */
export function moveRange(notebook: YNotebook, from: number, to: number, delta: -1 | 1): boolean {
  const n = to - from
  if (n <= 0 || from + delta < 0 || to + delta > notebook.cells.length) return false
  notebook.moveCells(from, delta < 0 ? from - 1 : to, n)
  return true
}

/** Inserts whole cells (pasted, or a deleted one put back) at `index`; returns their ids. */
export function insertCells(notebook: YNotebook, index: number, cells: CellJSON[]): string[] {
  if (!cells.length) return []
  const made = notebook.insertCells(clampIndex(notebook, index), cells as never)
  return made.map((cell) => cell.id)
}

/**
 * Merges the cells into the first one (JupyterLab's Shift-M): sources joined by a blank line,
 * the others deleted, a code cell's outputs cleared. One transaction, so one undo step.
 */
export function mergeCells(notebook: YNotebook, ids: readonly string[]): string | null {
  const cells = ids.map((id) => cellById(notebook, id)).filter((c): c is YCellType => c !== null)
  if (cells.length < 2) return null
  const [first, ...rest] = cells
  const source = cells.map((c) => c.getSource()).join('\n\n')
  notebook.transact(() => {
    first.setSource(source)
    if (first.cell_type === 'code') clearCellOutputs(first)
    for (const cell of rest) {
      const index = cellIndex(notebook, cell.id)
      if (index >= 0) notebook.deleteCell(index)
    }
  })
  return first.id
}

function clearCellOutputs(cell: YCellType): void {
  if (cell.cell_type !== 'code') return
  const outputs = cell.ymodel.get('outputs') as { length: number; delete(index: number, length: number): void } | undefined
  if (outputs && outputs.length > 0) outputs.delete(0, outputs.length)
  if (cell.ymodel.get('execution_count') !== null) cell.ymodel.set('execution_count', null)
}

/** Clears the outputs (and counts) of these code cells, through the shared document: everyone sees it. */
export function clearOutputs(notebook: YNotebook, ids: readonly string[]): void {
  notebook.transact(() => {
    for (const id of ids) {
      const cell = cellById(notebook, id)
      if (cell) clearCellOutputs(cell)
    }
  })
}
