"""Shared ipywidgets in the page: the hub is the kernel's comm peer and keeps each model's state
in the document's `widgets` map; every page draws them with jupyter-widgets' own controls.

Two editors and a viewer on one session: one runs `interact` with a slider driving a matplotlib
plot, the other moves the slider, and everyone sees the same new plot and value; the viewer
sees it all and cannot move it. A `tqdm.auto` bar reaches 100% everywhere; a button's click
reaches the kernel; HTML in widgets cannot run script or restyle the page.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.hubproc import HubProcess

from .conftest import Participant

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

LONG = 90_000  # the first run starts the kernel
GONE_HINT = "kernel restarted: last state shown"
VIEW_ONLY_HINT = "View only: you see this widget change live, but only editors can change it"

INTERACT = """\
%matplotlib inline
import matplotlib.pyplot as plt
from ipywidgets import IntSlider, interact

def plot(n):
    fig, ax = plt.subplots(figsize=(4, 2.5))
    ax.plot(range(n + 1), [i * i for i in range(n + 1)], marker="o")
    ax.set_title(f"n = {n}")
    plt.show()
    print(f"plotted n={n}")  # after the image: once this shows, so does that image

interact(plot, n=IntSlider(value=3, min=1, max=10, description="n"))
"""

TQDM = """\
import time
from tqdm.auto import tqdm
for _ in tqdm(range(20), desc="work"):
    time.sleep(0.05)
"""

BUTTON = """\
from ipywidgets import Button, Output
from IPython.display import display
out = Output()
button = Button(description="Press me")
button.on_click(lambda _: out.append_stdout("pressed\\n"))
display(button, out)
"""

HOSTILE = """\
from ipywidgets import HTML, Checkbox, HTMLMath
from IPython.display import display
display(HTMLMath(r'area: $x^2$'))
display(HTML('<b id="safe-bold">bold</b><img src=x onerror="document.body.dataset.pwned=1">'
             '<style>body { display: none !important }</style>'))
display(Checkbox(description='<i>fancy</i><img src=y onerror="document.body.dataset.pwned=2">',
                 description_allow_html=True))
