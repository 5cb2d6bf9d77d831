/**
 * Stands in for the `sanitize-html` package, which @jupyter-widgets/base-manager imports for its
 * default `inline_sanitize` (vite.config.ts aliases it here). The page's manager overrides that
 * method, so this is never its cleaner; should anything call it, it cleans with DOMPurify as the
 * page cleans markdown. It saves the widget chunk sanitize-html's parser and postcss (~150 kB).
 */
import { sanitizeHtml } from '../view/markdown'

export default function sanitize(html: string): string {
  return sanitizeHtml(html)
}
