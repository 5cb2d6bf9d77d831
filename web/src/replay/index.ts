/**
 * The playback page at /s/{id}/replay#token=...: the notebook as it was (the live page's
 * NotebookView, read-only, on a replayed session), who was there and where, a timeline with each
 * participant's activity and the runs, play / pause at 1x–16x skipping idle stretches, jump to a
 * run, download the .ipynb as of the moment shown, and "start a new session from here". A hub's
 * session keeps growing while the page is open: the page polls for what follows (tail.ts) and a
 * playhead at the end stays at the end ("Live").
 */
import '../view/styles.css'
import './replay.css'
import { ApiError, rebaseLink, SessionApi } from '../model/api'
import { userFor } from '../model/identity'
import type { Participant } from '../model/presence'
import type { NotebookSession } from '../model/session'
import { h } from '../view/dom'
import { NotebookView } from '../view/notebook'
import { atEnd, canGrow, extendSummary, followEnd, mergeSummary } from './live'
import {
  advance,
  barsOver,
  busiest,
  clamp,
  type Clock,
  formatMoment,
  formatOffset,
  filterRuns,
  fraction,
  initialClock,
  momentFileName,
  runLabel,
  runMoment,
  SPEEDS,
  type Speed,
  type Summary,
} from './model'
import { ReplayDoc } from './player'
import { RecordingApi, type WindowEntry } from './source'
import { LiveTail } from './tail'

export interface ReplayRoute {
  sessionId: string
  token: string | null
}

function fatal(root: HTMLElement, title: string, detail: string): void {
  root.replaceChildren(h('div', { class: 'fatal', role: 'alert' }, h('h1', {}, title), h('p', {}, detail)))
}

/** Everyone present in the replayed awareness (names without a colour get the usual one). */
export function presentPeople(states: Map<number, Record<string, unknown>>): Participant[] {
  const people: Participant[] = []
  states.forEach((state, clientId) => {
    const user = state.user as { name?: unknown; color?: unknown } | undefined
    if (!user || typeof user.name !== 'string') return
    const base = userFor(user.name)
    const color = typeof user.color === 'string' ? user.color : base.color
    people.push({
      clientId,
      user: { name: user.name, color, colorLight: color + '33' },
      cell: typeof state.cell === 'string' ? state.cell : null,
      scroll: null,
      self: false,
    })
  })
  return people.sort((a, b) => a.user.name.localeCompare(b.user.name) || a.clientId - b.clientId)
}

