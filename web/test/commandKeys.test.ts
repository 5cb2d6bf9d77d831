import { describe, expect, it } from 'vitest'
import { changesNotebook, commandKey, type KeyInput, type Pending } from '../src/model/commandKeys'

const key = (k: string, mods: Partial<KeyInput> = {}): KeyInput => ({ key: k, shift: false, ctrl: false, alt: false, meta: false, ...mods })

function press(...keys: KeyInput[]): (string | null)[] {
  let pending: Pending = null
  return keys.map((k) => {
    const result = commandKey(k, pending)
    pending = result.pending
    return result.command
  })
}

describe('command-mode keys', () => {
  it('maps Jupyter single keys', () => {
    expect(press(key('a'), key('b'), key('m'), key('y'), key('r'))).toEqual(['insert-above', 'insert-below', 'to-markdown', 'to-code', 'to-raw'])
    expect(press(key('j'), key('k'), key('ArrowDown'), key('ArrowUp'))).toEqual(['select-next', 'select-prev', 'select-next', 'select-prev'])
    expect(press(key('A', { shift: true }))).toEqual([null])
  })

  it('maps the Enter family', () => {
    expect(press(key('Enter'))).toEqual(['edit'])
    expect(press(key('Enter', { shift: true }))).toEqual(['run-advance'])
    expect(press(key('Enter', { ctrl: true }))).toEqual(['run'])
    expect(press(key('Enter', { meta: true }))).toEqual(['run'])
    expect(press(key('Enter', { alt: true }))).toEqual(['run-insert'])
  })

  it('needs D twice to delete, and any other key in between resets it', () => {
    expect(press(key('d'), key('d'))).toEqual([null, 'delete'])
    expect(press(key('d'), key('j'), key('d'))).toEqual([null, 'select-next', null])
    expect(press(key('i'), key('i'))).toEqual([null, 'interrupt'])
    expect(press(key('0'), key('0'))).toEqual([null, 'restart'])
    expect(press(key('d'), key('i'), key('d'))).toEqual([null, null, null])
  })

  it('leaves browser shortcuts alone', () => {
    expect(commandKey(key('c', { ctrl: true }), null).handled).toBe(false)
    expect(commandKey(key('q'), null).handled).toBe(false)
  })

  it('extends the selection with Shift-arrows and moves cells with Ctrl-Shift-arrows (JupyterLab 4)', () => {
    expect(press(key('ArrowUp', { shift: true }), key('J', { shift: true }))).toEqual(['extend-prev', 'extend-next'])
    expect(press(key('ArrowUp', { shift: true, ctrl: true }), key('ArrowDown', { shift: true, meta: true }))).toEqual(['move-up', 'move-down'])
    expect(press(key('a', { ctrl: true }))).toEqual(['select-all'])
  })

  it('maps the clipboard, merge and undo keys', () => {
    expect(press(key('c'), key('x'), key('v'), key('V', { shift: true }), key('M', { shift: true }))).toEqual(['copy', 'cut', 'paste-below', 'paste-above', 'merge'])
    expect(press(key('z'), key('Z', { shift: true }))).toEqual(['undo', 'redo'])
    expect(changesNotebook('copy')).toBe(false)
    expect(changesNotebook('paste-below')).toBe(true)
    expect(changesNotebook('undo')).toBe(true)
  })

  it('knows which commands change the notebook', () => {
    expect(changesNotebook('delete')).toBe(true)
    expect(changesNotebook('edit')).toBe(true)
    expect(changesNotebook('select-next')).toBe(false)
    expect(changesNotebook('help')).toBe(false)
    expect(press(key('h'))).toEqual(['help'])
  })
})
