/**
 * The cell list: mirrors the shared cells into CellViews, keeps the selection and Jupyter's
 * command / edit modes, and turns keys and buttons into notebook edits and run requests.
 */
import type { YCellType } from '@jupyter/ydoc'
import { changesNotebook, type Command, commandKey, type Pending } from '../model/commandKeys'
import {
  cellRunStatus,
  type InputRequest,
  type QueueEntry,
  readInputRequest,
  readQueue,
} from '../model/kernelState'
import {
  type CellType,
  cellById,
  cellIndex,
  changeCellType,
  deleteCell,
  insertRelative,
  moveCell,
  neighbour,
} from '../model/notebookOps'
import type { Participant } from '../model/presence'
import type { NotebookSession } from '../model/session'
import type { SessionActions } from '../model/sessionActions'
import { type CellAction, type CellContext, CellView } from './cell'
import { showKeys } from './dialogs'
import type { EditorKeys } from './editor'
import { frameScheduler, h } from './dom'

export interface NotebookViewOptions {
  session: NotebookSession
  /** The hub's side of things, and whether this participant may change anything at all. */
  actions: SessionActions
}

const TYPE_COMMANDS: Record<CellType, Command> = { code: 'to-code', markdown: 'to-markdown', raw: 'to-raw' }

export class NotebookView implements CellContext {
  readonly el: HTMLElement
  private readonly list: HTMLElement
  private readonly empty: HTMLElement
  private readonly views = new Map<YCellType, CellView>()
  private readonly byId = new Map<string, CellView>()
  private selected: string | null = null
  /** Cell ids in the order last drawn: where a cell stood before someone else deleted it. */
  private order: string[] = []
  private pending: Pending = null
  private queue: QueueEntry[] = []
  private input: InputRequest | null = null
  private readonly lazy: IntersectionObserver
  private readonly scheduleReconcile = frameScheduler(() => {
    if (!this.destroyed) this.reconcile()
  })
  private readonly onCellsChanged = (_: unknown, change: { cellsChange?: unknown }): void => {
    if (change.cellsChange) this.scheduleReconcile()
  }
  private readonly onStateChanged = (): void => this.refreshState()
  private readonly onDocumentKey = (e: KeyboardEvent): void => this.onKeyDown(e)
  private destroyed = false
  readonly readOnly: boolean
  private readonly actions: SessionActions

