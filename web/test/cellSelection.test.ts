import { describe, expect, it } from 'vitest'
import { extendBy, extendTo, selectAll, selectedIds, selectedRange, single } from '../src/model/cellSelection'

const order = ['a', 'b', 'c', 'd', 'e']

describe('cell selection', () => {
  it('a single cell selects itself', () => {
    expect(selectedIds(order, single('c'))).toEqual(['c'])
  })

  it('Shift-down extends from the anchor, Shift-up shrinks it back and past it', () => {
    let sel = single('b')
    sel = extendBy(order, sel, 1)
    sel = extendBy(order, sel, 1)
    expect(selectedIds(order, sel)).toEqual(['b', 'c', 'd'])
    expect(sel.head).toBe('d')
    sel = extendBy(order, sel, -1)
    sel = extendBy(order, sel, -1)
    sel = extendBy(order, sel, -1)
    expect(selectedIds(order, sel)).toEqual(['a', 'b'])
    expect(sel.head).toBe('a')
  })

  it('stops at the ends', () => {
    expect(selectedIds(order, extendBy(order, single('e'), 1))).toEqual(['e'])
  })

  it('Shift-click selects the range to the cell clicked', () => {
    expect(selectedIds(order, extendTo(order, single('d'), 'b'))).toEqual(['b', 'c', 'd'])
  })

  it('reads the range against the current order (others deleted or moved cells)', () => {
    const sel = { anchor: 'b', head: 'd' }
    expect(selectedIds(['a', 'b', 'd'], sel)).toEqual(['b', 'd'])
    expect(selectedIds(['d', 'x', 'b'], sel)).toEqual(['d', 'x', 'b'])
    // The anchor gone: just the active cell.
    expect(selectedIds(['a', 'd'], sel)).toEqual(['d'])
    expect(selectedIds(['a'], sel)).toEqual([])
  })

  it('selects all and gives the range', () => {
    expect(selectedRange(order, selectAll(order))).toEqual([0, 5])
    expect(selectedRange(order, { anchor: 'd', head: 'b' })).toEqual([1, 4])
  })
})
