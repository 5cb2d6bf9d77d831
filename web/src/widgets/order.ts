/**
 * Models refer to others by `IPY_MODEL_<id>` anywhere in their state (a box's children, a
 * slider's layout and style). Creating them referenced first means no model ever waits for one
 * that is not there yet. Pure.
 */
import type { JsonObject } from './entry'

export const MODEL_PREFIX = 'IPY_MODEL_'

/** The ids a state refers to, in the order met. */
export function references(value: unknown, found: Set<string> = new Set()): Set<string> {
  if (typeof value === 'string') {
    if (value.startsWith(MODEL_PREFIX) && value.length > MODEL_PREFIX.length) found.add(value.slice(MODEL_PREFIX.length))
  } else if (Array.isArray(value)) {
    for (const item of value) references(item, found)
  } else if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) references(item, found)
  }
  return found
}

/**
 * The ids, each after those it refers to (depth first, in the map's order otherwise). A cycle,
 * which the kernel does not make but a document could hold, is broken where it closes; references
 * to ids not in `states` are left to the widget manager (they may arrive later).
 */
export function dependencyOrder(states: Map<string, JsonObject>): string[] {
  const order: string[] = []
  const state = new Map<string, 'visiting' | 'done'>()
  const visit = (root: string): void => {
    // An explicit stack: a long chain of references must not overflow the call stack.
    const stack: { id: string; deps: string[] }[] = [{ id: root, deps: [...references(states.get(root))] }]
    state.set(root, 'visiting')
    while (stack.length) {
      const top = stack[stack.length - 1]
      const next = top.deps.shift()
      if (next === undefined) {
        stack.pop()
        state.set(top.id, 'done')
        order.push(top.id)
      } else if (states.has(next) && !state.has(next)) {
        state.set(next, 'visiting')
        stack.push({ id: next, deps: [...references(states.get(next))] })
      }
    }
  }
  for (const id of states.keys()) if (!state.has(id)) visit(id)
  return order
}
