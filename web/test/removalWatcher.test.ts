import { YNotebook } from '@jupyter/ydoc'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { deleteCell, insertCell, moveCell } from '../src/model/notebookOps'
import { RemovalWatcher } from '../src/model/removalWatcher'
import type { Removal } from '../src/model/structureNotice'
import { CellVisits, describeRemoval, whoChanged } from '../src/model/structureNotice'
import type { Participant } from '../src/model/presence'

/** Two participants' copies of one notebook, kept in step like the hub would. */
function pair(): [YNotebook, YNotebook] {
  const a = new YNotebook()
  const b = new YNotebook()
  a.ydoc.on('update', (u: Uint8Array, origin: unknown) => { if (origin !== 'remote') Y.applyUpdate(b.ydoc, u, 'remote') })
  b.ydoc.on('update', (u: Uint8Array, origin: unknown) => { if (origin !== 'remote') Y.applyUpdate(a.ydoc, u, 'remote') })
  return [a, b]
}

function watch(nb: YNotebook, id: () => string): Removal[] {
  const seen: Removal[] = []
  new RemovalWatcher(nb, id, (r) => seen.push(r))
  return seen
}

describe('RemovalWatcher', () => {
  it('reports a remote delete of the watched cell, with where it stood', () => {
    const [alice, bob] = pair()
    const ids = [0, 1, 2].map((i) => insertCell(alice, i))
    const seen = watch(alice, () => ids[1])
    deleteCell(bob, ids[1])
    expect(seen).toEqual([{ kind: 'deleted', cellId: ids[1], from: 1, to: null, inserter: null }])
  })

  it('reports a remote move, naming the client that inserted the copy', () => {
    const [alice, bob] = pair()
    const ids = [0, 1, 2].map((i) => insertCell(alice, i))
    const seen = watch(alice, () => ids[0])
    moveCell(bob, ids[0], 1)
    expect(seen).toEqual([{ kind: 'moved', cellId: ids[0], from: 0, to: 1, inserter: bob.ydoc.clientID }])
  })

  it('ignores one\'s own edits and others\' edits to other cells', () => {
    const [alice, bob] = pair()
    const ids = [0, 1, 2].map((i) => insertCell(alice, i))
    const seen = watch(alice, () => ids[1])
    deleteCell(alice, ids[1])
    deleteCell(bob, ids[0])
    moveCell(bob, ids[2], -1)
    expect(seen).toEqual([])
  })
})

const person = (clientId: number, name: string, extra: Partial<Participant> = {}): Participant =>
  ({ clientId, user: { name, color: '#000', colorLight: '#0003' }, cell: null, scroll: null, self: false, ...extra })

describe('who changed it', () => {
  const removal: Removal = { kind: 'deleted', cellId: 'c1', from: 2, to: null, inserter: null }

  it('prefers the one who announced it', () => {
    const people = [person(1, 'Bob', { cell: 'c1' }), person(2, 'Carol', { did: { op: 'delete', cells: ['c1'], n: 1 } })]
    expect(whoChanged(removal, people, new CellVisits())).toBe('Carol')
  })

  it('else the one who was last in that cell', () => {
    const visits = new CellVisits()
    visits.observe([person(1, 'Bob', { cell: 'c1' }), person(2, 'Carol', { cell: 'c9' })])
    visits.observe([person(1, 'Bob', { cell: 'c2' }), person(2, 'Carol', { cell: 'c9' })])
    expect(whoChanged(removal, [person(1, 'Bob', { cell: 'c2' }), person(2, 'Carol')], visits)).toBe('Bob')
  })

  it('never names oneself, and says Someone when nobody fits', () => {
    expect(whoChanged(removal, [person(1, 'Me', { self: true, cell: 'c1' })], new CellVisits())).toBeNull()
    expect(describeRemoval(removal, null)).toBe('Someone deleted the cell you were in (cell 3).')
    expect(describeRemoval({ ...removal, kind: 'moved', to: 4 }, 'Bob')).toBe('Bob moved the cell you were in (from cell 3 to cell 5).')
  })
})
