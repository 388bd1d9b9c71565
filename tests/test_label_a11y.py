"""The labeling page for annotators on the keyboard, a screen reader, low vision, or RTL text.

The same Playwright and Debian Chromium as test_label_browser.py, with its fixtures.
"""

import pathlib
import re

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api")

import test_label_browser as shared  # noqa: E402
from label_server import Live, make_pool  # noqa: E402
from test_label_browser import Page  # noqa: E402

from skbait.label._journal import AnswerJournal  # noqa: E402

# The browser, a context of it, and a campaign on loopback, as the other browser tests.
browser = shared.browser
context = shared.context
live = shared.live

# The WCAG 2 contrast of every text on the page against what is behind it (colours,
# transparency and opacity composed), and of each control's boundary (its border or
# its fill) against the box it sits in; inactive controls are exempt, as WCAG says.
CONTRAST = """() => {
  const rgba = (s) => { const m = s.match(/[\\d.]+/g).map(Number);
    return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
  const channel = (v) => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  const lum = (c) => 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2]);
  const over = (top, under) => [0, 1, 2].map((i) => top[i] * top[3] + under[i] * (1 - top[3]))
    .concat([1]);
  const ratio = (a, b) => { const x = lum(a), y = lum(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  function behind(e) {
    const layers = [];
    for (let n = e; n; n = n.parentElement) {
      const c = rgba(getComputedStyle(n).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] === 1) break;
    }
    return layers.reverse().reduce((under, top) => over(top, under), [255, 255, 255, 1]);
  }
  function opacity(e) {
    let o = 1;
    for (let n = e; n; n = n.parentElement) o *= Number(getComputedStyle(n).opacity);
    return o;
  }
  const page = behind(document.body);
  const failures = [];
  document.querySelectorAll("body *").forEach((e) => {
    if (!e.getClientRects().length || e.closest("svg") || e.closest(":disabled")) return;
    const s = getComputedStyle(e);
    if (s.visibility === "hidden") return;
    const o = opacity(e);
    // What shows through a translucent box is the page behind it.
    const bg = over(behind(e).slice(0, 3).concat([o]), page);
    const name = e.tagName + (e.id ? "#" + e.id : "") + (e.className ? "." + e.className : "");
    if ([...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) {
      const fg = over(over(rgba(s.color), behind(e)).slice(0, 3).concat([o]), page);
      const size = parseFloat(s.fontSize), bold = Number(s.fontWeight) >= 700;
      const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
      const r = ratio(fg, bg);
      if (r < need) failures.push(name + " '" + e.textContent.trim().slice(0, 30) + "' " +
        r.toFixed(2) + " < " + need);
    }
    if (e.tagName === "BUTTON" || (e.tagName === "INPUT" && e.type !== "checkbox")) {
      const around = behind(e.parentElement);
      const r = Math.max(ratio(over(rgba(s.borderTopColor), around), around),
        ratio(behind(e), around));
      if (r < 3) failures.push(name + " boundary " + r.toFixed(2) + " < 3");
    }
  });
  return failures;
}"""

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


def test_a_screen_reader_finds_the_row_the_choices_and_the_chosen_class(context, live):
    tab = Page(context, live)
    page = tab.page
    role = page.get_by_role
    sync_api.expect(role("heading", name=re.compile(r"^Row \d+$"), level=2)).to_be_visible()
    sync_api.expect(role("region", name="the row's values")).to_be_visible()
    classes = role("group", name="Classes")
    sync_api.expect(classes.get_by_role("button")).to_have_count(2)
    for name in ("Skip", "Undo", "Next →", "← Prev", "Add"):
        sync_api.expect(role("button", name=name)).to_have_count(1)
    sync_api.expect(role("combobox", name=re.compile("label"))).to_have_count(1)
    row, label = tab.label_by_key()
    tab.wait_row(not_row=row)
    page.keyboard.press("ArrowLeft")
    sync_api.expect(page.locator("#row-id")).to_have_text(f"Row {row}")
    # The class given is pressed, for a screen reader, and shown by more than colour.
    chosen = classes.get_by_role("button", name=re.compile(label), pressed=True)
    sync_api.expect(chosen).to_have_count(1)
    other = classes.get_by_role("button", pressed=False)
    sync_api.expect(other).to_have_count(1)
    shape = "b => { const s = getComputedStyle(b); return [s.boxShadow, s.fontWeight]; }"
    assert chosen.evaluate(shape) != other.evaluate(shape)


def test_the_check_boxes_are_a_named_group(context, tmp_path):
    live = multilabel_live(tmp_path)
    try:
        tab = Page(context, live)
        group = tab.page.get_by_role("group", name="Labels")
        sync_api.expect(group.get_by_role("checkbox", name="high")).to_have_count(1)
        sync_api.expect(group.get_by_role("checkbox", name="wide")).to_have_count(1)
    finally:
        live.close()


