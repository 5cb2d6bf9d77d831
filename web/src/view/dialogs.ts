/** The name prompt and the share dialog. */
import { KEY_HELP } from '../model/commandKeys'
import { cleanName, MAX_NAME_LENGTH } from '../model/identity'
import { h } from './dom'

/** Asks for a display name; resolves with a non-empty one. */
export function askName(current: string | null): Promise<string> {
  return new Promise((resolve) => {
    const field = h('input', {
      name: 'name',
      class: 'name-field',
      required: true,
      maxlength: MAX_NAME_LENGTH,
      autocomplete: 'nickname',
      placeholder: 'e.g. Ada',
      value: current ?? '',
      'aria-label': 'Your name',
    })
    const dialog = h('dialog', { class: 'name-dialog', 'aria-labelledby': 'name-title' },
      h('form', { method: 'dialog' },
        h('h1', { id: 'name-title' }, current ? 'Change your name' : 'Join this notebook'),
        h('p', {}, 'Others see this name next to your cursor.'),
        field,
        h('div', { class: 'dialog-actions' }, h('button', { type: 'submit', class: 'primary' }, current ? 'Save' : 'Join')),
      ),
    )
    dialog.addEventListener('cancel', (e) => {
      if (!current) e.preventDefault()
    })
    dialog.addEventListener('close', () => {
      const name = cleanName(field.value) || current
      dialog.remove()
      if (name) resolve(name)
      else void askName(null).then(resolve)
    })
    document.body.append(dialog)
    dialog.showModal()
    field.focus()
  })
}

export interface ShareLinks {
  edit: string | null
  view: string
}

/** Copies to the clipboard, else selects the field for Ctrl-C; the button says it worked. */
export async function copyText(text: string, field: HTMLInputElement, button: HTMLButtonElement): Promise<void> {
  try {
    await navigator.clipboard.writeText(text)
  } catch {
    // No clipboard permission (plain http, old browser): select it for Ctrl-C instead.
    field.select()
    document.execCommand('copy')
  }
  button.textContent = 'Copied'
  setTimeout(() => (button.textContent = 'Copy'), 1500)
}

export function showShare(links: ShareLinks): void {
  const row = (label: string, link: string, hint: string, kind: string): HTMLElement => {
    const field = h('input', { readonly: true, value: link, class: `share-${kind}`, 'aria-label': label })
    const button = h('button', { type: 'button', class: `copy-${kind}` }, 'Copy')
    button.addEventListener('click', () => void copyText(link, field, button))
    return h('div', { class: 'share-row' }, h('label', {}, h('strong', {}, label), h('span', { class: 'hint' }, hint)), h('div', { class: 'share-field' }, field, button))
  }
  const dialog = h('dialog', { class: 'share-dialog', 'aria-label': 'Share' },
    h('form', { method: 'dialog' },
      h('h1', {}, 'Share this notebook'),
      links.edit ? row('Edit link', links.edit, 'can edit and run', 'edit') : null,
      row('View link', links.view, 'can watch, cannot change anything', 'view'),
      h('p', { class: 'hint' }, 'Anyone with a link gets its access. Links are secret.'),
      h('div', { class: 'dialog-actions' }, h('button', { type: 'submit' }, 'Close')),
    ),
  )
  dialog.addEventListener('close', () => dialog.remove())
  document.body.append(dialog)
  dialog.showModal()
}

export function showKeys(): void {
  const dialog = h('dialog', { class: 'keys-dialog', 'aria-label': 'Keyboard shortcuts' },
    h('form', { method: 'dialog' },
      h('h1', {}, 'Keyboard shortcuts'),
      h('p', { class: 'hint' }, 'In command mode (Esc); the run keys work while editing too.'),
      h('table', { class: 'keys-table' },
        ...KEY_HELP.map(([keys, what]) => h('tr', {}, h('th', {}, keys), h('td', {}, what)))),
      h('div', { class: 'dialog-actions' }, h('button', { type: 'submit' }, 'Close')),
    ),
  )
  dialog.addEventListener('close', () => dialog.remove())
  document.body.append(dialog)
  dialog.showModal()
}

export interface ConfirmOptions {
  title: string
  body: string
  confirm: string
  /** The confirming button looks dangerous (it undoes others' work). */
  danger?: boolean
}

/** A real dialog for a yes / no question; resolves true only on the confirming button. Cancel has focus. */
export function confirmDialog({ title, body, confirm, danger = false }: ConfirmOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const cancel = h('button', { type: 'submit', value: 'cancel', class: 'confirm-cancel' }, 'Cancel')
    const ok = h('button', { type: 'submit', value: 'ok', class: `confirm-ok ${danger ? 'danger' : 'primary'}` }, confirm)
    const dialog = h('dialog', { class: 'confirm-dialog', 'aria-labelledby': 'confirm-title', role: 'alertdialog' },
      h('form', { method: 'dialog' },
        h('h1', { id: 'confirm-title' }, title),
        h('p', {}, body),
        h('div', { class: 'dialog-actions' }, cancel, ok),
      ),
    )
    dialog.addEventListener('close', () => {
      dialog.remove()
      resolve(dialog.returnValue === 'ok')
    })
    document.body.append(dialog)
    dialog.showModal()
    cancel.focus()
  })
}

export function confirmRestart(): Promise<boolean> {
  return confirmDialog({
    title: 'Restart the shared kernel?',
    body: 'Everyone in this notebook loses every variable; queued runs are cancelled. Outputs stay.',
    confirm: 'Restart',
    danger: true,
  })
}
