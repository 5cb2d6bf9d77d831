/**
 * "Experiments": every tracked run of the notebook in a table (when, who, cell, host, status, one
 * column per parameter and per metric with its change from the previous experiment), sortable,
 * filterable, as CSV; a chart of a metric (uPlot, loaded on first use); a row opens the playback
 * page at the moment that run ended. Refreshed when a run leaves the queue (runEnds.ts), and
 * slowly while open; redrawn only when what the hub says changed.
 */
import type { SessionApi } from '../model/api'
import { axisLabel, chartSeries, type ChartX, numericParams, pointCount } from '../model/experimentChart'
import {
  columnNames, type Experiment, formatChange, formatNumber, formatParam, lowerIsBetter, metricChanges, readExperiments,
} from '../model/experiments'
import { type ColumnKey, filterRows, nextOrder, type SortOrder, sortRows } from '../model/experimentTable'
import { replayLink } from '../model/route'
import { allArrived, RETRY_DELAYS_MS } from '../model/runEnds'
import type { TrackingSettings } from '../model/tracking'
import { h } from './dom'
import { saveBlob } from './download'
import type { ExperimentsChart } from './experimentsChart'
import { trackingSection } from './trackingSettings'
import './experiments.css'

export interface ExperimentsOptions {
  api: SessionApi
  readOnly: boolean
  sessionId: string
  token: string
  path: string
  cellNumber(cellId: string): number
  /** Closes nothing: selects the cell in the notebook and scrolls to it. */
  revealCell(cellId: string): void
  /** Calls back with the request ids of runs that left the queue; returns how to stop. */
  onRunsEnded(listener: (requestIds: string[]) => void): () => void
  notify(message: string): void
  /** Opens a URL in a new tab (the playback page). */
  open?(url: string): void
}

function formatWhen(t: number | null): string {
  if (t === null) return '—'
  const d = new Date(t * 1000)
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
  return d.toDateString() === new Date().toDateString() ? time : `${d.toLocaleDateString()} ${time}`
}

let openDialog: HTMLDialogElement | null = null
/** While open, the table is also read again this often (runs' ends are what refresh it first). */
const POLL_MS = 15_000

