/**
 * The widget code, loaded only when a notebook has a widget output or widgets in its document
 * (view/widgetOutputs.ts imports this on demand). `startWidgets` builds the manager on the
 * document's `widgets` map; `render` puts a model's view into an output's element.
 */
import { MessageLoop } from '@lumino/messaging'
import { Widget } from '@lumino/widgets'
import type { DOMWidgetView, WidgetModel } from '@jupyter-widgets/base'
import type * as Y from 'yjs'
import '@jupyter-widgets/controls/css/widgets.css'
import './widgets.css'
import type { CommOptions } from './comm'
import { CollabWidgetManager } from './manager'

export const VIEW_ONLY_HINT = 'View only: you see this widget change live, but only editors can change it'
export const GONE_HINT = 'kernel restarted: last state shown'

export interface WidgetOptions {
  map: Y.Map<unknown>
  readOnly: boolean
  post: CommOptions['post']
  by: CommOptions['by']
  clean(html: string): string
  /** What hovering a widget says when it cannot be changed here (default: the viewers' hint). */
  lockedHint?: string
}

export interface WidgetHost {
  /** Draws model `modelId` into `el` (once the model is in the map); returns how to take it away. */
  render(el: HTMLElement, modelId: string): () => void
  /** This document's widgets are no longer shown (its map is no longer watched). */
  dispose(): void
}

/** Lumino's attach without its "host is in the document" check: outputs are drawn before insertion. */
function attach(widget: Widget, host: HTMLElement): void {
  MessageLoop.sendMessage(widget, Widget.Msg.BeforeAttach)
  host.append(widget.node)
  MessageLoop.sendMessage(widget, Widget.Msg.AfterAttach)
}

function detach(widget: Widget): void {
  if (!widget.isAttached) return
  MessageLoop.sendMessage(widget, Widget.Msg.BeforeDetach)
  widget.node.remove()
  MessageLoop.sendMessage(widget, Widget.Msg.AfterDetach)
}

export function startWidgets(options: WidgetOptions): WidgetHost {
  const manager = new CollabWidgetManager(options)
  return {
    dispose: () => manager.dispose(),
    render(el, modelId) {
      let view: DOMWidgetView | null = null
      let stopped = false
      const body = document.createElement('div')
      body.className = 'widget-body'
      const note = document.createElement('div')
      note.className = 'widget-note'
      const mark = (): void => {
        const gone = manager.isGone(modelId)
        const locked = gone || options.readOnly
        el.classList.toggle('widget-gone', gone)
        el.classList.toggle('widget-locked', locked)
        // Inert: nothing inside takes focus, clicks or keys; the hint shows on hover over the box.
        body.inert = locked
        el.title = gone ? `${GONE_HINT} (the widget no longer changes)` : options.readOnly ? options.lockedHint ?? VIEW_ONLY_HINT : ''
        note.textContent = gone ? GONE_HINT : ''
        note.hidden = !gone
      }
      const stopWatching = manager.onGoneChange(mark)
      let stopWaiting = (): void => {}
      const show = async (): Promise<void> => {
        // Waits for the model to arrive in the map (get_model alone gives up after two seconds).
        if (!manager.has_model(modelId)) {
          await new Promise<void>((resolve) => {
            stopWaiting = manager.onCreated((id) => {
              if (id === modelId) resolve()
            })
          })
          stopWaiting()
        }
        if (stopped) return
        const model: WidgetModel = await manager.get_model(modelId)
        const made = (await manager.create_view(model)) as DOMWidgetView
        if (stopped) return void made.remove()
        view = made
        mark()
        el.replaceChildren(body, note)
        attach(made.luminoWidget, body)
        el.dataset.widgetReady = 'true'
        // A closed model takes its views away: show that it was closed.
        made.once('remove', () => {
          if (!stopped) el.replaceChildren(Object.assign(document.createElement('div'), { className: 'widget-placeholder', textContent: '[widget closed]' }))
        })
      }
      void show().catch((e: unknown) => console.error(`widget ${modelId} could not be shown`, e))
      return () => {
        stopped = true
        stopWatching()
        stopWaiting()
        if (view) {
          detach(view.luminoWidget)
          view.remove()
        }
      }
    },
  }
}
