/**
 * The home page at `/`: sign in with the admin token (kept in this tab's sessionStorage, never in
 * a URL), then the notebooks under the hub's root with their live sessions, a filter, "New
 * notebook", and for each one "Open" (creates or reuses its session, then opens the edit link)
 * and "Share" (both links). Someone signed in (JupyterHub, or an authenticating proxy) sees the
 * sessions shared with them instead, "New notebook" where they may create, and "Sign out" when
 * JupyterHub signed them in.
 */
import { appOrigin } from '../view/base'
import '../view/styles.css'
import './home.css'
import { clearAdminToken, loadAdminToken, saveAdminToken } from '../model/adminToken'
import { AdminApi, ApiError, createAsUser, type Me, type NotebookEntry, type NotebookListing, rebaseLink, sharedWithMe, signOutUser, whoAmI } from '../model/api'
import { sharedRows, type UserSession } from '../model/base'
import { createOutcome, type CreateOutcome, describeSession, filterNotebooks, formatModified, formatSize, newNotebookPath } from '../model/notebookList'
import { failureWords } from '../model/wording'
import { showShare } from '../view/dialogs'
import { h } from '../view/dom'
import { toaster } from '../view/toasts'

const storage = (): Storage => window.sessionStorage
let hubLogin: string | null = null // where JupyterHub signs people in, when it does

function header(signOut: (() => void) | null, root: string | null): HTMLElement {
  return h('header', { class: 'topbar' },
    h('span', { class: 'brand' }, 'collabd'),
    root !== null ? h('span', { class: 'nb-path', title: 'The folder this server serves' }, root || '/') : null,
    h('span', { class: 'spacer' }),
    signOut ? h('button', { type: 'button', class: 'sign-out', onclick: signOut }, 'Sign out') : null,
  )
}

/** Whether a failed request means the token is not (or no longer) accepted. */
const refused = (e: unknown): boolean => e instanceof ApiError && (e.status === 401 || e.status === 403)

function signInForm(root: HTMLElement, message: string | null, signedIn: (api: AdminApi, listing: NotebookListing) => void): void {
  const field = h('input', {
    type: 'password', name: 'token', class: 'token-field', required: true, autocomplete: 'current-password',
    'aria-label': 'Admin token', placeholder: 'Admin token',
  })
  const error = h('p', { class: 'sign-in-error', role: 'alert', hidden: message === null }, message ?? '')
  const go = h('button', { type: 'submit', class: 'primary sign-in-button' }, 'Sign in')
  const form = h('form', { class: 'sign-in card' },
    h('h1', {}, 'Sign in'),
    h('p', { class: 'hint' }, 'Paste the admin token ', h('code', {}, 'collabd serve'), ' printed when it started. It stays in this tab only.'),
    field, error, h('div', { class: 'dialog-actions' },
      hubLogin ? h('a', { href: hubLogin, class: 'hub-sign-in' }, 'Sign in with JupyterHub') : null, go))
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const token = field.value.trim()
    if (!token) return
    go.disabled = true
    error.hidden = true
    const api = new AdminApi(appOrigin(), token)
    api.notebooks().then((listing) => {
      saveAdminToken(storage(), token)
      signedIn(api, listing)
    }, (err: unknown) => {
      go.disabled = false
      error.hidden = false
      error.textContent = refused(err) ? 'This token is not the admin token of this server.' : failureWords('signing in', err, navigator.onLine)
      field.select()
    })
  })
  root.replaceChildren(header(null, null), h('main', { class: 'home' }, form))
  field.focus()
}

interface ListActions {
  open(entry: NotebookEntry): void
  share(entry: NotebookEntry): void
}

function notebookRow(entry: NotebookEntry, now: number, actions: ListActions): HTMLElement {
  const live = describeSession(entry)
  return h('li', { class: 'notebook-row' + (entry.session ? ' live' : ''), 'data-path': entry.path },
    h('div', { class: 'notebook-main' },
      h('button', { type: 'button', class: 'notebook-name link', title: `Open ${entry.path}`, onclick: () => actions.open(entry) }, entry.path),
      h('span', { class: 'notebook-meta' }, `${formatSize(entry.size)} · ${formatModified(entry.modified, now)}`),
      live ? h('span', { class: 'notebook-live', title: 'It has a session' }, h('span', { class: 'live-dot', 'aria-hidden': 'true' }), live) : null,
    ),
    h('div', { class: 'notebook-actions' },
      h('button', { type: 'button', class: 'notebook-open primary', onclick: () => actions.open(entry) }, 'Open'),
      h('button', { type: 'button', class: 'notebook-share', onclick: () => actions.share(entry) }, 'Share'),
    ),
  )
}

