import { describe, expect, it } from 'vitest'
import { parseRoute, tokenFromHash, websocketBase, takeToken, tokenKey } from '../src/model/route'

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

describe('takeToken', () => {
  const memory = () => {
    const items = new Map<string, string>()
    return { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v) }
  }

  it('keeps the fragment token for the tab and clears the address bar', () => {
    const storage = memory()
    let cleared = 0
    const route = takeToken(parseRoute('/s/abc', '#token=t1'), storage, () => cleared++)
    expect(route).toEqual({ kind: 'notebook', sessionId: 'abc', token: 't1' })
    expect(cleared).toBe(1)
    expect(storage.getItem(tokenKey('abc'))).toBe('t1')
  })

  it('finds it again after a reload, and only for its session', () => {
    const storage = memory()
    takeToken(parseRoute('/s/abc/replay', '#token=t2'), storage, () => undefined)
    expect(takeToken(parseRoute('/s/abc', ''), storage, () => undefined)).toMatchObject({ token: 't2' })
    expect(takeToken(parseRoute('/s/other', ''), storage, () => undefined)).toMatchObject({ token: null })
    expect(takeToken(parseRoute('/', ''), storage, () => undefined)).toEqual({ kind: 'home' })
  })
})
