/** The runs panel: every run of the recording, searchable and filterable, each a jump target. */
import { h } from '../view/dom'
import { applyCarriageReturns } from '../model/outputs'
import { filterRuns, runLabel, type Summary } from './model'
import { readMessages, searchMessages, type ChatMessage } from '../model/chat'

/** A run's output as it finally looked (a progress bar's last state, not every step of it). */
export function outputPreview(outputs: string, limit = 300): string {
  return applyCarriageReturns(outputs).slice(0, limit)
}

/** The line shown instead of runs when none is listed ('' when some are): beside the list, not an item of it. */
export function runsEmptyNote(total: number, shown: number): string {
  if (shown) return ''
  return total ? 'No run matches' : 'No runs'
}

export interface RunsActions {
  jumpToRun(index: number): void
  /** The chat as the recording ends (the search covers it too), and a jump to a message. */
  messages?(): unknown[]
  jumpToMessage?(m: ChatMessage): void
  saveRuns(format: 'csv' | 'json'): void
}

export function runsPanel(actions: RunsActions): { el: HTMLElement; update(summary: Summary): void } {
  let summary: Summary | null = null
  const list = h('ol', { class: 'replay-run-list' })
  // a paragraph, not an item of the numbered list (which would show it as "1. No runs")
  const empty = h('p', { class: 'panel-empty runs-empty', hidden: true })
  const search = h('input', { type: 'search', class: 'runs-search', placeholder: 'Search code, output and chat', 'aria-label': 'Search runs and chat' })
  const said = h('ol', { class: 'replay-message-list' })
  const status = h('select', { class: 'runs-status', 'aria-label': 'Status' },
    ...['', 'ok', 'error', 'cancelled'].map((s) => h('option', { value: s }, s || 'any status')))
  const person = h('select', { class: 'runs-by', 'aria-label': 'Person' })
  const title = h('h2', {})

  const fillPeople = (runs: Summary['runs']): void => {
    const chosen = person.value
    person.replaceChildren(h('option', { value: '' }, 'anyone'),
      ...[...new Set(runs.map((r) => r.by.name).filter(Boolean))].map((n) => h('option', { value: n }, n)))
    person.value = chosen
    if (person.value !== chosen) person.value = ''
    title.textContent = `Runs (${runs.length})`
  }
  const showRuns = (): void => {
    if (!summary) return
    const runs = summary.runs
    const found = filterRuns(runs, { text: search.value, status: status.value, by: person.value })
    list.replaceChildren(...found.map((run) => {
      const i = runs.indexOf(run)
      return h('li', { class: 'replay-run-item' },
        h('button', { type: 'button', class: `link replay-run status-${run.status}`, 'data-run': String(i), onclick: () => actions.jumpToRun(i) },
          runLabel(run, null)),
        run.outputs ? h('pre', { class: 'replay-run-output' }, outputPreview(run.outputs)) : null)
    }))
    empty.textContent = runsEmptyNote(runs.length, found.length)
    empty.hidden = !empty.textContent
    const messages = searchMessages(readMessages(actions.messages?.() ?? []), search.value)
    said.hidden = messages.length === 0
    said.replaceChildren(...messages.map((m) => h('li', { class: 'replay-message-item' },
      h('button', { type: 'button', class: 'link replay-message', 'data-message-id': m.id, onclick: () => actions.jumpToMessage?.(m) },
        `${new Date(m.at * 1000).toLocaleTimeString()} ${m.by.name}${m.cell_id ? ' (comment)' : ''}: ${m.text.length > 80 ? `${m.text.slice(0, 80)}…` : m.text}`))))
  }
  for (const field of [search, status, person]) field.addEventListener('input', showRuns)

  const el = h('section', { class: 'panel runs-panel', 'aria-label': 'Runs' }, title,
    h('div', { class: 'runs-filters' }, search, status, person),
    list,
    empty,
    said,
    h('div', { class: 'runs-export' }, 'Export: ',
      h('button', { type: 'button', class: 'link runs-csv', onclick: () => actions.saveRuns('csv') }, 'CSV'), ' ',
      h('button', { type: 'button', class: 'link runs-json', onclick: () => actions.saveRuns('json') }, 'JSON')))
  return {
    el,
    update(next) {
      summary = next
      fillPeople(next.runs)
      showRuns()
    },
  }
}
