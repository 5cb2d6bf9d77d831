/**
 * Follow mode: scroll along with another participant (their scroll position and active cell)
 * until the follower acts on their own (a key, a click in the notebook, the wheel, a touch).
 */
import { type FollowMemory, followStep, type Participant, type ScrollSpot } from '../model/presence'
import { throttle } from './dom'

export interface FollowHost {
  cellElement(id: string): HTMLElement | null
  /** Height of the fixed header, so "top of the view" means below it. */
  topInset(): number
  /** Called as the participant scrolls; the host decides whether anyone needs it. */
  publishScroll(spot: ScrollSpot | null): void
  changed(following: number | null): void
}

export class Follow {
  private target: number | null = null
  private memory: FollowMemory = { cell: null, scroll: null }

  constructor(private readonly host: FollowHost) {
    const stop = (event: Event): void => {
      if (this.target === null) return
      // Clicks in the participants list pick whom to follow; they are not "acting on your own".
      if (event.type !== 'wheel' && (event.target as HTMLElement | null)?.closest?.('.participants-panel')) return
      this.stop()
    }
    for (const type of ['keydown', 'mousedown', 'wheel', 'touchstart']) {
      window.addEventListener(type, stop, { capture: true, passive: true })
    }
    window.addEventListener('scroll', throttle(() => this.host.publishScroll(this.currentSpot()), 120), { passive: true })
  }

  get following(): number | null {
    return this.target
  }

  toggle(clientId: number, people: Participant[]): void {
    if (this.target === clientId) return this.stop()
    this.target = clientId
    this.memory = { cell: null, scroll: null }
    this.host.changed(clientId)
    this.update(people)
  }

  stop(): void {
    if (this.target === null) return
    this.target = null
    this.host.changed(null)
  }

  /** Called on every awareness change. */
  update(people: Participant[]): void {
    if (this.target === null) return
    const target = people.find((p) => p.clientId === this.target)
    const step = followStep(this.memory, target)
    if (target) this.memory = { cell: target.cell, scroll: target.scroll }
    switch (step.kind) {
      case 'lost':
        return this.stop()
      case 'scroll': {
        const el = this.host.cellElement(step.spot.cell)
        if (!el) return
        const top = el.getBoundingClientRect().top + window.scrollY - this.host.topInset() + step.spot.offset
        window.scrollTo({ top: Math.max(0, top), behavior: 'instant' })
        return
      }
      case 'reveal':
        this.host.cellElement(step.cell)?.scrollIntoView({ block: 'nearest', behavior: 'instant' })
        return
      case 'none':
        return
    }
  }

  /** The cell at the top of this participant's view, for others to follow. */
  currentSpot(): ScrollSpot | null {
    const inset = this.host.topInset()
    const cells = document.querySelectorAll<HTMLElement>('.cells > .cell')
    // Cells are stacked in order: binary search for the first one whose bottom is below the inset.
    let lo = 0
    let hi = cells.length - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if (cells[mid].getBoundingClientRect().bottom > inset) {
        found = mid
        hi = mid - 1
      } else {
        lo = mid + 1
      }
    }
    const cell = found >= 0 ? cells[found] : null
    if (!cell?.dataset.cellId) return null
    return { cell: cell.dataset.cellId, offset: Math.round(inset - cell.getBoundingClientRect().top) }
  }
}
