/** "Here at this moment": who was present at the moment shown, and in which cell. */
import type { Participant } from '../model/presence'
import { h } from '../view/dom'
import { participantParts } from '../view/participantRow'

export function peoplePanel(): { el: HTMLElement; update(people: Participant[], cellNumber: (id: string) => number): void } {
  const list = h('ul', { class: 'participants-list' })
  const el = h('section', { class: 'panel', 'aria-label': 'Participants' }, h('h2', {}, 'Here at this moment'), list)
  return {
    el,
    update(people, cellNumber) {
      list.replaceChildren(...people.map((p) =>
        h('li', { class: 'participant', 'data-client-id': String(p.clientId) },
          ...participantParts(p, p.cell ? cellNumber(p.cell) : 0))))
      if (!people.length) list.append(h('li', { class: 'panel-empty' }, 'Nobody'))
    },
  }
}
