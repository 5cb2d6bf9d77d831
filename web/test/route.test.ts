import { describe, expect, it } from 'vitest'
import { parseRoute, tokenFromHash, websocketBase } from '../src/model/route'

describe('route', () => {
  it('reads the notebook and replay pages with the token from the fragment', () => {
    expect(parseRoute('/s/abc', '#token=T1')).toEqual({ kind: 'notebook', sessionId: 'abc', token: 'T1' })
    expect(parseRoute('/s/abc/', '')).toEqual({ kind: 'notebook', sessionId: 'abc', token: null })
    expect(parseRoute('/s/abc/replay', '#token=V')).toEqual({ kind: 'replay', sessionId: 'abc', token: 'V' })
    expect(parseRoute('/', '')).toEqual({ kind: 'home' })
    expect(parseRoute('/x', '')).toEqual({ kind: 'unknown' })
    expect(parseRoute('/s/a/b', '')).toEqual({ kind: 'unknown' })
  })

  it('decodes tokens and ignores other fragment keys', () => {
    expect(tokenFromHash('#x=1&token=a%2Bb')).toBe('a+b')
    expect(tokenFromHash('#token=')).toBeNull()
  })

  it('builds the y-websocket server URL', () => {
    expect(websocketBase('http://h:1')).toBe('ws://h:1/ws')
    expect(websocketBase('https://h')).toBe('wss://h/ws')
  })
})
