/**
 * Wire constants shared with the hub (`collabd/sync/wire.py`, the one source);
 * `tests/sync/test_wire.py` checks that the two agree.
 */

/** Websocket close codes the hub sends. */
export const Close = {
  GOING_AWAY: 1001,
  MOVED: 1012,
  TOO_BIG: 1009,
  UNAVAILABLE: 1011,
  BAD_FRAME: 4400,
  UNAUTHORIZED: 4401,
  FORBIDDEN: 4403,
  NOT_FOUND: 4404,
  TOO_SLOW: 4408,
  FULL: 4409,
  LINK_REVOKED: 4410,
  BAD_UPDATE: 4422,
  RATE: 4429,
} as const

/** Close codes after which reconnecting with the same link cannot help. */
export const FATAL_CLOSES: readonly number[] = [
  Close.UNAUTHORIZED, Close.FORBIDDEN, Close.NOT_FOUND, Close.TOO_BIG, Close.LINK_REVOKED,
]

/** The first var-uint of a y-websocket frame. */
export const Message = {
  SYNC: 0,
  AWARENESS: 1,
  AUTH: 2,
  QUERY_AWARENESS: 3,
  REQUEST: 100,
} as const

/** The second var-uint of a sync message. */
export const SyncStep = {
  STEP1: 0,
  STEP2: 1,
  UPDATE: 2,
} as const

export const AUTH_PERMISSION_DENIED = 0
