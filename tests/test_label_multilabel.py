"""The labeling page of a multi-label campaign: check boxes, a list of labels per row."""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from label_server import Live

from skbait.campaign import read_campaign
from skbait.label._journal import AnswerJournal

TAB = "tab-mmmmmmmm"


def label_set(a, b):
    """The oracle of the multi-label pool: the labels a row's features give it."""
    return [name for name, value in (("high", a), ("wide", b)) if float(value) > 0]


def make_pool(folder, n=30, seed=0):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n).round(3), rng.normal(size=n).round(3)
    a[:2], b[:2] = (1.5, -1.5), (1.0, -1.0)
    tags = ["high|wide", "(none)"] + [np.nan] * (n - 2)
    frame = pd.DataFrame({"a": a, "b": b, "tags": tags})
    path = folder / "pool.csv"
    frame.to_csv(path, sep=";", index=False, na_rep="NA")
    return str(path)


def read_tags(path):
    frame = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    return {i: v for i, v in enumerate(frame["tags"]) if v != "NA"}


@pytest.fixture
def live(tmp_path):
    data = make_pool(tmp_path)
    server = Live(
        data,
        target="tags",
        options={"batch_size": 3, "device": "cpu", "multi_label": True},
    )
    server.wait_idle()
    yield server
    server.close()


def _fields(view):
    return {f["column"]: f["value"] for f in view["row"]["fields"]}


def test_a_batch_of_label_sets_reaches_data(live):
    data = live.session.data
    view = live.state(TAB)
    assert view["multi_label"] == {"sep": "|", "no_labels": "(none)"}
    assert [c["label"] for c in view["classes"]] == ["high", "wide"]
    assert view["counts"] == {"high": 1, "wide": 1, "(none)": 1}
    given = {}
    for _ in range(3):
        row, fields = view["row"]["row"], _fields(view)
        labels = label_set(fields["a"], fields["b"])
        # In any order, with a repeat: the campaign reads a set.
        view = live.post("/api/label", tab=TAB, row=row, labels=labels[::-1] + labels[:1])
        given[row] = "|".join(labels) or "(none)"
        assert AnswerJournal(live.session.answers_path, "tags").read()[row] == given[row]
    live.wait_idle()
    assert read_tags(data) == {0: "high|wide", 1: "(none)", **given}
    recorded = {e["row"]: e["label"] for e in read_campaign(live.session.campaign)["labels"]}
    assert {r: "|".join(v) or "(none)" for r, v in recorded.items()} == read_tags(data)
    view = live.state(TAB)
    assert view["rounds"] == 2 and view["row"]["row"] not in given
    assert read_campaign(live.session.campaign)["rounds"][-1]["design"] == "multilabel_bait"


def test_the_row_view_lists_its_labels_and_relabels(live):
    view = live.state(TAB)
    row = view["row"]["row"]
    live.post("/api/label", tab=TAB, row=row, labels=["wide", "high"])
    view = live.post("/api/move", tab=TAB, step=-1)
    assert view["row"]["row"] == row
    assert view["row"]["labels"] == ["high", "wide"] and view["row"]["label"] == "high|wide"
    view = live.post("/api/label", tab=TAB, row=row, labels=[])
    assert AnswerJournal(live.session.answers_path, "tags").read() == {row: "(none)"}


@pytest.mark.parametrize(
    "labels, needle",
    [
        (["hihg"], "misspelling of the label 'high'"),
        (["High"], "misspelling of the label 'high'"),
        (["high|wide"], "contains the separator"),
        # Labels the merge refuses, refused at once: they stopped the batch's merge.
        (["high, wide"], "joins the labels 'high', 'wide' with ','"),
        (["wide", "high / wide"], "joins the labels 'high', 'wide' with '/'"),
        (["None"], "use 'None of these'"),
        (["(none)"], "no label applies"),
        (["NA"], "missing value"),
        ([""], "not blank"),
        ("high", "send 'labels', a list"),
        ([3], "each label is a text"),
    ],
)
def test_bad_label_sets_are_refused_and_nothing_is_saved(live, labels, needle):
    view = live.state(TAB)
    status, payload = live.call(
        "/api/label", {"tab": TAB, "row": view["row"]["row"], "labels": labels}
    )
    if isinstance(labels, str):
        status, payload = live.call(
            "/api/label", {"tab": TAB, "row": view["row"]["row"], "label": labels}
        )
    assert status == 422 and needle in payload["error"], payload
    assert AnswerJournal(live.session.answers_path, "tags").read() == {}


def test_a_new_label_joins_and_declared_classes_refuse_others(live, tmp_path):
    view = live.state(TAB)
    row = view["row"]["row"]
    view = live.post("/api/label", tab=TAB, row=row, labels=["high", "round"])
    assert [c["label"] for c in view["classes"]] == ["high", "round", "wide"]
    # A campaign with --classes refuses anything else, naming the nearest.
    other = tmp_path / "declared"
    other.mkdir()
    data = make_pool(other)
    server = Live(
        data,
        target="tags",
        options={
            "batch_size": 3,
            "device": "cpu",
            "multi_label": True,
            "classes": ["high", "wide"],
        },
    )
    try:
        server.wait_idle()
        view = server.state(TAB)
        assert view["declared"] is True
        status, payload = server.call(
            "/api/label", {"tab": TAB, "row": view["row"]["row"], "labels": ["wid", "round"]}
        )
        assert status == 422 and "did you mean 'wide'?" in payload["error"]
    finally:
        server.close()


def test_numbers_as_labels_are_read_by_value_not_spelling(live):
    # 101.0 is the label 101, as the campaign's merge reads it, and 101 is no typo of 100.
    given = {}
    for labels in (["100"], ["101.0", "1e2"], ["101"]):
        view = live.state(TAB)
        row = view["row"]["row"]
        live.post("/api/label", tab=TAB, row=row, labels=labels)
        given[row] = "|".join(sorted({str(int(float(v))) for v in labels}))
    assert AnswerJournal(live.session.answers_path, "tags").read() == given
    live.wait_idle()
    assert read_tags(live.session.data) == {0: "high|wide", 1: "(none)", **given}


def test_a_single_label_page_refuses_a_list(tmp_path):
    from label_server import make_pool as single_pool

    data, _ = single_pool(tmp_path)
    server = Live(data)
    try:
        server.wait_idle()
        view = server.state(TAB)
        status, payload = server.call(
            "/api/label", {"tab": TAB, "row": view["row"]["row"], "labels": ["pos"]}
        )
        assert status == 422 and "one label per row" in payload["error"]
    finally:
        server.close()


def test_a_contradicting_flag_stops_the_page(live):
    from skbait.label._bridge import CampaignError
    from skbait.label._session import LabelSession

    session = LabelSession(live.session.data, options={"label_sep": "/"})
    with pytest.raises(CampaignError, match="fixed by the first query"):
        session.check()
