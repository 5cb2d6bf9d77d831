/**
 * What the page asks of the hub (run, interrupt, restart, cancel, answer input()), in one place,
 * and who may: a view-only participant's actions are `readOnlyActions`, which do nothing. No DOM:
 * failures are reported through `notify`.
 */
import type { RunBy, SessionApi } from './api'

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
}

export function sessionActions({ api, flush, me, notify }: ActionsOptions): SessionActions {
  const report = (what: string) => (e: unknown): void => notify(`${what}: ${String(e)}`)
  return {
    canEdit: true,
    run(cellIds, what) {
      if (cellIds.length === 0) return
      flush()
        .then(() => api.execute(cellIds, me()))
        .catch(report(`Could not run ${what}`))
    },
    interrupt() {
      api.interrupt(me()).catch(report('Interrupt failed'))
    },
    restart() {
      api.restart(me()).catch(report('Restart failed'))
    },
    cancel(requestId) {
      api.cancel(requestId, me()).catch(report('Cancel failed'))
    },
    answer(requestId, value) {
      api.answerInput(requestId, value).catch(report('Could not send input'))
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
