/**
 * "Change…" in the kernel panel: the kernel hosts (`GET /api/kernel-hosts`) and their kernel
 * specs to pick from, then a real confirmation, since switching restarts the shared kernel and
 * cancels the running cell and the queue for everyone.
 */
import type { KernelHost } from '../model/api'
import type { KernelInfo } from '../model/kernelState'
import type { SessionActions } from '../model/sessionActions'
import { confirmDialog } from './dialogs'
import { h } from './dom'

function hostGroup(host: KernelHost, current: KernelInfo): HTMLElement {
  return h('fieldset', { class: 'kernel-host', 'data-host': host.name },
    h('legend', {}, h('strong', {}, host.name), host.description ? h('span', { class: 'hint' }, ` — ${host.description}`) : null),
    host.error ? h('p', { class: 'kernel-host-error' }, `Cannot be reached: ${host.error}`) : null,
    !host.error && host.specs.length === 0 ? h('p', { class: 'hint' }, 'No kernels here.') : null,
    ...host.specs.map((spec) =>
      h('label', { class: 'kernel-spec' },
        h('input', {
          type: 'radio', name: 'kernel', value: JSON.stringify([host.name, spec.name]),
          checked: host.name === (current.host || 'local') && spec.name === current.name,
        }),
        ` ${spec.display_name || spec.name} `,
        h('span', { class: 'hint' }, `(${spec.name}${spec.language ? `, ${spec.language}` : ''})`))),
  )
}

export function showKernelChoice(actions: Pick<SessionActions, 'kernelHosts' | 'selectKernel'>, current: KernelInfo): void {
  const body = h('div', { class: 'kernel-hosts' }, h('p', { class: 'hint' }, 'Asking where kernels can run…'))
  const go = h('button', { type: 'submit', class: 'primary kernel-choose', disabled: true }, 'Switch…')
  const form = h('form', {},
    h('h1', {}, 'Where the kernel runs'),
    h('p', { class: 'hint' }, `Now: ${current.name || 'kernel'} on ${current.host || 'local'}.`),
    body,
    h('div', { class: 'dialog-actions' }, h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'), go),
  )
  const dialog = h('dialog', { class: 'kernel-choice-dialog', 'aria-label': 'Where the kernel runs' }, form)
  form.addEventListener('change', () => (go.disabled = !form.querySelector('input[name=kernel]:checked')))
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const picked = form.querySelector<HTMLInputElement>('input[name=kernel]:checked')
    if (!picked) return
    const [host, spec] = JSON.parse(picked.value) as [string, string]
    dialog.close()
    void confirmDialog({
      title: `Restart the kernel as ${spec} on ${host}?`,
      body: 'Switching restarts the shared kernel for everyone: every variable is lost, and the running cell and the queue are cancelled. Outputs stay.',
      confirm: 'Switch and restart',
      danger: true,
    }).then((ok) => {
      if (ok) void actions.selectKernel(host, spec)
    })
  })
  dialog.addEventListener('close', () => dialog.remove())
  document.body.append(dialog)
  dialog.showModal()
  void actions.kernelHosts().then((hosts) => {
    if (!hosts) {
      body.replaceChildren(h('p', { class: 'kernel-host-error' }, 'The kernel hosts could not be listed.'))
      return
    }
    body.replaceChildren(...hosts.map((host) => hostGroup(host, current)))
    go.disabled = !form.querySelector('input[name=kernel]:checked')
  })
}