  constructor(private readonly options: NotebookViewOptions) {
    this.actions = options.actions
    this.readOnly = !options.actions.canEdit
    this.list = h('div', { class: 'cells', role: 'list' })
    this.empty = h('div', { class: 'cells-empty' },
      'This notebook has no cells yet.',
      this.readOnly ? null : h('button', { type: 'button', onclick: () => this.execute('insert-below') }, 'Add a code cell'),
    )
    this.el = h('main', { class: 'notebook', 'aria-label': 'Notebook' }, this.list, this.empty,
      this.readOnly ? null : h('div', { class: 'add-cell-bar' },
        h('button', { type: 'button', onclick: () => this.execute('append-code') }, '+ Code'),
        h('button', { type: 'button', onclick: () => this.execute('append-markdown') }, '+ Markdown'),
      ),
    )
    // Editors exist only for cells near the viewport: a 500-cell notebook opens at once and
    // scrolls with a bounded number of live editors.
    this.lazy = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        const view = this.byId.get((entry.target as HTMLElement).dataset.cellId ?? '')
        if (entry.isIntersecting) view?.materialize()
        else view?.release()
      }
    }, { rootMargin: '800px 0px' })
    options.session.notebook.changed.connect(this.onCellsChanged)
    options.session.ystate.observe(this.onStateChanged)
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
    this.lazy.disconnect()
    for (const view of this.views.values()) view.destroy()
    this.views.clear()
    this.byId.clear()
    this.el.remove()
  }

  get awareness(): CellContext['awareness'] {
    return this.options.session.awareness
  }

  private get notebook(): NotebookSession['notebook'] {
    return this.options.session.notebook
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
    if (this.selected !== null && !this.byId.has(this.selected)) {
      // Someone else deleted (or retyped) the selected cell: select what now stands in its place.
      const was = this.order.indexOf(this.selected)
      this.selected = null
      if (cells.length > 0) this.select(cells[Math.min(Math.max(was, 0), cells.length - 1)].id)
    }
    if (this.selected === null && cells.length > 0) this.select(cells[0].id, false)
    else this.markSelection()
    this.order = cells.map((cell) => cell.id)
    if (typing) this.byId.get(typing.id)?.focusEditor(typing.at)
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

  select(cellId: string, scroll = false): void {
    if (!this.byId.has(cellId)) return
    this.selected = cellId
    this.markSelection()
    this.options.session.setActiveCell(cellId)
    if (scroll) this.byId.get(cellId)?.el.scrollIntoView({ block: 'nearest' })
  }

  private markSelection(): void {
    for (const view of this.views.values()) view.setSelected(view.id === this.selected)
  }

  editorFocused(cellId: string): void {
    if (this.selected !== cellId) this.select(cellId)
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
    }
    this.execute(commands[action])
  }

  changeType(cellId: string, type: CellType): void {
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
    this.edit(next)
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
    switch (command) {
      case 'append-code': return this.appendCell('code')
      case 'append-markdown': return this.appendCell('markdown')
      case 'run-all': return this.runAllCells()
      case 'interrupt': return this.actions.interrupt()
      case 'restart': return this.confirmRestart()
      case 'help': return showKeys()
    }
    const id = cellId
    if (id === null) {
      if (command === 'insert-below' || command === 'insert-above') this.insert(command === 'insert-above' ? 'above' : 'below')
      return
    }
    const nb = this.notebook
    switch (command) {
      case 'edit': return this.byId.get(id)?.focusEditor()
      case 'run': return this.run(id, 'stay')
      case 'run-advance': return this.run(id, 'advance')
      case 'run-insert': return this.run(id, 'insert')
      case 'select-prev': return this.selectAndFocus(neighbour(nb, id, -1))
      case 'select-next': return this.selectAndFocus(neighbour(nb, id, 1))
      case 'insert-above': return this.insert('above')
      case 'insert-below': return this.insert('below')
      case 'delete': {
        const next = deleteCell(nb, id)
        this.reconcile()
        return this.selectAndFocus(next)
      }
      case 'to-code': return this.retype(id, 'code')
      case 'to-markdown': return this.retype(id, 'markdown')
      case 'to-raw': return this.retype(id, 'raw')
      case 'move-up':
      case 'move-down':
        moveCell(nb, id, command === 'move-up' ? -1 : 1)
        this.reconcile()
        return this.selectAndFocus(id)
    }
  }

  private retype(cellId: string, type: CellType): void {
    const newId = changeCellType(this.notebook, cellId, type)
    this.reconcile()
    if (newId) this.select(newId)
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
  private run(cellId: string, then: 'stay' | 'advance' | 'insert'): void {
    const cell = cellById(this.notebook, cellId)
    if (!cell) return
    if (cell.cell_type === 'code') {
      this.actions.run([cellId], 'the cell')
    } else {
      this.byId.get(cellId)?.stopEditing()
    }
    if (then === 'stay') {
      if (cell.cell_type !== 'code') this.commandMode(cellId)
      return
    }
    if (then === 'insert') {
      const id = insertRelative(this.notebook, cellId, 'below')
      this.reconcile()
      this.select(id, true)
      return this.edit(id)
    }
    const next = neighbour(this.notebook, cellId, 1)
    if (next === null || next === cellId) {
      const id = insertRelative(this.notebook, cellId, 'below')
      this.reconcile()
      this.select(id, true)
      return this.edit(id)
    }
    const wasEditing = this.byId.get(cellId)?.hasEditorFocus() ?? false
    this.select(next, true)
    if (wasEditing && this.byId.get(next)?.cellType === 'code') this.edit(next)
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

  private confirmRestart(): void {
    if (!window.confirm('Restart the shared kernel? Everyone loses its variables.')) return
    this.actions.restart()
  }

  /** Shows who is in which cell. */
  showPresence(people: Participant[]): void {
    const byCell = new Map<string, Participant[]>()
    for (const p of people) {
      if (p.self || p.cell === null) continue
      byCell.set(p.cell, [...(byCell.get(p.cell) ?? []), p])
    }
    for (const view of this.views.values()) view.setPresence(byCell.get(view.id) ?? [])
  }
}
