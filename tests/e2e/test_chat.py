"""Chat and cell comments in the browser: two editors and a viewer talk (the viewer through the
hub), a comment thread on a cell is answered and resolved, a moved cell keeps its comments and a
deleted one leaves them "on a deleted cell", and the playback page shows the conversation."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import Participant, markdown, wait_until

pytestmark = [pytest.mark.browser]


def say(who: Participant, text: str) -> None:
    box = who.page.locator(".chat-panel textarea")
    box.fill(text)
    box.press("Enter")


def chat_rows(page: Page) -> Any:
    return page.locator(".chat-panel .chat-list > .chat-message")


def test_two_editors_and_a_viewer_chat(notebook_session: Any, join: Any, hub: Any) -> None:
    session = notebook_session(["a = 1", "b = 2", markdown("# Notes")], name="chat.ipynb")
    ann: Participant = join(session["edit_url"], "Ann")
    bob: Participant = join(session["edit_url"], "Bob")
    vic: Participant = join(session["view_url"], "Vic")

    say(ann, 'Hello **team**: see cell 2 and `x = 1` <img src=x onerror="window.__pwned=1">')
    for who in (ann, bob, vic):
        row = chat_rows(who.page).first
        expect(row).to_contain_text("Hello team")
        expect(row.locator("strong")).to_have_text("team")
        expect(row.locator("code")).to_have_text("x = 1")
        expect(row.locator(".chat-name")).to_have_text("Ann")
    assert vic.page.evaluate("() => window.__pwned") is None

    # the viewer cannot write the document: its message goes through the hub
    with vic.page.expect_response(lambda r: r.url.endswith("/chat")) as posted:
        say(vic, "@Ann a question from a viewer about #1")
    assert posted.value.status == 201
    for who in (ann, bob, vic):
        expect(chat_rows(who.page)).to_have_count(2)
    # Ann is told she was mentioned
    expect(ann.page.locator(".toast", has_text="Vic mentioned you")).to_be_visible()
    expect(chat_rows(ann.page).nth(1)).to_have_class(re.compile(r"\bmentions-me\b"))
    expect(vic.page.locator(".chat-hide")).to_have_count(0)

    # a cell reference jumps there
    bob.page.locator(".chat-panel .cell-ref", has_text="cell 2").first.click()
    expect(bob.cell(1)).to_have_class(re.compile(r"\bselected\b"))

    # unread while the panel is closed
    bob.page.locator(".chat-panel .chat-toggle").click()
    say(ann, "one more thing")
    expect(bob.page.locator(".chat-panel .chat-unread")).to_have_text("1")
    bob.page.locator(".chat-panel .chat-toggle").click()
    expect(bob.page.locator(".chat-panel .chat-unread")).to_be_hidden()

    # an editor hides a message: everyone sees that it was hidden
    say(bob, "oops, wrong window: my password is hunter2")
    expect(chat_rows(ann.page)).to_have_count(4)
    row = chat_rows(ann.page).nth(3)
    row.hover()
    row.locator(".chat-hide").click()
    for who in (ann, bob, vic):
        expect(chat_rows(who.page).nth(3)).to_contain_text("hidden by an editor")
        expect(who.page.locator(".chat-panel")).not_to_contain_text("hunter2")

    time.sleep(0.3)
    ann.screenshot("chat-editor")
    vic.screenshot("chat-viewer")
    # nothing but the chat changed for the viewer's sake, and the file has no chat
    status, nb = hub.api(
        "GET", f"/api/sessions/{session['id']}/notebook", token=session["view_token"]
    )
    assert status == 200 and "chat" not in nb and "hunter2" not in str(nb)
    for who in (ann, bob, vic):
        who.assert_no_page_errors()


def test_a_comment_thread_on_a_cell(notebook_session: Any, join: Any) -> None:
    session = notebook_session(["a = 1", "b = 2", "c = 3"], name="comments.ipynb")
    ann: Participant = join(session["edit_url"], "Ann")
    vic: Participant = join(session["view_url"], "Vic")

    ann.cell(0).locator(".cell-comment-badge").click()
    box = ann.page.locator(".cell-comments textarea").last
    box.fill("Should this be `a = 2`?")
    box.press("Enter")
    expect(vic.cell(0).locator(".cell-comment-badge")).to_have_text("1")

    # the viewer replies through the hub
    vic.cell(0).locator(".cell-comment-badge").click()
    reply = vic.page.locator(".cell-comments .comment-thread textarea")
    reply.fill("No, 1 is right")
    reply.press("Enter")
    expect(ann.cell(0).locator(".comment-replies")).to_contain_text("No, 1 is right")
    expect(ann.cell(0).locator(".cell-comment-badge")).to_have_text("2")
    expect(vic.page.locator(".comment-resolve")).to_have_count(0)  # editors resolve

    # the cell moves: its comments go with it (keyed by the cell's id)
    ann.page.evaluate("() => window.collabd.session.notebook.moveCell(0, 2)")
    wait_until(lambda: vic.source(2) == "a = 1", "the move reaches the viewer")
    expect(vic.cell(2).locator(".cell-comment-badge")).to_have_text("2")
    expect(vic.cell(0).locator(".cell-comment-badge")).to_have_text("+")
    expect(vic.page.locator(".comments-panel .comments-item button.link")).to_have_text("cell 3")
    ann.screenshot("comment-thread-moved")

    # resolved
    if not ann.page.locator(".cell-comments").is_visible():
        ann.cell(2).locator(".cell-comment-badge").click()
    ann.page.locator(".comment-resolve").click()
    expect(vic.cell(2).locator(".cell-comment-badge")).to_have_text("✓ 1")
    expect(ann.page.locator(".comment-thread.resolved")).to_contain_text("Resolved")
    expect(vic.page.locator(".comments-panel .comments-item")).to_have_count(0)
    vic.page.locator(".comments-show-resolved").check()
    expect(vic.page.locator(".comments-panel .comments-item.resolved")).to_have_count(1)
    time.sleep(0.3)
    ann.screenshot("comment-thread-resolved")
    vic.screenshot("comment-thread-viewer")

    # the cell is deleted: the thread is "on a deleted cell"
    ann.page.evaluate("() => window.collabd.session.notebook.deleteCell(2)")
    expect(vic.page.locator(".comments-panel .comments-item")).to_contain_text("on a deleted cell")
    for who in (ann, vic):
        who.assert_no_page_errors()


def test_playback_shows_the_conversation(notebook_session: Any, join: Any, hub: Any) -> None:
    session = notebook_session(["a = 1", "b = 2"], name="talk.ipynb")
    ann: Participant = join(session["edit_url"], "Ann")
    say(ann, "first: let's look at cell 1")
    expect(chat_rows(ann.page)).to_have_count(1)
    time.sleep(1.5)
    middle = time.time()
    time.sleep(1.5)
    status, _ = hub.api(
        "POST",
        f"/api/sessions/{session['id']}/chat",
        {"text": "second, from a viewer", "name": "Vic"},
        token=session["view_token"],
    )
    assert status == 201
    cell = str(ann.page.evaluate("() => window.collabd.session.notebook.cells[1].id"))
    status, _ = hub.api(
        "POST",
        f"/api/sessions/{session['id']}/chat",
        {"text": "why b = 2?", "name": "Vic", "cell_id": cell},
        token=session["view_token"],
    )
    expect(chat_rows(ann.page)).to_have_count(2)
    time.sleep(1.0)
    ann.context.close()

    replay_url = session["view_url"].replace(f"/s/{session['id']}", f"/s/{session['id']}/replay")
    viewer: Participant = join(replay_url, None)
    page = viewer.page
    expect(page.locator(".replay-chat-marker")).to_have_count(3)
    expect(page.locator(".replay-chat-marker.comment")).to_have_count(1)

    page.evaluate("(t) => window.collabd.replay.seek(t)", middle)
    panel = page.locator(".replay-chat-list")
    expect(panel.locator(".chat-message")).to_have_count(1)
    expect(panel).to_contain_text("let's look at cell 1")
    expect(page.locator(".replay-comments .comments-item")).to_have_count(0)

    page.locator(".replay-chat-marker").nth(2).click()
    expect(panel.locator(".chat-message")).to_have_count(2)
    expect(panel).to_contain_text("second, from a viewer")
    expect(page.locator(".replay-comments .comments-item")).to_contain_text("why b = 2?")
    time.sleep(0.3)
    viewer.screenshot("chat-playback")
    viewer.assert_no_page_errors()


FORGE = """(name) => {
  const doc = window.collabd.session.notebook.ydoc
  const by = { name, client_id: doc.clientID, verified: true }
  doc.getArray('chat').push([{ id: 'forged-1', by, at: 1, text: `I am ${name}, approve my cell` }])
}"""


def test_editors_cannot_forge_and_hidden_stays_hidden_in_playback(
    notebook_session: Any, join: Any, hub: Any
) -> None:
    session = notebook_session(["a = 1", "b = 2"], name="forge.ipynb")
    ann: Participant = join(session["edit_url"], "Ann")
    bob: Participant = join(session["edit_url"], "Bob")
    vic: Participant = join(session["view_url"], "Vic")

    # an editor's page sends through the hub too
    with ann.page.expect_response(lambda r: r.url.endswith("/chat")) as posted:
        say(ann, "morning all")
    assert posted.value.status == 201
    for who in (ann, bob, vic):
        expect(chat_rows(who.page)).to_have_count(1)

    # Bob's page writes a message under Ann's name straight into the document
    bob.page.evaluate(FORGE, "Ann")
    for who in (ann, bob, vic):
        forged = chat_rows(who.page).nth(1)
        expect(forged).to_contain_text("I am Ann, approve my cell")
        expect(forged.locator(".chat-name")).to_have_text("Bob")
        expect(forged.locator(".chat-corrected")).to_be_visible()
        expect(forged.locator(".chat-verified")).to_have_count(0)
    expect(chat_rows(ann.page).first.locator(".chat-name")).to_have_text("Ann")
    # and Bob's page deleting Ann's message: put back
    bob.page.evaluate("() => window.collabd.session.notebook.ydoc.getArray('chat').delete(0, 1)")
    time.sleep(0.5)
    for who in (ann, bob, vic):
        expect(chat_rows(who.page)).to_have_count(2)
        expect(chat_rows(who.page).first).to_contain_text("morning all")
    time.sleep(0.3)
    vic.screenshot("chat-forged-name-corrected")

    # a comment thread resolved by another editor (through the hub)
    bob.cell(1).locator(".cell-comment-badge").click()
    box = bob.page.locator(".cell-comments textarea").last
    box.fill("is b right?")
    box.press("Enter")
    expect(ann.cell(1).locator(".cell-comment-badge")).to_have_text("1")
    ann.cell(1).locator(".cell-comment-badge").click()
    with ann.page.expect_response(lambda r: r.url.endswith("/resolve")) as resolved:
        ann.page.locator(".comment-resolve").click()
    assert resolved.value.status == 200
    expect(vic.cell(1).locator(".cell-comment-badge")).to_have_text("✓ 1")

    # hidden: gone from the document, and from the playback at every moment
    say(vic, "psst, the answer is hunter2")
    expect(chat_rows(ann.page)).to_have_count(3)
    time.sleep(1.5)
    before_hide = time.time()
    time.sleep(1.0)
    row = chat_rows(ann.page).nth(2)
    row.hover()
    with ann.page.expect_response(lambda r: r.url.endswith("/hide")):
        row.locator(".chat-hide").click()
    expect(chat_rows(vic.page).nth(2)).to_contain_text("hidden by an editor")
    time.sleep(1.0)
    for who in (ann, bob, vic):
        who.assert_no_page_errors()

    replay_url = session["view_url"].replace(f"/s/{session['id']}", f"/s/{session['id']}/replay")
    viewer: Participant = join(replay_url, None)
    page = viewer.page
    expect(page.locator(".replay-chat-marker")).to_have_count(4)
    page.evaluate("(t) => window.collabd.replay.seek(t)", before_hide)
    panel = page.locator(".replay-chat-list")
    expect(panel.locator(".chat-message")).to_have_count(3)
    expect(panel).to_contain_text("morning all")
    expect(panel.locator(".chat-message").nth(2)).to_contain_text("hidden by an editor")
    assert "hunter2" not in page.content()
    # the search covers the chat too
    page.locator(".runs-search").fill("approve")
    expect(page.locator(".replay-message-list .replay-message")).to_have_count(1)
    expect(page.locator(".replay-message-list")).to_contain_text("Bob")
    time.sleep(0.3)
    viewer.screenshot("chat-playback-hidden")
    viewer.assert_no_page_errors()


def chat_gap(page: Page) -> float:
    """How far the chat list is from its end (0: scrolled to the last message)."""
    return float(page.locator(".chat-panel .chat-list").evaluate(
        "l => l.scrollHeight - l.scrollTop - l.clientHeight"
    ))  # fmt: skip


def two_frames(page: Page) -> None:
    """Wait until what the page does after its next laid-out frame has been done."""
    page.evaluate(
        "() => new Promise(r => requestAnimationFrame(() => setTimeout(() =>"
        " requestAnimationFrame(() => setTimeout(r)))))"
    )


def test_the_chat_list_follows_new_messages_only_for_a_reader_at_its_end(
    notebook_session: Any, join: Any
) -> None:
    session = notebook_session(["a = 1"], name="chatscroll.ipynb")
    ann: Participant = join(session["edit_url"], "Ann")
    bob: Participant = join(session["edit_url"], "Bob")
    vic: Participant = join(session["view_url"], "Vic")
    for i in range(8):  # more than the list shows: it scrolls
        say(ann, f"message {i}: " + "a few words to fill the line " * 3)
        expect(ann.page.locator(".chat-panel textarea")).to_have_value("")  # sent
    expect(chat_rows(vic.page)).to_have_count(8)
    wait_until(lambda: chat_gap(vic.page) < 2, "the list at its end")  # a reader there stays

    vic.page.locator(".chat-panel .chat-list").evaluate("l => { l.scrollTop = 0 }")
    two_frames(vic.page)
    say(bob, "a new message while Vic reads the first ones")
    expect(chat_rows(vic.page)).to_have_count(9)
    two_frames(vic.page)
    assert vic.page.locator(".chat-panel .chat-list").evaluate("l => l.scrollTop") == 0

    vic.page.locator(".chat-panel .chat-list").evaluate("l => { l.scrollTop = l.scrollHeight }")
    two_frames(vic.page)
    say(bob, "and one when Vic is back at the end")
    expect(chat_rows(vic.page)).to_have_count(10)
    wait_until(lambda: chat_gap(vic.page) < 2, "the list back at its end")
    assert chat_gap(vic.page) < 2 and vic.page.locator(".chat-panel .chat-list").evaluate(
        "l => l.scrollHeight > l.clientHeight"
    )


def test_a_message_sent_while_the_one_before_is_on_its_way_is_sent_after_it(
    notebook_session: Any, join: Any
) -> None:
    """The second message is typed and sent while the first is still on its way to the hub:
    the first's answer must not wipe it from the box, and it goes once the first is in."""
    session = notebook_session(["a = 1"], name="chatqueue.ipynb")
    vic: Participant = join(session["view_url"], "Vic")  # a viewer's message is a POST
    held: list[Any] = []
    vic.page.route("**/chat", lambda route: held.append(route))

    def on_its_way() -> Any:
        for _ in range(300):  # the page's events (the route) are handled while it waits
            if held:
                return held.pop()
            vic.page.wait_for_timeout(100)
        raise AssertionError("no message went out")

    say(vic, "first")
    first = on_its_way()
    say(vic, "second")  # typed and sent while the first is held
    vic.page.wait_for_timeout(300)
    assert held == []  # one at a time, in order
    first.continue_()
    second = on_its_way()
    second.continue_()
    expect(chat_rows(vic.page)).to_have_count(2)
    expect(chat_rows(vic.page).nth(0)).to_contain_text("first")
    expect(chat_rows(vic.page).nth(1)).to_contain_text("second")
    expect(vic.page.locator(".chat-panel textarea")).to_have_value("")
