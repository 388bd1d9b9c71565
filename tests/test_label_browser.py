"""The labeling page end to end, in a real browser: Playwright driving Debian's Chromium.

Browser builds cannot be downloaded here, so Playwright launches the system's
``chromium`` (installed by .ci/run). Without it, these tests skip, except in
CI (``CI`` set), where they must run.
"""

import os
import re
import shutil
import time

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api")

from label_server import Live, make_pool, read_labels, truth  # noqa: E402

from skbait.label._journal import AnswerJournal  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
WAIT_MS = 60_000


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        message = "no chromium executable (apt-get install chromium); .ci/run installs it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 860})
    context.set_default_timeout(WAIT_MS)
    yield context
    context.close()


@pytest.fixture
def live(tmp_path):
    data, _ = make_pool(tmp_path)
    server = Live(data)
    yield server
    server.close()


class Page:
    """One tab of the labeling page, with what a person sees."""

    def __init__(self, context, live):
        self.page = context.new_page()
        self.dialogs = []
        self.page.on("dialog", lambda dialog: (self.dialogs.append(dialog), dialog.dismiss()))
        self.live = live
        response = self.page.goto(live.url)
        assert response.status == 200
        self.wait_row()

    # Waits go through Playwright's locators: wait_for_function evaluates its
    # predicate with eval in some Playwright releases, which the page's CSP refuses.
    def wait_row(self, not_row=None):
        row_id = self.page.locator("#row-id")
        sync_api.expect(row_id).to_have_text(re.compile(r"^Row \d+$"), timeout=WAIT_MS)
        if not_row is not None:
            sync_api.expect(row_id).not_to_have_text(f"Row {not_row}", timeout=WAIT_MS)
        return self.row()

    def row(self):
        text = self.page.text_content("#row-id")
        return int(text.split()[1]) if text else None

    def fields(self):
        return self.page.evaluate(
            "Object.fromEntries([...document.querySelectorAll('#fields tr')]"
            ".map(tr => [tr.cells[0].textContent, tr.cells[1].textContent]))"
        )

    def classes(self):
        return self.page.evaluate(
            "[...document.querySelectorAll('#classes button')].map(b => b.dataset.label)"
        )

    def wait_text(self, selector, text):
        sync_api.expect(self.page.locator(selector)).to_contain_text(text, timeout=WAIT_MS)

    def label_by_key(self):
        """Press the number key of the class the oracle gives this row; returns (row, label)."""
        row = self.row()
        label = truth(self.fields()["a"])
        self.page.keyboard.press(str(self.classes().index(label) + 1))
        return row, label


def test_a_batch_labeled_with_the_keyboard_reaches_data_and_the_next_batch_comes(context, live):
    tab = Page(context, live)
    assert tab.classes() == ["neg", "pos"]
    tab.wait_text("#batch-line", "Round 0")
    given = {}
    for k in range(4):
        row, label = tab.label_by_key()
        given[row] = label
        tab.wait_text("#batch-line", f"{k + 1} of 4 labeled" if k < 3 else "Round 1")
        if k < 3:
            tab.wait_row(not_row=row)
    # The refit came back with the next batch, which the page shows by itself.
    tab.wait_text("#batch-line", "Round 1 · batch: 0 of 4 labeled")
    tab.wait_row()
    assert tab.row() not in given
    labels = read_labels(live.session.data)
    assert all(labels[row] == label for row, label in given.items())
    assert len(labels) == 2 + 4
    tab.wait_text("#prediction", "Model says:")
    tab.wait_text("#why", "chosen by bait, rank 1 of 4")
    assert tab.dialogs == []


def test_undo_with_the_keyboard(context, live):
    tab = Page(context, live)
    row, label = tab.label_by_key()
    tab.wait_row(not_row=row)
    assert AnswerJournal(live.session.answers_path, "y").read() == {row: label}
    tab.page.keyboard.press("u")
    sync_api.expect(tab.page.locator("#row-id")).to_have_text(f"Row {row}", timeout=WAIT_MS)
    tab.wait_text("#row-status", "to label")
    assert AnswerJournal(live.session.answers_path, "y").read() == {}
    assert tab.page.is_disabled("#undo")


