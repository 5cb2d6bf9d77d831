/** The notebook page: joins the session, then lays out the header, the cells and the side panels. */
import { appOrigin } from './base'
import { loginTarget, SessionApi, type SessionInfo, whoAmI } from '../model/api'
import { loadName, saveName, userFor } from '../model/identity'
import { readKernel, readKernelChoice, readLastEvent, readQueue } from '../model/kernelState'
import { assignColours } from '../model/colours'
import { followersOf, isFollowed, participants, withColours } from '../model/presence'
import { tokenFromHash, tokenKey, websocketBase } from '../model/route'
import { isReadOnly, powersOf } from '../model/roles'
import { findMatches } from '../model/findReplace'
import { NotebookSession } from '../model/session'
import { headings } from '../model/toc'
import { readOnlyActions, sessionActions } from '../model/sessionActions'
import { askName, confirmRestart } from './dialogs'
import { showCheckpoint } from './checkpointDialog'
import { showExperiments } from './experimentsDialog'
import { Emitter } from '../model/emitter'
import { endedRuns } from '../model/runEnds'
import { showKernelChoice } from './kernelChoice'
import { saveIndicator, saveShortcut } from './saveIndicator'
import { fatalForError, fatalMissingToken } from './fatal'
import { frameScheduler, h, throttle } from './dom'
import { findPanel } from './findPanel'
import { tocPanel } from './tocPanel'
import { Follow } from './follow'
import { topbar } from './header'
import { NotebookView } from './notebook'
import { kernelPanel, participantsPanel, queuePanel } from './panels'
import { toaster } from './toasts'
import { mountChat } from './chatMount'
import { sanitizeHtml } from './markdown'
import { enableWidgets } from './widgetOutputs'
import { failureWords } from '../model/wording'
import { changed } from '../model/ychanged'
import type { Transaction } from 'yjs'
import './styles.css'

function kernelspecName(metadata: unknown): string {
  const spec = (metadata as { kernelspec?: { name?: unknown } } | null)?.kernelspec
  return typeof spec?.name === 'string' ? spec.name : ''
}

