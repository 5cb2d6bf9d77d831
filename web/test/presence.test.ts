import { describe, expect, it } from 'vitest'
import { followStep, isFollowed, participants } from '../src/model/presence'

const user = (name: string) => ({ name, color: '#123456', colorLight: '#12345633' })

describe('presence', () => {
  it('lists named participants, oneself first', () => {
    const states = new Map<number, Record<string, unknown>>([
      [3, { user: user('Zed'), cell: 'c2' }],
      [1, { user: user('Me'), cell: null }],
      [2, { user: user('Ada'), scroll: { cell: 'c5', offset: 12 } }],
      [4, {}],
    ])
    const list = participants(states, 1)
    expect(list.map((p) => p.user.name)).toEqual(['Me', 'Ada', 'Zed'])
    expect(list[0].self).toBe(true)
    expect(list[2].cell).toBe('c2')
    expect(list[1].scroll).toEqual({ cell: 'c5', offset: 12 })
  })

  it('follows scrolling first, then the active cell, and notices when the target left', () => {
    const [ada] = participants(new Map([[2, { user: user('Ada'), cell: 'c1', scroll: { cell: 'c1', offset: 0 } }]]), 1)
    expect(followStep({ cell: null, scroll: null }, ada)).toEqual({ kind: 'scroll', spot: { cell: 'c1', offset: 0 } })
    expect(followStep({ cell: 'c1', scroll: { cell: 'c1', offset: 0 } }, ada)).toEqual({ kind: 'none' })
    const moved = { ...ada, cell: 'c7' }
    expect(followStep({ cell: 'c1', scroll: { cell: 'c1', offset: 0 } }, moved)).toEqual({ kind: 'reveal', cell: 'c7' })
    expect(followStep({ cell: 'c1', scroll: null }, undefined)).toEqual({ kind: 'lost' })
  })

  it('knows who is followed', () => {
    const people = participants(new Map([
      [1, { user: user('Me') }],
      [2, { user: user('Ada'), following: 1 }],
      [3, { user: user('Bob'), following: 2 }],
    ]), 1)
    expect(people.find((p) => p.clientId === 2)?.following).toBe(1)
    expect(isFollowed(people, 1)).toBe(true)
    expect(isFollowed(people, 3)).toBe(false)
  })

  it('never lets a remote colour carry CSS', () => {
    const [p] = participants(new Map([[2, { user: { name: 'x'.repeat(200), color: 'red; background:url(//evil)' } }]]), 1)
    expect(p.user.color).toBe('#6b7280')
    expect(p.user.colorLight).toBe('#6b728033')
    expect(p.user.name).toHaveLength(80)
  })
})