def test_a_row_labeled_by_teach_meanwhile_is_named_on_the_page(context, live, tmp_path):
    from skbait.campaign import merge_answers

    tab = Page(context, live)
    row = tab.row()
    theirs = truth(tab.fields()["a"])
    (tmp_path / "mine.csv").write_text(f"row,y\n{row},{theirs}\n")
    merge_answers(live.session.data, tmp_path / "mine.csv")  # skbait teach, meanwhile
    other = "neg" if theirs == "pos" else "pos"
    tab.page.keyboard.press(str(tab.classes().index(other) + 1))
    tab.wait_row(not_row=row)
    # The batch's three other rows, and no more: a label in the next batch would start
    # the next job, which clears this one's note.
    for _ in range(live.session.options["batch_size"] - 1):
        shown, _ = tab.label_by_key()
        tab.wait_row(not_row=shown)
    tab.wait_text("#job-text", f"row {row} was labeled {theirs!r} meanwhile")
    assert tab.page.is_visible("#job") and not tab.page.is_visible("#retry")


def test_a_new_class_and_a_near_duplicate(context, live):
    tab = Page(context, live)
    first = tab.row()
    tab.page.keyboard.press("n")
    tab.page.keyboard.type("maybe")
    tab.page.keyboard.press("Enter")
    second = tab.wait_row(not_row=first)
    assert tab.classes() == ["maybe", "neg", "pos"]
    # Two edits from "maybe": asked about, and kept.
    tab.page.fill("#new-label", "maaybee")
    tab.page.press("#new-label", "Enter")
    tab.page.wait_for_selector("#near:not([hidden])")
    assert tab.page.text_content("#near-choices") == "maybe"
    assert AnswerJournal(live.session.answers_path, "y").read() == {first: "maybe"}
    tab.page.click("#near-keep")
    third = tab.wait_row(not_row=second)
    assert AnswerJournal(live.session.answers_path, "y").read() == {
        first: "maybe",
        second: "maaybee",
    }
    assert tab.page.is_hidden("#near")
    # The same up to case: a misspelling the campaign's merge refuses, so it cannot be
    # kept; the known class can be chosen.
    tab.page.fill("#new-label", "Maybe ")
    tab.page.press("#new-label", "Enter")
    tab.page.wait_for_selector("#near:not([hidden])")
    tab.wait_text("#near-text", "misspelling")
    assert tab.page.is_hidden("#near-keep")
    tab.page.click("#near-choices button")
    tab.wait_row(not_row=third)
    assert AnswerJournal(live.session.answers_path, "y").read()[third] == "maybe"
    assert tab.page.is_hidden("#near")


def test_the_question_about_a_near_class_goes_with_its_row(context, live):
    # Asked about a label close to a class, the person skips the row instead: the
    # question must not stay, ready to put that label on the next row.
    tab = Page(context, live)
    first = tab.row()
    tab.page.fill("#new-label", "catalogue")
    tab.page.press("#new-label", "Enter")
    second = tab.wait_row(not_row=first)
    tab.page.fill("#new-label", "catalog")
    tab.page.press("#new-label", "Enter")
    tab.page.wait_for_selector("#near:not([hidden])")
    tab.page.click("#skip")
    tab.wait_row(not_row=second)
    sync_api.expect(tab.page.locator("#near")).to_be_hidden()
    assert AnswerJournal(live.session.answers_path, "y").read() == {first: "catalogue"}


def test_a_label_typed_but_not_sent_goes_with_its_row(context, live):
    # Text typed for one row, then a skip: Enter must not put it on the next row.
    tab = Page(context, live)
    first = tab.row()
    tab.page.fill("#new-label", "catalogue")
    tab.page.click("#skip")
    second = tab.wait_row(not_row=first)
    sync_api.expect(tab.page.locator("#new-label")).to_have_value("")
    tab.page.press("#new-label", "Enter")
    tab.page.wait_for_timeout(500)  # time for a label, had one been sent, to be saved
    assert tab.row() == second
    assert AnswerJournal(live.session.answers_path, "y").read() == {}


def test_a_label_the_server_never_answered_says_so(context, live):
    # The server stopped (Ctrl-C, a crash): the page said "Failed to fetch", which told
    # the labeler nothing of the label pressed, nor what to do.
    tab = Page(context, live)
    row, label = tab.label_by_key()
    tab.wait_row(not_row=row)
    live.server.stop()
    shown = tab.row()
    tab.label_by_key()
    tab.wait_text("#message", "skbait label does not answer")
    text = tab.page.text_content("#message")
    assert "may not be saved" in text and "start skbait label again" in text, text
    assert tab.row() == shown
    assert AnswerJournal(live.session.answers_path, "y").read() == {row: label}


