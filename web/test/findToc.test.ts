import { YNotebook } from '@jupyter/ydoc'
import { describe, expect, it } from 'vitest'
import { findMatches, nextMatch, replaceMatches } from '../src/model/findReplace'
import { insertCells } from '../src/model/notebookOps'
import { headings } from '../src/model/toc'

const plain = { caseSensitive: false, regex: false }

describe('find and replace across cells', () => {
  const cells = [{ id: 'a', source: 'x = 1\nprint(x)' }, { id: 'b', source: 'X + x' }]

  it('finds in every cell, case-insensitive by default, literal unless asked', () => {
    expect(findMatches(cells, 'x', plain)).toEqual([
      { cellId: 'a', from: 0, to: 1 }, { cellId: 'a', from: 12, to: 13 }, { cellId: 'b', from: 0, to: 1 }, { cellId: 'b', from: 4, to: 5 },
    ])
    expect(findMatches(cells, 'x', { caseSensitive: true, regex: false })).toHaveLength(3)
    expect(findMatches(cells, '(x)', plain)).toEqual([{ cellId: 'a', from: 11, to: 14 }])
    expect(findMatches(cells, '[', { caseSensitive: false, regex: true })).toEqual([])
    expect(findMatches(cells, '', plain)).toEqual([])
  })

  it('goes to the next match after the cursor, wrapping', () => {
    const matches = findMatches(cells, 'x', plain)
    expect(nextMatch(matches, ['a', 'b'], { cellId: 'a', offset: 0 }, 1)).toBe(1)
    expect(nextMatch(matches, ['a', 'b'], { cellId: 'b', offset: 4 }, 1)).toBe(0)
    expect(nextMatch(matches, ['a', 'b'], { cellId: 'a', offset: 0 }, -1)).toBe(3)
  })

  it('replaces in the shared text, as one undo step', () => {
    const nb = new YNotebook()
    insertCells(nb, 0, [{ cell_type: 'code', source: 'x = 1\nprint(x)', metadata: {} }, { cell_type: 'markdown', source: 'x marks', metadata: {} }])
    nb.undoManager.stopCapturing()
    const text = nb.cells.map((c) => ({ id: c.id, source: c.getSource() }))
    expect(replaceMatches(nb, findMatches(text, 'x', plain), 'x', 'value', plain)).toBe(3)
    expect(nb.cells.map((c) => c.getSource())).toEqual(['value = 1\nprint(value)', 'value marks'])
    nb.undo()
    expect(nb.cells.map((c) => c.getSource())).toEqual(['x = 1\nprint(x)', 'x marks'])
  })

  it('fills regex groups in', () => {
    const nb = new YNotebook()
    insertCells(nb, 0, [{ cell_type: 'code', source: 'f(a, b)', metadata: {} }])
    const re = { caseSensitive: true, regex: true }
    const text = nb.cells.map((c) => ({ id: c.id, source: c.getSource() }))
    replaceMatches(nb, findMatches(text, '(\\w), (\\w)', re), '(\\w), (\\w)', '$2, $1', re)
    expect(nb.cells[0].getSource()).toBe('f(b, a)')
  })
})

describe('table of contents', () => {
  it('lists markdown headings in order, not code or fenced comments', () => {
    const cells = [
      { id: 'm1', type: 'markdown', source: '# Intro\ntext\n## Data *loading*' },
      { id: 'c1', type: 'code', source: '# not a heading' },
      { id: 'm2', type: 'markdown', source: '```\n# inside a fence\n```\n### [Results](#r) ##' },
    ]
    expect(headings(cells)).toEqual([
      { cellId: 'm1', level: 1, text: 'Intro' },
      { cellId: 'm1', level: 2, text: 'Data loading' },
      { cellId: 'm2', level: 3, text: 'Results' },
    ])
  })
})
