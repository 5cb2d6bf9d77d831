import { describe, expect, it } from 'vitest'
import { clearAdminToken, loadAdminToken, saveAdminToken } from '../src/model/adminToken'
import type { NotebookEntry } from '../src/model/api'
import { createOutcome, describeSession, filterNotebooks, formatModified, formatSize, newNotebookPath } from '../src/model/notebookList'

const entry = (path: string, participants?: number): NotebookEntry => ({
  path, size: 10, modified: 0,
  session: participants === undefined ? undefined : { id: 's', path, edit_url: 'e', view_url: 'v', participants },
})

describe('home page list', () => {
  it('filters by every word, live sessions first', () => {
    const list = [entry('b/plots.ipynb'), entry('a/Plots-2.ipynb', 2), entry('notes.ipynb')]
    expect(filterNotebooks(list, 'plots').map((n) => n.path)).toEqual(['a/Plots-2.ipynb', 'b/plots.ipynb'])
    expect(filterNotebooks(list, 'b/ plo').map((n) => n.path)).toEqual(['b/plots.ipynb'])
    expect(filterNotebooks(list, '').length).toBe(3)
  })

  it('words', () => {
    expect(formatSize(512)).toBe('512 B')
    expect(formatSize(2048)).toBe('2.0 kB')
    expect(formatModified(100, 130)).toBe('just now')
    expect(formatModified(100, 100 + 300)).toBe('5 min ago')
    expect(describeSession(entry('x.ipynb', 3))).toBe('3 here now')
    expect(describeSession(entry('x.ipynb'))).toBe('')
  })

  it('makes a path of a new name', () => {
    expect(newNotebookPath(' analysis ')).toEqual({ path: 'analysis.ipynb' })
    expect(newNotebookPath('sub/x.ipynb')).toEqual({ path: 'sub/x.ipynb' })
    expect(newNotebookPath('')).toHaveProperty('error')
    expect(newNotebookPath('../x')).toHaveProperty('error')
    expect(newNotebookPath('/etc/x')).toHaveProperty('error')
    expect(newNotebookPath('.hidden')).toHaveProperty('error')
  })

  it('keeps the admin token in the given storage', () => {
    const store = new Map<string, string>()
    const storage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
      removeItem: (k: string) => void store.delete(k),
    }
    expect(loadAdminToken(storage)).toBeNull()
    saveAdminToken(storage, 'T')
    expect(loadAdminToken(storage)).toBe('T')
    clearAdminToken(storage)
    expect(loadAdminToken(storage)).toBeNull()
  })

  it('opens a new notebook, and says so when the file was there already', () => {
    expect(createOutcome('a.ipynb', true, '/s/1')).toEqual({ open: '/s/1' })
    expect(createOutcome('a.ipynb', undefined, '/s/1')).toEqual({ open: '/s/1' }) // an older hub
    expect(createOutcome('a.ipynb', false, '/s/1')).toEqual({ error: 'a.ipynb already exists.', open: '/s/1' })
  })
})
