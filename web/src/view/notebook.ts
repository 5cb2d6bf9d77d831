/**
 * The cell list: mirrors the shared cells into CellViews, keeps the selection (an active cell and
 * a range, as in JupyterLab) and Jupyter's command / edit modes, and turns keys and buttons into
 * notebook edits and run requests (through the session's actions). When someone else deletes or
 * moves the cell one is in, it says who, offers to undo it, and keeps one typing (edit mode).
 */
import type { YCellType } from '@jupyter/ydoc'
import { CellClipboard } from '../model/cellClipboard'
import {
  type CellSelection,
  extendBy,
  extendTo,
  NO_SELECTION,
  selectAll,
  selectedIds,
  selectedRange,
  single,
} from '../model/cellSelection'
import { changesNotebook, type Command, commandKey, type Pending } from '../model/commandKeys'
import { type CellText, type FindOptions, type Match, nextMatch, replaceMatches } from '../model/findReplace'
import {
  cellRunStatus,
  type InputRequest,
  type QueueEntry,
  readInputRequest,
  readQueue,
} from '../model/kernelState'
import {
  type CellJSON,
  type CellType,
  cellById,
  cellIndex,
  changeCellType,
  clearOutputs,
  deleteRange,
  insertCells,
  insertRelative,
  mergeCells,
  moveRange,
  neighbour,
} from '../model/notebookOps'
import type { Participant } from '../model/presence'
import { RemovalWatcher } from '../model/removalWatcher'
import type { NotebookSession } from '../model/session'
import type { SessionActions } from '../model/sessionActions'
import { CellVisits, describeRemoval, type Removal, whoChanged } from '../model/structureNotice'
import { type CellAction, type CellContext, CellView } from './cell'
import { changeNotice } from './changeNotice'
import { showKeys } from './dialogs'
import type { EditorKeys } from './editor'
import { frameScheduler, h, throttle } from './dom'

export interface NotebookViewOptions {
  session: NotebookSession
  /** The hub's side of things, and whether this participant may change anything at all. */
  actions: SessionActions
  /** Asks before restarting the shared kernel. */
  confirmRestart?: () => Promise<boolean>
  /** Opens find and replace (Ctrl-F). */
  openFind?: () => void
}

const TYPE_COMMANDS: Record<CellType, Command> = { code: 'to-code', markdown: 'to-markdown', raw: 'to-raw' }

/** Commands that take cells away from others: announced first, so others can say who did it. */
const ANNOUNCED: Partial<Record<Command, 'delete' | 'move' | 'cut' | 'merge'>> = {
  delete: 'delete', cut: 'cut', merge: 'merge', 'move-up': 'move', 'move-down': 'move',
}

export class NotebookView implements CellContext {
  readonly el: HTMLElement
  private readonly list: HTMLElement
  private readonly empty: HTMLElement
  private readonly views = new Map<YCellType, CellView>()
  private readonly byId = new Map<string, CellView>()
  private selection: CellSelection = NO_SELECTION
  /** Cell ids in the order last drawn: where a cell stood before someone else deleted it. */
  private order: string[] = []
  private pending: Pending = null
  private queue: QueueEntry[] = []
  private input: InputRequest | null = null
  private people: Participant[] = []
  private readonly visits = new CellVisits()
  private readonly notice = changeNotice()
  /** The last removal shown, while its author may still be unknown. */
  private shownRemoval: { removal: Removal; named: boolean } | null = null
  /** The active cell as last seen, to put it back if someone else deletes it. */
  private snapshot: { id: string; json: CellJSON } | null = null
  private readonly clipboard: CellClipboard
  /** The match find showed last: "next" goes on from there. */
  private lastFound: { cellId: string; offset: number } | null = null
  private readonly watcher: RemovalWatcher
  private readonly lazy: IntersectionObserver
  private readonly scheduleReconcile = frameScheduler(() => this.reconcileNow())
  private readonly scheduleSnapshot = throttle(() => this.takeSnapshot(), 300)
  private readonly onCellsChanged = (_: unknown, change: { cellsChange?: unknown }): void => {
    if (!change.cellsChange) return
    // The cell being typed in was taken out (moved or deleted by someone else): its editor is
    // bound to text no longer in the notebook, so a key pressed before the next frame would be
    // lost. The views are brought in line before any other key is handled: in a microtask,
    // once every observer of this change (the removal watcher reads the old view) has run.
    if (this.typingInRemovedCell()) queueMicrotask(this.reconcileNow)
    else this.scheduleReconcile()
  }
  private readonly reconcileNow = (): void => {
    if (!this.destroyed) this.reconcile()
  }
  private readonly onStateChanged = (): void => this.refreshState()
  private readonly onDocumentKey = (e: KeyboardEvent): void => this.onKeyDown(e)
  private destroyed = false
  readonly readOnly: boolean
  private readonly actions: SessionActions