/**
 * The "New notebook" dialog: a name checked here, then `create` (the admin's or a signed-in
 * user's). It stays open to say why not: a bad name, the hub's refusal, or a file already there
 * (with a link to open that one instead).
 */
function askNewName(create: (path: string) => Promise<CreateOutcome>): void {
  const field = h('input', { name: 'name', class: 'new-name', required: true, autocomplete: 'off', placeholder: 'e.g. analysis or reports/q3', 'aria-label': 'Notebook name' })
  const error = h('p', { class: 'sign-in-error', role: 'alert', hidden: true })
  const openExisting = h('a', { class: 'new-open-existing', hidden: true }, 'Open it')
  const go = h('button', { type: 'submit', class: 'primary new-create' }, 'Create')
  const form = h('form', {},
    h('h1', {}, 'New notebook'),
    h('p', { class: 'hint' }, 'A name, or a path inside the folder; .ipynb is added.'),
    field, error,
    h('div', { class: 'dialog-actions' },
      openExisting,
      h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'),
      go))
  const dialog = h('dialog', { class: 'new-dialog', 'aria-label': 'New notebook' }, form)
  const say = (text: string, open: string | null): void => {
    error.hidden = false
    error.textContent = text
    openExisting.hidden = open === null
    if (open !== null) openExisting.setAttribute('href', open)
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const made = newNotebookPath(field.value)
    if ('error' in made) return say(made.error, null)
    go.disabled = true
    void create(made.path).then((outcome) => {
      go.disabled = false
      if ('error' in outcome) say(outcome.error, outcome.open)
      else location.assign(outcome.open)
    })
  })
  dialog.addEventListener('close', () => dialog.remove())
  document.body.append(dialog)
  dialog.showModal()
  field.focus()
}

function notebookList(root: HTMLElement, api: AdminApi, first: NotebookListing, signOut: (message: string | null) => void): void {
  const toasts = toaster()
  let listing = first
  const filter = h('input', { type: 'search', class: 'notebook-filter', placeholder: 'Filter notebooks', 'aria-label': 'Filter notebooks' })
  const list = h('ul', { class: 'notebook-list', 'aria-label': 'Notebooks' })
  const empty = h('p', { class: 'panel-empty notebook-empty', hidden: true })
  const truncated = h('p', { class: 'hint', hidden: true }, 'Only the first notebooks are listed; filter to find others.')
  const failed = (what: string, e: unknown): void => {
    if (refused(e)) signOut('The admin token is no longer accepted; sign in again.')
    else toasts.notify(failureWords(what, e, navigator.onLine))
  }
  const openLinks = async (entry: NotebookEntry): Promise<{ edit: string; view: string } | null> => {
    try {
      const made = await api.open(entry.path)
      return { edit: rebaseLink(made.edit_url, location.origin), view: rebaseLink(made.view_url, location.origin) }
    } catch (e) {
      failed(`opening ${entry.path}`, e)
      return null
    }
  }
  const actions: ListActions = {
    open: (entry) => void openLinks(entry).then((links) => links && location.assign(links.edit)),
    share: (entry) => void openLinks(entry).then((links) => {
      if (!links) return
      showShare(links)
      void refresh()
    }),
  }
  const draw = (): void => {
    const shown = filterNotebooks(listing.notebooks, filter.value)
    const now = Date.now() / 1000
    list.replaceChildren(...shown.map((entry) => notebookRow(entry, now, actions)))
    empty.hidden = shown.length > 0
    empty.textContent = listing.notebooks.length === 0 ? 'No notebooks here yet — create one.' : 'No notebook matches the filter.'
    truncated.hidden = !listing.truncated
  }
  const refresh = async (): Promise<void> => {
    try {
      listing = await api.notebooks()
      draw()
    } catch (e) {
      failed('listing the notebooks', e)
    }
  }
  const create = async (path: string): Promise<CreateOutcome> => {
    try {
      const made = await api.open(path)
      return createOutcome(path, made.created_file, rebaseLink(made.edit_url, location.origin))
    } catch (e) {
      if (refused(e)) signOut('The admin token is no longer accepted; sign in again.')
      return { error: failureWords(`creating ${path}`, e, navigator.onLine), open: null }
    }
  }
  filter.addEventListener('input', draw)
  root.replaceChildren(
    header(() => signOut(null), listing.root),
    h('main', { class: 'home' },
      h('div', { class: 'home-head' },
        h('h1', {}, 'Notebooks'),
        h('div', { class: 'home-tools' },
          filter,
          h('button', { type: 'button', class: 'notebook-refresh', title: 'Refresh the list', 'aria-label': 'Refresh the list', onclick: () => void refresh() }, '↻'),
          h('button', { type: 'button', class: 'primary new-notebook', onclick: () => askNewName(create) }, '+ New notebook'))),
      list, empty, truncated),
    toasts.el,
  )
  draw()
  // Sessions come and go and people join: keep the counts fresh while the tab is looked at.
  const timer = setInterval(() => {
    if (!document.hidden) void refresh()
  }, 15_000)
  window.addEventListener('pagehide', () => clearInterval(timer), { once: true })
}

