/**
 * The playback page at /s/{id}/replay#token=...: the notebook as it was (the live page's
 * NotebookView, read-only, on a replayed session), who was there and where, a timeline with each
 * participant's activity and the runs, play / pause at 1x–16x skipping idle stretches, jump to a
 * run, download the .ipynb as of the moment shown, and "start a new session from here". A hub's
 * session keeps growing while the page is open: the page polls for what follows (tail.ts) and a
 * playhead at the end stays at the end ("Live").
 *
 * This module wires the parts together: the clock and seeking; the parts are `controls.ts`,
 * `timeline.ts`, `runsPanel.ts`, `peoplePanel.ts` and the header below.
 */
import { appOrigin } from '../view/base'
import '../view/styles.css'
import './replay.css'
import { loginTarget, rebaseLink, whoAmI } from '../model/api'
import { readOnlyActions } from '../model/sessionActions'
import type { NotebookSession } from '../model/session'
import { h } from '../view/dom'
import { saveBlob } from '../view/download'
import { fatalForError, fatalMissingToken } from '../view/fatal'
import { NotebookView } from '../view/notebook'
import { sanitizeHtml } from '../view/markdown'
import { enableWidgets } from '../view/widgetOutputs'
import { toaster } from '../view/toasts'
import { controls } from './controls'
import { atEnd, canGrow, extendSummary, followEnd, mergeSummary } from './live'
import { showChangesDialog } from './changesView'
import { advance, clamp, type Clock, formatMoment, initialClock, momentFileName, runOutputMoment, type Summary } from './model'
import { peoplePanel } from './peoplePanel'
import { ReplayDoc } from './player'
import { presentPeople } from './presence'
import { runsPanel } from './runsPanel'
import { RecordingApi, type WindowEntry } from './source'
import { LiveTail } from './tail'
import { timeline } from './timeline'
import { chatTrack, seekFor } from './chatTrack'
import { ChatApi } from '../model/chat'
import type { ReplayMoment } from '../model/route'

export { presentPeople } from './presence'

/** Opened at a run's end: look this far past it, in these steps, for the run's outputs. */
const RUN_SETTLE_MAX_S = 3
const RUN_SETTLE_STEP_S = 0.02

export interface ReplayRoute {
  sessionId: string
  token: string | null
  /** Opened at a moment (`#t=…&cell=…`, say from an experiment), else at the start. */
  at?: ReplayMoment
}

interface HeaderActions {
  download(): void
  fork(): void
  mark(): void
  changes(): void
}

function replayHeader(summary: Summary, canFork: boolean, actions: HeaderActions): HTMLElement {
  return h('header', { class: 'topbar' },
    h('span', { class: 'brand' }, 'collabd'),
    h('span', { class: 'nb-path', title: summary.session.path }, summary.session.path),
    h('span', { class: 'badge replay-badge' }, summary.replay ? 'Recording file' : 'Replay'),
    h('span', { class: 'spacer' }),
    // An icon that stays and a label that narrow screens drop (the title says it all).
    h('button', { type: 'button', class: 'mark-button', title: 'Mark the moment shown, to compare with another', 'aria-label': 'Mark this moment', onclick: () => actions.mark() },
      h('span', { class: 'icon', 'aria-hidden': 'true' }, '⚑'), h('span', { class: 'label' }, ' Mark')),
    h('button', { type: 'button', class: 'changes-button', title: 'What changed between two moments, and who changed it', 'aria-label': 'What changed', onclick: () => actions.changes() },
      h('span', { class: 'icon', 'aria-hidden': 'true' }, '±'), h('span', { class: 'label' }, ' What changed')),
    h('button', { type: 'button', class: 'download-button', onclick: () => actions.download() }, 'Download .ipynb'),
    canFork ? h('button', { type: 'button', class: 'fork-button', onclick: () => actions.fork() }, 'Start a new session from here') : null,
    h('button', {
      type: 'button', class: 'drawer-toggle', title: 'Panels: people, runs', 'aria-label': 'Panels: people, runs',
      onclick: () => void document.body.classList.toggle('drawer-open'),
    }, '☰'),
  )
}

