/** Markdown (and LaTeX) to safe HTML: rendered in model/markdownRender.ts, DOMPurify removes anything that could run script. */
import DOMPurify from 'dompurify'
import 'katex/dist/katex.min.css'
import './highlight.css'
import { renderLatex, renderMarkdown } from '../model/markdownRender'

let hooked = false

function ensureHooks(): void {
  if (hooked) return
  hooked = true
  // Links leave the notebook in a new tab and never tell the target where they came from.
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName === 'A' && node.hasAttribute('href')) {
      node.setAttribute('target', '_blank')
      node.setAttribute('rel', 'noopener noreferrer')
    }
  })
}

/**
 * KaTeX writes HTML, MathML (for screen readers) and SVG (for some symbols). Besides script:
 * `<style>` could restyle the whole page (hide the toolbar, overlay fake prompts) and `<form>`
 * could post what someone types to anywhere; markdown needs neither.
 */
export const SANITIZE = {
  USE_PROFILES: { html: true, mathMl: true, svg: true },
  FORBID_TAGS: ['style', 'form'],
}

export function markdownToHtml(markdown: string): string {
  ensureHooks()
  return DOMPurify.sanitize(renderMarkdown(markdown), SANITIZE)
}

/** HTML from the kernel that the page itself shows (widget HTML), cleaned as markdown is. */
export function sanitizeHtml(html: string): string {
  ensureHooks()
  return DOMPurify.sanitize(html, SANITIZE)
}

export function latexToHtml(latex: string): string {
  ensureHooks()
  return DOMPurify.sanitize(renderLatex(latex), SANITIZE)
}