export async function mountReplay(root: HTMLElement, route: ReplayRoute): Promise<void> {
  document.title = 'Replay — collabd'
  if (!route.token) return fatal(root, 'This link is incomplete', 'The access token is missing from the link (#token=…).')
  const token = route.token
  const rec = new RecordingApi(location.origin, route.sessionId, token)
  let summary: Summary
  let role = 'view'
  try {
    ;[summary, role] = await Promise.all([rec.summary(), rec.role()])
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
      return fatal(root, 'This link is not valid', 'The token in the link was not accepted.')
    }
    if (e instanceof ApiError && e.status === 404) return fatal(root, 'No such session', 'This session does not exist (any more).')
    return fatal(root, 'Cannot load the recording', String(e))
  }
  document.title = `Replay: ${summary.session.path} — collabd`
  const canFork = !summary.replay && (role === 'edit' || role === 'admin')
  const api = new SessionApi(location.origin, route.sessionId, token)
  const doc = new ReplayDoc(rec, summary.end)
  let clock: Clock = initialClock(summary)

  // --- notebook ---
  const column = h('div', { class: 'notebook-column' })
  let view: NotebookView | null = null
  let awarenessOf: NotebookSession['awareness'] | null = null
  const people = h('ul', { class: 'participants-list' })
  const refreshPeople = (): void => {
    const states = doc.session.awareness.getStates() as Map<number, Record<string, unknown>>
    const here = presentPeople(states)
    view?.showPresence(here)
    people.replaceChildren(...here.map((p) => {
      const n = p.cell && view ? view.cellNumber(p.cell) : 0
      return h('li', { class: 'participant', 'data-client-id': String(p.clientId) },
        h('span', { class: 'participant-dot', style: `background:${p.user.color}` }),
        h('span', { class: 'participant-name' }, p.user.name),
        h('span', { class: 'participant-cell' }, n > 0 ? `cell ${n}` : '—'))
    }))
    if (!here.length) people.append(h('li', { class: 'panel-empty' }, 'Nobody'))
  }
  const mountView = (session: NotebookSession): void => {
    // The old view goes with everything it holds: editors, observers, its key listener.
    view?.destroy()
    awarenessOf?.off('change', refreshPeople)
    awarenessOf = session.awareness
    view = new NotebookView({
      session,
      api,
      readOnly: true,
      me: () => ({ name: '', client_id: session.clientId }),
      notify: (m) => toast(m),
    })
    column.append(view.el)
    view.reconcile()
    session.awareness.on('change', refreshPeople)
    refreshPeople()
  }
  doc.rebuilt.on(mountView)
  mountView(doc.session)

  // --- header and controls ---
  const toasts = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' })
  const toast = (message: string | Node): void => {
    const el = h('div', { class: 'toast' }, message)
    toasts.append(el)
    setTimeout(() => el.remove(), 15000)
  }
  const timeLabel = h('span', { class: 'replay-time', 'aria-live': 'off' })
  const playButton = h('button', { type: 'button', class: 'replay-play primary', onclick: () => setPlaying(!clock.playing) }, 'Play')
  const speed = h('select', { class: 'replay-speed', 'aria-label': 'Speed' },
    ...SPEEDS.map((s) => h('option', { value: String(s) }, `${s}x`)))
  speed.addEventListener('change', () => (clock = { ...clock, speed: Number(speed.value) as Speed }))
  const skip = h('input', { type: 'checkbox', class: 'replay-skip', checked: true })
  skip.addEventListener('change', () => (clock = { ...clock, skipIdle: skip.checked }))
  const slider = h('input', {
    type: 'range', class: 'replay-slider', 'aria-label': 'Moment',
    min: String(summary.start), max: String(summary.end), step: 'any', value: String(summary.start),
  })
  const live = canGrow(summary)
  const liveButton = h('button', {
    type: 'button', class: 'replay-live', hidden: !live, title: 'Follow the session as it goes on',
    onclick: () => { setPlaying(false); void seek(summary.end) },
  }, 'Go live')
  slider.addEventListener('input', () => void seek(Number(slider.value)))

  const download = async (): Promise<void> => {
    const t = doc.shown
    try {
      const url = URL.createObjectURL(await rec.notebookAt(t))
      const a = h('a', { href: url, download: momentFileName(summary.session.path, t) })
      document.body.append(a)
      a.click()
      a.remove()
      setTimeout(() => URL.revokeObjectURL(url), 10_000)
    } catch (e) {
      toast(`Download failed: ${String(e)}`)
    }
  }
  const fork = async (): Promise<void> => {
    try {
      const made = await rec.fork(doc.shown)
      const link = rebaseLink(made.edit_url, location.origin)
      toast(h('span', { class: 'fork-result' }, `New session ${made.path}: `,
        h('a', { href: link, target: '_blank', rel: 'noopener', class: 'fork-link' }, 'open it')))
    } catch (e) {
      toast(`Could not start a new session: ${String(e)}`)
    }
  }
  const header = h('header', { class: 'topbar' },
    h('span', { class: 'brand' }, 'collabd'),
    h('span', { class: 'nb-path', title: summary.session.path }, summary.session.path),
    h('span', { class: 'badge replay-badge' }, summary.replay ? 'Recording file' : 'Replay'),
    h('span', { class: 'spacer' }),
    h('button', { type: 'button', class: 'download-button', onclick: () => void download() }, 'Download .ipynb'),
    canFork ? h('button', { type: 'button', class: 'fork-button', onclick: () => void fork() }, 'Start a new session from here') : null,
  )
  const controls = h('div', { class: 'replay-controls' },
    playButton,
    h('label', { class: 'replay-option' }, 'Speed ', speed),
    h('label', { class: 'replay-option' }, skip, ' Skip idle'),
    slider,
    timeLabel,
    liveButton,
  )

  // --- timeline ---
  const playhead = h('div', { class: 'replay-playhead' })
  const track = (cls: string, ...children: HTMLElement[]): HTMLElement => {
    const el = h('div', { class: `replay-track ${cls}` }, ...children)
    el.addEventListener('click', (e) => {
      const box = el.getBoundingClientRect()
      void seek(summary.start + ((e.clientX - box.left) / box.width) * (summary.end - summary.start))
    })
    return el
  }
  const timeline = h('div', { class: 'replay-timeline', 'aria-label': 'Timeline' })
  /** Rows and markers for the summary as it stands (a live recording redraws as it grows). */
  const drawTimeline = (): void => {
    const most = busiest(summary)
    const span = summary.end - summary.start
    const rows = summary.participants.map((p) => {
      const color = p.color ?? userFor(p.name).color
      return h('div', { class: 'replay-row', 'data-name': p.name },
        h('span', { class: 'replay-row-label', title: `${p.updates} edits, ${p.runs} runs` },
          h('span', { class: 'participant-dot', style: `background:${color}` }), p.name),
        track('replay-activity', ...barsOver(p.activity, summary.activity.bucket_s, span, most).map((b) =>
          h('span', { class: 'replay-bar', style: `left:${b.left * 100}%;width:max(2px,${b.width * 100}%);height:${b.height * 100}%;background:${color}` }))))
    })
    const markers = summary.runs.map((run, i) =>
      h('button', {
        type: 'button', class: `replay-run-marker status-${run.status}`, 'data-run': String(i),
        style: `left:${fraction(runMoment(run), summary) * 100}%`,
        title: runLabel(run, null), 'aria-label': `Jump to run: ${runLabel(run, null)}`,
        onclick: (e: Event) => { e.stopPropagation(); void jumpToRun(i) },
      }))
    timeline.replaceChildren(
      ...rows,
      h('div', { class: 'replay-row' }, h('span', { class: 'replay-row-label' }, 'Runs'), track('replay-runs', ...markers)),
      h('div', { class: 'replay-playhead-lane' }, playhead),
    )
    slider.max = String(summary.end)
  }
  drawTimeline()

  // --- side panels ---
  const runList = h('ol', { class: 'replay-run-list' })
  const search = h('input', { type: 'search', class: 'runs-search', placeholder: 'Search code and output', 'aria-label': 'Search runs' })
  const status = h('select', { class: 'runs-status', 'aria-label': 'Status' },
    ...['', 'ok', 'error', 'cancelled'].map((s) => h('option', { value: s }, s || 'any status')))
  const person = h('select', { class: 'runs-by', 'aria-label': 'Person' })
  const runsTitle = h('h2', {})
  const fillPeople = (): void => {
    const chosen = person.value
    person.replaceChildren(h('option', { value: '' }, 'anyone'),
      ...[...new Set(summary.runs.map((r) => r.by.name).filter(Boolean))].map((n) => h('option', { value: n }, n)))
    person.value = chosen
    if (person.value !== chosen) person.value = ''
    runsTitle.textContent = `Runs (${summary.runs.length})`
  }
  fillPeople()
  const showRuns = (): void => {
    const found = filterRuns(summary.runs, { text: search.value, status: status.value, by: person.value })
    runList.replaceChildren(...found.map((run) => {
      const i = summary.runs.indexOf(run)
      return h('li', { class: 'replay-run-item' },
        h('button', { type: 'button', class: `link replay-run status-${run.status}`, 'data-run': String(i), onclick: () => void jumpToRun(i) },
          runLabel(run, null)),
        run.outputs ? h('pre', { class: 'replay-run-output' }, run.outputs.slice(0, 300)) : null)
    }))
    if (!found.length) runList.append(h('li', { class: 'panel-empty' }, summary.runs.length ? 'No run matches' : 'No runs'))
  }
  for (const el of [search, status, person]) el.addEventListener('input', showRuns)
  showRuns()
  const saveRuns = async (format: 'csv' | 'json'): Promise<void> => {
    try {
      const url = URL.createObjectURL(await rec.runsFile(format))
      const stem = (summary.session.path.split('/').pop() ?? 'notebook').replace(/\.ipynb$/, '')
      const a = h('a', { href: url, download: `${stem}-runs.${format}` })
      document.body.append(a)
      a.click()
      a.remove()
      setTimeout(() => URL.revokeObjectURL(url), 10_000)
    } catch (e) {
      toast(`Download failed: ${String(e)}`)
    }
  }
  const sidebar = h('aside', { class: 'sidebar' },
    h('section', { class: 'panel', 'aria-label': 'Participants' }, h('h2', {}, 'Here at this moment'), people),
    h('section', { class: 'panel runs-panel', 'aria-label': 'Runs' }, runsTitle,
      h('div', { class: 'runs-filters' }, search, status, person),
      runList,
      h('div', { class: 'runs-export' }, 'Export: ',
        h('button', { type: 'button', class: 'link runs-csv', onclick: () => void saveRuns('csv') }, 'CSV'), ' ',
        h('button', { type: 'button', class: 'link runs-json', onclick: () => void saveRuns('json') }, 'JSON'))),
  )

  root.replaceChildren(header, h('div', { class: 'replay-head' }, controls, timeline),
    h('div', { class: 'layout read-only' }, column, sidebar), toasts)
  document.body.classList.add('read-only', 'replay')

  // --- playback ---
  const show = (): void => {
    const t = doc.shown
    slider.value = String(t)
    playhead.style.left = `${fraction(t, summary) * 100}%`
    timeLabel.textContent = `${formatOffset(t - summary.start)} / ${formatOffset(summary.duration)} · ${formatMoment(t)}`
    playButton.textContent = clock.playing ? 'Pause' : 'Play'
    const following = live && !clock.playing && atEnd(t, summary.end)
    liveButton.textContent = following ? '● Live' : 'Go live'
    liveButton.classList.toggle('following', following)
    document.body.dataset.replayLive = String(following)
    document.body.dataset.replayShown = String(t)
    document.body.dataset.replayPlaying = String(clock.playing)
    view?.reconcile() // new cells get their views now, so presence lands on them
    refreshPeople()
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
  const jumpToRun = async (i: number): Promise<void> => {
    const run = summary.runs[i]
    await seek(runMoment(run))
    view?.select(run.cell_id, true)
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
    drawTimeline()
    const target = followEnd(clock.position, clock.playing, oldEnd, summary.end)
    if (target !== null) await seek(target)
    else show()
  }
  const tail = live
    ? new LiveTail(rec, {
      grew,
      summary: (fresh) => {
        summary = mergeSummary(fresh, summary.end)
        drawTimeline()
        fillPeople()
        showRuns()
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
    },
  }
  await seek(summary.start)
  requestAnimationFrame(frame)
  tail?.start()
  document.body.dataset.ready = 'true'
}
