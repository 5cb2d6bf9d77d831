import { describe, expect, it } from 'vitest'
import { latexParts, renderLatex, renderMarkdown } from '../src/model/markdownRender'

describe('markdown with math and code', () => {
  it('renders inline and display math with KaTeX', () => {
    const inline = renderMarkdown('Energy: $x^2$ here')
    expect(inline).toContain('class="katex"')
    expect(inline).toContain('<annotation encoding="application/x-tex">x^2</annotation>')
    const display = renderMarkdown('$$\n\\int_0^1 x\\,dx\n$$')
    expect(display).toContain('katex-display')
    const oneLine = renderMarkdown('$$a+b$$')
    expect(oneLine).toContain('katex-display')
  })

  it('leaves dollars in code alone', () => {
    expect(renderMarkdown('`$x$`')).toContain('<code>$x$</code>')
  })

  it('highlights fenced python', () => {
    const html = renderMarkdown('```python\ndef f():\n    return 1\n```')
    expect(html).toContain('hljs language-python')
    expect(html).toContain('<span class="hljs-keyword">def</span>')
  })

  it('renders text/latex outputs without their delimiters', () => {
    expect(latexParts('$$x^2$$')).toEqual({ tex: 'x^2', display: true })
    expect(latexParts('$x$')).toEqual({ tex: 'x', display: false })
    expect(latexParts('\\begin{equation}a\\end{equation}')).toEqual({ tex: '\\begin{equation}a\\end{equation}', display: true })
    expect(renderLatex('$\\frac{1}{2}$')).toContain('mfrac')
    // Bad TeX shows as an error in place, never throws.
    expect(renderLatex('$\\frac{$')).toContain('katex-error')
  })
})
