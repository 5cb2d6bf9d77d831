/**
 * What the page asks of the hub (run, interrupt, restart, cancel, answer input()), in one place,
 * and who may: a view-only participant's actions are `readOnlyActions`, which do nothing. No DOM:
 * failures are reported through `notify`.
 */
import type { RunBy, SessionApi } from './api'
import { failureWords } from './wording'

export interface SessionActions {
  /** Whether this participant may change the notebook or run it. The one read-only rule. */
  readonly canEdit: boolean
  /** Runs the cells as one batch (an error cancels the rest), after the hub has our last keystrokes. */
  run(cellIds: string[], what: string): void
  interrupt(): void
  restart(): void
  cancel(requestId: string): void
  answer(requestId: string, value: string): void
}

export interface ActionsOptions {
  api: Pick<SessionApi, 'execute' | 'interrupt' | 'restart' | 'cancel' | 'answerInput'>
  /** Resolves once the hub holds this client's edits (NotebookSession.flush). */
  flush(): Promise<void>
  me(): RunBy
  notify(message: string): void
  /** Whether the hub can be reached now (connected); offline, nothing is sent. */
  online?(): boolean
}

export function sessionActions({ api, flush, me, notify, online = () => true }: ActionsOptions): SessionActions {
  /** Sends it, unless offline; failures told in words ("you are offline — …", not "Failed to fetch"). */
  const send = (what: string, request: () => Promise<unknown>): void => {
    if (!online()) return notify(failureWords(what, null, false))
    request().catch((e: unknown) => notify(failureWords(what, e, online())))
  }
  return {
    canEdit: true,
    run(cellIds, what) {
      if (cellIds.length === 0) return
      send(`running ${what}`, () => flush().then(() => api.execute(cellIds, me())))
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
  }
}

export const readOnlyActions: SessionActions = {
  canEdit: false,
  run: () => undefined,
  interrupt: () => undefined,
  restart: () => undefined,
  cancel: () => undefined,
  answer: () => undefined,
}
