import { describe, expect, it } from 'vitest'
import { applyCarriageReturns, joinText, mergeStreams, planOutput, shouldCollapse } from '../src/model/outputs'

describe('output plans', () => {
  it('plans streams and errors', () => {
    expect(planOutput({ output_type: 'stream', name: 'stderr', text: ['a\n', 'b'] })).toEqual({ kind: 'stream', name: 'stderr', text: 'a\nb' })
    const err = planOutput({ output_type: 'error', ename: 'ValueError', evalue: 'x', traceback: ['\u001b[31mline1', 'line2'] })
    expect(err).toEqual({ kind: 'error', ename: 'ValueError', evalue: 'x', traceback: '\u001b[31mline1\nline2' })
  })

  it('prefers the richest mime type and sandboxes HTML', () => {
    const both = planOutput({ output_type: 'execute_result', data: { 'text/plain': 'df', 'text/html': '<table/>' } })
    expect(both).toEqual({ kind: 'html', html: '<table/>' })
    expect(planOutput({ output_type: 'display_data', data: { 'text/markdown': '# hi', 'text/plain': 'hi' } }).kind).toBe('markdown')
    expect(planOutput({ output_type: 'display_data', data: { 'application/json': { a: 1 } } })).toEqual({ kind: 'json', text: '{\n  "a": 1\n}' })
    expect(planOutput({ output_type: 'display_data', data: { 'application/x-foo': 1 } })).toEqual({ kind: 'unsupported', mimes: ['application/x-foo'] })
  })

  it('shows images as data URLs, SVG included (never inline)', () => {
    const png = planOutput({ output_type: 'display_data', data: { 'image/png': 'iVBO\nRw==\n' }, metadata: { 'image/png': { width: 40 } } })
    expect(png).toEqual({ kind: 'image', mime: 'image/png', src: 'data:image/png;base64,iVBORw==', width: 40, height: null })
    const svg = planOutput({ output_type: 'display_data', data: { 'image/svg+xml': '<svg><script>alert(1)</script></svg>' } })
    expect(svg.kind).toBe('image')
    if (svg.kind !== 'image') throw new Error()
    expect(svg.src.startsWith('data:image/svg+xml;base64,')).toBe(true)
    expect(atob(svg.src.split(',')[1])).toContain('<svg>')
  })

  it('joins multiline strings and applies carriage returns', () => {
    expect(joinText(['a', 'b'])).toBe('ab')
    expect(joinText(5)).toBe('')
    expect(applyCarriageReturns('10%\r50%\r100%\ndone')).toBe('100%\ndone')
    expect(applyCarriageReturns('abcdef\rXY')).toBe('XYcdef')
  })

  it('merges consecutive streams of the same name', () => {
    const plans = [
      planOutput({ output_type: 'stream', name: 'stdout', text: 'a' }),
      planOutput({ output_type: 'stream', name: 'stdout', text: 'b' }),
      planOutput({ output_type: 'stream', name: 'stderr', text: 'c' }),
    ]
    expect(mergeStreams(plans)).toEqual([
      { kind: 'stream', name: 'stdout', text: 'ab' },
      { kind: 'stream', name: 'stderr', text: 'c' },
    ])
  })

  it('collapses long outputs only', () => {
    const long = planOutput({ output_type: 'stream', name: 'stdout', text: 'x\n'.repeat(200) })
    expect(shouldCollapse([long])).toBe(true)
    expect(shouldCollapse([planOutput({ output_type: 'stream', name: 'stdout', text: 'x' })])).toBe(false)
  })
})

describe('latex outputs', () => {
  it('prefers text/latex to images and plain text, as JupyterLab does', async () => {
    const { planOutput } = await import('../src/model/outputs')
    expect(planOutput({ output_type: 'execute_result', data: { 'text/latex': '$x^2$', 'image/png': 'AAAA', 'text/plain': 'x**2' }, metadata: {} }))
      .toEqual({ kind: 'latex', latex: '$x^2$' })
  })
})
