/** One person in a participants list: colour, name and the cell they are in. */
import type { Participant } from '../model/presence'
import { type Child, h } from './dom'

/** "cell 3", or a dash when they are in no cell (or one that no longer exists). */
export function whereLabel(cellNumber: number): string {
  return cellNumber > 0 ? `cell ${cellNumber}` : '—'
}

export function participantParts(p: Participant, cellNumber: number, suffix = ''): Child[] {
  return [
    h('span', { class: 'participant-dot', style: `background:${p.user.color}` }),
    h('span', { class: 'participant-name' }, p.user.name + suffix,
      p.verified ? h('span', { class: 'participant-verified', title: 'Verified: joined with a named link, so the hub vouches for this name' }, ' ✓') : null),
    h('span', { class: 'participant-cell' }, whereLabel(cellNumber)),
  ]
}
