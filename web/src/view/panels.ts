/** The side panels: kernel state and controls, the run queue, and who is here. */
import {
  describeKernel,
  describeLastEvent,
  type KernelInfo,
  type LastEvent,
  type QueueEntry,
} from '../model/kernelState'
import type { Participant } from '../model/presence'
import { nameCells } from '../model/wording'
import { h } from './dom'
import { participantParts } from './participantRow'

export interface KernelPanelActions {
  interrupt(): void
  restart(): void
  /** Chooses where the kernel runs (host and kernel spec). */
  change(): void
  /** The hub names cells by id in its reasons; people know them by number. */
  cellNumber(cellId: string): number
}

export function kernelPanel(readOnly: boolean, actions: KernelPanelActions): {
  el: HTMLElement
  update(kernel: KernelInfo, lastEvent: LastEvent | null): void
} {
  const dot = h('span', { class: 'kernel-dot', 'aria-hidden': 'true' })
  const label = h('span', { class: 'kernel-label' })
  const event = h('div', { class: 'kernel-event', hidden: true })
  const el = h('section', { class: 'panel kernel-panel', 'aria-label': 'Kernel' },
    h('h2', {}, 'Kernel'),
    h('div', { class: 'kernel-line' }, dot, label),
    readOnly ? null : h('div', { class: 'kernel-actions' },
      h('button', { type: 'button', class: 'kernel-interrupt', title: 'Interrupt (I I)', onclick: () => actions.interrupt() }, '■ Interrupt'),
      h('button', { type: 'button', class: 'kernel-restart', title: 'Restart (0 0)', onclick: () => actions.restart() }, '↻ Restart'),
      h('button', { type: 'button', class: 'kernel-change', title: 'Choose the kernel and where it runs', onclick: () => actions.change() }, 'Change…'),
    ),
    event,
  )
  return {
    el,
    update(kernel, lastEvent) {
      el.dataset.kernelStatus = kernel.status
      el.dataset.kernelHost = kernel.host
      label.textContent = describeKernel(kernel)
      event.hidden = lastEvent === null
      event.textContent = lastEvent ? nameCells(describeLastEvent(lastEvent), actions.cellNumber) : ''
    },
  }
}

export interface QueuePanelActions {
  cancel(requestId: string): void
  reveal(cellId: string): void
  cellNumber(cellId: string): number
}

export function queuePanel(readOnly: boolean, actions: QueuePanelActions): {
  el: HTMLElement
  update(queue: QueueEntry[]): void
} {
  const list = h('ol', { class: 'queue-list' })
  const empty = h('p', { class: 'panel-empty' }, 'Nothing queued.')
  const el = h('section', { class: 'panel queue-panel', 'aria-label': 'Run queue' }, h('h2', {}, 'Queue'), empty, list)
  return {
    el,
    update(queue) {
      empty.hidden = queue.length > 0
      list.replaceChildren(
        ...queue.map((entry) => {
          const n = actions.cellNumber(entry.cell_id)
          const where = n > 0 ? `cell ${n}` : 'a deleted cell'
          const item = h('li', { class: `queue-entry queue-${entry.state}`, 'data-request-id': entry.request_id },
            h('button', { type: 'button', class: 'link', onclick: () => actions.reveal(entry.cell_id) },
              `${entry.state === 'running' ? 'Running' : 'Queued'}: ${where}`),
            h('span', { class: 'queue-by' }, ` for ${entry.by.name}`),
            !readOnly && entry.state === 'queued'
              ? h('button', { type: 'button', class: 'queue-cancel', title: 'Cancel this run', onclick: () => actions.cancel(entry.request_id) }, 'Cancel')
              : null,
          )
          return item
        }),
      )
    },
  }
}

export interface ParticipantsActions {
  toggleFollow(clientId: number): void
  rename(): void
  cellNumber(cellId: string): number
}

export function participantsPanel(actions: ParticipantsActions): {
  el: HTMLElement
  update(people: Participant[], following: number | null): void
} {
  const list = h('ul', { class: 'participants-list' })
  const el = h('section', { class: 'panel participants-panel', 'aria-label': 'Participants' },
    h('h2', {}, 'Here now'), list,
    h('p', { class: 'panel-hint' }, 'Click someone to follow them.'))
  return {
    el,
    update(people, following) {
      list.replaceChildren(
        ...people.map((p) => {
          const n = p.cell ? actions.cellNumber(p.cell) : 0
          const isFollowed = following === p.clientId
          const button = h('button', {
            type: 'button',
            class: 'participant' + (isFollowed ? ' following' : '') + (p.self ? ' self' : ''),
            'data-client-id': String(p.clientId),
            'aria-pressed': p.self ? undefined : String(isFollowed),
            title: p.self ? 'Change your name' : isFollowed ? 'Stop following' : `Follow ${p.user.name}`,
            onclick: () => (p.self ? actions.rename() : actions.toggleFollow(p.clientId)),
          },
            ...participantParts(p, n, p.self ? ' (you)' : ''),
            p.viewer ? h('span', { class: 'participant-viewer', title: 'Can watch, cannot change anything' }, 'viewer') : null,
            isFollowed ? h('span', { class: 'participant-following' }, 'following') : null,
          )
          return h('li', {}, button)
        }),
      )
    },
  }
}