def test_the_page_repainted_each_poll_says_nothing_new(context, live):
    # The whole card was a live region, rebuilt at each poll: a screen reader read the
    # row, the classes and the buttons again every twenty seconds.
    if not hasattr(context, "clock"):
        pytest.skip("Playwright's fake clock needs Playwright 1.45 or later")
    context.clock.install()
    tab = Page(context, live)
    page = tab.page
    page.evaluate(
        """() => {
          window.__spoken = [];
          document.querySelectorAll("[aria-live], [role=status], [role=alert]").forEach((r) => {
            new MutationObserver((m) => window.__spoken.push(r.id || r.tagName))
              .observe(r, {childList: true, subtree: true, characterData: true});
          });
        }"""
    )
    calls = []
    page.on("request", lambda request: calls.append(request.url))
    page.clock.fast_forward(25_000)
    page.wait_for_timeout(500)
    assert any("api/state" in url for url in calls)
    assert page.evaluate("window.__spoken") == []


def test_progress_and_errors_of_the_next_batch_are_announced(context, tmp_path):
    data, frame = make_pool(tmp_path, labeled=0)
    frame.loc[:3, "y"] = ["dog", "dgo", "cat", "cta"]
    frame.to_csv(data, index=False)
    live = Live(data)
    try:
        page = context.new_page()
        assert page.goto(live.url).status == 200
        sync_api.expect(page.locator("#job-text")).to_contain_text("could not be chosen")
        live_region = "[aria-live=polite], [aria-live=assertive], [role=status], [role=alert]"
        assert page.locator("#job-text").evaluate(f"e => !!e.closest('{live_region}')")
        # A page with no row to show is as readable as one with a row.
        assert page.evaluate(CONTRAST) == []
    finally:
        live.close()


def test_text_and_controls_have_enough_contrast(context, live):
    tab = Page(context, live)
    page = tab.page
    assert page.evaluate(CONTRAST) == []
    row, _ = tab.label_by_key()
    tab.wait_row(not_row=row)
    page.keyboard.press("ArrowLeft")
    sync_api.expect(page.locator("#row-status")).to_contain_text("labeled")
    page.fill("#new-label", "nge")
    page.press("#new-label", "Enter")
    sync_api.expect(page.locator("#near")).to_be_visible()
    assert page.evaluate(CONTRAST) == []


def test_the_progress_bar_does_not_slide_under_reduced_motion(browser, live):
    context = browser.new_context(reduced_motion="reduce")
    try:
        tab = Page(context, live)
        duration = tab.page.locator("#job-bar").evaluate(
            "b => getComputedStyle(b).transitionDuration"
        )
        assert duration == "0s"
    finally:
        context.close()


def test_right_to_left_labels_typed_and_offered_read_right_to_left(context, tmp_path):
    # An Arabic label typed in the box ran left to right, and a near class offered
    # on a button put its punctuation on the wrong side.
    data, frame = make_pool(tmp_path, labeled=0)
    frame.loc[:3, "y"] = ["قطة؟", "كلب", "قطة؟", "كلب"]
    frame.to_csv(data, index=False)
    live = Live(data)
    try:
        tab = Page(context, live)
        page = tab.page
        direction = "e => getComputedStyle(e).direction"
        page.fill("#new-label", "قطط؟")
        assert page.locator("#new-label").evaluate(direction) == "rtl"
        page.press("#new-label", "Enter")
        choice = page.locator("#near-choices button").first
        sync_api.expect(choice).to_have_text("قطة؟")
        assert choice.evaluate(direction) == "rtl"
    finally:
        live.close()


def test_the_user_guide_lists_the_keys_the_page_answers():
    guide = (pathlib.Path(__file__).parents[1] / "docs" / "user_guide" / "label.rst").read_text()
    assert "Keyboard and accessibility" in guide
    section = guide.split("Keyboard and accessibility", 1)[1]
    for key in (":kbd:`Tab`", ":kbd:`Enter`", ":kbd:`Space`", ":kbd:`Esc`"):
        assert key in section, key


def test_a_row_that_comes_after_a_wait_is_announced(context, live):
    # While the next batch was chosen the page said so, and the row came without a word:
    # a screen reader user could not tell that the waiting was over.
    tab = Page(context, live)
    page = tab.page
    region = "e => !!e.closest('[aria-live=polite], [role=status], [role=alert]')"
    for k in range(4):
        row, _ = tab.label_by_key()
        if k < 3:
            tab.wait_row(not_row=row)
    sync_api.expect(page.locator("#empty")).to_be_visible()
    assert page.locator("#empty").evaluate(region)
    tab.wait_text("#batch-line", "Round 1")
    new = tab.wait_row(not_row=row)
    tab.wait_text("#message", f"Row {new} is ready to label.")


