"""Math in markdown cells and outputs (KaTeX, under the page's CSP), and highlighted fenced code."""

from __future__ import annotations

from typing import Any

import nbformat
import pytest
from playwright.sync_api import expect

from .conftest import code, markdown

pytestmark = [pytest.mark.browser, pytest.mark.kernel]


def test_math_and_code_render(notebook_session: Any, join: Any) -> None:
    latex_out = nbformat.v4.new_output(
        "display_data", data={"text/latex": "$$\\frac{a}{b} = \\sqrt{c}$$", "text/plain": "a/b"}
    )
    md_out = nbformat.v4.new_output(
        "display_data", data={"text/markdown": "Output with $y^2$", "text/plain": "y"}
    )
    session = notebook_session(
        [
            markdown(
                "# Maths\n\nEnergy $E = mc^2$ inline.\n\n"
                "$$\n\\int_0^1 x\\,dx = \\frac{1}{2}\n$$\n\n"
                "```python\ndef f(x):\n    return x ** 2  # square\n```\n"
            ),
            code("display(...)", outputs=[latex_out, md_out]),
        ]
    )
    ada = join(session["edit_url"], "Ada")
    csp: list[str] = []
    ada.page.on(
        "console",
        lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None,
    )
    rendered = ada.cell(0).locator(".cell-rendered")
    expect(rendered.locator(".katex")).to_have_count(2)
    expect(rendered.locator(".katex-display")).to_have_count(1)
    # MathML for screen readers, the HTML rendering for the eye.
    expect(rendered.locator(".katex math")).to_have_count(2)
    expect(rendered.locator(".katex-html").first).to_contain_text("mc")
    expect(rendered.locator(".katex-display .katex-html")).to_contain_text("∫")
    expect(rendered.locator("pre code.language-python .hljs-keyword").first).to_have_text("def")
    expect(rendered.locator("pre code .hljs-comment")).to_have_text("# square")

    outputs = ada.cell(1).locator(".cell-outputs")
    expect(outputs.locator(".output-latex .katex-display .mfrac")).to_have_count(1)
    expect(outputs.locator(".output-markdown .katex")).to_have_count(1)
    # KaTeX's fonts come from /static under the page's CSP.
    assert ada.page.evaluate(
        "async () => { await document.fonts.ready; return document.fonts.check('16px KaTeX_Main') }"
    )
    ada.screenshot("math")
    assert csp == [], csp
    ada.assert_no_page_errors()