export async function mountReplay(root: HTMLElement, route: ReplayRoute): Promise<void> {
  document.title = 'Replay — collabd'
  const me = route.token ? null : await whoAmI(appOrigin())
  if (!route.token && !me?.user) {
    const login = loginTarget(me, location.pathname)
    return login ? location.assign(login) : fatalMissingToken(root)
  }
  const token = route.token ?? ''
  const rec = new RecordingApi(appOrigin(), route.sessionId, token)
  let summary: Summary
  let role = 'view'
  try {
    ;[summary, role] = await Promise.all([rec.summary(), rec.role()])
  } catch (e) {
    return fatalForError(root, e, 'Cannot load the recording')
  }
  document.title = `Replay: ${summary.session.path} — collabd`
  const canFork = !summary.replay && (role === 'edit' || role === 'admin')
  const doc = new ReplayDoc(rec, summary.end)
  const live = canGrow(summary)
  let clock: Clock = initialClock(summary)
  const toasts = toaster(15_000)

  // --- the notebook as it was, and who was there ---
  const column = h('div', { class: 'notebook-column' })
  const people = peoplePanel()
  let view: NotebookView | null = null
  let awarenessOf: NotebookSession['awareness'] | null = null
  const refreshPeople = (): void => {
    const here = presentPeople(doc.session.awareness.getStates() as Map<number, Record<string, unknown>>)
    view?.showPresence(here)
    people.update(here, (id) => (view ? view.cellNumber(id) : 0))
  }
  const mountView = (session: NotebookSession): void => {
    // The old view goes with everything it holds: editors, observers, its key listener.
    view?.destroy()
    awarenessOf?.off('change', refreshPeople)
    awarenessOf = session.awareness
    // Widgets as they were at the moment shown, changing as it plays; nobody changes them here.
    enableWidgets({
      map: session.notebook.ydoc.getMap('widgets'), readOnly: true, post: null, by: () => null,
      clean: sanitizeHtml, lockedHint: 'Playback: the widget as it was at this moment',
    })
    view = new NotebookView({ session, actions: readOnlyActions })
    column.append(view.el)
    view.reconcile()
    session.awareness.on('change', refreshPeople)
    refreshPeople()
  }
  doc.rebuilt.on(mountView)
  mountView(doc.session)

  // --- the parts ---
  const bar = controls({
    togglePlaying: () => setPlaying(!clock.playing),
    setSpeed: (speed) => (clock = { ...clock, speed }),
    setSkipIdle: (skipIdle) => (clock = { ...clock, skipIdle }),
    seek: (t) => void seek(t),
    goLive: () => { setPlaying(false); void seek(summary.end) },
  })
  const lanes = timeline({ seek: (t) => void seek(t), jumpToRun: (i) => void jumpToRun(i) })
  const runs = runsPanel({
    jumpToRun: (i) => void jumpToRun(i),
    messages: () => said,
    jumpToMessage: (m) => void seek(seekFor(m, summary)),
    saveRuns: (format) => {
      const stem = (summary.session.path.split('/').pop() ?? 'notebook').replace(/\.ipynb$/, '')
      void saveBlob(rec.runsFile(format), `${stem}-runs.${format}`, toasts.notify)
    },
  })
  const talk = chatTrack({ seek: (t) => void seek(t), session: () => doc.session, select: (id) => view?.select(id, true) })
  const chatApi = new ChatApi(appOrigin(), route.sessionId, token)
  let said: unknown[] = []
  let chatAsked = 0
  const redrawChat = (): void => {
    if (Date.now() - chatAsked < 3000) return // a live recording grows often: ask at most every 3 s
    chatAsked = Date.now()
    void chatApi.at(summary.end).then((found) => { said = found.messages; talk.draw(summary, said) }).catch(() => undefined)
  }
  const redraw = (): void => {
    bar.setRange(summary)
    lanes.draw(summary)
    talk.draw(summary, said)
    redrawChat()
  }
  redraw()
  runs.update(summary)

  const fork = async (): Promise<void> => {
    try {
      const made = await rec.fork(doc.shown)
      const link = rebaseLink(made.edit_url, location.origin)
      toasts.notify(h('span', { class: 'fork-result' }, `New session ${made.path}: `,
        h('a', { href: link, target: '_blank', rel: 'noopener', class: 'fork-link' }, 'open it')))
    } catch (e) {
      toasts.notify(`Could not start a new session: ${String(e)}`)
    }
  }
  // Marked moments, to compare ("What changed") with the moment shown or with each other.
  let marks: number[] = []
  const header = replayHeader(summary, canFork, {
    download: () => void saveBlob(rec.notebookAt(doc.shown), momentFileName(summary.session.path, doc.shown), toasts.notify),
    fork: () => void fork(),
    mark: () => {
      if (!marks.includes(doc.shown)) marks = [...marks, doc.shown].sort((a, b) => a - b)
      lanes.showMarks(marks)
      toasts.notify(`Marked ${formatMoment(doc.shown)} — "What changed" compares from it.`)
    },
    changes: () => {
      const marked = marks.map((t, i) => ({ t, label: `mark ${i + 1}` }))
      const earlier = marked.filter((m) => m.t < doc.shown)
      showChangesDialog({
        froms: [{ t: summary.start, label: 'the start' }, ...earlier, ...marked.filter((m) => m.t >= doc.shown)],
        tos: [{ t: doc.shown, label: 'the moment shown' }, ...marked, { t: summary.end, label: 'the end' }],
        fromIndex: earlier.length,
        load: (from, to) => rec.diff(from, to),
      })
    },
  })
  root.replaceChildren(header, h('div', { class: 'replay-head' }, bar.el, lanes.el, talk.row),
    h('div', { class: 'layout read-only' }, column, h('aside', { class: 'sidebar' }, people.el, talk.panel, runs.el)), toasts.el)
  document.body.classList.add('read-only', 'replay')

  // --- playback ---
  const show = (): void => {
    const t = doc.shown
    const following = live && !clock.playing && atEnd(t, summary.end)
    bar.show({ shown: t, playing: clock.playing, canGoLive: live, following }, summary)
    lanes.showPlayhead(t)
    document.body.dataset.replayLive = String(following)
    document.body.dataset.replayShown = String(t)
    document.body.dataset.replayPlaying = String(clock.playing)
    view?.reconcile() // new cells get their views now, so presence lands on them
    refreshPeople()
    talk.show(t)
  }
  let seeking = false
  const seek = async (t: number): Promise<void> => {
    clock = { ...clock, position: clamp(t, summary) }
    seeking = true
    try {
      await doc.seek(clock.position)
    } finally {
      seeking = false
    }
    show()
  }
  /** Shows the run's output: the moment it ended, its cell selected and scrolled into view. */
  const jumpToRun = async (i: number): Promise<void> => {
    const run = summary.runs[i]
    await seek(runOutputMoment(run))
    showCell(run.cell_id)
  }
  const showCell = (cellId: string): void => {
    view?.select(cellId)
    // Cells above come to life (rendered markdown, editors) as they near the view and change
    // height: scroll again once they have.
    const reveal = (): void => view?.cellElement(cellId)?.scrollIntoView({ block: 'start' })
    reveal()
    requestAnimationFrame(() => requestAnimationFrame(reveal))
  }
  let last = 0
  const frame = (now: number): void => {
    const elapsed = last ? (now - last) / 1000 : 0
    last = now
    if (clock.playing) {
      clock = advance(clock, elapsed, summary)
      if (!seeking) void seek(clock.position)
      if (!clock.playing) show()
    }
    requestAnimationFrame(frame)
  }
  const setPlaying = (playing: boolean): void => {
    if (playing && clock.position >= summary.end) clock = { ...clock, position: summary.start }
    clock = { ...clock, playing }
    show()
  }

  // --- following a live session ---
  const grew = async (entries: WindowEntry[], end: number): Promise<void> => {
    const oldEnd = summary.end
    summary = extendSummary(summary, end, entries.every((e) => e.kind === 'awareness'))
    await doc.grow(entries, summary.end)
    redraw()
    const target = followEnd(clock.position, clock.playing, oldEnd, summary.end)
    if (target !== null) await seek(target)
    else show()
  }
  const tail = live
    ? new LiveTail(rec, {
      grew,
      summary: (fresh) => {
        summary = mergeSummary(fresh, summary.end)
        redraw()
        runs.update(summary)
        show()
      },
    }, summary, {
      nowMs: () => Date.now(),
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
      hidden: () => document.hidden,
    })
    : null

  // For tests and debugging: the player, never the token.
  ;(window as unknown as { collabd: unknown }).collabd = {
    replay: {
      seek, get summary() { return summary }, play: () => setPlaying(true), pause: () => setPlaying(false),
      get clock() { return clock },
      /** A far seek shows the hub's indexed notebook while the recorded document loads. */
      get previewing() { return doc.previewing },
    },
  }
  await seek(route.at ? route.at.t : summary.start)
  if (route.at?.cell) {
    // A run's moment is when it ended; its outputs and end are written a moment later, and
    // the next run or edit may follow soon after: show the first moment that holds them.
    const ended = route.at.t
    for (let t = ended; !doc.holdsRunEnded(ended) && t < ended + RUN_SETTLE_MAX_S && t < summary.end;) {
      t = Math.min(summary.end, t + RUN_SETTLE_STEP_S)
      await seek(t)
    }
    showCell(route.at.cell)
  }
  requestAnimationFrame(frame)
  tail?.start()
  document.body.dataset.ready = 'true'
}
