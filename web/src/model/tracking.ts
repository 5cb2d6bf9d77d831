/**
 * The notebook's tracking settings (`GET/POST …/tracking`, no DOM): which variables are metrics
 * (name patterns with `*` and `?`), whether runs are tracked, the `parameters` cell's names.
 * Patterns are checked here as the hub checks them, so a typo is explained before it is sent.
 */

export interface TrackingSettings {
  metrics: string[]
  enabled: boolean
  defaultMetrics: string[]
  parameters: string[]
  /** The hub's own switch (COLLABD_TRACK_RUNS): off, nothing is tracked anywhere. */
  hubTracking: boolean
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])

export function readTracking(json: unknown): TrackingSettings {
  const o = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>
  return {
    metrics: strings(o.metrics),
    enabled: o.enabled !== false,
    defaultMetrics: strings(o.default_metrics),
    parameters: strings(o.parameters),
    hubTracking: o.hub_tracking !== false,
  }
}

export const MAX_PATTERNS = 100
const PATTERN = /^[A-Za-z0-9_*?]{1,64}$/

/** Patterns typed by a person: separated by commas, spaces or lines; duplicates dropped. */
export function parsePatterns(text: string): { patterns: string[] } | { error: string } {
  const found: string[] = []
  for (const item of text.split(/[\s,]+/).filter(Boolean)) {
    if (!PATTERN.test(item) || item.replace(/[*?]/g, '') === '') {
      return { error: `"${item}" is not a metric pattern: letters, digits, _ and the wildcards * and ? (not only wildcards)` }
    }
    if (!found.includes(item)) found.push(item)
  }
  if (found.length > MAX_PATTERNS) return { error: `At most ${MAX_PATTERNS} patterns` }
  return { patterns: found }
}

export function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}