  constructor(private readonly options: NotebookViewOptions) {
    this.actions = options.actions
    this.readOnly = !options.actions.canEdit
    this.clipboard = new CellClipboard(storage())
    this.list = h('div', { class: 'cells', role: 'list' })
    this.empty = h('div', { class: 'cells-empty' },
      'This notebook has no cells yet.',
      this.readOnly ? null : h('button', { type: 'button', onclick: () => this.execute('insert-below') }, 'Add a code cell'),
    )
    this.el = h('main', { class: 'notebook', 'aria-label': 'Notebook' }, this.notice.el, this.list, this.empty,
      this.readOnly ? null : h('div', { class: 'add-cell-bar' },
        h('button', { type: 'button', onclick: () => this.execute('append-code') }, '+ Code'),
        h('button', { type: 'button', onclick: () => this.execute('append-markdown') }, '+ Markdown'),
      ),
    )
    // Editors exist only for cells near the viewport: a 500-cell notebook opens at once and
    // scrolls with a bounded number of live editors.
    this.lazy = new IntersectionObserver((entries) => {
      const later: (() => void)[] = [] // the editors built first, then put in the page together
      for (const entry of entries) {
        const view = this.byId.get((entry.target as HTMLElement).dataset.cellId ?? '')
        if (entry.isIntersecting) view?.materialize(later)
        else view?.release()
      }
      for (const put of later) put()
    }, { rootMargin: '800px 0px' })
    options.session.notebook.changed.connect(this.onCellsChanged)
    options.session.ystate.observe(this.onStateChanged)
    this.watcher = new RemovalWatcher(options.session.notebook, () => this.selection.head, (r) => this.removedByOther(r))
    document.addEventListener('keydown', this.onDocumentKey)
    this.el.addEventListener('focusout', (e) => {
      const next = e.relatedTarget as HTMLElement | null
      if (!next?.closest('.cm-editor')) this.el.classList.remove('edit-mode')
    })
  }

  /** Releases everything this view created (editors, observers, the page-wide key listener). */
  destroy(): void {
    if (this.destroyed) return
    this.destroyed = true
    document.removeEventListener('keydown', this.onDocumentKey)
    this.options.session.notebook.changed.disconnect(this.onCellsChanged)
    this.options.session.ystate.unobserve(this.onStateChanged)
    this.watcher.destroy()
    this.lazy.disconnect()
    for (const view of this.views.values()) view.destroy()
    this.views.clear()
    this.byId.clear()
    this.el.remove()
  }

  get kernelHelp(): CellContext['kernelHelp'] {
    return this.readOnly ? null : this.actions
  }

  get awareness(): CellContext['awareness'] {
    return this.options.session.awareness
  }

  private get notebook(): NotebookSession['notebook'] {
    return this.options.session.notebook
  }

  private get selected(): string | null {
    return this.selection.head
  }

  private typingInRemovedCell(): boolean {
    for (const [model, view] of this.views) {
      if (view.hasEditorFocus()) return !this.notebook.cells.includes(model)
    }
    return false
  }

