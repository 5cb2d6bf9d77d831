/**
 * Reading what the hub writes into the shared `state` map and cell metadata (public contract).
 * Everything is validated: a participant's page must not break on a malformed value.
 */
import type { RunBy } from './api'

export type KernelStatus = 'starting' | 'idle' | 'busy' | 'restarting' | 'dead' | 'unknown'
export type ExecutionState = 'idle' | 'queued' | 'running'

export interface KernelInfo {
  status: KernelStatus
  name: string
  /** The kernel host it runs on (`local`, or a gateway's name); '' before the hub says. */
  host: string
  reason: string | null
}

export interface QueueEntry {
  request_id: string
  cell_id: string
  by: RunBy
  queued_at: number
  state: 'queued' | 'running'
}

export interface InputRequest {
  request_id: string
  cell_id: string
  prompt: string
  password: boolean
  by: RunBy
}

export interface LastEvent {
  kind: string
  detail: string
  at: number
}

export interface LastRun {
  by: RunBy
  started: number | null
  ended: number | null
  status: string
  execution_count: number | null
}

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
const str = (value: unknown, fallback = ''): string => (typeof value === 'string' ? value : fallback)
const num = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null

const KERNEL_STATUSES: KernelStatus[] = ['starting', 'idle', 'busy', 'restarting', 'dead']

export function readBy(value: unknown): RunBy {
  const by = isObject(value) ? value : {}
  return { name: str(by.name, 'someone') || 'someone', client_id: num(by.client_id) ?? -1 }
}

export function readKernel(value: unknown): KernelInfo {
  if (!isObject(value)) return { status: 'unknown', name: '', host: '', reason: null }
  const status = KERNEL_STATUSES.find((s) => s === value.status) ?? 'unknown'
  return { status, name: str(value.name), host: str(value.host), reason: typeof value.reason === 'string' ? value.reason : null }
}

export function readQueue(value: unknown): QueueEntry[] {
  if (!Array.isArray(value)) return []
  return value.filter(isObject).map((entry) => ({
    request_id: str(entry.request_id),
    cell_id: str(entry.cell_id),
    by: readBy(entry.by),
    queued_at: num(entry.queued_at) ?? 0,
    state: entry.state === 'running' ? 'running' : 'queued',
  }))
}

export function readInputRequest(value: unknown): InputRequest | null {
  if (!isObject(value) || typeof value.request_id !== 'string') return null
  return {
    request_id: value.request_id,
    cell_id: str(value.cell_id),
    prompt: str(value.prompt),
    password: value.password === true,
    by: readBy(value.by),
  }
}

export function readLastEvent(value: unknown): LastEvent | null {
  if (!isObject(value) || typeof value.kind !== 'string') return null
  return { kind: value.kind, detail: str(value.detail), at: num(value.at) ?? 0 }
}

export function readLastRun(metadata: unknown): LastRun | null {
  if (!isObject(metadata) || !isObject(metadata.collabd) || !isObject(metadata.collabd.last_run)) {
    return null
  }
  const run = metadata.collabd.last_run
  return {
    by: readBy(run.by),
    started: num(run.started),
    ended: num(run.ended),
    status: str(run.status, 'unknown'),
    execution_count: num(run.execution_count),
  }
}

export function readExecutionState(value: unknown): ExecutionState {
  return value === 'queued' || value === 'running' ? value : 'idle'
}

export interface CellRunStatus {
  state: ExecutionState
  /** Who the queued or running request belongs to. */
  by: RunBy | null
  /** 1-based position among the waiting requests, for queued cells. */
  position: number | null
  requestId: string | null
}

/**
 * What a cell shows about its run. The queue says for whom; the cell's own execution_state is the
 * fallback, so a cell still reads as running while the queue entry is on its way.
 */
export function cellRunStatus(cellId: string, executionState: unknown, queue: QueueEntry[]): CellRunStatus {
  const waiting = queue.filter((entry) => entry.state === 'queued')
  const entry =
    queue.find((e) => e.cell_id === cellId && e.state === 'running') ??
    queue.find((e) => e.cell_id === cellId)
  if (entry) {
    const position = entry.state === 'queued' ? waiting.indexOf(entry) + 1 : null
    return { state: entry.state, by: entry.by, position, requestId: entry.request_id }
  }
  return { state: readExecutionState(executionState), by: null, position: null, requestId: null }
}

export function describeRunStatus(status: CellRunStatus): string {
  const who = status.by ? ` for ${status.by.name}` : ''
  if (status.state === 'running') return `Running${who}…`
  if (status.state === 'queued') {
    return `Queued${who}` + (status.position ? ` (#${status.position} in queue)` : '')
  }
  return ''
}

function clock(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000)
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

export function formatDuration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`
  if (seconds < 60) return `${seconds.toFixed(1)} s`
  const minutes = Math.floor(seconds / 60)
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`
}

export function describeLastRun(run: LastRun): string {
  const parts = [`Last run by ${run.by.name}`]
  if (run.started !== null) parts.push(`at ${clock(run.started)}`)
  if (run.started !== null && run.ended !== null && run.ended >= run.started) {
    parts.push(`took ${formatDuration(run.ended - run.started)}`)
  }
  parts.push(run.status)
  return parts.join(' · ')
}

/** Where the kernel runs, from what the hub wrote (`state.kernel`) or the choice (`state.kernel_choice`). */
export function readKernelChoice(value: unknown): { host: string; spec: string } | null {
  if (!isObject(value) || typeof value.host !== 'string' || typeof value.spec !== 'string') return null
  return { host: value.host, spec: value.spec }
}

/** "python3 on local: idle" */
export function describeKernel(kernel: KernelInfo): string {
  const where = kernel.host ? ` on ${kernel.host}` : ''
  const status = kernel.status === 'unknown' ? 'not started' : kernel.status
  return `${kernel.name || 'kernel'}${where}: ${status}${kernel.reason ? ` (${kernel.reason})` : ''}`
}

export function describeLastEvent(event: LastEvent): string {
  const what: Record<string, string> = {
    restart: 'Kernel restarted',
    cancelled: 'Queue cancelled',
    kernel_died: 'Kernel died',
    interrupted: 'Kernel interrupted',
    kernel_switched: 'Kernel switched',
  }
  const head = what[event.kind] ?? event.kind
  return `${head}${event.detail ? ': ' + event.detail : ''} (${clock(event.at)})`
}
