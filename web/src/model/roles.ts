/**
 * What a page's link lets its holder do, in one place (no DOM): the hub says `role` (`admin`,
 * `edit`, `view`; maybe more later, such as `owner`) and, for a named link, `link`. Everything
 * else on the page asks here rather than comparing role strings itself.
 */
import type { SessionInfo } from './api'

export interface Powers {
  /** Can change the notebook and run code. */
  edit: boolean
  /**
   * May manage links (named links, replacing the anonymous ones): per the README, the admin and
   * whoever holds an edit link. The hub has the last word: a 403 on the links hides the controls.
   */
  manageLinks: boolean
  /** Joined with a named link: the hub vouches for this name. */
  named: { id: string; name: string; role: string } | null
  /** Which anonymous link this page itself joined with (replacing it cuts this page off too). */
  ownAnonymous: 'edit' | 'view' | null
}

const EDITING_ROLES = new Set(['admin', 'owner', 'edit'])
const OWNING_ROLES = new Set(['admin', 'owner', 'edit'])

export function powersOf(info: SessionInfo, token: string): Powers {
  const role = String(info.role)
  const named = info.link ? { id: info.link.id, name: info.link.name, role: info.link.role } : null
  return {
    edit: EDITING_ROLES.has(role),
    manageLinks: OWNING_ROLES.has(role),
    named,
    ownAnonymous: named ? null : token === info.edit_token ? 'edit' : token === info.view_token ? 'view' : null,
  }
}

/** A view-only page (every role that is not an editing one: an unknown role changes nothing). */
export function isReadOnly(info: SessionInfo): boolean {
  return !EDITING_ROLES.has(String(info.role))
}