  /** Brings the DOM in line with the shared cell list, reusing the views of cells that stay. */
  reconcile(): void {
    const cells = this.notebook.cells
    const keep = new Set(cells)
    // A cell moved by someone else comes back as a new model with the same id: keep typing there.
    let typing: { id: string; at: { anchor: number; head: number } } | null = null
    for (const [model, view] of this.views) {
      if (!keep.has(model)) {
        const at = view.cursor()
        if (at) typing = { id: view.id, at }
        this.lazy.unobserve(view.el)
        view.destroy()
        this.views.delete(model)
        if (this.byId.get(view.id) === view) this.byId.delete(view.id)
      }
    }
    let cursor: ChildNode | null = this.list.firstChild
    for (const model of cells) {
      let view = this.views.get(model)
      if (!view) {
        view = new CellView(model, this)
        this.views.set(model, view)
        this.lazy.observe(view.el)
      }
      this.byId.set(view.id, view)
      if (cursor === view.el) cursor = cursor.nextSibling
      else this.list.insertBefore(view.el, cursor)
    }
    this.empty.hidden = cells.length > 0
    const was = this.selected === null ? -1 : this.order.indexOf(this.selected)
    if (this.selected !== null && !this.byId.has(this.selected)) {
      // Someone else deleted (or retyped) the active cell: select what now stands in its place.
      this.selection = NO_SELECTION
      if (cells.length > 0) this.select(cells[Math.min(Math.max(was, 0), cells.length - 1)].id)
    }
    if (this.selected === null && cells.length > 0) this.select(cells[0].id, false)
    else this.markSelection()
    this.order = cells.map((cell) => cell.id)
    if (!typing) return
    if (this.byId.has(typing.id)) {
      this.byId.get(typing.id)?.focusEditor(typing.at)
    } else if (cells.length > 0) {
      // The cell being typed in is gone: keep typing (edit mode) in the cell above it, at its
      // end, so that keys still on their way never land as commands.
      const above = cells[Math.max(0, Math.min(was, cells.length) - 1)]
      this.select(above.id, true)
      this.byId.get(above.id)?.focusEditor('end')
    }
  }

  private refreshState(): void {
    this.queue = readQueue(this.options.session.ystate.get('queue'))
    this.input = readInputRequest(this.options.session.ystate.get('input_request'))
    for (const view of this.views.values()) view.refreshRunStatus()
  }

  cellElement(id: string): HTMLElement | null {
    return this.byId.get(id)?.el ?? null
  }

  cellNumber(id: string): number {
    return cellIndex(this.notebook, id) + 1
  }

  get selectedId(): string | null {
    return this.selected
  }

  /** The selected cells' ids, in notebook order. */
  get selectedIds(): string[] {
    return selectedIds(this.notebook.cells.map((c) => c.id), this.selection)
  }

  // --- find and replace ---------------------------------------------------------------------

  cellTexts(): CellText[] {
    return this.notebook.cells.map((c) => ({ id: c.id, source: c.getSource() }))
  }

  /** Where find's "next" starts: the active cell, at its cursor. */
  findPosition(): { cellId: string | null; offset: number } {
    const id = this.selected
    if (this.lastFound && this.lastFound.cellId === id) return this.lastFound
    return { cellId: id, offset: (id === null ? null : this.byId.get(id)?.cursor()?.head) ?? -1 }
  }

  nextMatchIndex(matches: Match[], delta: 1 | -1): number {
    return nextMatch(matches, this.notebook.cells.map((c) => c.id), this.findPosition(), delta)
  }

  showMatch(match: Match): void {
    this.select(match.cellId, true)
    this.lastFound = { cellId: match.cellId, offset: match.from }
    this.byId.get(match.cellId)?.showRange(match.from, match.to, this.actions.canEdit)
  }

