/**
 * The admin token the home page signed in with: kept in the tab's sessionStorage (gone when the
 * tab closes), never in a URL. The storage is injected.
 */
const KEY = 'collabd.adminToken'

export function loadAdminToken(storage: Pick<Storage, 'getItem'>): string | null {
  try {
    return storage.getItem(KEY) || null
  } catch {
    return null
  }
}

export function saveAdminToken(storage: Pick<Storage, 'setItem'>, token: string): void {
  try {
    storage.setItem(KEY, token)
  } catch {
    // storage refused (private mode quota): the token lives as long as the page
  }
}

export function clearAdminToken(storage: Pick<Storage, 'removeItem'>): void {
  try {
    storage.removeItem(KEY)
  } catch {
    // nothing kept
  }
}
