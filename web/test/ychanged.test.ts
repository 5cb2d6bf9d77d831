import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { changed } from '../src/model/ychanged'

function seen(doc: Y.Doc, change: () => void): boolean[] {
  const found: boolean[] = []
  const listener = (tr: Y.Transaction): void => { found.push(changed(tr)) }
  doc.on('afterTransaction', listener)
  change()
  doc.off('afterTransaction', listener)
  return found
}

describe('changed', () => {
  it('says yes to an insert and a delete, as Yjs emits an update for them', () => {
    const doc = new Y.Doc()
    const text = doc.getText('t')
    const updates: Uint8Array[] = []
    doc.on('update', (u: Uint8Array) => updates.push(u))
    expect(seen(doc, () => text.insert(0, 'abc'))).toEqual([true])
    expect(seen(doc, () => text.delete(1, 1))).toEqual([true])
    expect(updates).toHaveLength(2)
  })

  it('says no to a transaction that changed nothing, which Yjs emits no update for', () => {
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'abc')
    const updates: Uint8Array[] = []
    doc.on('update', (u: Uint8Array) => updates.push(u))
    expect(seen(doc, () => doc.transact(() => undefined))).toEqual([false])
    expect(updates).toHaveLength(0)
  })

  it('says yes to a remote update applied', () => {
    const a = new Y.Doc()
    a.getText('t').insert(0, 'hello')
    const b = new Y.Doc()
    expect(seen(b, () => Y.applyUpdate(b, Y.encodeStateAsUpdate(a), 'remote'))).toEqual([true])
    expect(seen(b, () => Y.applyUpdate(b, Y.encodeStateAsUpdate(a), 'remote'))).toEqual([false])
  })
})
