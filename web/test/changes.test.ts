import { describe, expect, it } from 'vitest'
import { describeCell, lineRows, readChanges, summarize } from '../src/replay/changes'

describe('what changed', () => {
  const answer = {
    from: 1, to: 2, authors: ['Ada', 'Bob'],
    added: [{ id: 'n', cell_type: 'markdown', source: '# New', index: 2, authors: ['Bob'] }],
    changed: [{ id: 'c', cell_type: 'code', source: 'x = 1', index: 0, authors: ['Ada', 'Bob'], fields: ['source'], before: 'x = 1', after: 'x = 2\ny = 3' }],
    removed: [{ id: 'r', cell_type: 'code', source: 'old()', index: 1, authors: ['Ada'] }],
    nbdime: [],
  }

  it('reads the cells in notebook order with their before and after', () => {
    const changes = readChanges(answer)
    expect(changes.cells.map((c) => [c.kind, c.id])).toEqual([['changed', 'c'], ['removed', 'r'], ['added', 'n']])
    expect(changes.cells[1]).toMatchObject({ before: 'old()', after: '' })
    expect(changes.cells[2]).toMatchObject({ before: '', after: '# New' })
    expect(describeCell(changes.cells[0])).toBe('Cell 1 (code) changed by Ada and Bob — source')
    expect(summarize(changes)).toBe('1 cell changed, 1 added, 1 removed by Ada and Bob')
  })

  it('survives a malformed answer', () => {
    expect(readChanges(null).cells).toEqual([])
    expect(summarize(readChanges({ changed: [null, 3] }))).toBe('Nothing changed between these two moments.')
  })

  it('diffs lines', () => {
    expect(lineRows('x = 1\nprint(x)\n', 'x = 2\nprint(x)\n')).toEqual([
      { kind: 'removed', text: 'x = 1' },
      { kind: 'added', text: 'x = 2' },
      { kind: 'same', text: 'print(x)' },
    ])
  })

  it('a line added at the end leaves the one before alone', () => {
    expect(lineRows('x = 1', 'x = 1\ny = 2')).toEqual([{ kind: 'same', text: 'x = 1' }, { kind: 'added', text: 'y = 2' }])
    expect(lineRows('', 'a')).toEqual([{ kind: 'added', text: 'a' }])
  })

  it('leaves out long unchanged stretches', () => {
    const before = Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n')
    const after = before.replace('line 10', 'line ten')
    const rows = lineRows(before, after, 2)
    expect(rows[0]).toEqual({ kind: 'skip', count: 8 })
    expect(rows.filter((r) => r.kind === 'skip')).toEqual([{ kind: 'skip', count: 8 }, { kind: 'skip', count: 7 }])
    expect(rows).toContainEqual({ kind: 'added', text: 'line ten' })
  })
})