function joinNames(names: string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`
}

export interface NotebookRoute {
  sessionId: string
  token: string | null
}

/** Who may do what here; renders the reason instead when the link does not work. */
async function sessionInfo(
  root: HTMLElement,
  api: SessionApi,
  early: Promise<SessionInfo> | null,
): Promise<SessionInfo | null> {
  try {
    return await (early ?? api.info())
  } catch (e) {
    fatalForError(root, e, 'Cannot reach the server')
    return null
  }
}

export async function mountNotebook(
  root: HTMLElement,
  route: NotebookRoute,
  earlyInfo: Promise<SessionInfo> | null = null,
): Promise<void> {
  // No token: a signed-in user comes in by their sign-in; anyone else signs in first, if the
  // hub signs people in.
  const signedIn = route.token ? null : await whoAmI(appOrigin())
  if (!route.token && !signedIn?.user) {
    const login = loginTarget(signedIn, location.pathname)
    return login ? location.assign(login) : fatalMissingToken(root)
  }
  const token = route.token ?? ''
  const api = new SessionApi(appOrigin(), route.sessionId, token)
  const info = await sessionInfo(root, api, earlyInfo)
  if (!info) return
  performance.mark('collabd:info')
  const powers = powersOf(info, token)
  const readOnly = isReadOnly(info)
  document.title = `${info.path} — collabd`

  // A named link or a sign-in says who this is: no need to ask (the hub shows that name anyway).
  let name = powers.named?.name ?? signedIn?.user ?? loadName(localStorage) ?? saveName(localStorage, await askName(null))
  const session = new NotebookSession({
    serverUrl: websocketBase(appOrigin()),
    sessionId: route.sessionId,
    token,
    user: userFor(name),
  })
  session.setRole(readOnly ? 'view' : 'edit')
  // For tests and debugging: the live session, never the token.
  ;(window as unknown as { collabd: unknown }).collabd = { session }
  const toasts = toaster()
  const me = (): { name: string; client_id: number } => ({ name, client_id: session.clientId })
  let userColour = session.awareness.getLocalState()?.user?.color as string | undefined
  const rename = async (): Promise<void> => {
    if (powers.named) return toasts.notify(`Your name comes from your link: you are ${powers.named.name} here.`)
    name = saveName(localStorage, await askName(name)) || name
    userColour = undefined
    session.setUser(userFor(name))
  }

  const actions = readOnly
    ? readOnlyActions
    : sessionActions({ api, flush: () => session.flush(), request: (op, fields) => session.request(op, fields), me, notify: toasts.notify, online: () => session.connection.status === 'connected' })
  // Widgets: live for everyone, changed only by editors (through the hub, the kernel's comm peer).
  enableWidgets({
    map: session.notebook.ydoc.getMap('widgets'),
    readOnly,
    by: me,
    clean: sanitizeHtml,
    post: readOnly ? null : (modelId, body) => api.changeWidget(modelId, body).then(() => true, (e: unknown) => {
      toasts.notify(failureWords('changing the widget', e, session.connection.status === 'connected'))
      return false
    }),
  })
  const view: NotebookView = new NotebookView({ session, actions, confirmRestart, openFind: () => openFind() })
  const find = findPanel(!readOnly, {
    find: (query, options) => findMatches(view.cellTexts(), query, options),
    show: (match) => view.showMatch(match),
    position: () => view.findPosition(),
    next: (matches, delta) => view.nextMatchIndex(matches, delta),
    replace: (matches, query, replacement, options) => view.replace(matches, query, replacement, options),
  })
  const openFind = (): void => {
    document.body.classList.add('drawer-open')
    find.open()
  }
  const toc = tocPanel((cellId) => view.select(cellId, true))
  const refreshToc = throttle(() => {
    toc.update(headings(session.notebook.cells.map((c) => ({ id: c.id, type: c.cell_type, source: c.cell_type === 'markdown' ? c.getSource() : '' }))))
    find.refresh()
  }, 300)
  session.notebook.ydoc.on('afterTransaction', (tr: Transaction) => { if (changed(tr)) refreshToc() })
  // Offline (or not yet connected), nothing can run: the run buttons say so.
  const showOnline = (): void => {
    const offline = session.connection.status !== 'connected'
    document.body.classList.toggle('offline', offline)
    for (const button of document.querySelectorAll<HTMLButtonElement>('.run-all-button, .kernel-actions button')) {
      button.disabled = offline
      button.title = offline ? 'You are offline — nothing can run until the connection is back' : button.dataset.title ?? ''
    }
  }
  session.connectionChanged.on(showOnline)

  const toggleDrawer = (): void => void document.body.classList.toggle('drawer-open')
  // Saving now (Ctrl-S, or the indicator): the indicator says how it went.
  let saving = false
  const saves = readOnly ? null : saveIndicator(session, () => save())
  const save = (): void => {
    if (!saves || saving) return
    saving = true
    saves.apply({ type: 'saving' })
    void actions.save().then((saved) => {
      saving = false
      saves.apply(saved ? { type: 'saved', at: saved.saved_at } : { type: 'save-failed' })
    })
  }
  saveShortcut(readOnly ? null : save)
  // Runs that left the queue (ended or cancelled): the experiments dialog asks for them then.
  const runsEnded = new Emitter<string[]>()
  let queued: string[] = []
  session.ystate.observe(() => {
    const now = readQueue(session.ystate.get('queue')).map((entry) => entry.request_id)
    const ended = endedRuns(queued, now)
    queued = now
    if (ended.length) runsEnded.emit(ended)
  })
  const experiments = (): void => showExperiments({
    api, readOnly, sessionId: route.sessionId, token, path: info.path, notify: toasts.notify,
    cellNumber: (id) => view.cellNumber(id),
    revealCell: (id) => view.select(id, true),
    onRunsEnded: (listener) => runsEnded.on(listener),
  })
  const header = topbar({
    info, readOnly, session, api, runAll: () => view.runAll(), notify: toasts.notify, toggleDrawer,
    clearAll: () => view.execute('clear-all-outputs'), find: openFind,
    saveIndicator: saves?.el ?? null,
    checkpoint: readOnly ? null : () => showCheckpoint((message) => actions.checkpoint(message)),
    experiments,
    powers,
    // This page's own anonymous link was replaced (its connection is closed): open with the new one.
    reopenWith: (url) => {
      const fresh = tokenFromHash(new URL(url).hash)
      if (fresh) sessionStorage.setItem(tokenKey(route.sessionId), fresh)
      location.reload()
    },
  })
  const followBanner = h('div', { class: 'follow-banner', hidden: true, role: 'status' })
  const followedBanner = h('div', { class: 'followed-banner', hidden: true, role: 'status' })

  // --- side panels ---
  const kernel = kernelPanel(readOnly, {
    interrupt: () => view.execute('interrupt'),
    restart: () => view.execute('restart'),
    change: () => showKernelChoice(actions, currentKernel()),
    cellNumber: (cellId) => view.cellNumber(cellId),
  })
  const queue = queuePanel(readOnly, {
    cancel: (id) => actions.cancel(id),
    reveal: (cellId) => view.select(cellId, true),
    cellNumber: (cellId) => view.cellNumber(cellId),
  })
  let people = participants(new Map(), session.clientId)
  // Scroll positions go out only while someone follows this participant: no chatter otherwise.
  let followed = false
  const follow = new Follow({
    cellElement: (id) => view.cellElement(id),
    topInset: () => header.getBoundingClientRect().height,
    publishScroll: (spot) => {
      if (followed) session.setScroll(spot)
    },
    changed: (following) => {
      session.setFollowing(following)
      const who = people.find((p) => p.clientId === following)
      followBanner.hidden = following === null
      followBanner.textContent = who ? `Following ${who.user.name} — press any key or click to stop` : ''
      refreshPeople()
    },
  })
  const participantsBox = participantsPanel({
    toggleFollow: (clientId) => follow.toggle(clientId, people),
    rename: () => void rename(),
    cellNumber: (cellId) => view.cellNumber(cellId),
  })
  const refreshPeople = frameScheduler(() => {
    const present = participants(session.awareness.getStates() as Map<number, Record<string, unknown>>, session.clientId)
    const colours = assignColours(present.map((p) => ({ clientId: p.clientId, name: p.user.name, joined: p.joined ?? null })))
    people = withColours(present, colours)
    // Publish the colour everyone agrees on, so remote cursors match the list.
    const mine = colours.get(session.clientId)
    if (mine && mine !== userColour) {
      userColour = mine
      session.setUser(userFor(name, mine))
    }
    const followers = followersOf(people, session.clientId)
    followedBanner.hidden = followers.length === 0
    followedBanner.textContent = followers.length ? `${joinNames(followers)} ${followers.length > 1 ? 'are' : 'is'} following you` : ''
    const nowFollowed = isFollowed(people, session.clientId)
    if (nowFollowed !== followed) {
      followed = nowFollowed
      session.setScroll(followed ? follow.currentSpot() : null)
    }
    participantsBox.update(people, follow.following)
    view.showPresence(people)
    follow.update(people)
  })
  session.awareness.on('change', refreshPeople)

  const currentKernel = (): ReturnType<typeof readKernel> => {
    const info = readKernel(session.ystate.get('kernel'))
    // Before the first run the hub has not started a kernel: name the one the notebook asks for.
    if (!info.name) info.name = kernelspecName(session.notebook.getMetadata())
    // Where it runs: as the hub says, else where it was chosen to run, else here.
    if (!info.host) info.host = readKernelChoice(session.ystate.get('kernel_choice'))?.host ?? 'local'
    return info
  }
  const refreshState = frameScheduler(() => {
    kernel.update(currentKernel(), readLastEvent(session.ystate.get('last_event')))
    queue.update(readQueue(session.ystate.get('queue')))
  })
  session.ystate.observe(refreshState)
  refreshState()

  const linkName = (info as { link?: { name?: unknown } }).link?.name
  const chat = mountChat({
    session, readOnly, sessionId: route.sessionId, token, notify: toasts.notify,
    me: () => ({ name: typeof linkName === 'string' ? linkName : name, client_id: session.clientId }),
    cellsRoot: view.el.querySelector<HTMLElement>('.cells') ?? view.el,
    cellElement: (id) => view.cellElement(id), cellNumber: (id) => view.cellNumber(id), select: (id, scroll) => view.select(id, scroll),
  })
  const loading = h('div', { class: 'loading' }, 'Loading notebook…')
  root.replaceChildren(
    header,
    followBanner,
    followedBanner,
    h('div', { class: 'layout' + (readOnly ? ' read-only' : '') },
      h('div', { class: 'notebook-column' }, loading, view.el),
      h('aside', { class: 'sidebar', 'aria-label': 'Panels' },
        h('button', { type: 'button', class: 'drawer-close', onclick: toggleDrawer, 'aria-label': 'Close the panels' }, '✕'),
        find.el, participantsBox.el, ...chat.panels, kernel.el, queue.el, toc.el),
    ),
    toasts.el,
  )
  document.body.classList.toggle('read-only', readOnly)
  for (const button of document.querySelectorAll<HTMLButtonElement>('.run-all-button, .kernel-actions button')) {
    button.dataset.title = button.title
  }
  showOnline()

  window.addEventListener('offline', () => session.setBrowserOnline(false))
  window.addEventListener('online', () => session.setBrowserOnline(true))
  if (!navigator.onLine) session.setBrowserOnline(false)

  await session.synced
  performance.mark('collabd:synced')
  refreshState()
  loading.remove()
  view.reconcile()
  refreshToc()
  performance.mark('collabd:drawn')
  document.body.dataset.ready = 'true'
  refreshPeople()
}
