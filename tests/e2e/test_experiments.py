"""The experiments dialog: tracked runs by two people in a table with their parameters, metrics and
changes, sorted, filtered, charted (uPlot on a canvas), as CSV, and a run opened in playback."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.support.hubproc import HubProcess

from .conftest import SCREENSHOTS, Participant, code, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

LONG = 90_000  # the first run starts the kernel
TRAIN = (
    "accuracy = round(1 - (1 - lr) ** 3, 4)\n"
    "loss = round((1 - lr) ** 3, 4)\n"
    "print('accuracy', accuracy)"
)
# lr: accuracy, loss. The second run is worse than the first, the third better than the second.
RUNS = [
    ("Ada", 0.5, "0.875", "0.125"),
    ("Bob", 0.1, "0.271", "0.729"),
    ("Bob", 0.9, "0.999", "0.001"),
]
MINUS = "\u2212"  # the page writes a decrease with a real minus sign


def run_with(who: Participant, lr: float, accuracy: str) -> None:
    """Sets the parameters cell, then "Run all" (one batch: one experiment)."""
    who.cell(0).locator(".cell-editor").click()
    who.editor(0).wait_for()
    who.page.keyboard.press("Control+a")
    who.page.keyboard.type(f"lr = {lr}")
    who.page.locator(".run-all-button").click()
    expect(who.cell(1).locator(".output-stream")).to_have_text(
        f"accuracy {accuracy}\n", timeout=LONG
    )


def accent_pixels(page: Page) -> int:
    """Pixels of the chart's canvas drawn in the series colour (the page's accent)."""
    return int(
        page.evaluate(
            """() => {
              const canvas = document.querySelector('.experiments-chart canvas')
              if (!canvas) return 0
              const ctx = canvas.getContext('2d')
              const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height)
              let n = 0
              for (let i = 0; i < data.length; i += 4) {
                const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]]
                const near = Math.abs(r - 31) + Math.abs(g - 111) + Math.abs(b - 235) < 90
                if (a > 200 && near) n++
              }
              return n
            }"""
        )
    )


def chart_loads(page: Page) -> int:
    """How many times the page fetched the chart's code (its own chunk, with uPlot)."""
    return int(
        page.evaluate(
            """() => performance.getEntriesByType('resource')
                .filter((e) => /experimentsChart-[^/]*\\.js$/.test(e.name)).length"""
        )
    )


def column(page: Page, cls: str) -> Locator:
    return page.locator(f".experiment-row td.{cls}")


