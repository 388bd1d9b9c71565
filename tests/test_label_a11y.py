"""The labeling page for annotators on the keyboard, a screen reader, low vision, or RTL text.

The same Playwright and Debian Chromium as test_label_browser.py, with its fixtures.
"""

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api")

import test_label_browser as shared  # noqa: E402
from label_server import Live  # noqa: E402
from test_label_browser import Page  # noqa: E402

from skbait.label._journal import AnswerJournal  # noqa: E402

# The browser, a context of it, and a campaign on loopback, as the other browser tests.
browser = shared.browser
context = shared.context
live = shared.live

# The WCAG 2 contrast of every text on the page against what is behind it (colours,
# transparency and opacity composed), and of each control's boundary (its border or
# its fill) against the box it sits in; inactive controls are exempt, as WCAG says.
FOCUSED = """() => {
  const e = document.activeElement;
  return e.id || e.dataset.label || e.tagName;
}"""


def multilabel_live(tmp_path):
    from test_label_multilabel import make_pool as multilabel_pool

    data = multilabel_pool(tmp_path)
    return Live(
        data, target="tags", options={"batch_size": 3, "device": "cpu", "multi_label": True}
    )


def test_focus_stays_on_the_class_chosen_with_the_keyboard(context, live):
    # Tab to a class, Enter: the next row came and focus fell back to the page's start,
    # so a keyboard user tabbed through the whole row again for every label.
    tab = Page(context, live)
    page = tab.page
    page.locator("#classes button[data-label=neg]").focus()
    row = tab.row()
    page.keyboard.press("Enter")
    tab.wait_row(not_row=row)
    assert page.evaluate(FOCUSED) == "neg"
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED) == "pos"


def test_a_check_box_ticked_with_space_keeps_the_focus(context, tmp_path):
    live = multilabel_live(tmp_path)
    try:
        tab = Page(context, live)
        page = tab.page
        boxes = page.locator("#classes input[type=checkbox]")
        boxes.nth(0).focus()
        page.keyboard.press("Space")
        sync_api.expect(boxes.nth(0)).to_be_checked()
        assert page.evaluate(FOCUSED) == "high"
        page.keyboard.press("Tab")
        assert page.evaluate(FOCUSED) == "wide"
    finally:
        live.close()


def test_enter_on_a_focused_button_presses_that_button_in_multi_label(context, tmp_path):
    # Enter saved the ticked set whatever had the focus: on Skip it labeled the row,
    # on "None of these" it saved the ticked labels instead of none.
    live = multilabel_live(tmp_path)
    try:
        tab = Page(context, live)
        page = tab.page
        journal = AnswerJournal(live.session.answers_path, "tags")
        row = tab.row()
        page.keyboard.press("1")
        sync_api.expect(page.locator("#classes input").nth(0)).to_be_checked()
        page.locator("#skip").focus()
        page.keyboard.press("Enter")
        tab.wait_text("#batch-line", "1 skipped")
        assert journal.read() == {}
        row = tab.wait_row(not_row=row)
        page.keyboard.press("1")
        sync_api.expect(page.locator("#classes input").nth(0)).to_be_checked()
        page.locator("#none-of-these").focus()
        page.keyboard.press("Enter")
        tab.wait_text("#message", f"Saved: row {row} is (none).")
        assert journal.read() == {row: "(none)"}
    finally:
        live.close()
