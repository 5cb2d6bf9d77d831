import { YNotebook } from '@jupyter/ydoc'
import { describe, expect, it } from 'vitest'
import { CellClipboard, CLIPBOARD_KEY, forPaste } from '../src/model/cellClipboard'
import { clearOutputs, insertCells, mergeCells, moveRange } from '../src/model/notebookOps'

function memoryStore(): { getItem(k: string): string | null; setItem(k: string, v: string): void } {
  const data = new Map<string, string>()
  return { getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) }
}

const codeCell = (source: string) => ({
  id: 'abc', cell_type: 'code', source, execution_count: 3, execution_state: 'running',
  outputs: [{ output_type: 'stream', name: 'stdout', text: 'hi\n' }],
  metadata: { tags: ['x'], collabd: { last_run: { by: 'Ada' } } },
})

describe('cell clipboard', () => {
  it('a pasted cell is new: no id, no run state, no record of who ran it; outputs kept', () => {
    const pasted = forPaste(codeCell('x = 1'))
    expect(pasted.id).toBeUndefined()
    expect(pasted.execution_state).toBeUndefined()
    expect(pasted.metadata).toEqual({ tags: ['x'] })
    expect(pasted.outputs).toHaveLength(1)
  })

  it('what one tab copies another reads (shared storage)', () => {
    const store = memoryStore()
    new CellClipboard(store).copy([codeCell('x = 1')])
    expect(new CellClipboard(store).cells().map((c) => c.source)).toEqual(['x = 1'])
  })

  it('falls back to the page\'s own copy when storage fails', () => {
    const broken = { getItem: () => { throw new Error('no') }, setItem: () => { throw new Error('no') } }
    const clip = new CellClipboard(broken)
    clip.copy([codeCell('y')])
    expect(clip.cells().map((c) => c.source)).toEqual(['y'])
    expect(CLIPBOARD_KEY).toBe('collabd.cells')
  })
})

describe('cell operations', () => {
  const notebook = (): YNotebook => {
    const nb = new YNotebook()
    insertCells(nb, 0, [0, 1, 2].map((i) => ({ cell_type: 'code', source: `c${i}`, metadata: {}, outputs: [{ output_type: 'stream', name: 'stdout', text: 'o' }], execution_count: i + 1 })))
    return nb
  }

  it('merges sources into the first cell, one undo step', () => {
    const nb = notebook()
    const ids = nb.cells.map((c) => c.id)
    nb.undoManager.stopCapturing()
    expect(mergeCells(nb, ids.slice(0, 2))).toBe(ids[0])
    expect(nb.cells.map((c) => c.getSource())).toEqual(['c0\n\nc1', 'c2'])
    expect(nb.cells[0].toJSON().outputs).toEqual([])
    nb.undo()
    expect(nb.cells.map((c) => c.getSource())).toEqual(['c0', 'c1', 'c2'])
  })

  it('clears outputs and counts', () => {
    const nb = notebook()
    clearOutputs(nb, [nb.cells[1].id])
    expect(nb.cells.map((c) => (c.toJSON().outputs as unknown[]).length)).toEqual([1, 0, 1])
    expect(nb.cells[1].toJSON().execution_count).toBeNull()
  })

  it('moves a range of cells, ids kept', () => {
    const nb = notebook()
    const ids = nb.cells.map((c) => c.id)
    expect(moveRange(nb, 0, 2, 1)).toBe(true)
    expect(nb.cells.map((c) => c.id)).toEqual([ids[2], ids[0], ids[1]])
    expect(moveRange(nb, 0, 1, -1)).toBe(false)
  })
})
