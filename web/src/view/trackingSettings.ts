/**
 * The notebook's tracking settings in the experiments dialog: which variable names are metrics
 * (patterns), tracking on or off, and the parameters the `parameters` cell declares. Editors change
 * them (`POST …/tracking`, from the next run on); viewers read them.
 */
import type { SessionApi } from '../model/api'
import { parsePatterns, readTracking, sameList, type TrackingSettings } from '../model/tracking'
import { h } from './dom'

export interface TrackingSection {
  readonly el: HTMLElement
  /** The settings as last read (null before). */
  readonly settings: TrackingSettings | null
  load(): Promise<TrackingSettings | null>
}

export function trackingSection(api: SessionApi, readOnly: boolean, changed: (s: TrackingSettings) => void): TrackingSection {
  let settings: TrackingSettings | null = null
  const summary = h('p', { class: 'tracking-summary' })
  const enabled = h('input', { type: 'checkbox', class: 'tracking-enabled', disabled: readOnly })
  const patterns = h('textarea', {
    class: 'tracking-patterns', rows: 2, spellcheck: 'false', readonly: readOnly,
    'aria-label': 'Metric name patterns', placeholder: 'accuracy, loss, *_score',
  })
  const result = h('p', { class: 'tracking-result', role: 'status', 'aria-live': 'polite' })
  const save = h('button', { type: 'button', class: 'primary tracking-save' }, 'Save')
  const defaults = h('button', { type: 'button', class: 'tracking-defaults', title: "Use the hub's default patterns" }, 'Defaults')

  const fill = (s: TrackingSettings): void => {
    settings = s
    enabled.checked = s.enabled
    patterns.value = s.metrics.join(', ')
    const params = s.parameters.length ? `Parameters (the cell tagged "parameters"): ${s.parameters.join(', ')}.` : 'No cell is tagged "parameters", so no parameters are recorded.'
    summary.textContent = s.hubTracking ? params : 'Tracking is switched off on this server (COLLABD_TRACK_RUNS), so no run is tracked.'
    changed(s)
  }
  const send = async (change: { metrics?: string[] | null; enabled?: boolean }): Promise<void> => {
    save.disabled = true
    result.className = 'tracking-result'
    result.textContent = 'Saving…'
    try {
      fill(readTracking(await api.setTracking(change)))
      result.textContent = 'Saved: applies from the next run.'
    } catch (e) {
      result.classList.add('failed')
      result.textContent = `The settings were not saved: ${e instanceof Error ? e.message : String(e)}`
    } finally {
      save.disabled = false
    }
  }
  save.addEventListener('click', () => {
    const parsed = parsePatterns(patterns.value)
    if ('error' in parsed) {
      result.className = 'tracking-result failed'
      result.textContent = parsed.error
      return
    }
    const change: { metrics?: string[]; enabled?: boolean } = {}
    if (!settings || !sameList(parsed.patterns, settings.metrics)) change.metrics = parsed.patterns
    if (!settings || enabled.checked !== settings.enabled) change.enabled = enabled.checked
    if (Object.keys(change).length === 0) {
      result.className = 'tracking-result'
      result.textContent = 'Nothing changed.'
      return
    }
    void send(change)
  })
  defaults.addEventListener('click', () => void send({ metrics: null }))

  const el = h('details', { class: 'tracking-settings' },
    h('summary', {}, 'Tracking settings'),
    summary,
    h('label', { class: 'tracking-option' }, enabled, ' Track parameters and metrics of runs in this notebook'),
    h('label', { class: 'tracking-label' }, 'Metrics: variables whose names match (* any characters, ? one)'),
    patterns,
    readOnly ? h('p', { class: 'hint' }, 'Only editors change these.') : h('div', { class: 'dialog-actions' }, defaults, save),
    result,
  )
  return {
    el,
    get settings() { return settings },
    async load() {
      try {
        fill(readTracking(await api.tracking()))
      } catch (e) {
        result.className = 'tracking-result failed'
        result.textContent = `The tracking settings could not be read: ${e instanceof Error ? e.message : String(e)}`
      }
      return settings
    },
  }
}
