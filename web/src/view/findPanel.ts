/**
 * Find and replace across all cells: a query (plain or a regular expression, case-sensitive or
 * not), the count, previous / next (the match selected in its cell), replace, replace all.
 * Viewers can find but not replace.
 */
import type { FindOptions, Match } from '../model/findReplace'
import { h } from './dom'

export interface FindActions {
  find(query: string, options: FindOptions): Match[]
  /** Shows a match: its cell selected and scrolled to, the text selected. */
  show(match: Match): void
  /** Where the person is now: the next match is after this. */
  position(): { cellId: string | null; offset: number }
  next(matches: Match[], delta: 1 | -1): number
  replace(matches: Match[], query: string, replacement: string, options: FindOptions): number
}

export function findPanel(canReplace: boolean, actions: FindActions): { el: HTMLElement; open(): void; refresh(): void } {
  const query = h('input', { type: 'search', class: 'find-query', placeholder: 'Find in all cells', 'aria-label': 'Find' })
  const replacement = h('input', { type: 'text', class: 'find-replacement', placeholder: 'Replace with', 'aria-label': 'Replace with' })
  const caseBox = h('input', { type: 'checkbox', class: 'find-case' })
  const regexBox = h('input', { type: 'checkbox', class: 'find-regex' })
  const count = h('span', { class: 'find-count', 'aria-live': 'polite' })
  let matches: Match[] = []
  let current = -1
  const options = (): FindOptions => ({ caseSensitive: caseBox.checked, regex: regexBox.checked })
  const refresh = (): void => {
    matches = actions.find(query.value, options())
    if (current >= matches.length) current = matches.length - 1
    count.textContent = !query.value ? '' : matches.length === 0 ? 'No match'
      : current >= 0 ? `${current + 1} of ${matches.length}` : `${matches.length} found`
  }
  const go = (delta: 1 | -1): void => {
    refresh()
    if (!matches.length) return
    current = actions.next(matches, delta)
    actions.show(matches[current])
    refresh()
  }
  const replaceOne = (): void => {
    refresh()
    if (current < 0 || current >= matches.length) return go(1)
    actions.replace([matches[current]], query.value, replacement.value, options())
    current -= 1
    go(1)
  }
  const replaceAll = (): void => {
    refresh()
    const n = actions.replace(matches, query.value, replacement.value, options())
    current = -1
    refresh()
    count.textContent = `Replaced ${n}`
  }
  query.addEventListener('input', () => { current = -1; refresh() })
  caseBox.addEventListener('change', refresh)
  regexBox.addEventListener('change', refresh)
  query.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { e.preventDefault(); go(e.shiftKey ? -1 : 1) }
    if (e.key === 'Escape') el.hidden = true
  })
  const button = (cls: string, label: string, title: string, onclick: () => void): HTMLElement =>
    h('button', { type: 'button', class: cls, title, 'aria-label': title, onclick }, label)
  const el = h('section', { class: 'panel find-panel', 'aria-label': 'Find and replace', hidden: true },
    h('div', { class: 'find-head' }, h('h2', {}, canReplace ? 'Find and replace' : 'Find'),
      button('find-close', '✕', 'Close', () => { el.hidden = true })),
    h('div', { class: 'find-row' }, query, button('find-prev', '↑', 'Previous (Shift-Enter)', () => go(-1)), button('find-next', '↓', 'Next (Enter)', () => go(1))),
    h('div', { class: 'find-row find-options' },
      h('label', {}, caseBox, ' Match case'), h('label', {}, regexBox, ' Regex'), count),
    canReplace ? h('div', { class: 'find-row' }, replacement,
      button('find-replace', 'Replace', 'Replace this match', replaceOne),
      button('find-replace-all', 'All', 'Replace every match', replaceAll)) : null,
  )
  return {
    el,
    open() {
      el.hidden = false
      query.focus()
      query.select()
      refresh()
    },
    refresh() {
      if (!el.hidden) refresh()
    },
  }
}