  replace(matches: Match[], query: string, replacement: string, options: FindOptions): number {
    if (!this.actions.canEdit) return 0
    const n = replaceMatches(this.notebook, matches, query, replacement, options)
    this.notebook.undoManager.stopCapturing()
    return n
  }

  // --- someone else's change to the cell one is in --------------------------------------------

  private removedByOther(removal: Removal): void {
    // Viewers (and the playback page, where every change is someone else's) only watch.
    if (this.readOnly) return
    // Moved again before the notice was dismissed: undo goes back to where it all began.
    const earlier = this.shownRemoval?.removal
    if (earlier && !this.notice.el.hidden && earlier.cellId === removal.cellId && earlier.kind === 'moved' && removal.kind === 'moved') {
      removal = { ...removal, from: earlier.from }
    }
    const snapshot = this.snapshot?.id === removal.cellId ? this.snapshot.json : null
    // The editor holds what was typed, even keys that reached a cell already deleted.
    const text = this.byId.get(removal.cellId)?.editorText() ?? null
    const by = whoChanged(removal, this.people, this.visits)
    this.shownRemoval = { removal, named: by !== null }
    const undo = removal.kind === 'deleted'
      ? (snapshot ? () => this.restore(removal, { ...snapshot, source: text ?? snapshot.source }) : null)
      : () => this.moveBack(removal)
    this.notice.show(describeRemoval(removal, by), undo)
  }

  private restore(removal: Removal, cell: CellJSON): void {
    if (!cellById(this.notebook, removal.cellId)) insertCells(this.notebook, removal.from, [cell])
    this.notebook.undoManager.stopCapturing()
    this.reconcile()
    this.select(removal.cellId, true)
    this.byId.get(removal.cellId)?.focusEditor('end')
  }

  private moveBack(removal: Removal): void {
    const at = cellIndex(this.notebook, removal.cellId)
    if (at < 0 || at === removal.from) return
    this.notebook.moveCells(at, removal.from, 1)
    this.notebook.undoManager.stopCapturing()
    this.reconcile()
    this.select(removal.cellId, true)
  }

  private takeSnapshot(): void {
    const id = this.selected
    const cell = id === null ? null : cellById(this.notebook, id)
    this.snapshot = cell && id !== null ? { id, json: cell.toJSON() as CellJSON } : null
  }

  cellChanged(cellId: string): void {
    if (cellId === this.selected) this.scheduleSnapshot()
  }

  // --- CellContext ---------------------------------------------------------------------------

  runStatus(cellId: string, executionState: unknown): ReturnType<typeof cellRunStatus> {
    return cellRunStatus(cellId, executionState, this.queue)
  }

  inputRequest(cellId: string): { request: InputRequest; mine: boolean } | null {
    if (!this.input || this.input.cell_id !== cellId) return null
    const mine = !this.readOnly && this.input.by.client_id === this.options.session.clientId
    return { request: this.input, mine }
  }

  answer(requestId: string, value: string): void {
    this.actions.answer(requestId, value)
  }

  /** Makes this the active cell; `extend` keeps the anchor (Shift-click), else it alone is selected. */
  select(cellId: string, scroll = false, extend = false): void {
    if (!this.byId.has(cellId)) return
    const order = this.notebook.cells.map((c) => c.id)
    const changed = cellId !== this.selected
    this.selection = extend ? extendTo(order, this.selection, cellId) : single(cellId)
    this.markSelection()
    this.options.session.setActiveCell(cellId)
    if (changed) this.takeSnapshot()
    if (scroll) this.byId.get(cellId)?.el.scrollIntoView({ block: 'nearest' })
  }

  private markSelection(): void {
    const order = this.notebook.cells.map((c) => c.id)
    const range = new Set(selectedIds(order, this.selection))
    const many = range.size > 1
    for (const view of this.views.values()) view.setSelected(view.id === this.selected, many && range.has(view.id))
  }

  editorFocused(cellId: string): void {
    if (this.selected !== cellId || this.selectedIds.length > 1) this.select(cellId)
    this.el.classList.add('edit-mode')
  }

