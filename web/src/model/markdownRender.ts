/**
 * Markdown to HTML as Jupyter shows it, without DOM (the view sanitizes the result): GitHub
 * flavoured markdown, `$…$` and `$$…$$` math through KaTeX (no eval, so the page's CSP stays
 * `script-src 'self'`), fenced code highlighted with highlight.js. Also `text/latex` outputs.
 */
import hljs from 'highlight.js/lib/core'
import bash from 'highlight.js/lib/languages/bash'
import javascript from 'highlight.js/lib/languages/javascript'
import json from 'highlight.js/lib/languages/json'
import python from 'highlight.js/lib/languages/python'
import sql from 'highlight.js/lib/languages/sql'
import katex from 'katex'
import { Marked } from 'marked'
import { markedHighlight } from 'marked-highlight'
import markedKatex from 'marked-katex-extension'

hljs.registerLanguage('python', python)
hljs.registerLanguage('bash', bash)
hljs.registerLanguage('javascript', javascript)
hljs.registerLanguage('json', json)
hljs.registerLanguage('sql', sql)
hljs.registerAliases(['py', 'ipython', 'python3'], { languageName: 'python' })
hljs.registerAliases(['sh', 'shell', 'console'], { languageName: 'bash' })
hljs.registerAliases(['js'], { languageName: 'javascript' })

const markdown = new Marked(
  { gfm: true, async: false },
  // nonStandard: `$x$` also right next to text, as Jupyter (MathJax) allows.
  markedKatex({ throwOnError: false, nonStandard: true, output: 'htmlAndMathml' }),
  markedHighlight({
    emptyLangClass: 'hljs',
    langPrefix: 'hljs language-',
    highlight(code, lang) {
      const language = hljs.getLanguage(lang) ? lang : 'python'
      return hljs.highlight(code, { language, ignoreIllegals: true }).value
    },
  }),
)

/** Unsanitized HTML: the view must pass it through DOMPurify before use. */
export function renderMarkdown(source: string): string {
  return markdown.parse(source) as string
}

/** A `text/latex` output: its math delimiters taken off, shown in display mode unless inline. */
export function latexParts(text: string): { tex: string; display: boolean } {
  const t = text.trim()
  const pairs: [string, string, boolean][] = [['$$', '$$', true], ['\\[', '\\]', true], ['\\(', '\\)', false], ['$', '$', false]]
  for (const [open, close, display] of pairs) {
    if (t.length >= open.length + close.length && t.startsWith(open) && t.endsWith(close)) {
      return { tex: t.slice(open.length, t.length - close.length).trim(), display }
    }
  }
  return { tex: t, display: true }
}

export function renderLatex(text: string): string {
  const { tex, display } = latexParts(text)
  return katex.renderToString(tex, { displayMode: display, throwOnError: false, output: 'htmlAndMathml' })
}
