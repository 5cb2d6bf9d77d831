/**
 * One cell on the page. It starts as a light placeholder (the source as plain text); the
 * CodeMirror editor and rendered markdown are created only when the cell comes near the
 * viewport (`materialize`) or the participant starts editing it.
 */
import type { YCellType, YCodeCell } from '@jupyter/ydoc'
import { EditorView } from '@codemirror/view'
import type { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import type { CellType } from '../model/notebookOps'
import {
  type CellRunStatus,
  describeLastRun,
  describeRunStatus,
  type InputRequest,
  readLastRun,
} from '../model/kernelState'
import type { Participant } from '../model/presence'
import { nameCells, outputsFromEarlierRun } from '../model/wording'
import { h, frameScheduler } from './dom'
import { createEditor, type EditorKeys } from './editor'
import type { KernelHelp } from './kernelHelp'
import { markdownToHtml } from './markdown'
import { disposeOutputs, type OutputsState, renderOutputs } from './outputs'

export type CellAction = 'run' | 'move-up' | 'move-down' | 'insert-above' | 'insert-below' | 'delete' | 'clear-outputs'

export interface CellContext {
  readonly awareness: Awareness
  readonly readOnly: boolean
  /** Completions and inspection from the shared kernel; null for viewers. */
  readonly kernelHelp: KernelHelp | null
  editorKeys(cellId: string): EditorKeys
  /** `extend`: Shift-click, from the anchor to this cell. */
  select(cellId: string, scroll?: boolean, extend?: boolean): void
  /** The cell's shared content changed (its source, outputs or metadata). */
  cellChanged(cellId: string): void
  editorFocused(cellId: string): void
  act(cellId: string, action: CellAction): void
  changeType(cellId: string, type: CellType): void
  runStatus(cellId: string, executionState: unknown): CellRunStatus
  /** The pending input() request in this cell, and whether it is this participant's to answer. */
  inputRequest(cellId: string): { request: InputRequest; mine: boolean } | null
  answer(requestId: string, value: string): void
  cellNumber(cellId: string): number
}

export class CellView {
  readonly el: HTMLElement
  /** Read once: a deleted cell's shared map no longer answers. */
  readonly id: string
  private readonly prompt: HTMLElement
  private readonly presence: HTMLElement
  private readonly head: HTMLElement
  /** Built when the cell is first near the viewport, selected or pointed at (see `ensureTools`). */
  private tools: HTMLElement | null = null
  private readonly editorHost: HTMLElement
  private readonly rendered: HTMLElement
  private readonly status: HTMLElement
  private readonly inputArea: HTMLElement
  private readonly outputs: HTMLElement
  private editor: EditorView | null = null
  private destroyed = false
  private materialized = false
  /** Who was last shown here (names and colours), to leave the DOM alone when that is unchanged. */
  private presenceKey = ''
  private editing = false
  private outputsDirty = true
  private readonly outputsState: OutputsState = { expanded: null }
  private outputCount = 0
  private readonly scheduleRefresh = frameScheduler(() => this.refresh())
  private readonly observer: (events: Y.YEvent<Y.AbstractType<unknown>>[]) => void

  constructor(
    readonly model: YCellType,
    private readonly ctx: CellContext,
  ) {
    this.id = model.id
    this.prompt = h('div', { class: 'cell-prompt', 'aria-hidden': 'true' })
    this.presence = h('div', { class: 'cell-presence' })
    this.head = h('div', { class: 'cell-head' }, this.presence)
    this.editorHost = h('div', { class: 'cell-editor' })
    this.rendered = h('div', { class: 'cell-rendered markdown' })
    this.status = h('div', { class: 'cell-status', 'aria-live': 'polite' })
    this.inputArea = h('div', { class: 'cell-input', hidden: true })
    this.outputs = h('div', { class: 'cell-outputs', hidden: true })
    this.el = h(
      'div',
      {
        class: `cell cell-${model.cell_type}`, 'data-cell-id': this.id, tabindex: '-1',
        role: 'listitem', 'aria-label': `${model.cell_type} cell`,
      },
      this.prompt,
      h('div', { class: 'cell-main' },
        this.head,
        this.editorHost,
        this.rendered,
        this.status,
        this.inputArea,
        this.outputs,
      ),
    )
    this.el.addEventListener('mousedown', (e) => {
      // Shift-click extends the cell selection, except inside the text, where it selects text.
      const inText = (e.target as HTMLElement | null)?.closest('.cm-content, input, select, button')
      if (e.shiftKey && !inText) {
        e.preventDefault()
        ctx.select(this.id, false, true)
      } else {
        ctx.select(this.id)
      }
    })
    this.el.addEventListener('pointerenter', () => this.ensureTools())
    this.rendered.addEventListener('dblclick', () => {
      if (!ctx.readOnly) this.startEditing(true)
    })
    this.showPlaceholder()
    this.observer = (events) => {
      if (events.some((e) => this.touchesOutputs(e))) this.outputsDirty = true
      this.scheduleRefresh()
      ctx.cellChanged(this.id)
    }
    model.ymodel.observeDeep(this.observer)
    this.refresh()
  }


  get cellType(): string {
    return this.model.cell_type
  }

  /** Inside the outputs (path starts there), or the outputs array itself replaced. */
  private touchesOutputs(event: Y.YEvent<Y.AbstractType<unknown>>): boolean {
    if (event.path[0] === 'outputs') return true
    return event.target === this.model.ymodel && event.changes.keys.has('outputs')
  }

  /**
   * The cell's toolbar (shown on hover and for the selected cell), made the first time it can
   * be seen rather than with the cell: in a 1,000-cell notebook the toolbars were 12 of each
   * cell's 27 elements, all made and styled before the first cell could be edited.
   */
  private ensureTools(): void {
    if (this.tools || this.ctx.readOnly || this.destroyed) return
    this.tools = this.toolbar()
    this.head.append(this.tools)
  }

  private toolbar(): HTMLElement {
    const button = (label: string, title: string, action: CellAction): HTMLElement =>
      h('button', {
        type: 'button', class: `tool tool-${action}`, title, 'aria-label': title, tabindex: '-1',
        onclick: (e: Event) => { e.stopPropagation(); this.ctx.act(this.id, action) },
      }, label)
    const type = h('select', { class: 'tool tool-type', title: 'Cell type', 'aria-label': 'Cell type', tabindex: '-1' },
      ...(['code', 'markdown', 'raw'] as const).map((t) => h('option', { value: t, selected: t === this.model.cell_type }, t)))
    type.addEventListener('change', () => this.ctx.changeType(this.id, type.value as CellType))
    return h('div', { class: 'cell-tools' },
      this.model.cell_type === 'code' ? button('▶', 'Run (Ctrl-Enter)', 'run') : null,
      button('↑', 'Move up', 'move-up'),
      button('↓', 'Move down', 'move-down'),
      button('+↑', 'Insert cell above (A)', 'insert-above'),
      button('+↓', 'Insert cell below (B)', 'insert-below'),
      this.model.cell_type === 'code' ? button('⌫', 'Clear outputs', 'clear-outputs') : null,
      type,
      button('✕', 'Delete cell (D D)', 'delete'),
    )
  }

  /** The cheap stand-in: the source as text, so the page has its final shape before any editor. */
  private showPlaceholder(): void {
    const pre = h('pre', { class: 'cell-placeholder' }, this.model.getSource() || ' ')
    pre.addEventListener('click', () => {
      if (!this.ctx.readOnly) this.focusEditor()
    })
    this.editorHost.replaceChildren(pre)
  }

  /**
   * Called when the cell comes near the viewport. With `later`, the editor is built out of the
   * page and what puts it there is added to `later`, for the caller to run once every cell of
   * the batch has its editor: CodeMirror reads `document.fonts.ready` as it builds one, which
   * has Chromium bring the page's style up to date, ~8 ms each in a long notebook when the
   * editor before was just put in.
   */
  materialize(later?: (() => void)[]): void {
    this.ensureTools()
    if (this.materialized) return
    this.materialized = true
    const wanted = this.cellType !== 'markdown' || this.editing
    if (!later) {
      if (wanted) this.ensureEditor()
      this.refresh()
      return
    }
    const editor = wanted && !this.editor ? this.buildEditor(null) : null
    later.push(() => {
      if (editor && this.editor === editor) this.editorHost.replaceChildren(editor.dom)
      this.refresh()
    })
  }

  /**
   * Called when the cell moves far from the viewport: drop the editor (unless it is in use) so a
   * long notebook keeps a bounded number of live editors however far one scrolls.
   */
  release(): void {
    if (!this.materialized || !this.editor || this.editor.hasFocus) return
    this.editor.destroy()
    this.editor = null
    this.materialized = false
    this.showPlaceholder()
    this.refresh()
  }

  private ensureEditor(): EditorView {
    if (this.editor) return this.editor
    this.editorHost.replaceChildren()
    return this.buildEditor(this.editorHost)
  }

  /** This cell's editor, in `parent` (null: not in the page yet). */
  private buildEditor(parent: HTMLElement | null): EditorView {
    this.editor = createEditor(parent, this.model.ysource, this.ctx.awareness, {
      language: this.cellType === 'code' ? 'python' : 'plain',
      readOnly: this.ctx.readOnly,
      keys: this.ctx.editorKeys(this.id),
      help: this.cellType === 'code' ? this.ctx.kernelHelp : null,
    })
    this.editor.contentDOM.addEventListener('focus', () => this.ctx.editorFocused(this.id))
    return this.editor
  }

  hasEditorFocus(): boolean {
    return this.editor?.hasFocus ?? false
  }

  /** Where the local cursor is, while this cell's editor has focus. */
  cursor(): { anchor: number; head: number } | null {
    if (!this.editor?.hasFocus) return null
    const { anchor, head } = this.editor.state.selection.main
    return { anchor, head }
  }

  /** Selects a range of the source (a find match) and brings it into view, focus left where it is. */
  showRange(from: number, to: number, editable: boolean): void {
    if (this.cellType === 'markdown') {
      if (!editable) return
      this.editing = true
    }
    this.materialized = true
    const editor = this.ensureEditor()
    this.refresh()
    const max = editor.state.doc.length
    const range = { anchor: Math.min(from, max), head: Math.min(to, max) }
    editor.dispatch({ selection: range, effects: EditorView.scrollIntoView(range.head, { y: 'center' }) })
  }

  /** The text in this cell's editor (keys typed just now included), if it has one. */
  editorText(): string | null {
    return this.editor ? this.editor.state.doc.toString() : null
  }

  focusEditor(at?: { anchor: number; head: number } | 'end'): void {
    this.materialized = true
    if (this.cellType === 'markdown') this.editing = true
    const editor = this.ensureEditor()
    this.refresh()
    editor.focus()
    const max = editor.state.doc.length
    if (at === 'end') editor.dispatch({ selection: { anchor: max } })
    else if (at) editor.dispatch({ selection: { anchor: Math.min(at.anchor, max), head: Math.min(at.head, max) } })
  }

  /** Markdown: switch between the editor and the rendered text. */
  startEditing(focus: boolean): void {
    this.editing = true
    if (focus) this.focusEditor()
    else this.refresh()
  }

  stopEditing(): void {
    if (this.cellType !== 'markdown') return
    this.editing = false
    this.refresh()
  }

  blurEditor(): void {
    this.editor?.contentDOM.blur()
  }

  /** `active`: the cell keys act on; `inRange`: one of several selected cells. */
  setSelected(active: boolean, inRange = false): void {
    if (active) this.ensureTools()
    this.el.classList.toggle('selected', active)
    this.el.classList.toggle('in-selection', inRange)
  }

  setPresence(people: Participant[]): void {
    // Every presence change (anyone's cursor moving) comes to every cell: one that touched its
    // style anyway would have Chromium restyle the whole notebook each time (~70 ms at 1,000 cells).
    const key = people.map((p) => `${p.user.name}\u0000${p.user.color}`).join('\u0001')
    if (key === this.presenceKey) return
    this.presenceKey = key
    this.presence.replaceChildren(
      ...people.map((p) =>
        h('span', { class: 'presence-chip', style: `--user:${p.user.color}`, title: `${p.user.name} is here` }, p.user.name),
      ),
    )
    this.el.style.setProperty('--presence', people[0]?.user.color ?? 'transparent')
    this.el.classList.toggle('has-presence', people.length > 0)
  }

  refresh(): void {
    if (this.destroyed) return
    this.refreshSource()
    this.refreshRunStatus()
    if (this.outputsDirty && this.model.cell_type === 'code') {
      this.outputsDirty = false
      // the outputs alone: the whole cell's JSON copies its source and metadata as well, for
      // each of a long notebook's cells as the page opens
      const outputs = (this.model as YCodeCell).getOutputs() as unknown[]
      renderOutputs(this.outputs, outputs.map((o) => this.inWords(o)), this.outputsState)
      this.outputCount = outputs.length
    }
    this.markEarlierOutputs()
  }

  /** The hub's record of the last run, read from its own metadata key (not a copy of all of it). */
  private lastRun(): ReturnType<typeof readLastRun> {
    const value = (this.model.ymodel.get('metadata') as Y.Map<unknown> | undefined)?.get('collabd')
    return readLastRun({ collabd: value instanceof Y.AbstractType ? value.toJSON() : value })
  }

  /** The hub's own messages in a cell (a cancelled run's reason) name cells by number. */
  private inWords(output: unknown): unknown {
    const out = output as { output_type?: unknown; ename?: unknown; evalue?: unknown; traceback?: unknown }
    if (out?.output_type !== 'error' || out.ename !== 'RunCancelled') return output
    const words = (t: unknown): unknown => (typeof t === 'string' ? nameCells(t, (id) => this.ctx.cellNumber(id)) : t)
    return { ...out, evalue: words(out.evalue), traceback: Array.isArray(out.traceback) ? out.traceback.map(words) : out.traceback }
  }

  /** Outputs kept from an earlier run (this one was cancelled before it started) say so. */
  private markEarlierOutputs(): void {
    const earlier = this.model.cell_type === 'code' &&
      outputsFromEarlierRun(this.lastRun(), this.outputCount)
    this.outputs.classList.toggle('from-earlier-run', earlier)
    this.outputs.dataset.note = earlier ? 'Output from an earlier run (this run was cancelled)' : ''
  }

  private refreshSource(): void {
    const source = this.model.getSource()
    if (this.cellType === 'markdown') {
      const showRendered = !this.editing && source.trim() !== ''
      this.rendered.hidden = !showRendered
      this.editorHost.hidden = showRendered
      if (showRendered && this.materialized) this.rendered.innerHTML = markdownToHtml(source)
      else if (showRendered) this.rendered.textContent = source
    } else {
      this.rendered.hidden = true
    }
    if (!this.editor) {
      const pre = this.editorHost.firstElementChild
      if (pre) pre.textContent = source || ' '
    }
  }

  refreshRunStatus(): void {
    if (this.destroyed) return
    if (this.model.cell_type !== 'code') {
      this.prompt.textContent = ''
      this.status.hidden = true
      this.inputArea.hidden = true
      return
    }
    const run = this.ctx.runStatus(this.id, this.model.ymodel.get('execution_state'))
    const count = this.model.ymodel.get('execution_count') as number | null | undefined
    this.prompt.textContent =
      run.state === 'running' ? '[*]:' : run.state === 'queued' ? '[…]:' : `[${count ?? ' '}]:`
    this.el.dataset.executionState = run.state
    const lastRun = this.lastRun()
    const parts = [describeRunStatus(run), lastRun && run.state === 'idle' ? describeLastRun(lastRun) : '']
    const text = parts.filter(Boolean).join(' — ')
    this.status.textContent = text
    this.status.hidden = text === ''
    this.status.className = `cell-status status-${run.state}`
    this.markEarlierOutputs()
    this.refreshInput()
  }

  private refreshInput(): void {
    const pending = this.ctx.inputRequest(this.id)
    const current = this.inputArea.dataset.requestId
    if (!pending) {
      this.inputArea.hidden = true
      this.inputArea.replaceChildren()
      delete this.inputArea.dataset.requestId
      return
    }
    if (current === pending.request.request_id) return
    this.inputArea.dataset.requestId = pending.request.request_id
    this.inputArea.hidden = false
    const { request } = pending
    if (!pending.mine) {
      this.inputArea.replaceChildren(
        h('span', { class: 'input-waiting' }, `Waiting for ${request.by.name} to answer: ${request.prompt}`),
      )
      return
    }
    const field = h('input', {
      class: 'input-field',
      type: request.password ? 'password' : 'text',
      'aria-label': request.prompt || 'Input',
      autocomplete: 'off',
    })
    const form = h('form', { class: 'input-form' },
      h('label', {}, h('span', { class: 'input-prompt' }, request.prompt || 'Input:'), field),
      h('button', { type: 'submit' }, 'Send'),
    )
    form.addEventListener('submit', (e) => {
      e.preventDefault()
      this.ctx.answer(request.request_id, field.value)
      field.disabled = true
    })
    this.inputArea.replaceChildren(form)
    queueMicrotask(() => field.focus())
  }

  destroy(): void {
    this.destroyed = true
    this.model.ymodel.unobserveDeep(this.observer)
    this.editor?.destroy()
    this.editor = null
    disposeOutputs(this.outputs)
    this.el.remove()
  }
}
