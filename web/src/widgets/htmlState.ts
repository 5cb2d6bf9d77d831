/**
 * Widget state that ends up as HTML in the page: the `value` of `HTML` and `HTMLMath` (the
 * controls write it with innerHTML) is cleaned before any model or view sees it; descriptions with
 * `description_allow_html` go through the manager's `inline_sanitize`, which uses the same
 * cleaner. Class and module names are checked too, since the widget libraries put them into
 * error messages shown as HTML. Pure: the cleaner (DOMPurify, as for markdown) is passed in.
 */
import type { JsonObject } from './entry'

export const CONTROLS_MODULE = '@jupyter-widgets/controls'

/** Models whose `value` is HTML. */
export const HTML_VALUE_MODELS: ReadonlySet<string> = new Set(['HTMLModel', 'HTMLMathModel'])

/** What a class or module name may look like (`IntSliderModel`, `@jupyter-widgets/controls`, `^2.0.0`). */
const NAME = /^[\w@./^~*-]{0,200}$/
const NAME_KEYS = ['_model_name', '_view_name', '_model_module', '_view_module', '_model_module_version', '_view_module_version']

export function isSafeName(value: unknown): value is string {
  return typeof value === 'string' && NAME.test(value)
}

/** A copy of `state` (its changed keys) fit to be set on a model of `modelName` from `modelModule`. */
export function cleanState(modelModule: string, modelName: string, state: JsonObject, clean: (html: string) => string): JsonObject {
  const out: JsonObject = { ...state }
  if (modelModule === CONTROLS_MODULE && HTML_VALUE_MODELS.has(modelName) && 'value' in out) {
    out.value = typeof out.value === 'string' ? clean(out.value) : ''
  }
  for (const key of NAME_KEYS) {
    if (key in out && out[key] !== null && !isSafeName(out[key])) delete out[key]
  }
  return out
}

/** Viewers and widgets of a kernel that is gone: every control shows disabled. */
export function disabledState(state: JsonObject): JsonObject {
  return 'disabled' in state ? { ...state, disabled: true } : state
}
