/**
 * What the page asks of the hub (run, interrupt, restart, cancel, answer input(), save, complete
 * and inspect, choose the kernel, checkpoint), in one place, and who may: a view-only
 * participant's actions are `readOnlyActions`, which do nothing (and answer null). No DOM:
 * failures are reported through `notify`, or, for the kernel's help at the cursor, as a hint.
 */
import type { Checkpoint, KernelHost, RunBy, Saved, SessionApi } from './api'
import { checkpointFailure } from './checkpoint'
import {
  assistFailure,
  assistRequest,
  type Completions,
  completionsFrom,
  inspectionText,
} from './kernelAssist'
import { failureWords } from './wording'

/** An answer, or why there is none in words, for the page to show where it was asked. */
export type Answer<T> = { value: T } | { hint: string }

export interface SessionActions {
  /** Whether this participant may change the notebook or run it. The one read-only rule. */
  readonly canEdit: boolean
  /** Runs the cells as one batch (an error cancels the rest), after our last keystrokes: asked on
   * the websocket that carries them, or over HTTP once the hub has them (not connected). */
  run(cellIds: string[], what: string): void
  interrupt(): void
  restart(): void
  cancel(requestId: string): void
  answer(requestId: string, value: string): void
  /** Writes the .ipynb now, once the hub has our last keystrokes; null if it did not happen. */
  save(): Promise<Saved | null>
  /** Completions at `cursor` (a UTF-16 offset in `code`); null for viewers. */
  complete(code: string, cursor: number): Promise<Answer<Completions> | null>
  /** The kernel's text about the name at `cursor` (null value: it knows nothing of it). */
  inspect(code: string, cursor: number): Promise<Answer<string | null> | null>
  kernelHosts(): Promise<KernelHost[] | null>
  /** Restarts the shared kernel on `host` with `spec` (the queue is cancelled for everyone). */
  selectKernel(host: string, spec: string): Promise<boolean>
  /** Commits the notebook's file into its git repository (the refusals in words). */
  checkpoint(message: string | null): Promise<Answer<Checkpoint> | null>
}

export interface ActionsOptions {
  api: Pick<SessionApi, 'execute' | 'interrupt' | 'restart' | 'cancel' | 'answerInput' | 'save' | 'complete' | 'inspect' | 'kernelHosts' | 'selectKernel' | 'checkpoint'>
  /** Resolves once the hub holds this client's edits (NotebookSession.flush). */
  flush(): Promise<void>
  /** Asks on the websocket, after the edits (NotebookSession.request); null: not connected. */
  request?(op: string, fields: Record<string, unknown>): Promise<unknown> | null
  me(): RunBy
  notify(message: string): void
  /** Whether the hub can be reached now (connected); offline, nothing is sent. */
  online?(): boolean
}

export function sessionActions({ api, flush, request = () => null, me, notify, online = () => true }: ActionsOptions): SessionActions {
  /** Sends it, unless offline; failures told in words ("you are offline — …", not "Failed to fetch"). */
  const send = (what: string, request: () => Promise<unknown>): void => {
    if (!online()) return notify(failureWords(what, null, false))
    request().catch((e: unknown) => notify(failureWords(what, e, online())))
  }
  /** As `send`, for requests whose answer the page needs: null when it did not happen. */
  const ask = async <T>(what: string, request: () => Promise<T>, words = failureWords): Promise<T | null> => {
    if (!online()) {
      notify(words(what, null, false))
      return null
    }
    try {
      return await request()
    } catch (e) {
      notify(words(what, e, online()))
      return null
    }
  }
  const answer = async <T>(request: () => Promise<T>, words: (e: unknown) => string, offline: string): Promise<Answer<T>> => {
    if (!online()) return { hint: offline }
    try {
      return { value: await request() }
    } catch (e) {
      return { hint: words(e) }
    }
  }
  const assist = <T>(request: () => Promise<T>): Promise<Answer<T>> =>
    answer(request, assistFailure, 'You are offline — the kernel cannot be asked until the connection is back.')
  return {
    canEdit: true,
    run(cellIds, what) {
      if (cellIds.length === 0) return
      // On the websocket the run follows our last keystrokes; over HTTP it must wait for them.
      const body = cellIds.length === 1 ? { cell_id: cellIds[0], by: me() } : { cell_ids: cellIds, by: me() }
      send(`running ${what}`, () => request('execute', body) ?? flush().then(() => api.execute(cellIds, me())))
    },
    interrupt() {
      send('interrupting the kernel', () => api.interrupt(me()))
    },
    restart() {
      send('restarting the kernel', () => api.restart(me()))
    },
    cancel(requestId) {
      send('cancelling the run', () => api.cancel(requestId, me()))
    },
    answer(requestId, value) {
      send('sending your input', () => api.answerInput(requestId, value))
    },
    save() {
      return ask('saving', () => flush().then(() => api.save()))
    },
    complete(code, cursor) {
      return assist(async () => completionsFrom(code, await api.complete(assistRequest(code, cursor))))
    },
    inspect(code, cursor) {
      return assist(async () => inspectionText(await api.inspect(assistRequest(code, cursor))))
    },
    kernelHosts() {
      return ask('listing the kernel hosts', () => api.kernelHosts())
    },
    async selectKernel(host, spec) {
      return (await ask('switching the kernel', () => api.selectKernel(host, spec, me()))) !== null
    },
    checkpoint(message) {
      return answer(() => flush().then(() => api.checkpoint(message)), (e) => checkpointFailure(e, online()), checkpointFailure(null, false))
    },
  }
}

export const readOnlyActions: SessionActions = {
  canEdit: false,
  run: () => undefined,
  interrupt: () => undefined,
  restart: () => undefined,
  cancel: () => undefined,
  answer: () => undefined,
  save: async () => null,
  complete: async () => null,
  inspect: async () => null,
  kernelHosts: async () => null,
  selectKernel: async () => false,
  checkpoint: async () => null,
}
