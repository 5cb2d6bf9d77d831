/**
 * Messages in people's words (no DOM): the hub names cells by id in the reasons it writes
 * ("an earlier cell of the same batch (1610a68d-…) failed"); people know them by number.
 */

/** Whatever could be a cell id: nbformat ids are 1–64 of letters, digits, - and _. */
const ID_TOKEN = /[A-Za-z0-9_-]{6,64}/g
const BATCH = /an earlier cell of the same batch \(([A-Za-z0-9_-]{1,64})\) failed/g

/** Replaces the ids of cells in the notebook by "cell N" (ids of cells gone stay as they are). */
export function nameCells(text: string, cellNumber: (id: string) => number): string {
  const named = text.replace(BATCH, (whole, id: string) => {
    const n = cellNumber(id)
    return n > 0 ? `cell ${n} failed earlier in the same run` : whole
  })
  return named.replace(ID_TOKEN, (token) => {
    const n = cellNumber(token)
    return n > 0 ? `cell ${n}` : token
  })
}

/** What a failed request to the hub means to the person who asked. */
export function failureWords(what: string, error: unknown, online: boolean): string {
  if (!online) return `You are offline — ${what} will work again once the connection is back.`
  if (error instanceof TypeError) return `The server cannot be reached — ${what} did not happen. Try again in a moment.`
  return `${what[0]?.toUpperCase() ?? ''}${what.slice(1)} failed: ${error instanceof Error ? error.message : String(error)}`
}

/**
 * Outputs left from an earlier run: the cell's last run was cancelled before it started (an
 * error earlier in its batch, a restart, someone cancelled it), so what it shows is older.
 */
export function outputsFromEarlierRun(lastRun: { status: string; started: number | null } | null, outputs: number): boolean {
  return outputs > 0 && lastRun !== null && lastRun.status === 'cancelled' && lastRun.started === null
}
