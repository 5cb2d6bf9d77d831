/**
 * When to ask the hub for the experiments again (no DOM): a run that leaves the queue has ended
 * (or was cancelled), and its `run` event is stored just after. The page asks once a little
 * later, then a few more times, further apart, until an experiment holds that run; a run that set
 * no metrics is never one, so the asking stops after the last try. No polling otherwise.
 */

/** The request ids that were in the queue and are no more. */
export function endedRuns(before: readonly string[], after: readonly string[]): string[] {
  const still = new Set(after)
  return before.filter((id) => !still.has(id))
}

/** Delays (ms) of the tries after a run ended. */
export const RETRY_DELAYS_MS = [300, 1000, 3000] as const

/** Whether the runs waited for are all in the experiments fetched. */
export function allArrived(waiting: ReadonlySet<string>, requestIds: Iterable<string>): boolean {
  const seen = new Set(requestIds)
  for (const id of waiting) if (!seen.has(id)) return false
  return true
}
