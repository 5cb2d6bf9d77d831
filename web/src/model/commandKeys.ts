/**
 * Jupyter's command-mode keys as a pure interpreter: a key (as KeyboardEvent reports it) plus
 * what was pending (the first D of "D D", the first I or 0) gives a command. The keys follow
 * JupyterLab 4: Shift-↑/↓ extend the selection, Ctrl-Shift-↑/↓ move cells, Z / Shift-Z undo and
 * redo cell operations, C X V Shift-V copy, cut and paste cells, Shift-M merges.
 */
export type Command =
  | 'edit'
  | 'run'
  | 'run-advance'
  | 'run-insert'
  | 'insert-above'
  | 'insert-below'
  | 'delete'
  | 'to-markdown'
  | 'to-code'
  | 'to-raw'
  | 'select-prev'
  | 'select-next'
  | 'extend-prev'
  | 'extend-next'
  | 'select-all'
  | 'move-up'
  | 'move-down'
  | 'undo'
  | 'redo'
  | 'copy'
  | 'cut'
  | 'paste-below'
  | 'paste-above'
  | 'merge'
  | 'clear-outputs'
  | 'clear-all-outputs'
  | 'find'
  | 'interrupt'
  | 'restart'
  | 'help'
  | 'run-all'
  | 'append-code'
  | 'append-markdown'

export interface KeyInput {
  key: string
  shift: boolean
  ctrl: boolean
  alt: boolean
  meta: boolean
}

export type Pending = 'd' | 'i' | '0' | null

export interface KeyResult {
  command: Command | null
  pending: Pending
  /** Whether the page should swallow the key. */
  handled: boolean
}

const EDITING: ReadonlySet<Command> = new Set<Command>([
  'run', 'run-advance', 'run-insert', 'insert-above', 'insert-below', 'delete',
  'to-markdown', 'to-code', 'to-raw', 'move-up', 'move-down', 'interrupt', 'restart', 'edit',
  'run-all', 'append-code', 'append-markdown', 'undo', 'redo', 'cut', 'paste-below', 'paste-above',
  'merge', 'clear-outputs', 'clear-all-outputs',
])

/** Commands a view-only participant may not use (selecting and copying only). */
export function changesNotebook(command: Command): boolean {
  return EDITING.has(command)
}

const SIMPLE: Record<string, Command> = {
  a: 'insert-above',
  b: 'insert-below',
  m: 'to-markdown',
  y: 'to-code',
  r: 'to-raw',
  k: 'select-prev',
  j: 'select-next',
  ArrowUp: 'select-prev',
  ArrowDown: 'select-next',
  z: 'undo',
  c: 'copy',
  x: 'cut',
  v: 'paste-below',
  h: 'help',
}

const SHIFTED: Record<string, Command> = {
  ArrowUp: 'extend-prev',
  k: 'extend-prev',
  ArrowDown: 'extend-next',
  j: 'extend-next',
  z: 'redo',
  v: 'paste-above',
  m: 'merge',
}

const DOUBLE: Record<string, { pending: Pending; command: Command }> = {
  d: { pending: 'd', command: 'delete' },
  i: { pending: 'i', command: 'interrupt' },
  '0': { pending: '0', command: 'restart' },
}

/** What the help dialog lists, in Jupyter's words. */
export const KEY_HELP: [string, string][] = [
  ['Shift-Enter', 'run the cell, select the next one'],
  ['Ctrl-Enter', 'run the cell'],
  ['Alt-Enter', 'run the cell, insert one below'],
  ['Enter / Esc', 'edit the cell / back to command mode'],
  ['↑ ↓ or K J', 'select the previous / next cell'],
  ['Shift-↑ Shift-↓', 'extend the selection (or Shift-click)'],
  ['Ctrl-A', 'select all cells'],
  ['Ctrl-Shift-↑ ↓', 'move the cells up / down'],
  ['A / B', 'insert a cell above / below'],
  ['D D', 'delete the cells'],
  ['C / X', 'copy / cut the cells'],
  ['V / Shift-V', 'paste below / above'],
  ['Shift-M', 'merge the cells (or with the one below)'],
  ['Z / Shift-Z', 'undo / redo your cell operations'],
  ['Ctrl-F', 'find (and replace) in all cells'],
  ['M / Y / R', 'make them markdown / code / raw'],
  ['I I / 0 0', 'interrupt / restart the kernel'],
  ['H', 'this help'],
]

export function commandKey(input: KeyInput, pending: Pending): KeyResult {
  const none = { command: null, pending: null, handled: false }
  const found = (command: Command): KeyResult => ({ command, pending: null, handled: true })
  if (input.key === 'Enter') {
    if (input.shift) return found('run-advance')
    if (input.ctrl || input.meta) return found('run')
    if (input.alt) return found('run-insert')
    return found('edit')
  }
  const key = input.key.length === 1 ? input.key.toLowerCase() : input.key
  if ((input.ctrl || input.meta) && !input.alt) {
    if (input.shift && key === 'ArrowUp') return found('move-up')
    if (input.shift && key === 'ArrowDown') return found('move-down')
    if (!input.shift && key === 'a') return found('select-all')
    if (!input.shift && key === 'f') return found('find')
    return none
  }
  if (input.ctrl || input.meta || input.alt) return none
  if (input.shift) {
    const shifted = SHIFTED[key]
    return shifted ? found(shifted) : none
  }
  const double = DOUBLE[key]
  if (double) {
    if (pending === double.pending) return found(double.command)
    return { command: null, pending: double.pending, handled: true }
  }
  const simple = SIMPLE[key]
  return simple ? found(simple) : none
}
