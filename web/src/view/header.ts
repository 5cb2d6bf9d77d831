/** The top bar: notebook, role, connection, and the page-wide actions. */
import type { SessionApi, SessionInfo } from '../model/api'
import { connectionLabel, type ConnectionState } from '../model/connection'
import type { NotebookSession } from '../model/session'
import { showKeys } from './dialogs'
import { showShareDialog } from './shareDialog'
import type { Powers } from '../model/roles'
import { h } from './dom'
import { saveBlob } from './download'

function fileName(path: string): string {
  return path.split('/').pop() || 'notebook.ipynb'
}

export interface HeaderOptions {
  info: SessionInfo
  readOnly: boolean
  session: NotebookSession
  api: SessionApi
  runAll(): void
  notify(message: string): void
  /** Opens or closes the panels (a drawer on narrow screens). */
  toggleDrawer(): void
  clearAll(): void
  find(): void
  /** Editors: the save / sync indicator and the checkpoint dialog. */
  saveIndicator: HTMLElement | null
  checkpoint: (() => void) | null
  /** What this page's link allows (roles.ts), and how it reopens with a replaced link. */
  powers: Powers
  reopenWith(url: string): void
  /** The experiments dialog (tracked runs, for editors and viewers). */
  experiments(): void
}

function connectionIndicator(session: NotebookSession): HTMLElement {
  const label = h('span', { class: 'connection-label' })
  const el = h('span', { class: 'connection', role: 'status', 'aria-live': 'polite' },
    h('span', { class: 'connection-dot', 'aria-hidden': 'true' }), label)
  const show = (state: ConnectionState): void => {
    el.dataset.status = state.status
    label.textContent = connectionLabel(state)
  }
  show(session.connection)
  session.connectionChanged.on(show)
  return el
}

export function topbar({ info, readOnly, session, api, runAll, notify, toggleDrawer, clearAll, find, saveIndicator, checkpoint, experiments, powers, reopenWith }: HeaderOptions): HTMLElement {
  const share = (): void => showShareDialog({ info, powers, api, reopenWith })
  /** An icon that stays and a label that narrow screens drop (the title says it all). */
  const button = (cls: string, icon: string, label: string, onclick: () => void, title: string = label): HTMLElement =>
    h('button', { type: 'button', class: cls, title, 'aria-label': title, onclick },
      icon ? h('span', { class: 'icon', 'aria-hidden': 'true' }, icon) : null,
      label ? h('span', { class: icon ? 'label' : '' }, (icon ? ' ' : '') + label) : null)
  return h('header', { class: 'topbar' },
    h('span', { class: 'brand' }, 'collabd'),
    h('span', { class: 'nb-path', title: info.path }, info.path),
    readOnly ? h('span', { class: 'badge view-only', title: 'You can watch but not change anything' }, 'View only') : null,
    h('span', { class: 'spacer' }),
    connectionIndicator(session),
    saveIndicator,
    readOnly ? null : button('run-all-button', '▶▶', 'Run all', runAll, 'Run every code cell, in order'),
    readOnly ? null : button('clear-all-button', '⌫', 'Clear outputs', clearAll, 'Clear every output (for everyone)'),
    button('find-button', '⌕', '', find, 'Find and replace in all cells (Ctrl-F)'),
    button('keys-button', '⌨', '', showKeys, 'Keyboard shortcuts (H)'),
    button('experiments-button', '∿', 'Experiments', experiments, 'Experiments: the parameters and metrics of every run'),
    checkpoint ? button('checkpoint-button', '⎇', 'Checkpoint', checkpoint, 'Commit this notebook into its git repository') : null,
    button('share-button', '', 'Share', share),
    button('download-button', '⤓', 'Download .ipynb', () => void saveBlob(api.notebookFile(), fileName(info.path), notify), 'Download .ipynb'),
    button('drawer-toggle', '☰', '', toggleDrawer, 'Panels: people, kernel, queue'),
  )
}
