import { describe, expect, it } from 'vitest'
import { ApiError } from '../src/model/api'
import { fromCodePoints, toCodePoints } from '../src/model/codePoints'
import {
  assistFailure,
  assistRequest,
  completionsFrom,
  inspectionText,
  wantsCompletion,
  wantsInspection,
} from '../src/model/kernelAssist'

describe('code points', () => {
  it('counts a character outside the BMP once', () => {
    const text = 'a😀b'
    expect(text.length).toBe(4)
    expect(toCodePoints(text, 0)).toBe(0)
    expect(toCodePoints(text, 1)).toBe(1)
    expect(toCodePoints(text, 3)).toBe(2)
    expect(toCodePoints(text, 4)).toBe(3)
    expect(fromCodePoints(text, 2)).toBe(3)
    expect(fromCodePoints(text, 3)).toBe(4)
    expect(fromCodePoints(text, 99)).toBe(4)
  })

  it('round-trips every boundary', () => {
    const text = 'x = "𝔘𝔫𝔦" + 🎉\n\u00e9t\u00e9'
    for (let p = 0; p <= Array.from(text).length; p++) expect(toCodePoints(text, fromCodePoints(text, p))).toBe(p)
  })
})

describe('kernel assist', () => {
  it('completes after an identifier or a dot, indents otherwise', () => {
    expect(wantsCompletion('shared_val')).toBe(true)
    expect(wantsCompletion('    os.')).toBe(true)
    expect(wantsCompletion('x = ')).toBe(false)
    expect(wantsCompletion('')).toBe(false)
    expect(wantsCompletion('    ')).toBe(false)
    expect(wantsCompletion('x = 12')).toBe(false)
    expect(wantsCompletion('données')).toBe(true)
  })

  it('inspects after something, dedents otherwise', () => {
    expect(wantsInspection('len(')).toBe(true)
    expect(wantsInspection('    ')).toBe(false)
  })

  it('sends the cursor in code points', () => {
    expect(assistRequest('😀 = 1\n😀', 9)).toEqual({ code: '😀 = 1\n😀', cursor_pos: 7 })
  })

  it('reads matches, their range and IPython types', () => {
    const got = completionsFrom('import os\nos.pa', {
      matches: ['pardir', 'path', 'path'],
      cursor_start: 13,
      cursor_end: 15,
      metadata: { _jupyter_types_experimental: [{ text: 'path', type: 'module', start: 13, end: 15, signature: '' }] },
    })
    expect(got).toEqual({ from: 13, to: 15, options: [{ label: 'pardir' }, { label: 'path', type: 'module' }] })
  })

  it('shows the plain text of what was found', () => {
    expect(inspectionText({ found: true, data: { 'text/plain': 'Signature: len(obj)' } })).toBe('Signature: len(obj)')
    expect(inspectionText({ found: false, data: {} })).toBeNull()
    expect(inspectionText({ found: true, data: { 'text/html': '<b>' } })).toBeNull()
  })

  it('says why the kernel cannot help', () => {
    expect(assistFailure(new ApiError(409, 'no_kernel', ''))).toMatch(/run a cell first to start the kernel/i)
    expect(assistFailure(new ApiError(409, 'kernel_busy', ''))).toMatch(/the kernel is busy running a cell/i)
    expect(assistFailure(new TypeError('Failed to fetch'))).toMatch(/cannot be reached/)
  })
})
