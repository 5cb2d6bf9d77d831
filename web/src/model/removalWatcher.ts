/**
 * Notices when someone else's edit takes away the cell this participant is in: deleted, or moved
 * (the YNotebook schema moves a cell by deleting it and inserting a copy with the same id). No
 * DOM: it watches the shared cell list and reports a Removal for the view to act on.
 */
import type { YCellType, YNotebook } from '@jupyter/ydoc'
import * as Y from 'yjs'
import type { Removal } from './structureNotice'

export class RemovalWatcher {
  /** The cells as they stood before the change being observed. */
  private models: YCellType[]
  /** Their ids, read while they could be: a deleted cell's map no longer answers. */
  private ids: string[]
  private readonly cells: Y.Array<Y.Map<unknown>>
  private readonly onChange = (event: Y.YArrayEvent<Y.Map<unknown>>, tr: Y.Transaction): void => this.changed(event, tr)

  constructor(
    private readonly notebook: YNotebook,
    /** The id of the cell the participant is in. */
    private readonly watched: () => string | null,
    private readonly removed: (removal: Removal) => void,
  ) {
    this.cells = notebook.ydoc.getArray('cells')
    this.models = [...notebook.cells]
    this.ids = this.models.map((c) => c.id)
    this.cells.observe(this.onChange)
  }

  private changed(event: Y.YArrayEvent<Y.Map<unknown>>, tr: Y.Transaction): void {
    const before = this.models
    const beforeIds = this.ids
    this.models = [...this.notebook.cells]
    this.ids = this.models.map((c) => c.id)
    if (tr.local) return
    const watched = this.watched()
    const from = watched === null ? -1 : beforeIds.indexOf(watched)
    if (from < 0) return
    const cell = before[from]
    let gone = false
    event.changes.deleted.forEach((item) => {
      if (item.content instanceof Y.ContentType && item.content.type === cell.ymodel) gone = true
    })
    if (!gone) return
    const id = beforeIds[from]
    const to = this.ids.indexOf(id)
    let inserter: number | null = null
    event.changes.added.forEach((item) => {
      if (item.content instanceof Y.ContentType && (item.content.type as Y.Map<unknown>).get('id') === id) inserter = item.id.client
    })
    this.removed({ kind: to >= 0 ? 'moved' : 'deleted', cellId: id, from, to: to >= 0 ? to : null, inserter })
  }

  destroy(): void {
    this.cells.unobserve(this.onChange)
  }
}
