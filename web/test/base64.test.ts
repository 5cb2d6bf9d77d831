import { describe, expect, it } from 'vitest'
import { fromBase64 } from '../src/replay/source'

describe('fromBase64', () => {
  it('gives back every byte value, natively or not', () => {
    const bytes = Uint8Array.from({ length: 1024 }, (_, i) => (i * 7919) & 255)
    const text = Buffer.from(bytes).toString('base64')
    expect(Array.from(fromBase64(text))).toEqual(Array.from(bytes))
    expect(fromBase64('')).toEqual(new Uint8Array(0))
  })
})
