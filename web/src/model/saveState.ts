/**
 * What the save indicator says, as a pure reducer: whether this participant's edits have reached
 * the hub (acknowledged), when the file was last saved on request, and whether we are offline.
 * The hub writes the file itself shortly after edits pause; "Saved" names only explicit saves.
 */

export interface SaveState {
  /** Local edits the hub has not acknowledged yet. */
  pending: boolean
  offline: boolean
  /** The hub closed the connection for good (link revoked, session deleted): nothing more is sent. */
  closed: boolean
  saving: boolean
  /** Unix seconds of the last save asked for here, and whether edits came after it. */
  savedAt: number | null
  editedSinceSave: boolean
}

export type SaveEvent =
  | { type: 'edited' }
  | { type: 'acknowledged' }
  | { type: 'online'; online: boolean }
  | { type: 'closed' }
  | { type: 'saving' }
  | { type: 'saved'; at: number }
  | { type: 'save-failed' }

export const initialSave: SaveState = { pending: false, offline: false, closed: false, saving: false, savedAt: null, editedSinceSave: false }

export function nextSave(state: SaveState, event: SaveEvent): SaveState {
  // after a final close only edits still change what is said: they are not sent anywhere
  if (state.closed && event.type !== 'edited') return state
  switch (event.type) {
    case 'edited':
      return { ...state, pending: true, editedSinceSave: true }
    case 'acknowledged':
      return state.pending ? { ...state, pending: false } : state
    case 'online':
      return state.offline === !event.online ? state : { ...state, offline: !event.online }
    case 'closed':
      return { ...state, closed: true, saving: false }
    case 'saving':
      return { ...state, saving: true }
    case 'saved':
      return { ...state, saving: false, pending: false, savedAt: event.at, editedSinceSave: false }
    case 'save-failed':
      return { ...state, saving: false }
  }
}

export type SaveTone = 'offline' | 'syncing' | 'saved' | 'synced' | 'closed'

function clock(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000)
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`
}

/** What the indicator says; an empty text hides it (closed with nothing unsent: the page's message says it all). */
export function saveLabel(state: SaveState): { tone: SaveTone; text: string } {
  // closed for good, the changes are not "kept" to be sent later: say plainly they were not sent
  if (state.closed) return { tone: 'closed', text: state.pending ? 'Not sent: changes since the connection closed' : '' }
  if (state.offline) return { tone: 'offline', text: 'Offline — changes kept' }
  if (state.saving) return { tone: 'syncing', text: 'Saving…' }
  if (state.pending) return { tone: 'syncing', text: 'Syncing…' }
  if (state.savedAt !== null && !state.editedSinceSave) return { tone: 'saved', text: `Saved ${clock(state.savedAt)}` }
  return { tone: 'synced', text: 'All changes synced' }
}
