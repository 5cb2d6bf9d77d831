import { describe, expect, it } from 'vitest'
import { chartSeries, numericParams, pointCount } from '../src/model/experimentChart'
import {
  columnNames, type Experiment, formatChange, formatNumber, formatParam, lowerIsBetter, metricChanges, readExperiments,
} from '../src/model/experiments'
import { filterRows, filterTerms, nextOrder, sortRows } from '../src/model/experimentTable'
import { momentFromHash, parseRoute, replayLink } from '../src/model/route'
import { allArrived, endedRuns } from '../src/model/runEnds'
import { parsePatterns, readTracking } from '../src/model/tracking'

/** As the hub sends them (GET …/experiments), oldest first. */
const HUB = [
  { id: 'r1', batch_id: null, cell_id: 'train', cell_ids: ['train'], request_ids: ['r1'], by: { name: 'Ada', client_id: 1 }, started: 100, ended: 101, host: 'local', status: 'ok', params: { lr: 0.1, model: 'linear' }, metrics: { accuracy: 0.271, loss: 0.53 } },
  { id: 'b2', batch_id: 'b2', cell_id: 'train', cell_ids: ['params', 'train'], request_ids: ['r2', 'r3'], by: { name: 'Bob', client_id: 2 }, started: 200, ended: 202, host: 'gpu', status: 'ok', params: { lr: 0.5, model: 'linear' }, metrics: { accuracy: 0.875, loss: 0.015625 } },
  { id: 'r4', batch_id: null, cell_id: 'eval', cell_ids: ['eval'], request_ids: ['r4'], by: { name: 'Ada', client_id: 1 }, started: 300, ended: 301, host: 'local', status: 'error', params: { lr: 0.9, model: 'tree' }, metrics: { accuracy: 0.5 } },
]
const cells: Record<string, number> = { params: 1, train: 2, eval: 40 }
const cellNumber = (id: string): number => cells[id] ?? 0
const ids = (rows: Experiment[]): string[] => rows.map((r) => r.id)

describe('reading the experiments', () => {
  it('keeps what the hub sends and skips what is not an experiment', () => {
    const rows = readExperiments([...HUB, null, { id: 7 }, 'x', { id: 'odd', metrics: { a: 'x', b: Infinity, c: 2 }, by: 'nobody' }])
    expect(ids(rows)).toEqual(['r1', 'b2', 'r4', 'odd'])
    expect(rows[1].request_ids).toEqual(['r2', 'r3'])
    expect(rows[3]).toMatchObject({ metrics: { c: 2 }, by: { name: 'someone', client_id: null }, status: 'ok', started: null })
    expect(readExperiments({ not: 'a list' })).toEqual([])
  })

  it('lists parameters in the parameters cell order, then the rest; metrics sorted', () => {
    const rows = readExperiments(HUB)
    expect(columnNames(rows, 'params', ['model', 'lr', 'gone'])).toEqual(['model', 'lr'])
    expect(columnNames(rows, 'params')).toEqual(['lr', 'model'])
    expect(columnNames(rows, 'metrics')).toEqual(['accuracy', 'loss'])
  })
})

describe('changes from the previous experiment', () => {
  it('knows which way is better from the name', () => {
    for (const name of ['loss', 'val_loss', 'trainLoss', 'rmse', 'test_mae', 'error_rate', 'MSE']) expect(lowerIsBetter(name)).toBe(true)
    for (const name of ['accuracy', 'acc', 'f1', 'auc', 'r2', 'f1_score', 'maestro', 'precision']) expect(lowerIsBetter(name)).toBe(false)
  })

  it('compares each metric with the last experiment that had it', () => {
    const changes = metricChanges(readExperiments(HUB))
    expect(changes.get('r1')!.size).toBe(0)
    const b2 = changes.get('b2')!
    expect(b2.get('accuracy')).toMatchObject({ direction: 'up', better: true })
    expect(b2.get('accuracy')!.delta).toBeCloseTo(0.604)
    expect(b2.get('loss')).toMatchObject({ direction: 'down', better: true })
    const r4 = changes.get('r4')!
    expect(r4.get('accuracy')).toMatchObject({ direction: 'down', better: false })
    expect(r4.has('loss')).toBe(false)
    const worse = metricChanges(readExperiments([HUB[1], HUB[0]])).get('r1')!
    expect(worse.get('loss')).toMatchObject({ direction: 'up', better: false })
  })

  it('writes numbers and changes as people read them', () => {
    expect(formatNumber(0.1 + 0.2)).toBe('0.3')
    expect(formatNumber(0.875)).toBe('0.875')
    expect(formatNumber(123.456789)).toBe('123.4568')
    expect(formatNumber(3)).toBe('3')
    expect(formatNumber(0.00001234)).toBe('1.234e-5')
    expect(formatChange({ delta: 0.604, direction: 'up', better: true })).toBe('▲ +0.604')
    expect(formatChange({ delta: -0.375, direction: 'down', better: false })).toBe('▼ −0.375')
    expect(formatChange({ delta: 0, direction: 'same', better: null })).toBe('= 0')
    expect(formatParam('linear')).toBe('linear')
    expect(formatParam([1, 2])).toBe('[1,2]')
    expect(formatParam(undefined)).toBe('')
  })
})

