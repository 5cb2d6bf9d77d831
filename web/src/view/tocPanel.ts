/** "Contents": the markdown headings of the notebook; a click goes to the heading's cell. */
import type { Heading } from '../model/toc'
import { h } from './dom'

export function tocPanel(reveal: (cellId: string) => void): { el: HTMLElement; update(headings: Heading[]): void } {
  const list = h('ol', { class: 'toc-list' })
  const empty = h('p', { class: 'panel-empty' }, 'No headings yet.')
  const el = h('section', { class: 'panel toc-panel', 'aria-label': 'Contents' }, h('h2', {}, 'Contents'), empty, list)
  let shown = ''
  return {
    el,
    update(headings) {
      const key = JSON.stringify(headings)
      if (key === shown) return
      shown = key
      empty.hidden = headings.length > 0
      list.replaceChildren(...headings.map((heading) =>
        h('li', { class: `toc-item toc-level-${heading.level}` },
          h('button', { type: 'button', class: 'link toc-link', onclick: () => reveal(heading.cellId) }, heading.text))))
    },
  }
}
