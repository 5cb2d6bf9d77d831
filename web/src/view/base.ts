/** The page's prefix (from the meta tag the hub writes) and its API origin. */
import { basePath } from '../model/base'

export function pageBase(): string {
  if (typeof document === 'undefined') return ''
  return basePath(document.querySelector('meta[name="collabd-base"]')?.getAttribute('content'))
}

/** `location.origin` plus the prefix: where `/api`, `/ws` and `/frame` are. */
export function appOrigin(): string {
  return location.origin + pageBase()
}
