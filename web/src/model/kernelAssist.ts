/**
 * Completion (Tab) and inspection (Shift-Tab) from the shared kernel, without DOM: when to ask,
 * what to send (offsets in code points), and what the kernel's answer means for the editor
 * (offsets back in UTF-16, the options, the text to show) or for the person (failures in words).
 */
import { ApiError } from './api'
import { fromCodePoints, toCodePoints } from './codePoints'

/** `POST …/complete` answers (Jupyter's complete_reply content). */
export interface CompleteReply {
  matches: string[]
  cursor_start: number
  cursor_end: number
  metadata?: Record<string, unknown>
}

/** `POST …/inspect` answers (Jupyter's inspect_reply content). */
export interface InspectReply {
  found: boolean
  data?: Record<string, unknown>
}

/** What the page sends: the cell's source and the cursor in code points. */
export interface AssistRequest {
  code: string
  cursor_pos: number
}

export interface CompletionOption {
  label: string
  /** IPython's type of the match (function, module, instance, …), when it says. */
  type?: string
  signature?: string
}

export interface Completions {
  /** UTF-16 offsets in the source: the text the chosen option replaces. */
  from: number
  to: number
  options: CompletionOption[]
}

/** Tab asks the kernel when the cursor follows an identifier or a dot (else it indents). */
export function wantsCompletion(lineBefore: string): boolean {
  return /(?:[\p{L}_][\p{L}\p{N}_]*|\.)$/u.test(lineBefore)
}

/** Shift-Tab asks the kernel when the cursor follows something (a name, `len(`, …), else dedents. */
export function wantsInspection(lineBefore: string): boolean {
  return /\S$/.test(lineBefore)
}

export function assistRequest(code: string, cursor: number): AssistRequest {
  return { code, cursor_pos: toCodePoints(code, cursor) }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** IPython's `_jupyter_types_experimental`: a type and signature per match, when present. */
function typesOf(reply: CompleteReply): Map<string, { type?: string; signature?: string }> {
  const types = new Map<string, { type?: string; signature?: string }>()
  const list = reply.metadata?._jupyter_types_experimental
  if (!Array.isArray(list)) return types
  for (const item of list) {
    if (!isObject(item) || typeof item.text !== 'string') continue
    types.set(item.text, {
      type: typeof item.type === 'string' && item.type !== '<unknown>' ? item.type : undefined,
      signature: typeof item.signature === 'string' && item.signature ? item.signature : undefined,
    })
  }
  return types
}

/** The kernel's matches as editor completions, its code point range as UTF-16 offsets in `code`. */
export function completionsFrom(code: string, reply: CompleteReply): Completions {
  const types = typesOf(reply)
  const seen = new Set<string>()
  const options: CompletionOption[] = []
  for (const match of Array.isArray(reply.matches) ? reply.matches : []) {
    if (typeof match !== 'string' || seen.has(match)) continue
    seen.add(match)
    options.push({ label: match, ...types.get(match) })
  }
  const start = Number.isInteger(reply.cursor_start) ? reply.cursor_start : 0
  const end = Number.isInteger(reply.cursor_end) ? reply.cursor_end : start
  const from = fromCodePoints(code, start)
  return { from, to: Math.max(from, fromCodePoints(code, end)), options }
}

/** The plain text the kernel gave for the name at the cursor (may hold ANSI colours), or null. */
export function inspectionText(reply: InspectReply): string | null {
  if (!reply.found || !isObject(reply.data)) return null
  const text = reply.data['text/plain']
  return typeof text === 'string' && text.trim() ? text : null
}

/** Why the kernel could not help, in the asker's words. */
export function assistFailure(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === 'no_kernel') return 'No kernel yet — run a cell first to start the kernel.'
    if (error.code === 'kernel_busy') return 'The kernel is busy running a cell — try again when it is done.'
    return `The kernel could not answer: ${error.detail || error.code}`
  }
  if (error instanceof TypeError) return 'The server cannot be reached — try again in a moment.'
  return `The kernel could not answer: ${error instanceof Error ? error.message : String(error)}`
}
