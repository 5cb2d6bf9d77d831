/**
 * "Checkpoint": commit the notebook's file into its git repository, with an optional message.
 * The answer (the commit, or why there is none, in words) shows in the dialog itself.
 */
import type { Checkpoint } from '../model/api'
import { describeCheckpoint } from '../model/checkpoint'
import type { Answer } from '../model/sessionActions'
import { h } from './dom'

export function showCheckpoint(commit: (message: string | null) => Promise<Answer<Checkpoint> | null>): void {
  const field = h('input', {
    name: 'message', class: 'checkpoint-message', maxlength: 200, autocomplete: 'off',
    placeholder: 'What changed (optional: a summary is written otherwise)', 'aria-label': 'Commit message',
  })
  const result = h('div', { class: 'checkpoint-result', role: 'status', 'aria-live': 'polite', hidden: true })
  const go = h('button', { type: 'submit', class: 'primary checkpoint-go' }, 'Commit')
  const close = h('button', { type: 'button', class: 'checkpoint-close', onclick: () => dialog.close() }, 'Close')
  const form = h('form', {},
    h('h1', {}, 'Checkpoint'),
    h('p', { class: 'hint' }, 'Saves the notebook and commits this file (only this file) into its git repository, naming everyone who edited it since the last checkpoint.'),
    field, result,
    h('div', { class: 'dialog-actions' }, close, go),
  )
  const dialog = h('dialog', { class: 'checkpoint-dialog', 'aria-label': 'Checkpoint' }, form)
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    go.disabled = true
    result.hidden = false
    result.className = 'checkpoint-result'
    result.textContent = 'Committing…'
    void commit(field.value.trim() || null).then((answer) => {
      go.disabled = false
      if (answer && 'value' in answer) {
        const made = answer.value
        result.classList.add('ok')
        result.replaceChildren(h('strong', {}, describeCheckpoint(made)), h('pre', { class: 'checkpoint-commit-message' }, made.message))
        result.dataset.commit = made.commit
        go.hidden = true
      } else {
        result.classList.add('failed')
        result.textContent = answer?.hint ?? 'The checkpoint did not happen.'
      }
    })
  })
  dialog.addEventListener('close', () => dialog.remove())
  document.body.append(dialog)
  dialog.showModal()
  field.focus()
}
