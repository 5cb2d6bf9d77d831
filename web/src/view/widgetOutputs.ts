/**
 * Widget outputs (`application/vnd.jupyter.widget-view+json`) in the page. The widget code is a
 * chunk of its own, imported the first time a notebook shows a widget output or its document
 * holds widgets, so notebooks without widgets load none of it. Until it is there (or where no live
 * session is, as in playback) an output shows a short placeholder with the kernel's text for it.
 */
import type * as Y from 'yjs'
import type { WidgetHost, WidgetOptions } from '../widgets'
import { h } from './dom'

let options: WidgetOptions | null = null
let host: Promise<WidgetHost> | null = null

function load(): Promise<WidgetHost> | null {
  if (!options) return null
  const chosen = options
  host ??= import('../widgets').then(({ startWidgets }) => startWidgets(chosen))
  return host
}

/**
 * The page's document: from now on widget outputs are live (loading the code when needed). Called
 * again with another document (the playback page rebuilds one when it seeks), the widgets of the
 * old one are let go and the outputs drawn from then on use the new one.
 */
export function enableWidgets(chosen: WidgetOptions): void {
  void host?.then((old) => old.dispose())
  host = null
  options = chosen
  const map: Y.Map<unknown> = chosen.map
  if (map.size > 0) void load()
  else {
    const first = (): void => {
      if (options !== chosen) return map.unobserve(first)
      if (map.size === 0) return
      map.unobserve(first)
      void load()
    }
    map.observe(first)
  }
}

const disposers = new WeakMap<HTMLElement, () => void>()

/** The element of a widget output: a placeholder that becomes the widget once it can. */
export function widgetElement(modelId: string, text: string): HTMLElement {
  const live = load()
  // Shown until the model is in the document: just after a run, or for good when the kernel that
  // made it is gone (a notebook opened from its file): the kernel's text for it says what it was.
  const placeholder = h('div', { class: 'widget-placeholder', title: text },
    live ? 'Widget not live yet — it shows once its cell has run in this session' : 'Widget (live only in the notebook page)')
  const el = h('div', { class: 'output-widget', 'data-model-id': modelId }, placeholder)
  let stop: (() => void) | null = null
  let dropped = false
  disposers.set(el, () => {
    dropped = true
    stop?.()
  })
  void live?.then((widgets) => {
    if (!dropped) stop = widgets.render(el, modelId)
  })
  return el
}

/** The output element is no longer shown: its widget view goes (the model stays). */
export function disposeWidgetElement(el: Element): void {
  if (!(el instanceof HTMLElement)) return
  disposers.get(el)?.()
  disposers.delete(el)
  for (const inner of el.querySelectorAll<HTMLElement>('.output-widget')) disposeWidgetElement(inner)
}
