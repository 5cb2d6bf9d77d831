/**
 * "Share" on the notebook page: the anonymous edit and view links (copy; owners replace them),
 * and for owners the named links (who has one, its state, revoke) and a form that makes one and
 * shows its link once. Viewers see the view link only. What the page may do comes from roles.ts;
 * a 403 from the hub hides the controls it refuses. Errors show in the dialog, as the checkpoint
 * dialog shows its answer.
 */
import { rebaseLink, type SessionApi, type SessionInfo } from '../model/api'
import {
  checkLinkName, EXPIRY_CHOICES, linkFailure, madeBy, type NamedLink, orderLinks, readLinks, relativeTime,
} from '../model/links'
import { ApiError } from '../model/api'
import type { Powers } from '../model/roles'
import { confirmDialog, copyText } from './dialogs'
import { h, replaceChildren } from './dom'
import './share.css'

export interface ShareOptions {
  info: SessionInfo
  powers: Powers
  api: SessionApi
  /** This page's own anonymous link was replaced: it reloads with the new one. */
  reopenWith(url: string): void
}

function linkField(label: string, link: string | null, hint: string, kind: string, replace: (() => void) | null): HTMLElement {
  const field = h('input', { readonly: true, value: link ?? '', class: `share-${kind}`, 'aria-label': label })
  const copy = h('button', { type: 'button', class: `copy-${kind}` }, 'Copy')
  copy.addEventListener('click', () => void copyText(field.value, field, copy))
  return h('div', { class: `share-row share-row-${kind}` },
    h('label', {}, h('strong', {}, label), h('span', { class: 'hint' }, hint)),
    h('div', { class: 'share-field' },
      link !== null ? field : h('span', { class: 'hint share-hidden' }, 'Not shown to you: you joined with your own link.'),
      link !== null ? copy : null,
      replace ? h('button', { type: 'button', class: `replace-${kind}`, title: 'Make a new link: the old one stops working at once', onclick: replace }, 'Replace…') : null))
}

