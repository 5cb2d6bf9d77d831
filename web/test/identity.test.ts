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