describe('sorting and filtering', () => {
  const rows = readExperiments(HUB)

  it('sorts by any column, missing values last either way, equal rows in hub order', () => {
    expect(ids(sortRows(rows, { key: 'metric:accuracy', descending: true }, cellNumber))).toEqual(['b2', 'r4', 'r1'])
    expect(ids(sortRows(rows, { key: 'metric:accuracy', descending: false }, cellNumber))).toEqual(['r1', 'r4', 'b2'])
    expect(ids(sortRows(rows, { key: 'metric:loss', descending: true }, cellNumber))).toEqual(['r1', 'b2', 'r4'])
    expect(ids(sortRows(rows, { key: 'metric:loss', descending: false }, cellNumber))).toEqual(['b2', 'r1', 'r4'])
    expect(ids(sortRows(rows, { key: 'who', descending: false }, cellNumber))).toEqual(['r1', 'r4', 'b2'])
    expect(ids(sortRows(rows, { key: 'cell', descending: true }, cellNumber))).toEqual(['r4', 'r1', 'b2'])
    expect(ids(sortRows(rows, { key: 'param:model', descending: true }, cellNumber))).toEqual(['r4', 'r1', 'b2'])
    expect(ids(sortRows(rows, { key: 'when', descending: true }, cellNumber))).toEqual(['r4', 'b2', 'r1'])
  })

  it('clicking a column again reverses it; metrics and time start with the highest', () => {
    expect(nextOrder(null, 'metric:accuracy')).toEqual({ key: 'metric:accuracy', descending: true })
    expect(nextOrder({ key: 'metric:accuracy', descending: true }, 'metric:accuracy')).toEqual({ key: 'metric:accuracy', descending: false })
    expect(nextOrder({ key: 'when', descending: true }, 'who')).toEqual({ key: 'who', descending: false })
  })

  it('filters by who, cell, status, host and parameter values, every word', () => {
    expect(ids(filterRows(rows, '', cellNumber))).toEqual(['r1', 'b2', 'r4'])
    expect(ids(filterRows(rows, 'ada', cellNumber))).toEqual(['r1', 'r4'])
    expect(ids(filterRows(rows, 'Ada  error', cellNumber))).toEqual(['r4'])
    expect(ids(filterRows(rows, 'cell 4', cellNumber))).toEqual([])
    expect(ids(filterRows(rows, 'cell 40', cellNumber))).toEqual(['r4'])
    expect(ids(filterRows(rows, 'lr=0.5', cellNumber))).toEqual(['b2'])
    expect(ids(filterRows(rows, 'lr=0.', cellNumber))).toEqual([])
    expect(ids(filterRows(rows, 'gpu', cellNumber))).toEqual(['b2'])
    expect(ids(filterRows(rows, 'tree', cellNumber))).toEqual(['r4'])
    expect(filterTerms(' cell 2  lr=0.1 cell ')).toEqual(['cell 2', 'lr=0.1', 'cell'])
  })
})

describe('the chart series', () => {
  const rows = readExperiments(HUB)

  it('a metric over the experiments, with gaps where a run did not set it', () => {
    const s = chartSeries(rows, 'loss', 'order')
    expect(s).toMatchObject({ kind: 'line', xs: [1, 2, 3], ys: [0.53, 0.015625, null], ids: ['r1', 'b2', 'r4'] })
    expect(pointCount(s)).toBe(2)
    expect(chartSeries(rows, 'accuracy', 'time').xs).toEqual([100, 200, 300])
  })

  it('a metric against a numeric parameter, sorted by it', () => {
    const shuffled = [rows[2], rows[0], rows[1]]
    const s = chartSeries(shuffled, 'accuracy', 'param:lr')
    expect(s).toMatchObject({ kind: 'scatter', xs: [0.1, 0.5, 0.9], ys: [0.271, 0.875, 0.5], ids: ['r1', 'b2', 'r4'] })
    expect(numericParams(rows, ['lr', 'model'])).toEqual(['lr'])
  })
})

describe('opening the playback at a run', () => {
  it('puts the moment and the cell in the fragment, beside the token', () => {
    const link = replayLink('http://h:1', 'abc', 'tok', { t: 1700000000.5, cell: 'train' })
    expect(link).toBe('http://h:1/s/abc/replay#token=tok&t=1700000000.5&cell=train')
    const url = new URL(link)
    expect(parseRoute(url.pathname, url.hash)).toEqual({ kind: 'replay', sessionId: 'abc', token: 'tok', at: { t: 1700000000.5, cell: 'train' } })
    expect(parseRoute('/s/abc/replay', '#token=tok')).toEqual({ kind: 'replay', sessionId: 'abc', token: 'tok' })
    expect(momentFromHash('#token=x&t=nope')).toBeNull()
    expect(momentFromHash('#t=5')).toEqual({ t: 5, cell: null })
  })
})

describe('asking again when runs end', () => {
  it('finds the runs that left the queue and knows when they arrived', () => {
    expect(endedRuns(['a', 'b', 'c'], ['c', 'd'])).toEqual(['a', 'b'])
    expect(allArrived(new Set(['r2']), ['r1', 'r2', 'r3'])).toBe(true)
    expect(allArrived(new Set(['r2', 'r9']), ['r1', 'r2'])).toBe(false)
  })
})

describe('tracking settings', () => {
  it('reads the hub answer and checks patterns as the hub does', () => {
    expect(readTracking({ metrics: ['loss'], enabled: false, default_metrics: ['acc'], parameters: ['lr'], hub_tracking: true }))
      .toEqual({ metrics: ['loss'], enabled: false, defaultMetrics: ['acc'], parameters: ['lr'], hubTracking: true })
    expect(readTracking(null)).toMatchObject({ metrics: [], enabled: true, hubTracking: true })
    expect(parsePatterns('loss, *_acc\nval_?  loss')).toEqual({ patterns: ['loss', '*_acc', 'val_?'] })
    expect(parsePatterns('')).toEqual({ patterns: [] })
    expect(parsePatterns('loss, val-loss')).toMatchObject({ error: expect.stringContaining('"val-loss"') })
    expect(parsePatterns('**')).toMatchObject({ error: expect.stringContaining('not a metric pattern') })
  })
})