  editorKeys(cellId: string): EditorKeys {
    return {
      runAdvance: () => this.execute('run-advance', cellId),
      run: () => this.execute('run', cellId),
      runInsert: () => this.execute('run-insert', cellId),
      leave: () => this.commandMode(cellId),
      exitTop: () => this.editNeighbour(cellId, -1),
      exitBottom: () => this.editNeighbour(cellId, 1),
      find: () => this.execute('find'),
    }
  }

  act(cellId: string, action: CellAction): void {
    this.select(cellId)
    const commands: Record<CellAction, Command> = {
      run: 'run',
      'move-up': 'move-up',
      'move-down': 'move-down',
      'insert-above': 'insert-above',
      'insert-below': 'insert-below',
      delete: 'delete',
      'clear-outputs': 'clear-outputs',
    }
    this.execute(commands[action])
  }

  changeType(cellId: string, type: CellType): void {
    this.select(cellId)
    this.execute(TYPE_COMMANDS[type], cellId)
  }

  // --- modes and keys --------------------------------------------------------------------------

  private commandMode(cellId: string): void {
    const view = this.byId.get(cellId)
    view?.blurEditor()
    this.el.classList.remove('edit-mode')
    view?.el.focus({ preventScroll: true })
  }

  private editNeighbour(cellId: string, delta: number): void {
    const next = neighbour(this.notebook, cellId, delta)
    if (next === null || next === cellId) return
    this.select(next, true)
    this.execute('edit', next)
  }

  edit(cellId: string): void {
    this.execute('edit', cellId)
  }

  private onKeyDown(event: KeyboardEvent): void {
    const target = event.target as HTMLElement | null
    // Keys typed into an editor, a form field or a dialog are theirs.
    if (target?.closest('.cm-editor, input, textarea, select, dialog, .panel-form')) return
    if (this.selected === null) return
    if (event.isComposing) return
    const result = commandKey(
      { key: event.key, shift: event.shiftKey, ctrl: event.ctrlKey, alt: event.altKey, meta: event.metaKey },
      this.pending,
    )
    this.pending = result.pending
    if (!result.handled) return
    // A button focused with the keyboard still gets its Enter.
    if (event.key === 'Enter' && target?.closest('button, a')) return
    event.preventDefault()
    if (result.command) this.execute(result.command)
  }

  /** Whether this participant may do that here: the one place the read-only rule is applied. */
  private allowed(command: Command): boolean {
    return this.actions.canEdit || !changesNotebook(command)
  }

  /** Every command, from keys, buttons and editors, comes through here. */
  execute(command: Command, cellId: string | null = this.selected): void {
    if (!this.allowed(command)) return
    const announced = ANNOUNCED[command]
    if (announced) this.options.session.announce(announced, this.selectedIds)
    this.perform(command, cellId)
    // Each command is one step for Z, however quickly the next one follows.
    if (changesNotebook(command)) this.notebook.undoManager.stopCapturing()
  }

