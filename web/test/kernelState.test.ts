import { describe, expect, it } from 'vitest'
import {
  cellRunStatus,
  describeLastEvent,
  describeLastRun,
  describeRunStatus,
  readInputRequest,
  readKernel,
  readLastRun,
  readQueue,
} from '../src/model/kernelState'

const ada = { name: 'Ada', client_id: 11 }
const bob = { name: 'Bob', client_id: 22 }
const queue = readQueue([
  { request_id: 'r1', cell_id: 'c1', by: ada, queued_at: 1, state: 'running' },
  { request_id: 'r2', cell_id: 'c2', by: bob, queued_at: 2, state: 'queued' },
  { request_id: 'r3', cell_id: 'c3', by: ada, queued_at: 3, state: 'queued' },
])

describe('kernel state', () => {
  it('reads the kernel and tolerates junk', () => {
    expect(readKernel({ status: 'busy', name: 'python3' })).toEqual({ status: 'busy', name: 'python3', host: '', reason: null })
    expect(readKernel({ status: 'dead', name: 'python3', reason: 'oom' }).reason).toBe('oom')
    expect(readKernel({ status: 'weird' }).status).toBe('unknown')
    expect(readKernel(null).status).toBe('unknown')
    expect(readQueue('nope')).toEqual([])
    expect(readQueue([null, 3, { cell_id: 'x' }])).toHaveLength(1)
  })

  it('says for whom a cell is queued or running, and where in the queue', () => {
    const running = cellRunStatus('c1', 'running', queue)
    expect(running).toMatchObject({ state: 'running', by: ada, requestId: 'r1' })
    expect(describeRunStatus(running)).toBe('Running for Ada…')
    const third = cellRunStatus('c3', 'queued', queue)
    expect(third).toMatchObject({ state: 'queued', position: 2 })
    expect(describeRunStatus(third)).toBe('Queued for Ada (#2 in queue)')
    expect(cellRunStatus('c9', 'queued', queue)).toMatchObject({ state: 'queued', by: null })
    expect(cellRunStatus('c9', undefined, queue).state).toBe('idle')
    expect(describeRunStatus(cellRunStatus('c9', 'idle', queue))).toBe('')
  })

  it('reads the input request', () => {
    expect(readInputRequest(null)).toBeNull()
    expect(readInputRequest({ request_id: 'r1', cell_id: 'c1', prompt: 'Name?', password: true, by: ada })).toEqual({
      request_id: 'r1', cell_id: 'c1', prompt: 'Name?', password: true, by: ada,
    })
  })

  it('describes the last run from cell metadata', () => {
    const run = readLastRun({ collabd: { last_run: { by: bob, started: 100, ended: 100.25, status: 'ok', execution_count: 4 } } })
    expect(run).toMatchObject({ by: bob, status: 'ok', execution_count: 4 })
    const text = describeLastRun(run!)
    expect(text).toMatch(/^Last run by Bob · at \d\d:\d\d:\d\d · took 250 ms · ok$/)
    expect(readLastRun({})).toBeNull()
    expect(readLastRun({ collabd: { last_run: 'x' } })).toBeNull()
  })

  it('explains why the queue was cancelled', () => {
    expect(describeLastEvent({ kind: 'kernel_died', detail: 'segfault', at: 0 })).toMatch(/^Kernel died: segfault/)
  })
})
