/**
 * Kernel HTML in a frame of its own: the hub's `/frame` document, whose CSP lets the HTML's
 * scripts run (Plotly, Bokeh, Altair…), sandboxed without allow-same-origin so that its origin is
 * opaque: it can reach neither this page, its storage, nor the token. The page posts the HTML in
 * (and nothing else); the frame writes it into its document and reports its height back. A
 * display updated through its handle is posted into the same frame (FrameFeed: latest only, once
 * loaded), so the output is updated in place and never shows an empty frame.
 */
import { pageBase } from './base'
import { FrameFeed } from '../model/frameFeed'
import { h } from './dom'

export const FRAME_URL = '/frame'

/** The frame document's address under the page's prefix. */
export function frameUrl(): string {
  return pageBase() + FRAME_URL
}
export const FRAME_SANDBOX = 'allow-scripts allow-popups'
export const MIN_FRAME_HEIGHT = 20
export const MAX_FRAME_HEIGHT = 1200

/** The height a frame's message asks for, clamped; null if it is not a height report. */
export function frameHeight(data: unknown): number | null {
  if (typeof data !== 'object' || data === null) return null
  const height = (data as { collabdFrameHeight?: unknown }).collabdFrameHeight
  if (typeof height !== 'number' || !Number.isFinite(height)) return null
  return Math.min(Math.max(height, MIN_FRAME_HEIGHT), MAX_FRAME_HEIGHT)
}

const feeds = new WeakMap<HTMLIFrameElement, FrameFeed>()

function post(frame: HTMLIFrameElement, html: string | null): void {
  // An opaque origin can only be addressed as '*': whoever is in the frame gets this output's
  // HTML, which is all we send.
  if (html !== null) frame.contentWindow?.postMessage({ collabdHtml: html }, '*')
}

export function htmlFrame(html: string): HTMLIFrameElement {
  listenForFrameHeights()
  const frame = h('iframe', {
    class: 'output-html',
    sandbox: FRAME_SANDBOX,
    referrerpolicy: 'no-referrer',
    title: 'HTML output',
    src: frameUrl(),
  })
  const feed = new FrameFeed(html)
  feeds.set(frame, feed)
  // On every load, since moving a frame in the DOM reloads it.
  frame.addEventListener('load', () => post(frame, feed.loaded()))
  return frame
}

/** New HTML for an output already on the page: into the same frame, never a new one. */
export function updateHtmlFrame(frame: HTMLIFrameElement, html: string): boolean {
  const feed = feeds.get(frame)
  if (!feed) return false
  post(frame, feed.update(html))
  return true
}

let listening = false

/** One listener for all frames; a message counts only if it comes from one of our output frames. */
function listenForFrameHeights(): void {
  if (listening) return
  listening = true
  window.addEventListener('message', (event) => {
    const height = frameHeight(event.data)
    if (height === null || event.source === null) return
    for (const frame of document.querySelectorAll<HTMLIFrameElement>('iframe.output-html')) {
      if (frame.contentWindow === event.source) frame.style.height = `${height}px`
    }
  })
}
