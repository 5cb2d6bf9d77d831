/** Short messages at the bottom of the page that go away by themselves. */
import { h } from './dom'

export interface Toaster {
  readonly el: HTMLElement
  notify(message: string | Node): void
}

export function toaster(durationMs = 6000): Toaster {
  const el = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' })
  return {
    el,
    notify(message) {
      const toast = h('div', { class: 'toast' }, message)
      el.append(toast)
      setTimeout(() => toast.remove(), durationMs)
    },
  }
}