"""


def watch_csp(who: Participant) -> list[str]:
    """Content-Security-Policy complaints on the page (a library needing eval would show here)."""
    found: list[str] = []
    who.page.on(
        "console",
        lambda m: found.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return found


def plot_src(who: Participant) -> str:
    img = who.cell(0).locator(".output-widget .widget-output img.output-image")
    expect(img).to_have_count(1, timeout=LONG)
    return str(img.get_attribute("src"))


def slider_value(who: Participant) -> str:
    return str(who.cell(0).locator(".widget-slider .widget-readout").first.text_content()).strip()


def test_slider_drives_a_plot_for_everyone(notebook_session: Any, join: Any) -> None:
    session = notebook_session([INTERACT])
    ada = join(session["edit_url"], "Ada")
    bob = join(session["edit_url"], "Bob")
    vic = join(session["view_url"], "Vic")
    csp = [watch_csp(who) for who in (ada, bob, vic)]
    ada.cell(0).locator(".tool-run").click()

    before = {}
    for who in (ada, bob, vic):
        # A styled jupyter-widgets slider (noUiSlider), not the kernel's text for it.
        expect(who.cell(0).locator(".output-widget .widget-slider .noUi-handle")).to_have_count(
            1, timeout=LONG
        )
        expect(who.cell(0).locator(".widget-slider .widget-readout")).to_have_text("3")
        expect(who.cell(0).locator(".widget-output")).to_contain_text("plotted n=3")
        before[who.name] = plot_src(who)
    assert before["Ada"] == before["Bob"] == before["Vic"]
    ada.screenshot("widgets-interact-before-ada")

    # Bob moves the slider with the keyboard: two steps right.
    handle = bob.cell(0).locator(".widget-slider .noUi-handle")
    handle.focus()
    bob.page.keyboard.press("ArrowRight")
    bob.page.keyboard.press("ArrowRight")

    for who in (ada, bob, vic):
        expect(who.cell(0).locator(".widget-slider .widget-readout")).to_have_text("5")
        expect(who.cell(0).locator(".widget-output")).to_contain_text("plotted n=5", timeout=LONG)
    after = {who.name: plot_src(who) for who in (ada, bob, vic)}
    assert after["Ada"] == after["Bob"] == after["Vic"]
    assert after["Ada"] != before["Ada"]

    # The viewer sees it live but cannot change it: the slider is disabled and out of reach.
    vic_widget = vic.cell(0).locator(".output-widget").first
    expect(vic_widget).to_have_attribute("title", VIEW_ONLY_HINT)
    expect(vic.cell(0).locator(".widget-slider .noUi-target")).to_have_attribute("disabled", "true")
    vic.cell(0).locator(".widget-slider .noUi-handle").click(force=True)
    vic.page.keyboard.press("ArrowLeft")
    vic.page.keyboard.press("ArrowLeft")
    vic.page.wait_for_timeout(500)
    for who in (ada, bob, vic):
        assert slider_value(who) == "5"
    expect(vic.page.locator(".toast")).to_have_count(0)

    # Ada drags it to the end: many changes, sent one at a time (merged meanwhile), no refusal.
    box = ada.cell(0).locator(".widget-slider .noUi-handle").bounding_box()
    track = ada.cell(0).locator(".widget-slider .noUi-base").bounding_box()
    assert box and track
    ada.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    ada.page.mouse.down()
    ada.page.mouse.move(track["x"] + track["width"] + 20, box["y"] + box["height"] / 2, steps=40)
    ada.page.mouse.up()
    for who in (ada, bob, vic):
        expect(who.cell(0).locator(".widget-slider .widget-readout")).to_have_text("10")
        expect(who.cell(0).locator(".widget-output")).to_contain_text("plotted n=10", timeout=LONG)
    final = {who.name: plot_src(who) for who in (ada, bob, vic)}
    assert final["Ada"] == final["Bob"] == final["Vic"] != after["Ada"]
    for who in (ada, bob):
        expect(who.page.locator(".toast")).to_have_count(0)

    # Someone joining now builds every model from the document: the same slider and plot.
    dan = join(session["edit_url"], "Dan")
    expect(dan.cell(0).locator(".widget-slider .widget-readout")).to_have_text("10", timeout=LONG)
    expect(dan.cell(0).locator(".widget-output")).to_contain_text("plotted n=10")
    assert plot_src(dan) == final["Ada"]

    for who in (ada, bob, vic):
        who.cell(0).scroll_into_view_if_needed()
        who.screenshot(f"widgets-interact-after-{who.name.lower()}")
        who.assert_no_page_errors()
    assert csp == [[], [], []]


def test_tqdm_button_and_restart(notebook_session: Any, join: Any, hub: HubProcess) -> None:
    session = notebook_session([TQDM, BUTTON])
    ada = join(session["edit_url"], "Ada")
    bob = join(session["edit_url"], "Bob")
    ada.cell(0).locator(".tool-run").click()
    for who in (ada, bob):
        bar = who.cell(0).locator(".output-widget .widget-hprogress .progress-bar")
        expect(bar).to_have_count(1, timeout=LONG)
        expect(who.cell(0).locator(".output-widget")).to_contain_text("20/20", timeout=LONG)
        expect(who.cell(0).locator(".output-widget")).to_contain_text("100%")
        width = bar.evaluate(
            "b => b.getBoundingClientRect().width / b.parentElement.getBoundingClientRect().width"
        )
        assert width > 0.99, width
    ada.screenshot("widgets-tqdm-ada")

    # The playback page shows the widgets as they were (here: now), read-only.
    replay = join(f"{hub.base}/s/{session['id']}/replay#token={session['view_token']}", None)
    replay.page.get_by_role("button", name="Go live").click()
    replay_bar = replay.cell(0).locator(".output-widget .widget-hprogress .progress-bar")
    expect(replay_bar).to_have_count(1, timeout=LONG)
    expect(replay.cell(0).locator(".output-widget")).to_contain_text("20/20")
    expect(replay.cell(0).locator(".output-widget").first).to_have_attribute(
        "title", "Playback: the widget as it was at this moment"
    )
    replay.screenshot("widgets-replay")
    replay.context.close()

    ada.cell(1).locator(".cell-prompt").click()  # the toolbar shows on the selected cell
    ada.cell(1).locator(".tool-run").click()
    button = bob.cell(1).locator(".output-widget button.jupyter-button", has_text="Press me")
    expect(button).to_have_count(1, timeout=LONG)
    button.click()
    for who in (ada, bob):
        expect(who.cell(1).locator(".output-widget .widget-output")).to_contain_text("pressed")
    bob.screenshot("widgets-button-bob")

    # The kernel restarts: the widgets stay with their last state, disabled, saying why.
    status, body = hub.api(
        "POST", f"/api/sessions/{session['id']}/kernel/restart", {}, token=session["edit_token"]
    )
    assert status == 200, body
    for who in (ada, bob):
        widget = who.cell(1).locator(".output-widget").first
        expect(widget.locator(".widget-note")).to_have_text(GONE_HINT)
        expect(widget.locator("button.jupyter-button")).to_be_disabled()
        expect(who.cell(1).locator(".output-widget .widget-output")).to_contain_text("pressed")
        expect(who.cell(0).locator(".output-widget").first).to_contain_text("20/20")
    bob.screenshot("widgets-gone-bob")
    for who in (ada, bob):
        who.assert_no_page_errors()


def test_widget_html_runs_no_script(notebook_session: Any, join: Any) -> None:
    session = notebook_session([HOSTILE])
    ada = join(session["edit_url"], "Ada")
    loaded: list[str] = []
    ada.page.on("request", lambda r: loaded.append(r.url) if "/assets/widgets-" in r.url else None)
    ada.page.wait_for_timeout(500)
    # A notebook without widgets loads none of their code.
    assert loaded == []
    ada.cell(0).locator(".tool-run").click()
    expect(ada.cell(0).locator(".output-widget #safe-bold")).to_have_text("bold", timeout=LONG)
    expect(ada.cell(0).locator(".output-widget .widget-checkbox i")).to_have_text("fancy")
    # Math in HTMLMath is typeset with KaTeX, as in markdown cells.
    expect(ada.cell(0).locator(".output-widget .widget-htmlmath .katex")).to_have_count(1)
    ada.page.wait_for_timeout(500)
    assert ada.page.evaluate("() => document.body.dataset.pwned ?? null") is None
    assert ada.page.evaluate("() => document.querySelectorAll('.output-widget style').length") == 0
    assert ada.page.locator("body").is_visible()
    assert any(url.endswith(".js") for url in loaded)
    ada.screenshot("widgets-html-ada")
    ada.assert_no_page_errors()
