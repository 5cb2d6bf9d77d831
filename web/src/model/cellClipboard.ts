/**
 * The cell clipboard, JupyterLab's own kind (cells, not text): copied cells as nbformat JSON in
 * the browser's storage, so that a paste works in this page and in any other tab of the same
 * browser. A pasted cell is a new cell: new id, no run state, no record of who ran it.
 */
import type { KeyValueStore } from './identity'
import type { CellJSON } from './notebookOps'

export const CLIPBOARD_KEY = 'collabd.cells'

/** What a copied cell keeps: its content, outputs and metadata, not its identity or run state. */
export function forPaste(cell: CellJSON): CellJSON {
  const { id: _id, execution_state: _state, ...rest } = cell as CellJSON & { execution_state?: unknown }
  const metadata = { ...((rest.metadata as Record<string, unknown> | undefined) ?? {}) }
  delete metadata.collabd
  return { ...rest, metadata }
}

export class CellClipboard {
  /** Where the cells are kept if storage is unavailable (private mode, full quota). */
  private memory: CellJSON[] = []

  constructor(private readonly store: KeyValueStore | null) {}

  copy(cells: CellJSON[]): void {
    this.memory = cells.map(forPaste)
    try {
      this.store?.setItem(CLIPBOARD_KEY, JSON.stringify({ cells: this.memory }))
    } catch {
      // Too big for storage: this page still has them.
    }
  }

  /** The cells to paste, newest copy first from storage (another tab may have copied since). */
  cells(): CellJSON[] {
    try {
      const raw = this.store?.getItem(CLIPBOARD_KEY)
      if (raw) {
        const parsed = JSON.parse(raw) as { cells?: unknown }
        if (Array.isArray(parsed.cells)) {
          return parsed.cells.filter((c): c is CellJSON =>
            typeof c === 'object' && c !== null && typeof (c as CellJSON).cell_type === 'string').map(forPaste)
        }
      }
    } catch {
      // Unreadable storage: fall back to this page's copy.
    }
    return this.memory.map(forPaste)
  }
}
