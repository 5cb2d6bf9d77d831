/** Markdown to safe HTML: marked renders, DOMPurify removes anything that could run script. */
import DOMPurify from 'dompurify'
import { marked } from 'marked'

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
 * Besides script: `<style>` could restyle the whole page (hide the toolbar, overlay fake
 * prompts) and `<form>` could post what someone types to anywhere; markdown needs neither.
 */
export const SANITIZE = { USE_PROFILES: { html: true }, FORBID_TAGS: ['style', 'form'] }

export function markdownToHtml(markdown: string): string {
  ensureHooks()
  const html = marked.parse(markdown, { async: false, gfm: true }) as string
  return DOMPurify.sanitize(html, SANITIZE)
}