export function showExperiments(options: ExperimentsOptions): void {
  if (openDialog) return void openDialog.querySelector<HTMLInputElement>('.experiments-filter')?.focus()
  const { api, cellNumber } = options
  let rows: Experiment[] = []
  let declared: string[] = []
  let order: SortOrder = { key: 'when', descending: true }
  let chart: ExperimentsChart | null = null
  let chartLoading: Promise<ExperimentsChart> | null = null

  const count = h('span', { class: 'experiments-count' })
  const filter = h('input', {
    type: 'search', class: 'experiments-filter', 'aria-label': 'Filter experiments',
    placeholder: 'Filter: who, cell 4, status, lr=0.1',
  })
  const status = h('p', { class: 'experiments-status', role: 'status', 'aria-live': 'polite' })
  const table = h('table', { class: 'experiments-table' })
  const metricPick = h('select', { class: 'chart-metric', 'aria-label': 'Metric to chart' })
  const xPick = h('select', { class: 'chart-x', 'aria-label': 'Chart against' })
  const chartBox = h('div', { class: 'experiments-chart', 'aria-label': 'Chart' })
  const chartArea = h('section', { class: 'experiments-chart-area', hidden: true },
    h('div', { class: 'chart-controls' }, h('label', {}, 'Chart ', metricPick), h('label', {}, ' against ', xPick)),
    chartBox)
  const csv = h('button', { type: 'button', class: 'experiments-csv', title: 'Download the experiments as CSV' }, '⤓ CSV')
  csv.addEventListener('click', () => {
    const stem = (options.path.split('/').pop() ?? 'notebook').replace(/\.ipynb$/, '')
    void saveBlob(api.experimentsFile(), `${stem}-experiments.csv`, options.notify)
  })
  const tracking = trackingSection(api, options.readOnly, (s: TrackingSettings) => {
    declared = s.parameters
    render()
  })

  const open = options.open ?? ((url: string) => void window.open(url, '_blank', 'noopener'))
  const openAt = (row: Experiment): void => {
    // At its end: the playback page moves on to the moment its outputs were written.
    open(replayLink(location.origin, options.sessionId, options.token, { t: row.ended ?? row.started ?? 0, cell: row.cell_id }))
  }

  // --- the table ---
  const header = (key: ColumnKey, label: string, cls: string): HTMLElement => {
    const sorted = order.key === key
    const arrow = sorted ? (order.descending ? ' ▼' : ' ▲') : ''
    return h('th', { class: cls, scope: 'col', 'aria-sort': sorted ? (order.descending ? 'descending' : 'ascending') : 'none' },
      h('button', { type: 'button', class: 'sort', 'data-key': key, onclick: () => { order = nextOrder(order, key); render() } }, label + arrow))
  }
  const render = (): void => {
    const params = columnNames(rows, 'params', declared)
    const metrics = columnNames(rows, 'metrics')
    const changes = metricChanges(rows)
    const shown = sortRows(filterRows(rows, filter.value, cellNumber), order, cellNumber)
    count.textContent = rows.length === shown.length ? `(${rows.length})` : `(${shown.length} of ${rows.length})`
    const head = h('tr', {},
      header('when', 'When', 'col-when'), header('who', 'Who', 'col-who'), header('cell', 'Cell', 'col-cell'),
      header('host', 'Host', 'col-host'), header('status', 'Status', 'col-status'),
      ...params.map((p) => header(`param:${p}`, p, 'col-param')),
      ...metrics.map((m) => header(`metric:${m}`, m, 'col-metric' + (lowerIsBetter(m) ? ' lower-better' : ''))))
    const body = shown.map((row) => {
      const n = cellNumber(row.cell_id)
      const mine = changes.get(row.id)
      const tr = h('tr', {
        class: `experiment-row status-${row.status}`, 'data-id': row.id, tabindex: 0,
        title: 'Open the notebook as it was after this run (playback)',
      },
        h('td', { class: 'col-when' }, formatWhen(row.started ?? row.ended)),
        h('td', { class: 'col-who' }, row.by.name),
        h('td', { class: 'col-cell' }, n > 0
          ? h('button', { type: 'button', class: 'link cell-link', title: 'Show this cell in the notebook', onclick: (e: Event) => {
            e.stopPropagation()
            dialog.close()
            options.revealCell(row.cell_id)
          } }, `cell ${n}`)
          : h('span', { class: 'muted' }, 'deleted cell')),
        h('td', { class: 'col-host' }, row.host || '—'),
        h('td', { class: 'col-status' }, h('span', { class: `run-status status-${row.status}` }, row.status)),
        ...params.map((p) => h('td', { class: 'col-param', 'data-param': p }, formatParam(row.params[p]))),
        ...metrics.map((m) => {
          const value = row.metrics[m]
          const c = mine?.get(m)
          return h('td', { class: 'col-metric', 'data-metric': m },
            value === undefined ? '' : h('span', { class: 'metric-value' }, formatNumber(value)),
            c ? h('span', {
              class: `metric-change ${c.better === null ? 'same' : c.better ? 'better' : 'worse'}`,
              title: `${c.direction === 'same' ? 'No change' : c.better ? 'Better' : 'Worse'} than the experiment before`,
            }, formatChange(c)) : null)
        }))
      tr.addEventListener('click', () => openAt(row))
      tr.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') openAt(row)
      })
      return tr
    })
    table.replaceChildren(h('thead', {}, head), h('tbody', {}, ...body))
    if (!rows.length) {
      status.textContent = tracking.settings && (!tracking.settings.enabled || !tracking.settings.hubTracking)
        ? 'Tracking is off, so runs are not recorded as experiments (see the tracking settings below).'
        : 'No tracked runs yet. A run is tracked when it sets a metric (a variable such as accuracy or loss: see the tracking settings below).'
    } else if (!shown.length) status.textContent = 'No experiment matches the filter.'
    else status.textContent = ''
    renderChartChoices(metrics, params)
  }

  // --- the chart ---
  const renderChartChoices = (metrics: string[], params: string[]): void => {
    chartArea.hidden = metrics.length === 0
    if (!metrics.length) return
    const metric = metrics.includes(metricPick.value) ? metricPick.value : metrics[0]
    metricPick.replaceChildren(...metrics.map((m) => h('option', { value: m }, m)))
    metricPick.value = metric
    const xs: ChartX[] = ['order', 'time', ...numericParams(rows, params).map((p): ChartX => `param:${p}`)]
    const x = (xs as string[]).includes(xPick.value) ? xPick.value : 'order'
    xPick.replaceChildren(...xs.map((v) => h('option', { value: v }, v === 'order' ? 'experiments in order' : v === 'time' ? 'time' : axisLabel(v))))
    xPick.value = x
    void drawChart()
  }
  const drawChart = async (): Promise<void> => {
    if (chartArea.hidden) return
    const series = chartSeries(rows, metricPick.value, xPick.value as ChartX)
    chartLoading ??= import('./experimentsChart').then((m) => m.experimentsChart(chartBox))
    try {
      chart = await chartLoading
    } catch (e) {
      chartBox.textContent = `The chart could not be loaded: ${String(e)}`
      return
    }
    if (!dialog.open) return
    if (pointCount(series) === 0) chartBox.dataset.points = '0'
    chart.show(series)
  }
  metricPick.addEventListener('change', () => void drawChart())
  xPick.addEventListener('change', () => void drawChart())
  filter.addEventListener('input', render)

  // --- fetching, and again when runs end ---
  let fetching: Promise<void> | null = null
  let lastAnswer = ''
  const refresh = (): Promise<void> => {
    fetching ??= api.experiments().then((json) => {
      const text = JSON.stringify(json)
      if (text === lastAnswer) return
      lastAnswer = text
      rows = readExperiments(json)
      table.dataset.loaded = 'true'
      render()
    }).catch((e: unknown) => {
      status.textContent = `The experiments could not be read: ${e instanceof Error ? e.message : String(e)}`
    }).finally(() => (fetching = null))
    return fetching
  }
  const waiting = new Set<string>()
  let timers: ReturnType<typeof setTimeout>[] = []
  const stopWatching = options.onRunsEnded((ended) => {
    for (const id of ended) waiting.add(id)
    for (const t of timers) clearTimeout(t)
    timers = RETRY_DELAYS_MS.map((ms, i) => setTimeout(() => {
      void refresh().then(() => {
        const done = allArrived(waiting, rows.flatMap((r) => r.request_ids))
        if (done || i === RETRY_DELAYS_MS.length - 1) {
          waiting.clear()
          for (const t of timers) clearTimeout(t)
        }
      })
    }, ms))
  })

  // A slow safety net besides the runs' ends (a run that ended just before the dialog opened,
  // whose event was not stored yet; runs seen by a hub this page is not connected to).
  const poll = setInterval(() => {
    if (!document.hidden) void refresh()
  }, POLL_MS)

  const dialog = h('dialog', { class: 'experiments-dialog', 'aria-labelledby': 'experiments-title' },
    h('div', { class: 'experiments-head' },
      h('h1', { id: 'experiments-title' }, 'Experiments ', count),
      h('span', { class: 'spacer' }),
      filter, csv,
      h('button', { type: 'button', class: 'experiments-close', 'aria-label': 'Close', onclick: () => dialog.close() }, '✕')),
    h('p', { class: 'hint' }, 'Every tracked run: its parameters and metrics, each metric with its change from the run before (green: better). Click a run to open the notebook as it was then.'),
    status,
    h('div', { class: 'experiments-table-wrap' }, table),
    chartArea,
    tracking.el,
  )
  dialog.addEventListener('close', () => {
    stopWatching()
    clearInterval(poll)
    for (const t of timers) clearTimeout(t)
    chart?.destroy()
    dialog.remove()
    openDialog = null
  })
  document.body.append(dialog)
  openDialog = dialog
  dialog.showModal()
  filter.focus()
  status.textContent = 'Loading…'
  void tracking.load().then(() => refresh())
}
