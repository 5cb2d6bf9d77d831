import type { Transaction } from 'yjs'

/**
 * Whether a transaction changed the document: what Yjs checks before it emits 'update', without
 * encoding the update it would pass (for a replay's seek, the whole document).
 */
export function changed(tr: Transaction): boolean {
  if (tr.deleteSet.clients.size > 0) return true
  for (const [client, clock] of tr.afterState) if (tr.beforeState.get(client) !== clock) return true
  return false
}