  private perform(command: Command, cellId: string | null): void {
    switch (command) {
      case 'append-code': return this.appendCell('code')
      case 'append-markdown': return this.appendCell('markdown')
      case 'run-all': return this.runAllCells()
      case 'interrupt': return this.actions.interrupt()
      case 'restart': return void this.confirmRestart()
      case 'help': return showKeys()
      case 'undo':
      case 'redo': return this.undoRedo(command)
      case 'paste-below':
      case 'paste-above': return this.paste(command === 'paste-above' ? 'above' : 'below')
      case 'find': return this.options.openFind?.()
      case 'clear-all-outputs':
        return clearOutputs(this.notebook, this.notebook.cells.filter((c) => c.cell_type === 'code').map((c) => c.id))
    }
    const id = cellId
    if (id === null) {
      if (command === 'insert-below' || command === 'insert-above') this.insert(command === 'insert-above' ? 'above' : 'below')
      return
    }
    const nb = this.notebook
    const order = nb.cells.map((c) => c.id)
    const ids = id === this.selected ? selectedIds(order, this.selection) : [id]
    const range = id === this.selected ? selectedRange(order, this.selection) : null
    switch (command) {
      case 'edit': return this.byId.get(id)?.focusEditor()
      case 'run': return this.run(ids, 'stay')
      case 'run-advance': return this.run(ids, 'advance')
      case 'run-insert': return this.run(ids, 'insert')
      case 'select-prev': return this.selectAndFocus(neighbour(nb, id, -1))
      case 'select-next': return this.selectAndFocus(neighbour(nb, id, 1))
      case 'extend-prev':
      case 'extend-next': return this.extend(command === 'extend-prev' ? -1 : 1)
      case 'select-all':
        this.selection = selectAll(order)
        return this.markSelection()
      case 'insert-above': return this.insert('above')
      case 'insert-below': return this.insert('below')
      case 'delete': {
        const [from, to] = range ?? [cellIndex(nb, id), cellIndex(nb, id) + 1]
        const next = deleteRange(nb, from, to)
        this.reconcile()
        return this.selectAndFocus(next)
      }
      case 'copy': return this.copy(ids)
      case 'cut': {
        this.copy(ids)
        const [from, to] = range ?? [cellIndex(nb, id), cellIndex(nb, id) + 1]
        const next = deleteRange(nb, from, to)
        this.reconcile()
        return this.selectAndFocus(next)
      }
      case 'merge': {
        const merged = mergeCells(nb, ids.length > 1 ? ids : [id, neighbour(nb, id, 1) ?? id])
        this.reconcile()
        return this.selectAndFocus(merged)
      }
      case 'clear-outputs': return clearOutputs(nb, ids)
      case 'to-code': return this.retype(ids, 'code')
      case 'to-markdown': return this.retype(ids, 'markdown')
      case 'to-raw': return this.retype(ids, 'raw')
      case 'move-up':
      case 'move-down': {
        const [from, to] = range ?? [cellIndex(nb, id), cellIndex(nb, id) + 1]
        moveRange(nb, from, to, command === 'move-up' ? -1 : 1)
        this.reconcile()
        const kept = this.selection
        this.selectAndFocus(id)
        if (ids.length > 1) {
          this.selection = kept
          this.markSelection()
        }
        return
      }
    }
  }

  private extend(delta: -1 | 1): void {
    this.selection = extendBy(this.notebook.cells.map((c) => c.id), this.selection, delta)
    const head = this.selection.head
    this.markSelection()
    if (head === null) return
    this.options.session.setActiveCell(head)
    this.byId.get(head)?.el.scrollIntoView({ block: 'nearest' })
    this.byId.get(head)?.el.focus({ preventScroll: true })
  }

  private copy(ids: string[]): void {
    const cells = ids.map((id) => cellById(this.notebook, id)).filter((c): c is YCellType => c !== null)
    this.clipboard.copy(cells.map((c) => c.toJSON() as CellJSON))
  }

  private paste(where: 'above' | 'below'): void {
    const cells = this.clipboard.cells()
    if (!cells.length) return
    const order = this.notebook.cells.map((c) => c.id)
    const range = selectedRange(order, this.selection)
    const at = range === null ? order.length : where === 'above' ? range[0] : range[1]
    const ids = insertCells(this.notebook, at, cells)
    this.reconcile()
    this.selectAndFocus(ids[ids.length - 1])
    this.selection = { anchor: ids[0], head: ids[ids.length - 1] }
    this.markSelection()
  }

  private undoRedo(which: 'undo' | 'redo'): void {
    const before = new Set(this.notebook.cells.map((c) => c.id))
    if (which === 'undo') this.notebook.undo()
    else this.notebook.redo()
    this.reconcile()
    // Select a cell that came back, if any.
    const back = this.notebook.cells.find((c) => !before.has(c.id))
    if (back) this.selectAndFocus(back.id)
  }

