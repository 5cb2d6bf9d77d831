/**
 * The experiments table (no DOM): the hub's tracked runs (`GET …/experiments`) read defensively,
 * their columns, each metric's change from the previous experiment, and which way is better.
 */

export interface Experiment {
  id: string
  batch_id: string | null
  cell_id: string
  cell_ids: string[]
  request_ids: string[]
  by: { name: string; client_id: number | null }
  started: number | null
  ended: number | null
  host: string
  status: string
  params: Record<string, unknown>
  metrics: Record<string, number>
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)
const str = (v: unknown, otherwise = ''): string => (typeof v === 'string' ? v : otherwise)
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])

/** The hub's list, oldest first; anything that is not an experiment is skipped. */
export function readExperiments(json: unknown): Experiment[] {
  if (!Array.isArray(json)) return []
  const found: Experiment[] = []
  for (const item of json) {
    if (!isObject(item) || typeof item.id !== 'string') continue
    const by = isObject(item.by) ? item.by : {}
    const metrics: Record<string, number> = {}
    for (const [name, value] of Object.entries(isObject(item.metrics) ? item.metrics : {})) {
      const n = num(value)
      if (n !== null) metrics[name] = n
    }
    found.push({
      id: item.id,
      batch_id: typeof item.batch_id === 'string' ? item.batch_id : null,
      cell_id: str(item.cell_id),
      cell_ids: strings(item.cell_ids),
      request_ids: strings(item.request_ids),
      by: { name: str(by.name, 'someone'), client_id: num(by.client_id) },
      started: num(item.started),
      ended: num(item.ended),
      host: str(item.host),
      status: str(item.status, 'ok'),
      params: isObject(item.params) ? { ...item.params } : {},
      metrics,
    })
  }
  return found
}

/**
 * Lower is better for losses and errors (`loss`, `val_loss`, `rmse`, `test_mae`, `error_rate`);
 * higher for everything else (accuracy, f1, auc, r2, …). Judged by the name's `_`-separated parts.
 */
const LOWER_PARTS = new Set(['loss', 'rmse', 'mse', 'mae', 'mape', 'error', 'err', 'perplexity', 'ppl', 'nll', 'wer', 'cer'])

export function lowerIsBetter(metric: string): boolean {
  const name = metric.toLowerCase()
  return name.includes('loss') || name.split(/[^a-z0-9]+/).some((part) => LOWER_PARTS.has(part))
}

/** The names in the order the columns show them: the `parameters` cell's order first, then the rest sorted. */
export function columnNames(rows: Experiment[], key: 'params' | 'metrics', declared: string[] = []): string[] {
  const all = new Set<string>()
  for (const row of rows) for (const name of Object.keys(row[key])) all.add(name)
  const first = declared.filter((name) => all.has(name))
  const rest = [...all].filter((name) => !first.includes(name)).sort()
  return [...first, ...rest]
}

export interface Change {
  delta: number
  /** 'up', 'down' or 'same' as the number goes; `better` by the metric's direction (null: same). */
  direction: 'up' | 'down' | 'same'
  better: boolean | null
}

/**
 * Each experiment's change of each metric from the previous experiment (in the hub's order) that
 * had that metric; none for the first. Keyed by experiment id, then metric name.
 */
export function metricChanges(rows: Experiment[]): Map<string, Map<string, Change>> {
  const last = new Map<string, number>()
  const changes = new Map<string, Map<string, Change>>()
  for (const row of rows) {
    const mine = new Map<string, Change>()
    for (const [name, value] of Object.entries(row.metrics)) {
      const before = last.get(name)
      if (before !== undefined) mine.set(name, change(name, before, value))
      last.set(name, value)
    }
    changes.set(row.id, mine)
  }
  return changes
}

function change(metric: string, before: number, after: number): Change {
  const delta = after - before
  if (delta === 0) return { delta, direction: 'same', better: null }
  const direction = delta > 0 ? 'up' : 'down'
  return { delta, direction, better: (direction === 'down') === lowerIsBetter(metric) }
}

/** Numbers as people read them: at most 4 significant digits past the integer part, no float noise. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value)
  if (Number.isInteger(value)) return String(value)
  const abs = Math.abs(value)
  if (abs >= 1e6 || abs < 1e-4) return value.toExponential(3).replace(/\.?0+e/, 'e')
  return String(Number(value.toPrecision(Math.max(4, Math.floor(Math.log10(abs)) + 5))))
}

/** "▲ +0.12" / "▼ −0.3" / "= 0". */
export function formatChange(c: Change): string {
  if (c.direction === 'same') return '= 0'
  const size = formatNumber(Math.abs(c.delta))
  return c.direction === 'up' ? `▲ +${size}` : `▼ −${size}`
}

/** A parameter's value in a cell of the table: text as is, anything else as JSON. */
export function formatParam(value: unknown): string {
  if (value === undefined) return ''
  if (typeof value === 'string') return value
  if (typeof value === 'number') return formatNumber(value)
  return JSON.stringify(value) ?? ''
}
