/** The timeline: a row of activity per participant, the runs as markers, and the playhead. */
import { userFor } from '../model/identity'
import { h } from '../view/dom'
import { barsOver, busiest, fraction, runLabel, runMoment, type Summary } from './model'

export interface TimelineActions {
  seek(t: number): void
  jumpToRun(index: number): void
}

export interface Timeline {
  readonly el: HTMLElement
  /** Rows and markers for the summary as it stands (a live recording redraws as it grows). */
  draw(summary: Summary): void
  showPlayhead(t: number): void
  /** Ticks at the marked moments. */
  showMarks(marks: number[]): void
}

export function timeline(actions: TimelineActions): Timeline {
  let summary: Summary | null = null
  let marks: number[] = []
  const playhead = h('div', { class: 'replay-playhead' })
  const markLane = h('div', { class: 'replay-marks', 'aria-hidden': 'true' })
  const drawMarks = (): void => {
    const s = summary
    markLane.replaceChildren(...(s ? marks.map((t) => h('span', { class: 'replay-mark-tick', style: `left:${fraction(t, s) * 100}%` })) : []))
  }
  const el = h('div', { class: 'replay-timeline', 'aria-label': 'Timeline' })
  const track = (cls: string, ...children: HTMLElement[]): HTMLElement => {
    const lane = h('div', { class: `replay-track ${cls}` }, ...children)
    lane.addEventListener('click', (e) => {
      if (!summary) return
      const box = lane.getBoundingClientRect()
      actions.seek(summary.start + ((e.clientX - box.left) / box.width) * (summary.end - summary.start))
    })
    return lane
  }
  return {
    el,
    draw(next) {
      summary = next
      const most = busiest(next)
      const span = next.end - next.start
      const rows = next.participants.map((p) => {
        const color = p.color ?? userFor(p.name).color
        return h('div', { class: 'replay-row', 'data-name': p.name },
          h('span', { class: 'replay-row-label', title: `${p.updates} edits, ${p.runs} runs` },
            h('span', { class: 'participant-dot', style: `background:${color}` }), p.name),
          track('replay-activity', ...barsOver(p.activity, next.activity.bucket_s, span, most).map((b) =>
            h('span', { class: 'replay-bar', style: `left:${b.left * 100}%;width:max(2px,${b.width * 100}%);height:${b.height * 100}%;background:${color}` }))))
      })
      const markers = next.runs.map((run, i) =>
        h('button', {
          type: 'button', class: `replay-run-marker status-${run.status}`, 'data-run': String(i),
          style: `left:${fraction(runMoment(run), next) * 100}%`,
          title: runLabel(run, null), 'aria-label': `Jump to run: ${runLabel(run, null)}`,
          onclick: (e: Event) => { e.stopPropagation(); actions.jumpToRun(i) },
        }))
      el.replaceChildren(
        ...rows,
        h('div', { class: 'replay-row' }, h('span', { class: 'replay-row-label' }, 'Runs'), track('replay-runs', ...markers)),
        h('div', { class: 'replay-playhead-lane' }, markLane, playhead),
      )
      drawMarks()
    },
    showMarks(next) {
      marks = next
      drawMarks()
    },
    showPlayhead(t) {
      if (summary) playhead.style.left = `${fraction(t, summary) * 100}%`
    },
  }
}