/** A signed-in user's home: the sessions shared with them (and theirs), opened by their sign-in;
 * "New notebook" where they may create; "Sign out" where the sign-in is ours to forget (JupyterHub's
 * cookie: a proxy's header is the proxy's). */
async function sharedHome(root: HTMLElement, me: Me): Promise<void> {
  const origin = appOrigin()
  const create = async (path: string): Promise<CreateOutcome> => {
    try {
      const made = await createAsUser(origin, path)
      return createOutcome(path, made.created_file, `${origin}/s/${encodeURIComponent(made.id)}`)
    } catch (e) {
      return { error: failureWords(`creating ${path}`, e, navigator.onLine), open: null }
    }
  }
  const toasts = toaster()
  const signOut = (): void => {
    signOutUser(origin).then(() => {
      const again = me.login_url ? `${me.login_url}?next=${encodeURIComponent(location.pathname)}` : null
      root.replaceChildren(header(null, null), h('main', { class: 'home' },
        h('div', { class: 'sign-in card signed-out' }, h('h1', {}, 'Signed out'),
          h('p', { class: 'hint' }, 'You are signed out of collabd in this browser.'),
          again ? h('div', { class: 'dialog-actions' }, h('a', { href: again, class: 'hub-sign-in' }, 'Sign in with JupyterHub')) : null)))
    }, (e: unknown) => toasts.notify(failureWords('signing out', e, navigator.onLine)))
  }
  const main = h('main', { class: 'home' },
    h('div', { class: 'home-head' }, h('h1', {}, 'Shared with you'),
      me.can_create ? h('div', { class: 'home-tools' },
        h('button', { type: 'button', class: 'primary new-notebook', onclick: () => askNewName(create) }, '+ New notebook')) : null),
    h('p', { class: 'hint signed-in-as' }, `Signed in as ${me.user ?? ''}${me.admin ? ' (administrator)' : ''}`))
  root.replaceChildren(header(me.signin?.jupyterhub ? signOut : null, null), main, toasts.el)
  try {
    const rows = sharedRows((await sharedWithMe(origin)) as UserSession[], origin)
    main.append(rows.length === 0
      ? h('p', { class: 'hint' }, `Nothing is shared with ${me.user ?? 'you'} yet.`)
      : h('ul', { class: 'shared-list' }, ...rows.map((row) => h('li', { class: 'shared-session' },
        h('a', { href: row.href }, row.path), ' ',
        h('span', { class: 'hint' }, row.participants ? `${row.role} · ${row.participants} here` : row.role)))))
  } catch (e) {
    main.append(h('p', { class: 'sign-in-error', role: 'alert' }, failureWords('listing your sessions', e, navigator.onLine)))
  }
  document.body.dataset.ready = 'true'
}

export async function mountHome(root: HTMLElement): Promise<void> {
  document.title = 'Notebooks — collabd'
  const me = loadAdminToken(storage()) ? null : await whoAmI(appOrigin())
  if (me?.user) return sharedHome(root, me)
  hubLogin = me?.login_url ? `${me.login_url}?next=${encodeURIComponent(location.pathname)}` : null
  const signedIn = (api: AdminApi, listing: NotebookListing): void => {
    notebookList(root, api, listing, (message) => {
      clearAdminToken(storage())
      signInForm(root, message, signedIn)
    })
    document.body.dataset.ready = 'true'
  }
  const token = loadAdminToken(storage())
  if (token) {
    const api = new AdminApi(appOrigin(), token)
    try {
      return signedIn(api, await api.notebooks())
    } catch (e) {
      if (refused(e)) clearAdminToken(storage())
      signInForm(root, refused(e) ? 'The admin token is no longer accepted; sign in again.' : failureWords('listing the notebooks', e, navigator.onLine), signedIn)
      document.body.dataset.ready = 'true'
      return
    }
  }
  signInForm(root, null, signedIn)
  document.body.dataset.ready = 'true'
}