export function showShareDialog({ info, powers, api, reopenWith }: ShareOptions): void {
  const error = h('p', { class: 'share-error', role: 'alert', hidden: true })
  const fail = (what: string, e: unknown): void => {
    error.hidden = false
    error.textContent = linkFailure(what, e, navigator.onLine)
  }
  let manage = powers.manageLinks
  let editUrl = info.edit_url ? rebaseLink(info.edit_url, location.origin) : null
  let viewUrl = rebaseLink(info.view_url, location.origin)
  const anonymous = h('div', { class: 'share-anonymous' })

  const replace = async (role: 'edit' | 'view'): Promise<void> => {
    const own = powers.ownAnonymous === role
    const ok = await confirmDialog({
      title: `Replace the ${role} link?`,
      body: `A new ${role} link is made and the old one stops working at once: everyone connected with it is cut off and needs the new link.`
        + (own ? ' This page joined with it too: it opens again with the new link.' : ''),
      confirm: 'Replace',
      danger: true,
    })
    if (!ok) return
    try {
      const made = await api.rotateLink(role)
      const url = rebaseLink(made.url, location.origin)
      if (role === 'edit') editUrl = url
      else viewUrl = url
      error.hidden = true
      drawAnonymous()
      anonymous.querySelector<HTMLElement>(`.share-row-${role}`)?.classList.add('just-replaced')
      if (own) reopenWith(url)
    } catch (e) {
      forbidden(e)
      fail(`replacing the ${role} link`, e)
    }
  }
  const drawAnonymous = (): void => {
    replaceChildren(anonymous,
      powers.edit ? linkField('Edit link', editUrl, 'can edit and run (anyone with it)', 'edit', manage ? () => void replace('edit') : null) : null,
      linkField('View link', viewUrl, 'can watch, cannot change anything', 'view', manage ? () => void replace('view') : null),
    )
  }

  // --- named links (owners) ---
  const table = h('table', { class: 'links-table' })
  const named = h('section', { class: 'share-named', hidden: !manage },
    h('h2', {}, 'Named links'),
    h('p', { class: 'hint' }, 'One link per person: the hub knows who they are (their name is verified), and revoking it shuts out only them.'),
    table)
  let links: NamedLink[] = []
  const drawLinks = (): void => {
    const now = Date.now() / 1000
    const rows = orderLinks(links).map((link) => h('tr', { class: `link-row link-${link.status}`, 'data-link-id': link.id },
      h('td', { class: 'link-name' }, link.name),
      h('td', {}, link.role === 'edit' ? 'edit' : 'view'),
      h('td', {}, h('span', { class: `link-status status-${link.status}` }, link.status)),
      h('td', {}, relativeTime(link.created, now)),
      h('td', {}, link.status === 'revoked' ? `revoked ${relativeTime(link.revoked, now)}` : relativeTime(link.expires, now, 'never')),
      h('td', {}, relativeTime(link.last_seen, now, 'never')),
      h('td', {}, madeBy(link, links)),
      h('td', {}, link.status === 'active'
        ? h('button', { type: 'button', class: 'link-revoke danger-outline', onclick: () => void revoke(link) }, 'Revoke…')
        : null)))
    table.replaceChildren(
      h('thead', {}, h('tr', {}, ...['Name', 'Role', 'Status', 'Created', 'Expires', 'Last seen', 'Made by', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, ...rows))
    if (!rows.length) table.append(h('tbody', {}, h('tr', {}, h('td', { colspan: 8, class: 'hint' }, 'No named links yet.'))))
  }
  const forbidden = (e: unknown): void => {
    if (e instanceof ApiError && e.status === 403) {
      manage = false
      named.hidden = true
      drawAnonymous()
    }
  }
  const load = async (): Promise<void> => {
    try {
      links = readLinks(await api.links())
      drawLinks()
    } catch (e) {
      forbidden(e)
      if (!(e instanceof ApiError && e.status === 403)) fail('listing the links', e)
    }
  }
  const revoke = async (link: NamedLink): Promise<void> => {
    const ok = await confirmDialog({
      title: `Revoke ${link.name}'s link?`,
      body: `${link.name} is disconnected at once and the link stops working for good. Links made with it are revoked too.`,
      confirm: 'Revoke',
      danger: true,
    })
    if (!ok) return
    try {
      await api.revokeLink(link.id)
      error.hidden = true
      await load()
    } catch (e) {
      forbidden(e)
      fail(`revoking ${link.name}'s link`, e)
    }
  }

  // --- a new named link ---
  const nameField = h('input', { class: 'new-link-name', maxlength: 64, placeholder: 'Who it is for, e.g. Ada', 'aria-label': 'Name', autocomplete: 'off' })
  const roleField = h('select', { class: 'new-link-role', 'aria-label': 'Role' },
    h('option', { value: 'edit' }, 'can edit and run'), h('option', { value: 'view' }, 'can only watch'))
  const expiryField = h('select', { class: 'new-link-expiry', 'aria-label': 'Expires' },
    ...EXPIRY_CHOICES.map((c, i) => h('option', { value: String(i) }, `expires ${c.label}`)))
  const made = h('div', { class: 'new-link-made', hidden: true, role: 'status' })
  const create = h('button', { type: 'submit', class: 'primary new-link-create' }, 'Make link')
  const form = h('form', { class: 'new-link-form' }, nameField, roleField, expiryField, create)
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const checked = checkLinkName(nameField.value)
    if ('error' in checked) {
      error.hidden = false
      error.textContent = checked.error
      return
    }
    create.disabled = true
    const role = roleField.value === 'view' ? 'view' : 'edit'
    void api.createLink(checked.name, role, EXPIRY_CHOICES[Number(expiryField.value)]?.seconds ?? null).then((link) => {
      error.hidden = true
      nameField.value = ''
      const url = rebaseLink(link.url, location.origin)
      const field = h('input', { readonly: true, value: url, class: 'new-link-url', 'aria-label': `Link for ${link.name}` })
      const copy = h('button', { type: 'button', class: 'copy-new-link primary' }, 'Copy')
      copy.addEventListener('click', () => void copyText(url, field, copy))
      made.hidden = false
      made.replaceChildren(
        h('p', {}, h('strong', {}, `Link for ${link.name}`), ` (${link.role === 'edit' ? 'can edit and run' : 'can only watch'})`),
        h('div', { class: 'share-field' }, field, copy),
        h('p', { class: 'new-link-warning' }, 'Copy it now: it is shown only this once. The hub keeps no copy of it; if it is lost, revoke it and make another.'))
      field.select()
      return load()
    }).catch((e: unknown) => {
      forbidden(e)
      fail('making the link', e)
    }).finally(() => (create.disabled = false))
  })
  named.append(h('h3', {}, 'New named link'), form, made)

  const dialog = h('dialog', { class: 'share-dialog', 'aria-labelledby': 'share-title' },
    h('h1', { id: 'share-title' }, 'Share this notebook'),
    powers.named ? h('p', { class: 'hint share-you' }, `You joined with ${powers.named.name}'s own link.`) : null,
    anonymous,
    h('p', { class: 'hint' }, 'Anyone with one of these links gets its access. Links are secret.'),
    error,
    named,
    h('form', { method: 'dialog', class: 'dialog-actions' }, h('button', { type: 'submit', class: 'share-close' }, 'Close')),
  )
  drawAnonymous()
  dialog.addEventListener('close', () => dialog.remove())
  document.body.append(dialog)
  dialog.showModal()
  if (manage) void load()
}
