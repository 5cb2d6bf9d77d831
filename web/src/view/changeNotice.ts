/**
 * The notice shown when someone else deletes or moves the cell one is in: what happened, who did
 * it, and a one-click undo. It stays until dismissed, undone, or replaced by the next one.
 */
import { h } from './dom'

export interface ChangeNotice {
  readonly el: HTMLElement
  show(text: string, undo: (() => void) | null): void
  /** New words for the notice on screen (the name may arrive after the change). */
  retext(text: string): void
  hide(): void
}

export function changeNotice(): ChangeNotice {
  const text = h('span', { class: 'change-notice-text' })
  const undoButton = h('button', { type: 'button', class: 'change-notice-undo primary' }, 'Undo')
  const close = h('button', { type: 'button', class: 'change-notice-close', title: 'Dismiss', 'aria-label': 'Dismiss' }, '✕')
  const el = h('div', { class: 'change-notice', role: 'alert', hidden: true }, text, undoButton, close)
  let undo: (() => void) | null = null
  const hide = (): void => {
    el.hidden = true
    undo = null
  }
  undoButton.addEventListener('click', () => {
    const action = undo
    hide()
    action?.()
  })
  close.addEventListener('click', hide)
  return {
    el,
    show(words, action) {
      text.textContent = words
      undo = action
      undoButton.hidden = action === null
      el.hidden = false
    },
    retext(words) {
      text.textContent = words
    },
    hide,
  }
}
