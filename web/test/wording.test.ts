import { describe, expect, it } from 'vitest'
import { failureWords, nameCells, outputsFromEarlierRun } from '../src/model/wording'

const numbers: Record<string, number> = { '1610a68d-2f1c-4b7e-9a53-8f0e3c1d2b44': 2, abcdef12: 5 }
const cellNumber = (id: string): number => numbers[id] ?? 0

describe('messages in people\'s words', () => {
  it('names a failed batch cell by its number', () => {
    expect(nameCells('an earlier cell of the same batch (1610a68d-2f1c-4b7e-9a53-8f0e3c1d2b44) failed', cellNumber))
      .toBe('cell 2 failed earlier in the same run')
  })

  it('names any known cell id, and leaves words and unknown ids alone', () => {
    expect(nameCells('cancelled: abcdef12 was deleted, zzzzzzzz too', cellNumber)).toBe('cancelled: cell 5 was deleted, zzzzzzzz too')
    expect(nameCells('an earlier cell of the same batch (gone1234) failed', cellNumber))
      .toBe('an earlier cell of the same batch (gone1234) failed')
  })

  it('says offline instead of "Failed to fetch"', () => {
    expect(failureWords('running the cell', new TypeError('Failed to fetch'), false))
      .toBe('You are offline — running the cell will work again once the connection is back.')
    expect(failureWords('running the cell', new TypeError('Failed to fetch'), true)).toMatch(/^The server cannot be reached/)
    expect(failureWords('interrupting', new Error('409 busy'), true)).toBe('Interrupting failed: 409 busy')
  })

  it('marks outputs from an earlier run only when the last run never started', () => {
    expect(outputsFromEarlierRun({ status: 'cancelled', started: null }, 2)).toBe(true)
    expect(outputsFromEarlierRun({ status: 'cancelled', started: 10 }, 2)).toBe(false)
    expect(outputsFromEarlierRun({ status: 'ok', started: null }, 2)).toBe(false)
    expect(outputsFromEarlierRun({ status: 'cancelled', started: null }, 0)).toBe(false)
    expect(outputsFromEarlierRun(null, 3)).toBe(false)
  })
})
