// @vitest-environment jsdom
import { describe, expect, it } from 'vitest'
import { sanitizeHtml } from '../src/view/markdown'
import { cleanState } from '../src/widgets/htmlState'

describe('widget HTML is cleaned as markdown is', () => {
  it('removes script, event handlers and <style> from an HTML widget value', () => {
    const state = cleanState('@jupyter-widgets/controls', 'HTMLModel', {
      value: '<b>ok</b><img src=x onerror="alert(1)"><style>body{display:none}</style><script>alert(2)</script><a href="https://example.com">l</a>',
    }, sanitizeHtml)
    const value = String(state.value)
    expect(value).toContain('<b>ok</b>')
    expect(value).not.toContain('onerror')
    expect(value.toLowerCase()).not.toContain('<style')
    expect(value).not.toContain('<script')
    expect(value).toContain('rel="noopener noreferrer"')
  })
})
