/**
 * The shared kernel's help in a code cell's editor, as one bundle of extensions: Tab after a name
 * or a dot lists the kernel's completions (@codemirror/autocomplete), Shift-Tab after something
 * shows what the kernel says of it in a tooltip (ANSI colours through ansi_up, which escapes
 * HTML). Elsewhere Tab and Shift-Tab indent as before. Hints (no kernel yet, kernel busy) show in
 * the same tooltip, where one types. Viewers get none of it (their actions answer null).
 */
import {
  acceptCompletion,
  autocompletion,
  type Completion,
  type CompletionContext,
  type CompletionResult,
  completionStatus,
  startCompletion,
} from '@codemirror/autocomplete'
import { type Extension, Prec, StateEffect, StateField } from '@codemirror/state'
import { EditorView, keymap, showTooltip, type Tooltip } from '@codemirror/view'
import { AnsiUp } from 'ansi_up'
import { wantsCompletion, wantsInspection } from '../model/kernelAssist'
import type { SessionActions } from '../model/sessionActions'
import { h } from './dom'

export type KernelHelp = Pick<SessionActions, 'complete' | 'inspect'>

interface Shown {
  pos: number
  kind: 'doc' | 'hint'
  text: string
}

const ansi = new AnsiUp()
ansi.use_classes = true

const setShown = StateEffect.define<Shown | null>()

/** The tooltip shown: closed when the cursor moves or Escape; it follows others' edits. */
const shownField = StateField.define<Shown | null>({
  create: () => null,
  update(shown, tr) {
    for (const effect of tr.effects) if (effect.is(setShown)) return effect.value
    if (!shown || tr.selection) return null
    return tr.docChanged ? { ...shown, pos: tr.changes.mapPos(shown.pos) } : shown
  },
  provide: (field) => showTooltip.compute([field], (state) => tooltipFor(state.field(field))),
})

function tooltipFor(shown: Shown | null): Tooltip | null {
  if (!shown) return null
  return {
    pos: shown.pos,
    above: false,
    create: () => {
      if (shown.kind === 'hint') return { dom: h('div', { class: 'cm-kernel-help kernel-hint', role: 'status' }, shown.text) }
      const pre = h('pre', { class: 'kernel-doc-text' })
      pre.innerHTML = ansi.ansi_to_html(shown.text)
      return { dom: h('div', { class: 'cm-kernel-help kernel-doc', role: 'tooltip' }, pre) }
    },
  }
}

/** Scoped to the editor, so that it wins over CodeMirror's own tooltip theme. */
const helpTheme = EditorView.theme({
  '.cm-tooltip.cm-kernel-help': {
    border: '1px solid var(--line-strong)', borderRadius: '6px', boxShadow: '0 6px 20px rgba(0,0,0,.18)',
    backgroundColor: 'var(--card)', color: 'var(--fg)',
  },
  '.cm-tooltip.kernel-doc': { maxWidth: 'min(640px, 90vw)', maxHeight: '40vh', overflow: 'auto', padding: '6px 10px' },
  '.cm-tooltip.kernel-hint': {
    padding: '4px 10px', fontSize: '12px', fontFamily: 'var(--sans)',
    backgroundColor: 'var(--info-bg)', color: 'var(--info-fg)', borderColor: 'var(--info-line)',
  },
  '.cm-tooltip.cm-tooltip-autocomplete': {
    border: '1px solid var(--line-strong)', borderRadius: '6px', backgroundColor: 'var(--card)', color: 'var(--fg)',
    boxShadow: '0 6px 20px rgba(0,0,0,.18)', overflow: 'hidden',
  },
  '.cm-tooltip.cm-tooltip-autocomplete > ul': { fontFamily: 'var(--mono)', maxHeight: '14em' },
  '.cm-tooltip.cm-tooltip-autocomplete > ul > li': { padding: '2px 8px' },
  '.cm-tooltip.cm-tooltip-autocomplete > ul > li[aria-selected]': { backgroundColor: 'var(--accent)', color: '#fff' },
})

/** IPython's completion types as CodeMirror's (for the icons). */
const TYPES: Record<string, string> = {
  function: 'function', builtin_function_or_method: 'function', method: 'method', class: 'class',
  module: 'namespace', keyword: 'keyword', magic: 'keyword', instance: 'variable',
  statement: 'variable', param: 'variable', property: 'property', path: 'text',
}

function lineBefore(view: EditorView): string | null {
  const { main } = view.state.selection
  if (!main.empty) return null
  const line = view.state.doc.lineAt(main.head)
  return line.text.slice(0, main.head - line.from)
}

export function kernelHelp(help: KernelHelp): Extension {
  const show = (view: EditorView, shown: Shown | null): void => view.dispatch({ effects: setShown.of(shown) })

  const source = async (context: CompletionContext): Promise<CompletionResult | null> => {
    const answer = await help.complete(context.state.doc.toString(), context.pos)
    if (!answer || context.aborted) return null
    if ('hint' in answer) {
      if (context.view) show(context.view, { pos: context.pos, kind: 'hint', text: answer.hint })
      return null
    }
    const { from, to, options } = answer.value
    if (options.length === 0) {
      if (context.view) show(context.view, { pos: context.pos, kind: 'hint', text: 'The kernel has no completions here.' })
      return null
    }
    return {
      from,
      to,
      options: options.map((o): Completion => ({ label: o.label, type: o.type ? TYPES[o.type] ?? 'variable' : undefined, detail: o.signature })),
      validFor: /^[\p{L}\p{N}_.]*$/u,
    }
  }

  const complete = (view: EditorView): boolean => {
    if (completionStatus(view.state) === 'active') return acceptCompletion(view)
    const before = lineBefore(view)
    if (before === null || !wantsCompletion(before)) return false
    return startCompletion(view)
  }

  const inspect = (view: EditorView): boolean => {
    const before = lineBefore(view)
    if (before === null || !wantsInspection(before)) return false
    const pos = view.state.selection.main.head
    const doc = view.state.doc
    void help.inspect(doc.toString(), pos).then((answer) => {
      // Moved on or typed since: the answer is about something else.
      if (!answer || view.state.doc !== doc || view.state.selection.main.head !== pos) return
      if ('hint' in answer) show(view, { pos, kind: 'hint', text: answer.hint })
      else show(view, answer.value ? { pos, kind: 'doc', text: answer.value } : { pos, kind: 'hint', text: 'The kernel knows nothing about this.' })
    })
    return true
  }

  return [
    shownField,
    helpTheme,
    autocompletion({ override: [source], activateOnTyping: false, icons: true, closeOnBlur: true }),
    Prec.highest(keymap.of([
      { key: 'Tab', run: complete },
      { key: 'Shift-Tab', run: inspect },
      { key: 'Escape', run: (view) => (view.state.field(shownField) ? (show(view, null), true) : false) },
    ])),
  ]
}
