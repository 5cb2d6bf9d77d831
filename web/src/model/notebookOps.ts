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
