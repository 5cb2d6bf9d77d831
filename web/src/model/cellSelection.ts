/**
 * The selected cells, as JupyterLab has them: an active cell (the head, where keys act and the
 * cursor goes) and an anchor; every cell between the two is selected. Held by id, read against
 * the current order, so others' edits never leave it pointing at the wrong cells.
 */
export interface CellSelection {
  anchor: string | null
  head: string | null
}

export const NO_SELECTION: CellSelection = { anchor: null, head: null }

export function single(id: string | null): CellSelection {
  return { anchor: id, head: id }
}

/** The selected ids in notebook order: the range from anchor to head (just the head if the anchor is gone). */
export function selectedIds(order: readonly string[], selection: CellSelection): string[] {
  const head = selection.head === null ? -1 : order.indexOf(selection.head)
  if (head < 0) return []
  const anchor = selection.anchor === null ? -1 : order.indexOf(selection.anchor)
  if (anchor < 0) return [order[head]]
  const [from, to] = anchor <= head ? [anchor, head] : [head, anchor]
  return order.slice(from, to + 1)
}

/** Shift-↑/↓: the head moves one cell, the anchor stays. */
export function extendBy(order: readonly string[], selection: CellSelection, delta: -1 | 1): CellSelection {
  const head = selection.head === null ? -1 : order.indexOf(selection.head)
  if (head < 0) return order.length ? single(order[0]) : NO_SELECTION
  const next = Math.max(0, Math.min(order.length - 1, head + delta))
  const anchor = selection.anchor !== null && order.includes(selection.anchor) ? selection.anchor : order[head]
  return { anchor, head: order[next] }
}

/** Shift-click: from the anchor (or the active cell) to the cell clicked. */
export function extendTo(order: readonly string[], selection: CellSelection, id: string): CellSelection {
  if (!order.includes(id)) return selection
  const anchor = [selection.anchor, selection.head].find((a) => a !== null && order.includes(a)) ?? id
  return { anchor, head: id }
}

export function selectAll(order: readonly string[]): CellSelection {
  return order.length ? { anchor: order[0], head: order[order.length - 1] } : NO_SELECTION
}

/** The selection's first and last index, for a contiguous edit (delete, move, merge). */
export function selectedRange(order: readonly string[], selection: CellSelection): [number, number] | null {
  const ids = selectedIds(order, selection)
  if (!ids.length) return null
  const from = order.indexOf(ids[0])
  return [from, from + ids.length]
}
