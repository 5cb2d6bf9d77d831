/** The whole page replaced by why it cannot work (bad link, unknown session, server unreachable). */
import { ApiError } from '../model/api'
import { h } from './dom'

export function fatal(root: HTMLElement, title: string, detail: string): void {
  root.replaceChildren(h('div', { class: 'fatal', role: 'alert' }, h('h1', {}, title), h('p', {}, detail)))
}

/** A failed first request, in the participant's words. */
export function fatalForError(root: HTMLElement, error: unknown, otherwise: string): void {
  if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
    fatal(root, 'This link is not valid', 'The token in the link was not accepted. Ask for a new link.')
  } else if (error instanceof ApiError && error.status === 404) {
    fatal(root, 'No such notebook session', 'This session does not exist (any more).')
  } else {
    fatal(root, otherwise, String(error))
  }
}

export function fatalMissingToken(root: HTMLElement): void {
  fatal(root, 'This link is incomplete',
    'The access token is missing from the link (the part after #token=). Ask for the link again.')
}
