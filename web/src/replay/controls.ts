/** Play / pause, speed, skipping idle stretches, the moment slider and "Go live". */
import { h } from '../view/dom'
import { formatMoment, formatOffset, SPEEDS, type Speed, type Summary } from './model'

export interface ControlActions {
  togglePlaying(): void
  setSpeed(speed: Speed): void
  setSkipIdle(skip: boolean): void
  seek(t: number): void
  goLive(): void
}

export interface ControlsState {
  shown: number
  playing: boolean
  /** Whether the page can follow the session at all, and whether it does now. */
  canGoLive: boolean
  following: boolean
}

export interface Controls {
  readonly el: HTMLElement
  setRange(summary: Summary): void
  show(state: ControlsState, summary: Summary): void
}

export function controls(actions: ControlActions): Controls {
  const timeLabel = h('span', { class: 'replay-time', 'aria-live': 'off' })
  const playButton = h('button', { type: 'button', class: 'replay-play primary', onclick: () => actions.togglePlaying() }, 'Play')
  const speed = h('select', { class: 'replay-speed', 'aria-label': 'Speed' },
    ...SPEEDS.map((s) => h('option', { value: String(s) }, `${s}x`)))
  speed.addEventListener('change', () => actions.setSpeed(Number(speed.value) as Speed))
  const skip = h('input', { type: 'checkbox', class: 'replay-skip', checked: true })
  skip.addEventListener('change', () => actions.setSkipIdle(skip.checked))
  const slider = h('input', { type: 'range', class: 'replay-slider', 'aria-label': 'Moment', step: 'any' })
  slider.addEventListener('input', () => actions.seek(Number(slider.value)))
  const liveButton = h('button', {
    type: 'button', class: 'replay-live', hidden: true, title: 'Follow the session as it goes on',
    onclick: () => actions.goLive(),
  }, 'Go live')
  const el = h('div', { class: 'replay-controls' },
    playButton,
    h('label', { class: 'replay-option' }, 'Speed ', speed),
    h('label', { class: 'replay-option' }, skip, ' Skip idle'),
    slider,
    timeLabel,
    liveButton,
  )
  return {
    el,
    setRange(summary) {
      slider.min = String(summary.start)
      slider.max = String(summary.end)
    },
    show(state, summary) {
      slider.value = String(state.shown)
      timeLabel.textContent = `${formatOffset(state.shown - summary.start)} / ${formatOffset(summary.duration)} · ${formatMoment(state.shown)}`
      playButton.textContent = state.playing ? 'Pause' : 'Play'
      liveButton.hidden = !state.canGoLive
      liveButton.textContent = state.following ? '● Live' : 'Go live'
      liveButton.classList.toggle('following', state.following)
    },
  }
}
