/**
 * Outputs as DOM. Text goes in as text (ANSI colours through ansi_up, which escapes HTML);
 * markdown is sanitized; HTML from the kernel, scripts included, runs only inside a sandboxed frame
 * with an opaque origin (htmlFrame.ts), so it can reach neither this page nor the token.
 */
import { AnsiUp } from 'ansi_up'
import { mergeStreams, type OutputPlan, planOutput, shouldCollapse } from '../model/outputs'
import { h } from './dom'
import { htmlFrame, updateHtmlFrame } from './htmlFrame'
import { latexToHtml, markdownToHtml } from './markdown'
import { disposeWidgetElement, widgetElement } from './widgetOutputs'

const ansi = new AnsiUp()
ansi.use_classes = true

function ansiPre(text: string, className: string): HTMLElement {
  const pre = h('pre', { class: className })
  pre.innerHTML = ansi.ansi_to_html(text)
  return pre
}

export function renderPlan(plan: OutputPlan): HTMLElement {
  switch (plan.kind) {
    case 'stream':
      return ansiPre(plan.text, `output-stream output-${plan.name}`)
    case 'error':
      return ansiPre(plan.traceback, 'output-error')
    case 'text':
      return ansiPre(plan.text, 'output-text')
    case 'json':
      return h('pre', { class: 'output-json' }, plan.text)
    case 'markdown': {
      const div = h('div', { class: 'output-markdown markdown' })
      div.innerHTML = markdownToHtml(plan.markdown)
      return div
    }
    case 'latex': {
      const div = h('div', { class: 'output-latex' })
      div.innerHTML = latexToHtml(plan.latex)
      return div
    }
    case 'image':
      return h('img', {
        class: 'output-image',
        src: plan.src,
        alt: `${plan.mime} output`,
        width: plan.width ?? undefined,
        height: plan.height ?? undefined,
      })
    case 'html':
      return htmlFrame(plan.html)
    case 'widget':
      return widgetElement(plan.modelId, plan.text)
    case 'empty':
      return h('div', { class: 'output-empty' })
    case 'unsupported':
      return h('div', { class: 'output-unsupported' }, `[output of type ${plan.mimes.join(', ')} not shown]`)
  }
}

/** Outputs drawn in `container` are gone for good (a widget's view is taken away). */
export function disposeOutputs(container: HTMLElement): void {
  for (const el of container.querySelectorAll('.output-widget')) disposeWidgetElement(el)
}

export interface OutputsState {
  /** The participant's own choice; null: decided by length. */
  expanded: boolean | null
  /** What is on screen, by plan, so that a growing stream does not redraw (or reload) the rest. */
  drawn?: { key: string; el: HTMLElement }[]
}

function planKey(plan: OutputPlan): string {
  return JSON.stringify(plan)
}

export function renderOutputs(container: HTMLElement, outputs: unknown[], state: OutputsState): void {
  const plans = mergeStreams(outputs.map(planOutput))
  container.hidden = plans.length === 0
  const previous = state.drawn ?? []
  const drawn = plans.map((plan, i) => {
    const key = planKey(plan)
    const old = previous[i]
    if (old && old.key === key) return old
    // A display updated in place (through its handle): the same frame gets the new HTML.
    if (old && plan.kind === 'html' && old.el instanceof HTMLIFrameElement && updateHtmlFrame(old.el, plan.html)) {
      return { key, el: old.el }
    }
    return { key, el: renderPlan(plan) }
  })
  state.drawn = drawn
  const kept = new Set(drawn.map(({ el }) => el))
  for (const { el } of previous) if (!kept.has(el)) disposeWidgetElement(el)
  let body = container.querySelector<HTMLElement>(':scope > .outputs-body')
  if (!body) {
    body = h('div', { class: 'outputs-body' })
    container.replaceChildren(body)
  }
  // Keep unchanged elements in place (an HTML frame must not reload because a stream grew).
  drawn.forEach(({ el }, i) => {
    if (body.children[i] !== el) body.insertBefore(el, body.children[i] ?? null)
  })
  while (body.children.length > drawn.length) body.lastElementChild?.remove()
  container.querySelector(':scope > .outputs-toggle')?.remove()
  const long = shouldCollapse(plans)
  body.classList.toggle('collapsed', long && !(state.expanded ?? false))
  if (!long) return
  const collapsed = !(state.expanded ?? false)
  const toggle = h(
    'button',
    { class: 'outputs-toggle', type: 'button', 'aria-expanded': String(!collapsed) },
    collapsed ? 'Show all output' : 'Collapse output',
  )
  toggle.addEventListener('click', () => {
    state.expanded = collapsed
    renderOutputs(container, outputs, state)
  })
  container.append(toggle)
}
