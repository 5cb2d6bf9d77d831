import { describe, expect, it } from 'vitest'
import { cleanName, loadName, MAX_NAME_LENGTH, NAME_KEY, PALETTE, saveName, userFor } from '../src/model/identity'

class MemoryStore {
  data = new Map<string, string>()
  getItem(key: string): string | null {
    return this.data.get(key) ?? null
  }
  setItem(key: string, value: string): void {
    this.data.set(key, value)
  }
}

describe('identity', () => {
  it('remembers a cleaned name', () => {
    const store = new MemoryStore()
    expect(loadName(store)).toBeNull()
    expect(saveName(store, '  Ada   Lovelace ')).toBe('Ada Lovelace')
    expect(store.data.get(NAME_KEY)).toBe('Ada Lovelace')
    expect(loadName(store)).toBe('Ada Lovelace')
  })

  it('does not store an empty name and caps the length', () => {
    const store = new MemoryStore()
    expect(saveName(store, '   ')).toBe('')
    expect(store.data.size).toBe(0)
    expect(cleanName('x'.repeat(100))).toHaveLength(MAX_NAME_LENGTH)
  })

  it('gives each name a stable colour from the palette', () => {
    expect(userFor('Ada')).toEqual(userFor('Ada'))
    expect(PALETTE).toContain(userFor('Ada').color)
    expect(userFor('Ada').colorLight).toBe(userFor('Ada').color + '33')
    const colours = new Set(['Ada', 'Grace', 'Linus', 'Guido', 'Barbara', 'Ken'].map((n) => userFor(n).color))
    expect(colours.size).toBeGreaterThan(2)
  })
})

describe('colours', async () => {
  const { assignColours, PALETTE: slots } = await import('../src/model/colours')

  it('gives dozens of people present distinct colours', () => {
    const names = Array.from({ length: 40 }, (_, i) => `Person ${i}`)
    const colours = assignColours(names.map((name, i) => ({ clientId: i + 1, name, joined: i })))
    expect(new Set(colours.values()).size).toBe(40)
    expect(new Set(slots).size).toBe(slots.length)
  })

  it('keeps a colour for whoever came first, and the same colour for one name in two tabs', () => {
    const alone = assignColours([{ clientId: 5, name: 'Ada', joined: 10 }])
    const later = assignColours([
      { clientId: 5, name: 'Ada', joined: 10 },
      { clientId: 2, name: 'Bob', joined: 20 },
      { clientId: 9, name: 'Ada', joined: 30 },
    ])
    expect(later.get(5)).toBe(alone.get(5))
    expect(later.get(9)).toBe(later.get(5))
    expect(later.get(2)).not.toBe(later.get(5))
  })

  it('is the same whatever order the states come in (every client agrees)', () => {
    const claims = ['Ada', 'Bob', 'Cy', 'Di'].map((name, i) => ({ clientId: 10 - i, name, joined: 100 + i }))
    const a = assignColours(claims)
    const b = assignColours([...claims].reverse())
    expect([...a.entries()].sort()).toEqual([...b.entries()].sort())
  })
})
