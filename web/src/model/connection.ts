/**
 * Connection state shown to the participant, as a pure reducer over what the websocket provider
 * and the browser report. `closed` is final: the hub refused us (bad link, unknown session, ...).
 */
import { Close, FATAL_CLOSES } from './wire'

export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'closed'

export interface ConnectionState {
  status: ConnectionStatus
  everConnected: boolean
  /** Why the hub closed the connection for good, for the participant to read. */
  reason: string | null
}

export type ConnectionEvent =
  | { type: 'socket'; status: 'connecting' | 'connected' | 'disconnected' }
  | { type: 'browser'; online: boolean }
  | { type: 'close'; code: number }

export const initialConnection: ConnectionState = {
  status: 'connecting',
  everConnected: false,
  reason: null,
}

/** What to tell the participant for each close code after which reconnecting cannot help. */
const FATAL: Record<number, string> = {
  [Close.UNAUTHORIZED]: 'This link is not valid (missing or wrong token).',
  [Close.FORBIDDEN]: 'The server refused this connection.',
  [Close.NOT_FOUND]: 'This session does not exist (any more).',
  [Close.TOO_BIG]: 'A change was too large for the server to accept.',
  [Close.LINK_REVOKED]: 'This link was revoked: ask the session’s owner for a new one.',
}

export function fatalReason(code: number): string | null {
  return FATAL_CLOSES.includes(code) ? FATAL[code] ?? 'The server closed the connection.' : null
}

export function nextConnection(state: ConnectionState, event: ConnectionEvent): ConnectionState {
  if (state.status === 'closed') return state
  switch (event.type) {
    case 'close': {
      const reason = fatalReason(event.code)
      return reason ? { ...state, status: 'closed', reason } : state
    }
    case 'browser':
      if (!event.online) return { ...state, status: 'offline' }
      return { ...state, status: state.everConnected ? 'reconnecting' : 'connecting' }
    case 'socket':
      if (event.status === 'connected') return { ...state, status: 'connected', everConnected: true }
      if (state.status === 'offline') return state
      return { ...state, status: state.everConnected ? 'reconnecting' : 'connecting' }
  }
}

export function connectionLabel(state: ConnectionState): string {
  switch (state.status) {
    case 'connecting': return 'Connecting…'
    case 'connected': return 'Connected'
    case 'reconnecting': return 'Reconnecting…'
    case 'offline': return 'Offline — edits will sync when back'
    case 'closed': return state.reason ?? 'Disconnected'
  }
}
