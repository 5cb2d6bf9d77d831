/**
 * A cell editor as one bundle of extensions, the way yCollab bundles collaboration: the shared
 * text binding and remote cursors, Python support, Jupyter's edit-mode keys, and read-only mode.
 */
import { closeBrackets, closeBracketsKeymap } from '@codemirror/autocomplete'
import { defaultKeymap, indentWithTab } from '@codemirror/commands'
import { python } from '@codemirror/lang-python'
import {
  bracketMatching,
  defaultHighlightStyle,
  indentOnInput,
  indentUnit,
  syntaxHighlighting,
} from '@codemirror/language'
import { EditorState, type Extension, Prec } from '@codemirror/state'
import { drawSelection, dropCursor, EditorView, highlightSpecialChars, keymap } from '@codemirror/view'
import { yCollab, yUndoManagerKeymap } from 'y-codemirror.next'
import type { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'

export interface EditorKeys {
  /** Shift-Enter */
  runAdvance(): void
  /** Ctrl/Cmd-Enter */
  run(): void
  /** Alt-Enter */
  runInsert(): void
  /** Escape: back to command mode */
  leave(): void
  /** ArrowUp on the first line / ArrowDown on the last: go to the neighbouring cell */
  exitTop(): void
  exitBottom(): void
}

export interface CellEditorOptions {
  language: 'python' | 'plain'
  readOnly: boolean
  keys: EditorKeys
}

function jupyterKeys(keys: EditorKeys): Extension {
  const atEdge = (view: EditorView, top: boolean): boolean => {
    const sel = view.state.selection.main
    if (!sel.empty) return false
    const line = view.state.doc.lineAt(sel.head)
    return top ? line.number === 1 : line.number === view.state.doc.lines
  }
  return Prec.highest(
    keymap.of([
      { key: 'Shift-Enter', run: () => (keys.runAdvance(), true) },
      { key: 'Mod-Enter', run: () => (keys.run(), true) },
      { key: 'Alt-Enter', run: () => (keys.runInsert(), true) },
      { key: 'Escape', run: () => (keys.leave(), true) },
      { key: 'ArrowUp', run: (view) => atEdge(view, true) && (keys.exitTop(), true) },
      { key: 'ArrowDown', run: (view) => atEdge(view, false) && (keys.exitBottom(), true) },
    ]),
  )
}

const theme = EditorView.theme({
  '&': { fontSize: '14px', backgroundColor: 'transparent' },
  '.cm-content': { fontFamily: 'var(--mono)', padding: '6px 0' },
  '.cm-line': { padding: '0 8px' },
  '&.cm-focused': { outline: 'none' },
  // Lines wrap, so nothing scrolls sideways; visible overflow lets a remote cursor's name on the
  // first line show above the editor instead of being cut off.
  '.cm-scroller': { overflow: 'visible' },
  // Always show the name next to a remote cursor, not only on hover.
  '.cm-ySelectionInfo': { opacity: '1', top: '-1.3em', fontSize: '11px', padding: '0 3px', borderRadius: '3px 3px 3px 0' },
})

export function cellEditor(ytext: Y.Text, awareness: Awareness, options: CellEditorOptions): Extension {
  return [
    yCollab(ytext, awareness, { undoManager: options.readOnly ? false : new Y.UndoManager(ytext) }),
    jupyterKeys(options.keys),
    keymap.of([...closeBracketsKeymap, ...yUndoManagerKeymap, ...defaultKeymap, indentWithTab]),
    highlightSpecialChars(),
    drawSelection(),
    dropCursor(),
    indentOnInput(),
    bracketMatching(),
    closeBrackets(),
    syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
    indentUnit.of('    '),
    options.language === 'python' ? python() : [],
    EditorView.lineWrapping,
    EditorState.readOnly.of(options.readOnly),
    EditorView.editable.of(!options.readOnly),
    theme,
  ]
}

export function createEditor(parent: HTMLElement, ytext: Y.Text, awareness: Awareness, options: CellEditorOptions): EditorView {
  return new EditorView({
    parent,
    state: EditorState.create({ doc: ytext.toString(), extensions: cellEditor(ytext, awareness, options) }),
  })
}