def test_a_reload_mid_batch_shows_the_same_row(context, live):
    tab = Page(context, live)
    for _ in range(2):
        row, _ = tab.label_by_key()
        tab.wait_row(not_row=row)
    shown = tab.row()
    tab.page.reload()
    tab.wait_row()
    assert tab.row() == shown
    tab.wait_text("#batch-line", "2 of 4 labeled")
    assert len(AnswerJournal(live.session.answers_path, "y").read()) == 2


def test_two_tabs_at_once(context, live):
    one, two = Page(context, live), Page(context, live)
    assert one.row() != two.row()
    rows = {one.row(), two.row()}
    a_row, a_label = one.label_by_key()
    b_row, b_label = two.label_by_key()
    one.wait_row(not_row=a_row)
    two.wait_row(not_row=b_row)
    assert one.row() != two.row()
    assert not {one.row(), two.row()} & rows
    assert AnswerJournal(live.session.answers_path, "y").read() == {
        a_row: a_label,
        b_row: b_label,
    }


def test_a_duplicated_tab_takes_its_own_rows(context, live):
    # A browser's "Duplicate tab" copies the tab's sessionStorage, and with it the id
    # the page keeps there: the copy must not be served the rows of the first.
    one, two = Page(context, live), Page(context, live)
    first = one.row()
    mine = one.page.evaluate("sessionStorage.getItem('skbait-tab')")
    two.page.evaluate(f"sessionStorage.setItem('skbait-tab', '{mine}')")
    two.page.reload()  # as the duplicate opens: the first tab's id
    sync_api.expect(two.page.locator("#row-id")).not_to_have_text(f"Row {first}")
    second = two.wait_row()
    assert second != first
    assert two.page.evaluate("sessionStorage.getItem('skbait-tab')") != mine
    row, label = one.label_by_key()
    assert row == first
    one.wait_row(not_row=first)
    assert one.row() != second
    assert AnswerJournal(live.session.answers_path, "y").read() == {first: label}
    # A reload keeps its id: nobody else holds it.
    one.page.reload()
    assert one.wait_row() != second
    assert one.page.evaluate("sessionStorage.getItem('skbait-tab')") == mine


def test_a_script_in_data_is_shown_as_text(context, live):
    tab = Page(context, live)
    shown = tab.fields()["html"]
    assert shown == "<script>window.__pwned = 1</script><img src=x onerror=window.__pwned=1>"
    assert (
        tab.page.evaluate("document.querySelectorAll('#fields script, #fields img').length") == 0
    )
    assert tab.page.evaluate("window.__pwned") is None
    assert tab.dialogs == []


def test_markup_in_names_labels_and_messages_is_shown_as_text(context, tmp_path):
    # Every value of DATA the page shows, not only a cell: the file's name, a column's
    # name, a class, and an error message that repeats a label typed.
    def hostile(n):
        return f"<img src=x onerror=window.__pwned={n}>"

    folder = tmp_path / hostile(1)
    folder.mkdir()
    data, frame = make_pool(folder, extra={hostile(2): ["javascript:window.__pwned=3//.png"] * 40})
    frame.loc[2, "y"] = hostile(4)
    named = os.path.join(folder, hostile(5) + ".csv")
    frame.to_csv(named, index=False)
    os.remove(data)
    live = Live(named)
    try:
        tab = Page(context, live)
        page = tab.page
        assert page.text_content("#data-name") == hostile(5) + ".csv"
        # The cell's text, then why no image is shown (no such file).
        cell = tab.fields()[hostile(2)]
        assert cell.startswith("javascript:window.__pwned=3//.png") and "no such file" in cell
        assert hostile(4) in tab.classes()
        assert hostile(4) in page.text_content("#counts")
        # A misspelling of the class (not hostile(6): numbered labels are not alike).
        typed = hostile(4).replace("img", "IMG")
        page.fill("#new-label", typed)
        page.press("#new-label", "Enter")
        page.wait_for_selector("#near:not([hidden])")
        tab.wait_text("#near-text", typed)
        assert page.text_content("#near-choices") == hostile(4)
        assert page.evaluate("document.querySelectorAll('img, a, iframe').length") == 0
        assert page.evaluate("document.scripts.length") == 1
        assert page.evaluate("window.__pwned") is None
        assert tab.dialogs == []
    finally:
        live.close()


def test_requests_without_the_token_are_refused(context, live):
    page = context.new_page()
    assert page.goto(live.base + "/").status == 403
    assert page.goto(live.base + "/static/app.js").status == 403
    tab = Page(context, live)
    status = tab.page.evaluate("fetch('api/state?tab=tab-zzzzzzzz').then(r => r.status)")
    assert status == 403
    status = tab.page.evaluate(
        "fetch('api/label', {method: 'POST', body: JSON.stringify({tab: 'tab-zzzzzzzz',"
        " row: 3, label: 'pos'})}).then(r => r.status)"
    )
    assert status == 403
    assert not os.path.exists(live.session.answers_path)


