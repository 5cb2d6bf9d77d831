/**
 * The save / sync indicator in the header: "Syncing…" while edits made here are not yet
 * acknowledged by the hub, "Saved hh:mm" after a save, "Offline — changes kept" offline. For
 * editors it is also a button that saves now (as Ctrl-S does).
 */
import { initialSave, nextSave, saveLabel, type SaveEvent, type SaveState } from '../model/saveState'
import type { NotebookSession } from '../model/session'
import { h } from './dom'

export interface SaveIndicator {
  readonly el: HTMLElement
  apply(event: SaveEvent): void
}

export function saveIndicator(session: NotebookSession, save: () => void): SaveIndicator {
  let state: SaveState = initialSave
  const label = h('span', { class: 'save-label' })
  const el = h('button', {
    type: 'button', class: 'save-indicator', role: 'status', 'aria-live': 'polite',
    title: 'Save the .ipynb now (Ctrl-S)', onclick: () => save(),
  }, h('span', { class: 'save-icon', 'aria-hidden': 'true' }), label)
  const show = (): void => {
    const { tone, text } = saveLabel(state)
    el.dataset.tone = tone
    el.hidden = !text
    label.textContent = text
    el.setAttribute('aria-label', `${text} — save now (Ctrl-S)`)
  }
  const apply = (event: SaveEvent): void => {
    const next = nextSave(state, event)
    if (next === state) return
    state = next
    show()
  }
  const online = (): boolean => {
    const status = session.connection.status
    return status === 'connected' || status === 'connecting'
  }
  session.pendingChanged.on((pending) => apply({ type: pending ? 'edited' : 'acknowledged' }))
  const connection = (): SaveEvent =>
    session.connection.status === 'closed' ? { type: 'closed' } : { type: 'online', online: online() }
  session.connectionChanged.on(() => apply(connection()))
  if (session.pendingEdits) apply({ type: 'edited' })
  apply(connection())
  show()
  return { el, apply }
}

/** Ctrl-S / Cmd-S anywhere on the page: never the browser's save dialog; `save` for editors. */
export function saveShortcut(save: (() => void) | null): void {
  window.addEventListener('keydown', (e) => {
    if (!(e.ctrlKey || e.metaKey) || e.altKey || e.shiftKey || e.key.toLowerCase() !== 's') return
    e.preventDefault()
    e.stopPropagation()
    save?.()
  }, { capture: true })
}