def test_experiments_table_chart_and_playback(
    hub: HubProcess, notebook_session: Any, join: Any, tmp_path: Any
) -> None:
    session = notebook_session([code("lr = 0.2", metadata={"tags": ["parameters"]}), TRAIN])
    ada = join(session["edit_url"], "Ada")
    bob = join(session["edit_url"], "Bob")
    run_with(ada, *RUNS[0][1:3])

    # Ada keeps the dialog open while Bob runs twice more: it follows each run's end. The
    # charting library is loaded only once the dialog draws a chart.
    page = ada.page
    assert chart_loads(page) == 0
    page.locator(".experiments-button").click()
    dialog = page.locator(".experiments-dialog")
    rows = dialog.locator(".experiment-row")
    expect(rows).to_have_count(1)
    for _who, lr, accuracy, _loss in RUNS[1:]:
        run_with(bob, lr, accuracy)
    expect(rows).to_have_count(3)

    # Newest first: when, who, cell, host, status, lr, accuracy and loss with their changes.
    # A "run all" shows as one row from its first cell's end, and as its last cell once that
    # one ends too: the page catches up with the last run's end in its own time.
    expect(column(page, "col-cell")).to_have_text(["cell 2"] * 3)
    expect(column(page, "col-status")).to_have_text(["ok"] * 3)
    expect(column(page, "col-who")).to_have_text(["Bob", "Bob", "Ada"])
    expect(column(page, "col-host")).to_have_text(["local"] * 3)
    assert page.locator("td[data-param=lr]").all_inner_texts() == ["0.9", "0.1", "0.5"]
    accuracy = page.locator("td[data-metric=accuracy]")
    expect(accuracy.nth(0)).to_have_text("0.999▲ +0.728")
    expect(accuracy.nth(1)).to_have_text(f"0.271▼ {MINUS}0.604")
    expect(accuracy.nth(2)).to_have_text("0.875")
    expect(accuracy.nth(0).locator(".metric-change")).to_have_class(re.compile(r"\bbetter\b"))
    expect(accuracy.nth(1).locator(".metric-change")).to_have_class(re.compile(r"\bworse\b"))
    loss = page.locator("td[data-metric=loss]")
    expect(loss.nth(0)).to_have_text(f"0.001▼ {MINUS}0.728")  # lower loss: better
    expect(loss.nth(0).locator(".metric-change")).to_have_class(re.compile(r"\bbetter\b"))
    expect(loss.nth(1).locator(".metric-change")).to_have_class(re.compile(r"\bworse\b"))

    # The chart: uPlot draws the three experiments on its canvas.
    chart = dialog.locator(".experiments-chart")
    expect(chart.locator("canvas")).to_be_visible()
    assert chart_loads(page) == 1
    expect(chart).to_have_attribute("data-points", "3")
    wait_until(lambda: accent_pixels(page) > 60, "the series drawn on the canvas")
    ada.screenshot("experiments-dialog")
    dialog.locator(".chart-x").select_option("param:lr")
    expect(chart).to_have_attribute("data-x", "param:lr")
    expect(chart).to_have_attribute("data-points", "3")
    expect(chart.locator(".u-legend")).to_contain_text("lr")
    wait_until(lambda: accent_pixels(page) > 60, "the scatter drawn on the canvas")
    chart.scroll_into_view_if_needed()
    ada.screenshot("experiments-scatter")
    page.emulate_media(color_scheme="dark")  # redrawn in the dark theme's colours
    dialog.locator(".chart-x").select_option("order")
    expect(chart).to_have_attribute("data-x", "order")
    ada.screenshot("experiments-dark")
    page.emulate_media(color_scheme="light")

    # Sorting by accuracy: best first, then again for worst first.
    dialog.locator("th button[data-key='metric:accuracy']").click()
    expect(page.locator("td[data-param=lr]").first).to_have_text("0.9")
    assert page.locator("td[data-param=lr]").all_inner_texts() == ["0.9", "0.5", "0.1"]
    dialog.locator("th button[data-key='metric:accuracy']").click()
    expect(page.locator("td[data-param=lr]").first).to_have_text("0.1")
    assert page.locator("td[data-param=lr]").all_inner_texts() == ["0.1", "0.5", "0.9"]

    # Filtering: by who, then by a parameter's value.
    search = dialog.locator(".experiments-filter")
    search.fill("ada")
    expect(rows).to_have_count(1)
    expect(dialog.locator(".experiments-count")).to_have_text("(1 of 3)")
    search.fill("lr=0.1")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td[data-param=lr]")).to_have_text("0.1")
    search.fill("")
    expect(rows).to_have_count(3)

    # The CSV, as the hub writes it.
    with page.expect_download() as download:
        dialog.locator(".experiments-csv").click()
    saved = tmp_path / "experiments.csv"
    download.value.save_as(saved)
    table = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert [r["param.lr"] for r in table] == ["0.5", "0.1", "0.9"]
    assert [r["metric.accuracy"] for r in table] == ["0.875", "0.271", "0.999"]

    # The tracking settings: the parameters cell's names and the metric patterns, which an
    # editor changes (a bad pattern is explained before anything is sent).
    dialog.locator(".tracking-settings summary").click()
    expect(dialog.locator(".tracking-summary")).to_contain_text("lr")
    patterns = dialog.locator(".tracking-patterns")
    expect(patterns).to_have_value(re.compile(r"accuracy"))
    patterns.fill("accuracy, val-loss")
    dialog.locator(".tracking-save").click()
    expect(dialog.locator(".tracking-result")).to_contain_text('"val-loss" is not a metric pattern')
    patterns.fill("accuracy, loss, *_f1")
    dialog.locator(".tracking-save").click()
    expect(dialog.locator(".tracking-result")).to_contain_text("Saved")
    status, settings = hub.api(
        "GET", f"/api/sessions/{session['id']}/tracking", token=session["view_token"]
    )
    assert status == 200 and settings["metrics"] == ["accuracy", "loss", "*_f1"], settings

    # A row opens the playback at that run: the parameters cell as it was then.
    with ada.context.expect_page() as opened:
        rows.filter(has=page.locator("td[data-param=lr]", has_text="0.1")).click()
    replay = opened.value
    replay.wait_for_selector("body[data-ready=true]")
    replayed = replay.locator(".cells > .cell")
    expect(replayed.nth(0)).to_contain_text("lr = 0.1")
    expect(replayed.nth(1).locator(".output-stream")).to_have_text("accuracy 0.271\n")
    expect(replayed.nth(1)).to_have_class(re.compile(r"\bselected\b"))
    replay.screenshot(path=str(SCREENSHOTS / "experiments-replay.png"))

    # "cell 2" closes the dialog and shows the cell in the notebook.
    rows.first.locator(".cell-link").click()
    expect(dialog).to_have_count(0)
    expect(ada.cell(1)).to_have_class(re.compile(r"\bselected\b"))

    # A viewer sees the same table, and the settings without a way to change them.
    viewer = join(session["view_url"], "Cy")
    viewer.page.locator(".experiments-button").click()
    expect(viewer.page.locator(".experiment-row")).to_have_count(3)
    expect(viewer.page.locator(".tracking-save")).to_have_count(0)
    viewer.screenshot("experiments-viewer")
    for who in (ada, bob, viewer):
        who.assert_no_page_errors()
