/**
 * The playback page at /s/{id}/replay#token=... — a ROUTE STUB, to be built by the replay issue.
 *
 * What it should use (public contract): GET /api/sessions/{id}/recording (summary: start, end,
 * participants, runs), /recording/notebook?t=<unix s>, /recording/events?from=&to=, /runs.
 * Reuse the DOM-free model code (../model/outputs, ../model/kernelState, ../model/presence) and
 * the view pieces (../view/outputs, ../view/markdown) rather than a second renderer.
 */
import '../view/styles.css'

export interface ReplayRoute {
  sessionId: string
  token: string | null
}

export function mountReplay(root: HTMLElement, route: ReplayRoute): void {
  root.replaceChildren()
  const box = document.createElement('div')
  box.className = 'fatal replay-stub'
  const title = document.createElement('h1')
  title.textContent = 'Session replay'
  const text = document.createElement('p')
  text.textContent = `Playback of session ${route.sessionId} is not available in this version yet.`
  box.append(title, text)
  root.append(box)
  document.title = 'Replay — collabd'
}
