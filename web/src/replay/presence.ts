/** Who is present in a replayed awareness (no DOM): names without a usable colour get the usual one. */
import { userFor } from '../model/identity'
import type { Participant } from '../model/presence'

export function presentPeople(states: Map<number, Record<string, unknown>>): Participant[] {
  const people: Participant[] = []
  states.forEach((state, clientId) => {
    const user = state.user as { name?: unknown; color?: unknown } | undefined
    if (!user || typeof user.name !== 'string') return
    const base = userFor(user.name)
    const color = typeof user.color === 'string' && /^#[0-9a-f]{3,8}$/i.test(user.color) ? user.color : base.color
    people.push({
      clientId,
      user: { name: user.name, color, colorLight: color + '33' },
      cell: typeof state.cell === 'string' ? state.cell : null,
      scroll: null,
      self: false,
    })
  })
  return people.sort((a, b) => a.user.name.localeCompare(b.user.name) || a.clientId - b.clientId)
}
