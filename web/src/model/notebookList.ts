/** The home page's list of notebooks, without DOM: filtering, the words shown, new names. */
import type { NotebookEntry } from './api'

/** Notebooks whose path holds every word of the query (any case), live sessions first. */
export function filterNotebooks(notebooks: NotebookEntry[], query: string): NotebookEntry[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean)
  const found = notebooks.filter((n) => words.every((w) => n.path.toLowerCase().includes(w)))
  return found.sort((a, b) =>
    Number(Boolean(b.session)) - Number(Boolean(a.session)) || a.path.localeCompare(b.path))
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} kB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** "just now", "5 min ago", "3 h ago", else the date. `now` and `modified` in Unix seconds. */
export function formatModified(modified: number, now: number): string {
  const ago = now - modified
  if (ago < 60) return 'just now'
  if (ago < 3600) return `${Math.floor(ago / 60)} min ago`
  if (ago < 86400) return `${Math.floor(ago / 3600)} h ago`
  return new Date(modified * 1000).toISOString().slice(0, 10)
}

export function describeSession(entry: NotebookEntry): string {
  if (!entry.session) return ''
  const n = entry.session.participants
  return n === 0 ? 'session open, nobody here' : `${n} here now`
}

/**
 * The path for a new notebook typed as a name: trimmed, `.ipynb` added when missing; an error in
 * words when it cannot be one (empty, absolute, climbing out of the root, a hidden part).
 */
export function newNotebookPath(name: string): { path: string } | { error: string } {
  const trimmed = name.trim().replace(/\\/g, '/')
  if (!trimmed) return { error: 'Give the notebook a name.' }
  if (trimmed.startsWith('/')) return { error: 'Use a path inside the notebook folder (no leading /).' }
  const parts = trimmed.split('/')
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return { error: 'The name cannot have empty, "." or ".." parts.' }
  if (parts.some((p) => p.startsWith('.'))) return { error: 'Hidden names (starting with ".") are not listed; choose another.' }
  return { path: /\.ipynb$/i.test(trimmed) ? trimmed : `${trimmed}.ipynb` }
}

/** After "New notebook": the page to open, or what to say instead (a file already there is not opened as if new). */
export type CreateOutcome = { open: string } | { error: string; open: string | null }

export function createOutcome(path: string, createdFile: boolean | undefined, link: string): CreateOutcome {
  return createdFile === false ? { error: `${path} already exists.`, open: link } : { open: link }
}
