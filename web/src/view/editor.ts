/**
 * A cell editor as one bundle of extensions, the way yCollab bundles collaboration: the shared
 * text binding and remote cursors, Python support, Jupyter's edit-mode keys, and read-only mode.
 */
import { defaultKeymap, indentWithTab } from '@codemirror/commands'
import { python } from '@codemirror/lang-python'
import {
  bracketMatching,
  HighlightStyle,
  indentOnInput,
  indentUnit,
  syntaxHighlighting,
} from '@codemirror/language'
import { EditorState, type Extension, Prec } from '@codemirror/state'
import { tags as t } from '@lezer/highlight'
import { drawSelection, dropCursor, EditorView, highlightSpecialChars, keymap, ViewPlugin } from '@codemirror/view'
import { yCollab, yUndoManagerKeymap } from 'y-codemirror.next'
import type { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { kernelHelp, type KernelHelp } from './kernelHelp'

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
  /** Mod-F: find and replace across all cells */
  find(): void
}

export interface CellEditorOptions {
  language: 'python' | 'plain'
  readOnly: boolean
  keys: EditorKeys
  /** The shared kernel's completions (Tab) and inspection (Shift-Tab); code cells of editors. */
  help?: KernelHelp | null
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
      { key: 'Mod-f', run: () => (keys.find(), true) },
      { key: 'ArrowUp', run: (view) => atEdge(view, true) && (keys.exitTop(), true) },
      { key: 'ArrowDown', run: (view) => atEdge(view, false) && (keys.exitBottom(), true) },
    ]),
  )
}

const theme = EditorView.theme({
  '&': { fontSize: '14px', backgroundColor: 'transparent', color: 'var(--fg)' },
  '.cm-content': { fontFamily: 'var(--mono)', padding: '6px 0', caretColor: 'var(--fg)' },
  '.cm-cursor, .cm-dropCursor': { borderLeftColor: 'var(--fg)' },
  '.cm-selectionBackground, &.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground': { background: 'var(--selection)' },
  '.cm-line': { padding: '0 8px' },
  '&.cm-focused': { outline: 'none' },
  // Lines wrap, so nothing scrolls sideways; visible overflow lets a remote cursor's name on the
  // first line show above the editor instead of being cut off.
  '.cm-scroller': { overflow: 'visible' },
  // A remote cursor's name shows on hover and for a moment after it moves (as in JupyterLab),
  // so that names never sit over the code one reads.
  '.cm-ySelectionInfo': { top: '-1.3em', fontSize: '11px', padding: '0 3px', borderRadius: '3px 3px 3px 0', fontFamily: 'var(--sans)' },
  '&.cm-yRecent .cm-ySelectionInfo': { opacity: '1' },
})

/** How long a remote cursor's name stays shown after it moved. */
export const NAME_TAG_MS = 1500

/** Marks the editor while a remote cursor in it has just moved (`cm-yRecent`). */
function recentRemoteCursors(ytext: Y.Text, awareness: Awareness): Extension {
  return ViewPlugin.define((view) => {
    let timer: ReturnType<typeof setTimeout> | null = null
    const inThisText = (clientId: number): boolean => {
      const cursor = (awareness.getStates().get(clientId) as { cursor?: { head?: unknown } } | undefined)?.cursor
      if (!cursor?.head || !ytext.doc) return false
      const head = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(cursor.head), ytext.doc)
      return head?.type === ytext
    }
    const listener = ({ added, updated }: { added: number[]; updated: number[] }): void => {
      const moved = [...added, ...updated].some((id) => id !== awareness.clientID && inThisText(id))
      if (!moved) return
      view.dom.classList.add('cm-yRecent')
      if (timer !== null) clearTimeout(timer)
      timer = setTimeout(() => {
        timer = null
        view.dom.classList.remove('cm-yRecent')
      }, NAME_TAG_MS)
    }
    awareness.on('change', listener)
    return {
      destroy() {
        awareness.off('change', listener)
        if (timer !== null) clearTimeout(timer)
      },
    }
  })
}

/** Code colours from the page's variables, so that they follow light and dark mode. */
const codeColours = HighlightStyle.define([
  { tag: [t.keyword, t.controlKeyword, t.definitionKeyword, t.moduleKeyword, t.operatorKeyword], color: 'var(--hl-keyword)' },
  { tag: [t.string, t.special(t.string), t.regexp], color: 'var(--hl-string)' },
  { tag: [t.number, t.bool, t.null, t.atom], color: 'var(--hl-number)' },
  { tag: [t.comment, t.lineComment, t.blockComment], color: 'var(--hl-comment)', fontStyle: 'italic' },
  { tag: [t.standard(t.variableName), t.className, t.typeName], color: 'var(--hl-builtin)' },
  { tag: [t.function(t.definition(t.variableName)), t.definition(t.className)], color: 'var(--hl-title)' },
  { tag: [t.meta, t.self], color: 'var(--hl-meta)' },
  { tag: t.heading, fontWeight: 'bold' },
  { tag: t.emphasis, fontStyle: 'italic' },
  { tag: t.strong, fontWeight: 'bold' },
])

export function cellEditor(ytext: Y.Text, awareness: Awareness, options: CellEditorOptions): Extension {
  return [
    yCollab(ytext, awareness, { undoManager: options.readOnly ? false : new Y.UndoManager(ytext) }),
    // Before Jupyter's keys: with the completion list open, Enter, arrows and Escape are its.
    options.help && !options.readOnly ? kernelHelp(options.help) : [],
    jupyterKeys(options.keys),
    recentRemoteCursors(ytext, awareness),
    // No closeBrackets(): brackets do not close themselves (JupyterLab 4's default).
    keymap.of([...yUndoManagerKeymap, ...defaultKeymap, indentWithTab]),
    highlightSpecialChars(),
    drawSelection(),
    dropCursor(),
    indentOnInput(),
    bracketMatching(),
    syntaxHighlighting(codeColours, { fallback: true }),
    indentUnit.of('    '),
    options.language === 'python' ? python() : [],
    EditorView.lineWrapping,
    EditorState.readOnly.of(options.readOnly),
    EditorView.editable.of(!options.readOnly),
    theme,
  ]
}

/** A cell's editor in `parent`; with null, the caller puts `view.dom` in the page. */
export function createEditor(parent: HTMLElement | null, ytext: Y.Text, awareness: Awareness, options: CellEditorOptions): EditorView {
  return new EditorView({
    parent: parent ?? undefined,
    state: EditorState.create({ doc: ytext.toString(), extensions: cellEditor(ytext, awareness, options) }),
  })
}
