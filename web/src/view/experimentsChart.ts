/**
 * The experiments chart, drawn by uPlot (canvas; no eval, so it runs under the page's CSP). This
 * module is loaded with a dynamic import when the experiments dialog first shows a chart, so the
 * notebook page does not pay for uPlot until then.
 */
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { axisLabel, type ChartSeries, pointCount } from '../model/experimentChart'
import { formatNumber } from '../model/experiments'

function colour(name: string, otherwise: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || otherwise
}

function padded(_u: uPlot, min: number, max: number): [number, number] {
  const pad = (max - min) * 0.05 || Math.abs(min) * 0.1 || 1
  return [min - pad, max + pad]
}

const WHOLE = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]

export interface ExperimentsChart {
  show(series: ChartSeries): void
  destroy(): void
}

export function experimentsChart(box: HTMLElement): ExperimentsChart {
  let plot: uPlot | null = null
  return {
    show(series) {
      plot?.destroy()
      const accent = colour('--accent', '#1f6feb')
      const ink = colour('--muted', '#5f6b7a')
      const grid = colour('--line', '#d9dee5')
      const axis = (label: string, time: boolean): uPlot.Axis => ({
        label, stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 },
        ...(time ? {} : { values: (_u: uPlot, ticks: number[]) => ticks.map(formatNumber) }),
      })
      const time = series.x === 'time'
      const scatter = series.kind === 'scatter'
      plot = new uPlot({
        width: Math.max(280, box.clientWidth || 600),
        height: 220,
        // Points at the ends of a scatter stay whole: a little room on either side.
        scales: { x: { time, ...(scatter ? { range: padded } : {}) } },
        // Experiments are counted in whole numbers: no tick at 1.5.
        axes: [{ ...axis(axisLabel(series.x), time), ...(series.x === 'order' ? { incrs: WHOLE } : {}) }, axis(series.metric, false)],
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        series: [
          { label: axisLabel(series.x), value: (_u, v) => (v === null ? '—' : time ? new Date(v * 1000).toLocaleTimeString() : formatNumber(v)) },
          {
            label: series.metric,
            stroke: accent,
            width: scatter ? 0 : 2,
            spanGaps: true,
            value: (_u, v) => (v === null ? '—' : formatNumber(v)),
            points: { show: true, size: 8, fill: accent, stroke: accent },
            ...(scatter ? { paths: () => null } : {}),
          },
        ],
      }, [series.xs, series.ys], box)
      box.dataset.points = String(pointCount(series))
      box.dataset.metric = series.metric
      box.dataset.x = series.x
    },
    destroy() {
      plot?.destroy()
      plot = null
    },
  }
}