def _review_pool(folder, n=120, seed=3):
    """A pool that looks like a real one, for the user guide's screenshot."""
    import matplotlib.image

    rng = np.random.default_rng(seed)
    words = {
        "positive": ["works great", "love the colour", "sturdy and light", "fast delivery"],
        "negative": ["broke after a week", "smells odd", "the lid leaks", "arrived scratched"],
        "neutral": ["as described", "it is a bottle", "does the job", "ordinary"],
    }
    classes = rng.choice(list(words), size=n)
    os.makedirs(os.path.join(folder, "photos"))
    colours = {
        "positive": (0.3, 0.7, 0.4),
        "negative": (0.8, 0.3, 0.3),
        "neutral": (0.5, 0.5, 0.6),
    }
    photos = []
    for i, c in enumerate(classes):
        image = np.ones((90, 140, 3)) * np.array(colours[c])
        image[20:70, 30 + (i % 5) * 15 : 60 + (i % 5) * 15] = 0.95
        path = f"photos/item{i:03d}.png"
        matplotlib.image.imsave(os.path.join(folder, path), image)
        photos.append(path)
    stars = {"positive": 4.5, "negative": 1.8, "neutral": 3.1}
    frame = pd.DataFrame(
        {
            "review": [
                f"{rng.choice(words[c]).capitalize()}; {rng.choice(words[c])}. "
                f"Bought it for the kitchen, order #{1000 + i}."
                for i, c in enumerate(classes)
            ],
            "stars": [round(stars[c] + rng.normal(0, 0.6), 1) for c in classes],
            "price": (rng.gamma(3, 6, n)).round(2),
            "photo": photos,
            "sentiment": ["" for _ in classes],
        }
    )
    seed_rows = [int(np.flatnonzero(classes == c)[k]) for c in words for k in range(2)]
    for r in seed_rows:
        frame.loc[r, "sentiment"] = classes[r]
    path = os.path.join(folder, "reviews.csv")
    frame.to_csv(path, index=False)
    return path, classes