def test_a_right_to_left_label_in_an_english_sentence_keeps_its_punctuation(context, tmp_path):
    # "Saved: row 7 is نعم!" put the "!" on the English side, at the start of the word
    # as an Arabic reader reads it; so did the row's status and the model's guess.
    data, frame = make_pool(tmp_path, labeled=0)
    frame.loc[:3, "y"] = ["نعم!", "لا!", "نعم!", "لا!"]
    frame.to_csv(data, index=False)
    live = Live(data)
    try:
        tab = Page(context, live)
        page = tab.page
        direction = "e => getComputedStyle(e).direction"
        guess = page.locator("#prediction bdi")
        sync_api.expect(guess).to_have_text(re.compile("^(نعم|لا)!$"))
        assert guess.evaluate(direction) == "rtl"
        row = tab.row()
        page.keyboard.press("2")
        label = tab.classes()[1]
        saved = page.locator("#message bdi")
        sync_api.expect(saved).to_have_text(label)
        assert saved.evaluate(direction) == "rtl"
        tab.wait_text("#message", f"Saved: row {row} is {label}.")
        tab.wait_row(not_row=row)
        page.keyboard.press("ArrowLeft")
        status = page.locator("#row-status bdi")
        sync_api.expect(status).to_have_text(label)
        assert status.evaluate(direction) == "rtl"
    finally:
        live.close()


def test_the_arrow_keys_scroll_an_image_at_full_size_in_the_focused_box(context, tmp_path):
    # A reader tabbed to a scan at full size to pan it with the arrows: left and right
    # moved to another row instead, so its right side was out of the keyboard's reach.
    import matplotlib.image
    import numpy as np

    (tmp_path / "scans").mkdir()
    matplotlib.image.imsave(tmp_path / "scans" / "big.png", np.ones((600, 2600, 3)) * 0.5)
    data, _ = make_pool(tmp_path, extra={"scan": ["scans/big.png"] * 40})
    live = Live(data)
    try:
        tab = Page(context, live)
        page = tab.page
        box = page.locator("#fields-box")
        sync_api.expect(page.locator("#fields img")).to_be_visible()
        page.keyboard.press("z")
        sync_api.expect(box).to_have_class(re.compile("full"))
        row = tab.row()
        # Another row seen, to go back to: the left arrow has somewhere to move.
        page.keyboard.press("ArrowRight")
        other = tab.wait_row(not_row=row)
        box.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(300)
        assert box.evaluate("b => b.scrollLeft") > 0
        page.keyboard.press("ArrowLeft")
        page.wait_for_timeout(300)
        assert tab.row() == other
        # Outside the box, the arrows move between rows as before.
        page.locator("#skip").focus()
        page.keyboard.press("ArrowLeft")
        tab.wait_row(not_row=other)
    finally:
        live.close()


def test_undo_or_prev_pressed_to_their_end_hands_the_focus_on(context, live):
    # Undo pressed with Enter took back the only label and went grey: the focus fell to
    # the page's start, and so did Prev's on the first row.
    tab = Page(context, live)
    page = tab.page
    row, _ = tab.label_by_key()
    tab.wait_row(not_row=row)
    page.locator("#undo").focus()
    page.keyboard.press("Enter")
    sync_api.expect(page.locator("#row-id")).to_have_text(f"Row {row}")
    sync_api.expect(page.locator("#undo")).to_be_disabled()
    assert page.evaluate(FOCUSED) in ("prev", "skip", "next")
    page.locator("#prev").focus()
    for _ in range(5):
        if page.locator("#prev").is_disabled():
            break
        shown = tab.row()
        page.keyboard.press("Enter")
        tab.wait_row(not_row=shown)
    sync_api.expect(page.locator("#prev")).to_be_disabled()
    assert page.evaluate(FOCUSED) in ("skip", "next")


def test_a_right_to_left_column_name_reads_right_to_left(context, tmp_path):
    data, _ = make_pool(tmp_path, extra={"ملاحظة!": ["نص"] * 40})
    live = Live(data)
    try:
        tab = Page(context, live)
        header = tab.page.locator("#fields th", has_text="ملاحظة!")
        assert header.evaluate("e => getComputedStyle(e).direction") == "rtl"
        name = tab.page.locator("#data-name")
        assert name.evaluate("e => e.dir") == "auto"
    finally:
        live.close()


def test_a_near_class_chosen_with_the_keyboard_hands_the_focus_back_to_the_box(context, live):
    # The question about a near class went away with its buttons, and the focus with
    # them, to the page's start.
    tab = Page(context, live)
    page = tab.page
    row = tab.row()
    page.fill("#new-label", "nge")
    page.press("#new-label", "Enter")
    choice = page.locator("#near-choices button", has_text="neg")
    choice.focus()
    page.keyboard.press("Enter")
    tab.wait_row(not_row=row)
    assert page.evaluate(FOCUSED) == "new-label"
