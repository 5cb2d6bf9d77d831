/**
 * What the experiments chart draws (no DOM): a metric over the experiments (x = run number or
 * time, a line) or against a numeric parameter (a scatter). The series are plain arrays in the
 * shape charting libraries take (uPlot: `[xs, ys]`, xs ascending).
 */
import type { Experiment } from './experiments'

/** `order`: the experiment's number (1 = oldest); `time`: when it started; `param:<name>`. */
export type ChartX = 'order' | 'time' | `param:${string}`

export interface ChartSeries {
  x: ChartX
  metric: string
  kind: 'line' | 'scatter'
  xs: number[]
  ys: (number | null)[]
  /** The experiment behind each point (same index). */
  ids: string[]
}

/** Parameters that can be an x axis: numeric (not boolean) in at least two experiments. */
export function numericParams(rows: Experiment[], names: string[]): string[] {
  return names.filter((name) => rows.filter((r) => typeof r.params[name] === 'number').length >= 2)
}

export function chartSeries(rows: Experiment[], metric: string, x: ChartX): ChartSeries {
  if (x.startsWith('param:')) {
    const name = x.slice(6)
    const points = rows
      .filter((r) => typeof r.params[name] === 'number' && metric in r.metrics)
      .map((r) => ({ x: r.params[name] as number, y: r.metrics[metric], id: r.id }))
      .sort((a, b) => a.x - b.x)
    return { x, metric, kind: 'scatter', xs: points.map((p) => p.x), ys: points.map((p) => p.y), ids: points.map((p) => p.id) }
  }
  const points = rows.map((r, i) => ({
    x: x === 'time' ? r.started ?? r.ended : i + 1,
    y: metric in r.metrics ? r.metrics[metric] : null,
    id: r.id,
  })).filter((p): p is { x: number; y: number | null; id: string } => p.x !== null)
  if (x === 'time') points.sort((a, b) => a.x - b.x)
  return { x, metric, kind: 'line', xs: points.map((p) => p.x), ys: points.map((p) => p.y), ids: points.map((p) => p.id) }
}

/** How many points the series really has (a metric missing from a run is a gap, not a point). */
export function pointCount(series: ChartSeries): number {
  return series.ys.filter((y) => y !== null).length
}

export function axisLabel(x: ChartX): string {
  return x === 'order' ? 'experiment' : x === 'time' ? 'time' : x.slice(6)
}