def test_the_user_guide_screenshot(context, tmp_path):
    data, classes = _review_pool(tmp_path)
    live = Live(data, target="sentiment", options={"batch_size": 6, "device": "cpu"})
    try:
        tab = Page(context, live)
        for round_ in range(2):
            tab.wait_text("#batch-line", f"Round {round_} · batch: 0 of 6")
            for k in range(6):
                row = tab.wait_row() if k == 0 else tab.row()
                tab.page.keyboard.press(str(tab.classes().index(classes[row]) + 1))
                if k < 5:
                    tab.wait_row(not_row=row)
        tab.wait_text("#batch-line", "Round 2 · batch: 0 of 6")
        tab.wait_row()
        tab.wait_text("#prediction", "Model says:")
        tab.page.wait_for_selector("#curve circle")
        tab.page.wait_for_selector("#job", state="hidden")
        image = tab.page.locator("#fields img")
        deadline = time.monotonic() + WAIT_MS / 1000
        while not image.evaluate("i => i.complete && i.naturalWidth > 0"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        labels = read_labels(data, "sentiment")
        assert len(labels) == 6 + 12 and all(labels[r] == classes[r] for r in labels)
        path = os.environ.get("SKBAIT_LABEL_SCREENSHOT") or str(tmp_path / "label_page.png")
        tab.page.set_viewport_size({"width": 1200, "height": 720})
        tab.page.screenshot(path=path, full_page=True)
        with open(path, "rb") as handle:
            assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    finally:
        live.close()


def test_multi_label_check_boxes_by_key_and_click_reach_data(context, tmp_path):
    from test_label_multilabel import make_pool as multilabel_pool
    from test_label_multilabel import read_tags

    data = multilabel_pool(tmp_path)
    live = Live(
        data, target="tags", options={"batch_size": 3, "device": "cpu", "multi_label": True}
    )
    try:
        tab = Page(context, live)
        boxes = tab.page.locator("#classes input[type=checkbox]")
        sync_api.expect(boxes).to_have_count(2)
        assert [boxes.nth(i).get_attribute("data-label") for i in range(2)] == ["high", "wide"]
        # The token shown as cells hold it, not wrapped in a second pair of parentheses.
        sync_api.expect(tab.page.locator("#none-of-these")).to_contain_text("None of these (none)")
        given = {}
        # First row: key 2 ticks "wide", a click ticks "high", key 1 unticks it again and
        # a click ticks it back; Enter saves the set.
        row = tab.row()
        tab.page.keyboard.press("2")
        sync_api.expect(boxes.nth(1)).to_be_checked()
        boxes.nth(0).click()
        sync_api.expect(boxes.nth(0)).to_be_checked()
        tab.page.keyboard.press("1")
        sync_api.expect(boxes.nth(0)).not_to_be_checked()
        boxes.nth(0).click()
        tab.page.keyboard.press("Enter")
        given[row] = "high|wide"
        # Second row: none of these, by its key.
        row = tab.wait_row(not_row=row)
        tab.page.keyboard.press("0")
        given[row] = "(none)"
        # Third row: a new label typed in, ticked, saved with the button.
        row = tab.wait_row(not_row=row)
        tab.page.fill("#new-label", "round")
        tab.page.press("#new-label", "Enter")
        sync_api.expect(boxes).to_have_count(3)
        sync_api.expect(tab.page.locator("#classes input[data-label=round]")).to_be_checked()
        tab.page.click("#save-set")
        given[row] = "round"
        tab.wait_text("#batch-line", "Round 1")
        live.wait_idle()
        tags = read_tags(data)
        assert all(tags[r] == text for r, text in given.items()), tags
        assert len(tags) == 2 + 3
        assert tab.dialogs == []
    finally:
        live.close()


def test_boxes_ticked_while_a_set_is_saved_go_to_the_next_row(context, tmp_path):
    # A fast labeler ticks the next row's labels before the saved row's answer comes
    # back: the ticks, a label added, and Enter apply to the row shown once it is saved.
    from test_label_multilabel import make_pool as multilabel_pool
    from test_label_multilabel import read_tags

    data = multilabel_pool(tmp_path)
    live = Live(
        data, target="tags", options={"batch_size": 3, "device": "cpu", "multi_label": True}
    )
    label = live.session.label

    def slow_label(*args, **kwargs):
        time.sleep(0.8)
        return label(*args, **kwargs)

    live.session.label = slow_label
    try:
        tab = Page(context, live)
        first = tab.row()
        tab.page.keyboard.press("1")
        tab.page.keyboard.press("Enter")
        # Before the first row's answer: the second row's labels.
        tab.page.keyboard.press("2")
        tab.page.fill("#new-label", "round")
        tab.page.press("#new-label", "Enter")
        tab.page.keyboard.press("Enter")
        second = tab.wait_row(not_row=first)
        tab.wait_text("#message", f"Saved: row {second} is ")
        journal = AnswerJournal(live.session.answers_path, "tags")
        assert journal.read() == {first: "high", second: "round|wide"}
        tab.wait_row(not_row=second)
        tab.page.keyboard.press("0")
        tab.wait_text("#batch-line", "Round 1")
        live.wait_idle()
        tags = read_tags(data)
        assert tags[first] == "high" and tags[second] == "round|wide"
        assert tab.dialogs == []
    finally:
        live.close()


def test_long_names_and_labels_stay_inside_the_page(context, tmp_path):
    # A column name or a class without a space to break at (a path, a URL, an id)
    # wraps inside the card instead of pushing the row's values out of sight.
    long_column = "column_" + "y" * 150
    data, frame = make_pool(tmp_path, extra={long_column: ["short"] * 40})
    frame.loc[2, "y"] = "label_" + "z" * 190
    frame.to_csv(data, index=False)
    live = Live(data)
    try:
        tab = Page(context, live)
        page = tab.page
        assert page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
        card = page.locator("#card").bounding_box()
        for selector in ("#fields tr:first-child td", "#classes button:first-child"):
            box = page.locator(selector).bounding_box()
            assert box["x"] + box["width"] <= card["x"] + card["width"], selector
        assert tab.fields()["a"] == str(frame["a"][tab.row()])
    finally:
        live.close()


def test_a_regression_row_takes_a_number(context, tmp_path):
    data, frame = make_pool(tmp_path, labeled=0)
    frame.loc[:5, "y"] = [str(v) for v in (frame["a"][:6] * 2.5).round(2)]
    frame.to_csv(data, index=False)
    live = Live(data, options={"batch_size": 4, "device": "cpu", "task": "regression"})
    try:
        tab = Page(context, live)
        field = tab.page.locator("#new-label")
        sync_api.expect(field).to_have_attribute("placeholder", re.compile("a number"))
        sync_api.expect(field).to_have_attribute("inputmode", "decimal")
        assert tab.classes() == []
        row = tab.row()
        # Shortcut letters typed in the box are text, not keys: no skip, no undo.
        tab.page.keyboard.press("n")
        tab.page.keyboard.type("su")
        tab.page.keyboard.press("Enter")
        tab.wait_text("#message", "'su' is not a number")
        assert tab.row() == row and not os.path.exists(live.session.answers_path)
        tab.page.fill("#new-label", "2.5")
        tab.page.press("#new-label", "Enter")
        tab.wait_row(not_row=row)
        assert AnswerJournal(live.session.answers_path, "y").read() == {row: "2.5"}
    finally:
        live.close()


def test_what_the_side_panel_says_without_an_estimate(context, tmp_path):
    # Label sets have no estimate on the page, and a regression needs four values, not
    # "two labels of each of two classes", as both pages said.
    from test_label_multilabel import make_pool as multilabel_pool

    (tmp_path / "m").mkdir()
    data = multilabel_pool(tmp_path / "m")
    live = Live(
        data, target="tags", options={"batch_size": 3, "device": "cpu", "multi_label": True}
    )
    try:
        tab = Page(context, live)
        tab.wait_text("#accuracy", "skbait status")
        tab.wait_text("#prediction", "label sets")
        assert "classes" not in tab.page.text_content("#accuracy")
    finally:
        live.close()
    data, _ = make_pool(tmp_path, labeled=0)
    live = Live(data, options={"batch_size": 4, "device": "cpu", "task": "regression"})
    try:
        tab = Page(context, live)
        tab.wait_text("#accuracy", "it needs four values")
    finally:
        live.close()


def test_the_side_panel_says_how_many_classes_it_leaves_out(context, tmp_path):
    # The panel lists the 30 most frequent classes; the others must not vanish silently.
    data, frame = make_pool(tmp_path, n=60, labeled=0)
    frame.loc[:39, "y"] = [f"class_{i:02d}" for i in range(40)]
    frame.loc[40:41, "y"] = "class_00"
    frame.to_csv(data, index=False)
    live = Live(data)
    try:
        tab = Page(context, live)
        tab.wait_text("#counts", "and 10 more classes")
        shown = tab.page.evaluate("document.querySelectorAll('#counts th').length")
        assert shown == 30
        assert tab.page.text_content("#counts th") == "class_00"
    finally:
        live.close()


def test_a_key_held_down_labels_one_row(context, live):
    # A key held down repeats: the repeats must not label (or skip) the rows that follow.
    tab = Page(context, live)
    row = tab.row()
    label = truth(tab.fields()["a"])
    key = str(tab.classes().index(label) + 1)

    def hold(key):
        for _ in range(4):
            tab.page.keyboard.down(key)  # the second and later: repeat set
        tab.page.keyboard.up(key)

    hold(key)
    tab.wait_row(not_row=row)
    hold("s")
    tab.wait_text("#batch-line", "batch: 1 of 4 labeled, 1 skipped")
    hold("u")
    sync_api.expect(tab.page.locator("#row-id")).to_have_text(f"Row {row}", timeout=WAIT_MS)
    tab.wait_text("#batch-line", "batch: 0 of 4 labeled, 1 skipped")
    assert AnswerJournal(live.session.answers_path, "y").read() == {}


def test_right_to_left_text_reads_right_to_left(context, tmp_path):
    # Arabic or Hebrew cells and labels are laid out in their own direction (the
    # question mark at the end of the sentence, on its left), emoji kept as they are.
    question = "هل هذا المنتج جيد؟"
    data, frame = make_pool(tmp_path, extra={"review": [question] * 40})
    frame.loc[0, "y"] = "טוב 👍"
    frame.to_csv(data, index=False)
    live = Live(data)
    try:
        tab = Page(context, live)
        assert tab.fields()["review"] == question
        direction = "e => getComputedStyle(e).direction"
        cells = tab.page.locator("#fields td")
        assert cells.nth(list(tab.fields()).index("review")).evaluate(direction) == "rtl"
        assert cells.nth(list(tab.fields()).index("note")).evaluate(direction) == "ltr"
        assert "טוב 👍" in tab.classes()
        name = tab.page.locator("#classes button[data-label='טוב 👍'] .name")
        assert name.evaluate(direction) == "rtl"
    finally:
        live.close()


def test_long_rows_keep_the_buttons_in_view_on_a_desktop_and_a_phone(context, tmp_path):
    # A 2,000-character message and 30 columns pushed the class buttons and Skip below
    # the fold (scroll down for every row); on a phone, Skip broke into "Ski" / "p".
    message = "\n".join(
        [
            "مرحبا، لدي مشكلة في الطلب 😀",
            "<script>window.__pwned = 1</script>",
            *["Lorem ipsum dolor sit amet, consectetur adipiscing elit." * 3] * 12,
        ]
    )[:2000]
    extra = {"message": [message] * 40}
    extra.update({f"feature_{j:02d}_measurement": np.arange(40.0) + j for j in range(26)})
    data, _ = make_pool(tmp_path, extra=extra)
    live = Live(data)
    try:
        tab = Page(context, live)
        assert tab.fields()["message"] == message
        page = tab.page
        for width, height in ((1200, 860), (375, 740)):
            page.set_viewport_size({"width": width, "height": height})
            for selector in ("#classes button:first-child", "#skip", "#undo", "#next"):
                box = page.locator(selector).bounding_box()
                assert box["y"] + box["height"] <= height, (width, selector, box)
                assert box["height"] < 45, (width, selector, box)  # one line
            assert page.evaluate(
                "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
            )
        # The next row is shown from its start, not where this one was scrolled to.
        box = page.locator("#fields-box")
        box.evaluate("b => { b.scrollTop = b.scrollHeight; }")
        assert box.evaluate("b => b.scrollTop") > 0
        row, _ = tab.label_by_key()
        tab.wait_row(not_row=row)
        assert box.evaluate("b => b.scrollTop") == 0
        # The box completes a typed label to the known classes (past the ninth too).
        options = page.evaluate(
            "[...document.querySelectorAll('#known-classes option')].map(o => o.value)"
        )
        assert options == tab.classes() == ["neg", "pos"]
        assert page.get_attribute("#new-label", "list") == "known-classes"
        assert page.evaluate("window.__pwned") is None
    finally:
        live.close()


def test_a_batch_that_cannot_be_chosen_is_not_blamed_on_other_tabs(context, tmp_path):
    # The first query refused DATA's labels: the page said the batch's rows were "with
    # other tabs", and ran the error's lines together into one paragraph.
    data, frame = make_pool(tmp_path, labeled=0)
    frame.loc[:3, "y"] = ["dog", "dgo", "cat", "cta"]
    frame.to_csv(data, index=False)
    live = Live(data)
    try:
        page = context.new_page()
        assert page.goto(live.url).status == 200
        sync_api.expect(page.locator("#job-text")).to_contain_text("could not be chosen")
        sync_api.expect(page.locator("#empty")).to_contain_text("could not be chosen")
        assert "other tabs" not in page.text_content("#empty")
        text = page.inner_text("#job-text")
        assert "\nDATA row 1:" in text or "\n  DATA row 1:" in text, text
        assert page.is_visible("#retry")
    finally:
        live.close()


def test_a_large_image_fits_and_a_dicom_file_says_why_it_is_not_shown(context, tmp_path):
    # A radiology pool: a preview far larger than the page, and the DICOM file itself,
    # which no browser draws; the page showed its path alone, as if it were any text.
    import matplotlib.image

    (tmp_path / "scans").mkdir()
    image = np.zeros((1800, 2600, 3))
    image[:, :, 1] = np.linspace(0, 1, 2600)
    matplotlib.image.imsave(tmp_path / "scans" / "preview.PNG", image)
    (tmp_path / "scans" / "<b>chest.dcm").write_bytes(b"\x00" * 128 + b"DICM")
    (tmp_path / "scans" / "damaged.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    extra = {
        "preview": ["scans/preview.PNG"] * 40,
        "dicom": ["scans/<b>chest.dcm"] * 40,
        "damaged": ["scans/damaged.png"] * 40,
    }
    data, _ = make_pool(tmp_path, extra=extra)
    live = Live(data)
    try:
        tab = Page(context, live)
        page = tab.page
        for width, height in ((1200, 860), (375, 740)):
            page.set_viewport_size({"width": width, "height": height})
            image = page.locator("#fields img").first
            deadline = time.monotonic() + WAIT_MS / 1000
            while not image.evaluate("i => i.complete && i.naturalWidth > 0"):
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert image.evaluate("i => i.naturalWidth") == 2600
            box, card = image.bounding_box(), page.locator("#card").bounding_box()
            assert box["x"] + box["width"] <= card["x"] + card["width"], width
            assert box["height"] < height, width
            assert page.evaluate(
                "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
            )
        fields = tab.fields()
        assert fields["dicom"].startswith("scans/<b>chest.dcm")
        note = page.locator("#fields td.file .note")
        sync_api.expect(note.first).to_contain_text("DICOM")
        assert page.locator("#fields td.file b").count() == 0
        assert page.locator("#fields td.file img").count() == 0
        # A file the browser cannot decode says so, in place of a broken image.
        sync_api.expect(page.locator("#fields td.file .note").nth(1)).to_contain_text(
            "could not read this image"
        )
        assert tab.fields()["damaged"].startswith("the browser could not read this image")
        assert page.locator("#fields img").count() == 1
        if os.environ.get("SKBAIT_QA_SHOT"):
            page.set_viewport_size({"width": 1200, "height": 860})
            page.locator("#fields-box").evaluate("b => { b.scrollTop = b.scrollHeight; }")
            page.screenshot(path=os.environ["SKBAIT_QA_SHOT"], full_page=True)
    finally:
        live.close()


def test_an_image_goes_to_full_size_and_back_with_a_click_or_z(context, tmp_path):
    # A reader needs the scan's own pixels: the page only fitted it, at most 320 px high.
    import matplotlib.image

    (tmp_path / "scans").mkdir()
    matplotlib.image.imsave(tmp_path / "scans" / "big.png", np.ones((1800, 2600, 3)) * 0.5)
    data, _ = make_pool(tmp_path, extra={"scan": ["scans/big.png"] * 40})
    live = Live(data)
    try:
        tab = Page(context, live)
        page = tab.page
        page.set_viewport_size({"width": 1200, "height": 860})
        image = page.locator("#fields img").first
        sync_api.expect(image).to_have_attribute("title", re.compile("full size"))
        sync_api.expect(page.locator("footer")).to_contain_text("Z image at full size")
        deadline = time.monotonic() + WAIT_MS / 1000
        while not image.evaluate("i => i.complete && i.naturalWidth > 0"):
            assert time.monotonic() < deadline
            time.sleep(0.05)

        def width():
            return page.locator("#fields img").first.evaluate(
                "i => i.getBoundingClientRect().width"
            )

        assert width() < 1200
        image.click()
        assert width() == 2600
        # The row's box scrolls to it; the page itself stays as wide as the window.
        assert page.locator("#fields-box").evaluate("b => b.scrollWidth > b.clientWidth")
        assert page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
        # Kept for the next row: a reader zooms once.
        row, _ = tab.label_by_key()
        tab.wait_row(not_row=row)
        sync_api.expect(page.locator("#fields img").first).to_be_visible()
        assert width() == 2600
        page.keyboard.press("z")
        assert width() < 1200
    finally:
        live.close()


def test_thirty_long_classes_keep_skip_in_view_and_their_keys_in_order(context, tmp_path):
    # Thirty findings with long names beside an image: the buttons pushed Skip and Next
    # below the fold on a desktop, and the keys 1 to 9 went to the first nine by name.
    import matplotlib.image

    (tmp_path / "scans").mkdir()
    matplotlib.image.imsave(tmp_path / "scans" / "x.png", np.zeros((600, 600)), cmap="gray")
    lobes = ("right upper", "right middle", "right lower", "left upper", "lingula", "left lower")
    kinds = ("reticular", "ground-glass", "nodular", "cavitary", "consolidative")
    declared = [f"{kind} opacity of the {lobe} lobe" for kind in kinds for lobe in lobes]
    data, _ = make_pool(tmp_path, labeled=0, extra={"scan": ["scans/x.png"] * 40})
    options = {"batch_size": 4, "device": "cpu", "classes": declared}
    live = Live(data, options=options, show=["scan", "note"])
    try:
        tab = Page(context, live)
        page = tab.page
        assert tab.classes() == declared
        # A phone too: the image and the classes left Skip at 809 px of 740.
        for width, height in ((375, 740), (1200, 860)):
            page.set_viewport_size({"width": width, "height": height})
            for selector in ("#classes button:first-child", "#skip", "#undo", "#next"):
                box = page.locator(selector).bounding_box()
                assert box["y"] + box["height"] <= height, (width, selector, box)
        last = page.locator("#classes button:last-child")
        last.scroll_into_view_if_needed()
        box = last.bounding_box()
        assert box["y"] + box["height"] <= height
        row = tab.row()
        page.keyboard.press("1")
        tab.wait_row(not_row=row)
        deadline = time.monotonic() + WAIT_MS / 1000
        while AnswerJournal(live.session.answers_path, "y").read().get(row) != declared[0]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        live.close()
