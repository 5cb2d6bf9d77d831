/**
 * What to show for one nbformat output, decided without touching the DOM. The view turns each
 * plan into elements; anything that could carry script (HTML) is marked for a sandbox.
 */

export type OutputPlan =
  | { kind: 'stream'; name: 'stdout' | 'stderr'; text: string }
  | { kind: 'error'; ename: string; evalue: string; traceback: string }
  | { kind: 'html'; html: string }
  | { kind: 'markdown'; markdown: string }
  | { kind: 'latex'; latex: string }
  | { kind: 'image'; mime: string; src: string; width: number | null; height: number | null }
  | { kind: 'json'; text: string }
  | { kind: 'widget'; modelId: string; text: string }
  | { kind: 'text'; text: string }
  | { kind: 'empty' }
  | { kind: 'unsupported'; mimes: string[] }

type Json = Record<string, unknown>

/** Richest first, as Jupyter orders them; HTML goes in a sandboxed frame. */
export const MIME_ORDER = [
  'text/html',
  'text/latex',
  'image/svg+xml',
  'image/png',
  'image/jpeg',
  'text/markdown',
  'application/json',
  'text/plain',
] as const

/** nbformat allows multiline strings as lists of lines. */
export function joinText(value: unknown): string {
  if (typeof value === 'string') return value
  if (Array.isArray(value)) return value.filter((v) => typeof v === 'string').join('')
  return ''
}

/** A terminal's carriage return rewrites the line: keep what the last write left (progress bars). */
export function applyCarriageReturns(text: string): string {
  if (!text.includes('\r')) return text
  return text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((line) => {
      const parts = line.split('\r')
      let out = ''
      for (const part of parts) out = part + out.slice(part.length)
      return out
    })
    .join('\n')
}

function base64(text: string): string {
  const bytes = new TextEncoder().encode(text)
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  }
  return btoa(binary)
}

function imageSize(metadata: unknown, mime: string): { width: number | null; height: number | null } {
  const meta = (typeof metadata === 'object' && metadata !== null ? metadata : {}) as Json
  const own = (typeof meta[mime] === 'object' && meta[mime] !== null ? meta[mime] : meta) as Json
  const n = (v: unknown): number | null => (typeof v === 'number' && v > 0 ? v : null)
  return { width: n(own.width), height: n(own.height) }
}

/** A live widget's view (ipywidgets); its text/plain is what shows where widgets cannot. */
export const WIDGET_VIEW_MIME = 'application/vnd.jupyter.widget-view+json'

/** The model a widget-view output shows, or null when the output is not a usable one. */
export function widgetModelId(value: unknown): string | null {
  const id = (typeof value === 'object' && value !== null ? value : {}) as { model_id?: unknown }
  return typeof id.model_id === 'string' && /^[\w-]{1,128}$/.test(id.model_id) ? id.model_id : null
}

export function planMimeBundle(data: Json, metadata: unknown): OutputPlan {
  const modelId = WIDGET_VIEW_MIME in data ? widgetModelId(data[WIDGET_VIEW_MIME]) : null
  if (modelId !== null) return { kind: 'widget', modelId, text: joinText(data['text/plain']) }
  const mime = MIME_ORDER.find((m) => m in data)
  if (!mime) {
    const mimes = Object.keys(data)
    return mimes.length ? { kind: 'unsupported', mimes } : { kind: 'empty' }
  }
  const value = data[mime]
  switch (mime) {
    case 'text/html':
      return { kind: 'html', html: joinText(value) }
    case 'image/svg+xml':
      // An SVG is shown as an image (a data URL), never inlined, so its scripts never run.
      return { kind: 'image', mime, src: `data:image/svg+xml;base64,${base64(joinText(value))}`, ...imageSize(metadata, mime) }
    case 'image/png':
    case 'image/jpeg':
      return { kind: 'image', mime, src: `data:${mime};base64,${joinText(value).replace(/\s+/g, '')}`, ...imageSize(metadata, mime) }
    case 'text/markdown':
      return { kind: 'markdown', markdown: joinText(value) }
    case 'text/latex':
      return { kind: 'latex', latex: joinText(value) }
    case 'application/json':
      return { kind: 'json', text: JSON.stringify(value, null, 2) ?? 'null' }
    case 'text/plain':
      return { kind: 'text', text: applyCarriageReturns(joinText(value)) }
  }
}

export function planOutput(output: unknown): OutputPlan {
  if (typeof output !== 'object' || output === null) return { kind: 'empty' }
  const out = output as Json
  switch (out.output_type) {
    case 'stream':
      return {
        kind: 'stream',
        name: out.name === 'stderr' ? 'stderr' : 'stdout',
        text: applyCarriageReturns(joinText(out.text)),
      }
    case 'error': {
      const traceback = Array.isArray(out.traceback) ? out.traceback.map(String).join('\n') : ''
      const ename = typeof out.ename === 'string' ? out.ename : 'Error'
      const evalue = typeof out.evalue === 'string' ? out.evalue : ''
      return { kind: 'error', ename, evalue, traceback: traceback || `${ename}: ${evalue}` }
    }
    case 'display_data':
    case 'execute_result':
    case 'update_display_data': {
      const data = typeof out.data === 'object' && out.data !== null ? (out.data as Json) : {}
      return planMimeBundle(data, out.metadata)
    }
    default:
      return { kind: 'unsupported', mimes: [String(out.output_type)] }
  }
}

/**
 * Consecutive stream outputs of the same name read as one block, as in Jupyter
 * (the kernel may split one print over several messages).
 */
export function mergeStreams(plans: OutputPlan[]): OutputPlan[] {
  const merged: OutputPlan[] = []
  for (const plan of plans) {
    const last = merged[merged.length - 1]
    if (plan.kind === 'stream' && last?.kind === 'stream' && last.name === plan.name) {
      merged[merged.length - 1] = { ...last, text: last.text + plan.text }
    } else {
      merged.push(plan)
    }
  }
  return merged
}

export const COLLAPSE_LINES = 60

/** Lines an output takes, roughly, to decide whether the area starts collapsed. */
export function planLines(plan: OutputPlan): number {
  switch (plan.kind) {
    case 'stream':
    case 'text':
    case 'json':
      return plan.text.split('\n').length
    case 'error':
      return plan.traceback.split('\n').length
    case 'markdown':
      return plan.markdown.split('\n').length
    case 'latex':
      return plan.latex.split('\n').length + 1
    case 'image':
    case 'html':
      return 20
    case 'widget':
      return 3
    default:
      return 1
  }
}

export function shouldCollapse(plans: OutputPlan[], limit = COLLAPSE_LINES): boolean {
  return plans.reduce((sum, plan) => sum + planLines(plan), 0) > limit
}
