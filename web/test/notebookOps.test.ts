import { YNotebook } from '@jupyter/ydoc'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { changeCellType, deleteCell, insertCell, insertRelative, moveCell, neighbour } from '../src/model/notebookOps'

/** Two replicas joined by a link that can be cut, like two browsers through the hub. */
function pair(): { a: YNotebook; b: YNotebook; setOnline(on: boolean): void } {
  const a = new YNotebook()
  const b = new YNotebook()
  let online = true
  const forward = (to: YNotebook) => (update: Uint8Array, origin: unknown) => {
    if (online && origin !== 'remote') Y.applyUpdate(to.ydoc, update, 'remote')
  }
  a.ydoc.on('update', forward(b))
  b.ydoc.on('update', forward(a))
  return {
    a,
    b,
    setOnline(on) {
      online = on
      if (on) {
        // What y-websocket's sync steps do on reconnect: exchange what the other lacks.
        Y.applyUpdate(b.ydoc, Y.encodeStateAsUpdate(a.ydoc, Y.encodeStateVector(b.ydoc)), 'remote')
        Y.applyUpdate(a.ydoc, Y.encodeStateAsUpdate(b.ydoc, Y.encodeStateVector(a.ydoc)), 'remote')
      }
    },
  }
}

const sources = (nb: YNotebook) => nb.cells.map((c) => c.getSource())
const types = (nb: YNotebook) => nb.cells.map((c) => c.cell_type)

describe('notebook edits', () => {
  it('inserts, moves and deletes by id, shared live', () => {
    const { a, b } = pair()
    const first = insertCell(a, 0, 'code')
    a.cells[0].setSource('one')
    const second = insertRelative(b, first, 'below', 'markdown')
    b.cells[1].setSource('two')
    insertRelative(a, first, 'above', 'raw')
    expect(types(b)).toEqual(['raw', 'code', 'markdown'])
    expect(moveCell(a, second, -1)).toBe(true)
    expect(sources(b)).toEqual(['', 'two', 'one'])
    expect(b.cells[1].id).toBe(second)
    expect(moveCell(a, b.cells[0].id, -1)).toBe(false)
    expect(deleteCell(b, second)).toBe(first)
    expect(sources(a)).toEqual(['', 'one'])
    expect(deleteCell(b, 'nope')).toBeNull()
  })

  it('changes a cell type keeping source and metadata, under a new id', () => {
    const { a, b } = pair()
    const id = insertCell(a, 0, 'code')
    a.cells[0].setSource('# Title')
    a.cells[0].setMetadata({ tags: ['x'] })
    const newId = changeCellType(b, id, 'markdown')
    expect(newId).not.toBe(id)
    expect(a.cells).toHaveLength(1)
    expect(a.cells[0].cell_type).toBe('markdown')
    expect(a.cells[0].getSource()).toBe('# Title')
    expect(a.cells[0].getMetadata('tags')).toEqual(['x'])
    expect(changeCellType(a, newId!, 'markdown')).toBe(newId)
  })

  it('merges edits made offline on both sides', () => {
    const { a, b, setOnline } = pair()
    insertCell(a, 0, 'code')
    a.cells[0].setSource('x = 1\n')
    setOnline(false)
    a.cells[0].updateSource(0, 0, '# from a\n')
    b.cells[0].updateSource(b.cells[0].getSource().length, b.cells[0].getSource().length, 'y = 2\n')
    insertCell(b, 1, 'markdown')
    expect(sources(a)).toEqual(['# from a\nx = 1\n'])
    setOnline(true)
    expect(sources(a)).toEqual(['# from a\nx = 1\ny = 2\n', ''])
    expect(sources(b)).toEqual(sources(a))
  })

  it('walks to neighbours within bounds', () => {
    const nb = new YNotebook()
    expect(neighbour(nb, null, 1)).toBeNull()
    const one = insertCell(nb, 0)
    const two = insertCell(nb, 1)
    expect(neighbour(nb, one, 1)).toBe(two)
    expect(neighbour(nb, two, 1)).toBe(two)
    expect(neighbour(nb, 'gone', 1)).toBe(one)
  })
})
