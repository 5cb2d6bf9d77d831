/**
 * Jupyter's command-mode keys as a pure interpreter: a key (as KeyboardEvent reports it) plus
 * what was pending (the first D of "D D", the first I or 0) gives a command.
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
  | 'move-up'
  | 'move-down'
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

const EDITING: ReadonlySet<Command> = new Set([
  'run', 'run-advance', 'run-insert', 'insert-above', 'insert-below', 'delete',
  'to-markdown', 'to-code', 'to-raw', 'move-up', 'move-down', 'interrupt', 'restart', 'edit',
  'run-all', 'append-code', 'append-markdown',
])

/** Commands a view-only participant may not use (selection moves only). */
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
  h: 'help',
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
  ['Shift-↑ Shift-↓', 'move the cell up / down'],
  ['A / B', 'insert a cell above / below'],
  ['D D', 'delete the cell'],
  ['M / Y / R', 'make it markdown / code / raw'],
  ['I I / 0 0', 'interrupt / restart the kernel'],
  ['H', 'this help'],
]

export function commandKey(input: KeyInput, pending: Pending): KeyResult {
  const none = { command: null, pending: null, handled: false }
  if (input.key === 'Enter') {
    if (input.shift) return { command: 'run-advance', pending: null, handled: true }
    if (input.ctrl || input.meta) return { command: 'run', pending: null, handled: true }
    if (input.alt) return { command: 'run-insert', pending: null, handled: true }
    return { command: 'edit', pending: null, handled: true }
  }
  if (input.ctrl || input.meta || input.alt) return none
  if (input.shift && (input.key === 'ArrowUp' || input.key === 'K')) {
    return { command: 'move-up', pending: null, handled: true }
  }
  if (input.shift && (input.key === 'ArrowDown' || input.key === 'J')) {
    return { command: 'move-down', pending: null, handled: true }
  }
  const key = input.key.length === 1 ? input.key.toLowerCase() : input.key
  const double = DOUBLE[key]
  if (double && !input.shift) {
    if (pending === double.pending) return { command: double.command, pending: null, handled: true }
    return { command: null, pending: double.pending, handled: true }
  }
  const simple = SIMPLE[key]
  if (simple && !input.shift) return { command: simple, pending: null, handled: true }
  return none
}