  private retype(ids: string[], type: CellType): void {
    let last: string | null = null
    this.notebook.transact(() => {
      for (const id of ids) last = changeCellType(this.notebook, id, type) ?? last
    })
    this.reconcile()
    if (last) this.select(last)
  }

  private selectAndFocus(id: string | null): void {
    if (id === null) return
    this.select(id, true)
    this.byId.get(id)?.el.focus({ preventScroll: true })
  }

  private insert(where: 'above' | 'below', type: CellType = 'code'): void {
    const id = insertRelative(this.notebook, this.selected, where, type)
    this.reconcile()
    this.selectAndFocus(id)
  }

  private appendCell(type: CellType): void {
    const last = this.notebook.cells[this.notebook.cells.length - 1]
    const id = insertRelative(this.notebook, last ? last.id : null, 'below', type)
    this.reconcile()
    this.select(id, true)
    this.byId.get(id)?.focusEditor()
  }

  /** Shift-Enter (advance), Ctrl-Enter (stay), Alt-Enter (insert a cell below). */
  private run(ids: string[], then: 'stay' | 'advance' | 'insert'): void {
    const cells = ids.map((id) => cellById(this.notebook, id)).filter((c): c is YCellType => c !== null)
    if (!cells.length) return
    const code = cells.filter((c) => c.cell_type === 'code').map((c) => c.id)
    this.actions.run(code, code.length > 1 ? 'the cells' : 'the cell')
    for (const cell of cells) if (cell.cell_type !== 'code') this.byId.get(cell.id)?.stopEditing()
    const lastCell = cells[cells.length - 1]
    const cellId = lastCell.id
    if (then === 'stay') {
      if (lastCell.cell_type !== 'code') this.commandMode(cellId)
      return
    }
    if (then === 'insert') {
      const id = insertRelative(this.notebook, cellId, 'below')
      this.reconcile()
      this.select(id, true)
      return this.byId.get(id)?.focusEditor()
    }
    const next = neighbour(this.notebook, cellId, 1)
    if (next === null || next === cellId) {
      const id = insertRelative(this.notebook, cellId, 'below')
      this.reconcile()
      this.select(id, true)
      return this.byId.get(id)?.focusEditor()
    }
    const wasEditing = this.byId.get(cellId)?.hasEditorFocus() ?? false
    this.select(next, true)
    if (wasEditing && this.byId.get(next)?.cellType === 'code') this.byId.get(next)?.focusEditor()
    else this.commandMode(next)
  }

  /** Runs every code cell, top to bottom, as one batch in the shared queue. */
  runAll(): void {
    this.execute('run-all')
  }

  private runAllCells(): void {
    const ids = this.notebook.cells.filter((cell) => cell.cell_type === 'code').map((cell) => cell.id)
    this.actions.run(ids, 'the notebook')
  }

  private async confirmRestart(): Promise<void> {
    const ask = this.options.confirmRestart ?? (async () => window.confirm('Restart the shared kernel? Everyone loses its variables.'))
    if (await ask()) this.actions.restart()
  }

  /** Shows who is in which cell. */
  showPresence(people: Participant[]): void {
    this.people = people
    this.visits.observe(people)
    const shown = this.shownRemoval
    if (shown && !shown.named) {
      // The author's announcement may arrive after their change.
      const by = whoChanged(shown.removal, people, this.visits)
      if (by !== null) {
        shown.named = true
        this.notice.retext(describeRemoval(shown.removal, by))
      }
    }
    const byCell = new Map<string, Participant[]>()
    for (const p of people) {
      if (p.self || p.cell === null) continue
      byCell.set(p.cell, [...(byCell.get(p.cell) ?? []), p])
    }
    for (const view of this.views.values()) view.setPresence(byCell.get(view.id) ?? [])
  }
}

function storage(): Storage | null {
  try {
    return window.localStorage
  } catch {
    return null
  }
}
