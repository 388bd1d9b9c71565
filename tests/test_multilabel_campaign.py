"""Multi-label campaigns: label sets in the label column, from the command line."""

import hashlib
import json
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_multilabel_classification
from sklearn.metrics import f1_score
from sklearn.model_selection import KFold

from skbait._cli import main
from skbait.campaign import (
    campaign_path,
    campaign_status,
    merge_answers,
    predict_table,
    query_batch,
)
from skbait.strategies import MultiLabelBAIT

NAMES = np.array(["arts", "politics", "sports"])
N = 60


def _truth():
    X, Y = make_multilabel_classification(
        n_samples=N, n_features=4, n_classes=3, n_labels=1, random_state=0
    )
    return X, Y


def _cell(Y, row, order=1):
    labels = NAMES[Y[row] == 1][::order]
    return "|".join(labels) if labels.size else "(none)"


def _write_pool(folder):
    """A pool written by pandas with sep=';' and na_rep='NA': the labels all missing."""
    X, Y = _truth()
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    frame["tags"] = np.nan
    path = folder / "pool.csv"
    frame.to_csv(path, sep=";", index=False, na_rep="NA")
    return path, Y


def _cli(*args):
    return main([str(a) for a in args])


def _read(path):
    return pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)


def _answer(batch, Y, label=None):
    frame = _read(batch)
    for i, row in enumerate(frame["row"].astype(int)):
        # Labels in reverse order, with spaces: the campaign reads them as sets.
        frame.loc[i, "tags"] = label(row) if label else _cell(Y, row, order=-1)
    frame.to_csv(batch, sep=";", index=False)
    return frame


def _snapshot(*paths):
    return {str(p): hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths}


def _state(data):
    return json.loads(Path(campaign_path(data)).read_text())


def _query_rows(data, batch, size, *options):
    """The rows of a first batch of ``size`` queried from DATA (multi-label on ``tags``)."""
    options = options or ("--target", "tags", "--multi-label")
    assert _cli("query", data, *options, "-o", batch, "-b", size) == 0
    return _read(batch)["row"].astype(int).tolist()


def _refused(capsys, data, *args):
    """The error of a command that must be refused: exit 2, one ``skbait: error:``
    message, no traceback, DATA and its campaign unchanged."""
    before = _snapshot(data, campaign_path(data))
    capsys.readouterr()
    assert _cli(*args) == 2
    err = capsys.readouterr().err
    assert err.startswith("skbait: error:") and "Traceback" not in err, err
    assert _snapshot(data, campaign_path(data)) == before
    return err


@pytest.fixture
def campaign(tmp_path):
    """A multi-label campaign after two answered rounds."""
    data, Y = _write_pool(tmp_path)
    batch = tmp_path / "batch.csv"
    query = ("query", data, "-o", batch, "--device", "cpu", "-b", "8")
    assert _cli(*query, "--target", "tags", "--multi-label") == 0
    _answer(batch, Y)
    assert _cli("teach", data, batch) == 0
    assert _cli(*query) == 0
    _answer(batch, Y)
    assert _cli("teach", data, batch) == 0
    return data, batch, Y


def test_round_trip_records_label_sets_and_keeps_the_dialect(campaign, capsys):
    data, _batch, Y = campaign
    state = _state(data)
    assert state["settings"]["multi_label"] == {"sep": "|", "no_labels": "(none)"}
    assert state["settings"]["label_type"] == "str"
    # The journal keeps sorted lists; "(none)" is the empty set.
    for entry in state["labels"]:
        assert entry["label"] == sorted(NAMES[Y[entry["row"]] == 1].tolist())
    # DATA keeps its semicolons and its NA tokens; labels are written sorted.
    text = Path(data).read_text()
    assert text.splitlines()[0] == "a;b;c;d;tags"
    pool = _read(data)
    labeled = {e["row"] for e in state["labels"]}
    for row in range(N):
        expected = _cell(Y, row) if row in labeled else "NA"
        assert pool.loc[row, "tags"] == expected
    assert _state(data)["rounds"][1]["design"] == "multilabel_bait"
    first = {label for e in state["labels"] if e["round"] == 1 for label in e["label"]}
    assert state["rounds"][1]["classes"] == sorted(first)
    # pandas with its default missing values reads the token as text, not as missing;
    # re-saved as a spreadsheet would (blank for missing), the campaign sees no change.
    again = pd.read_csv(data, sep=";")
    n_none = sum(_cell(Y, r) == "(none)" for r in labeled)
    assert n_none and (again["tags"] == "(none)").sum() == n_none
    assert again["tags"].notna().sum() == len(labeled)
    again.to_csv(data, sep=";", index=False, na_rep="")
    before = _state(data)["labels"]
    assert _cli("teach", data) == 0
    assert _state(data)["labels"] == before


def test_the_batch_is_multilabel_bait_on_the_one_vs_rest_model(campaign):
    # The slow obvious reference: fit the preset by hand and ask MultiLabelBAIT.
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MultiLabelBinarizer, StandardScaler

    from skbait.campaign._features import _feature_matrix
    from skbait.campaign._files import _Table
    from skbait.utils._seeds import draw_seed, round_random_state

    data, batch, Y = campaign
    state = _state(data)
    rows = sorted({e["row"] for e in state["labels"]})
    X = _feature_matrix(_Table(data), state["data"]["features"])
    y = MultiLabelBinarizer(classes=NAMES.tolist()).fit_transform(
        [set(NAMES[Y[r] == 1]) for r in rows]
    )
    model = make_pipeline(StandardScaler(), OneVsRestClassifier(LogisticRegression(max_iter=1000)))
    model.fit(X[rows], y)
    result = query_batch(data, Path(batch).with_name("next.csv"), device="cpu")
    rng = round_random_state(draw_seed(0), result["round"]["round"])
    expected = MultiLabelBAIT(device="cpu").select(model, X, np.array(rows), 8, random_state=rng)
    assert result["round"]["batch"] == expected.tolist()


def test_order_spaces_and_duplicates_do_not_matter(tmp_path):
    data, Y = _write_pool(tmp_path)
    batch = tmp_path / "batch.csv"
    rows = _query_rows(data, batch, 3)
    cells = {rows[0]: " sports | arts|sports", rows[1]: "arts|sports", rows[2]: "(none)"}
    _answer(batch, Y, label=cells.get)
    assert _cli("teach", data, batch) == 0
    state = _state(data)
    labels = {e["row"]: e["label"] for e in state["labels"]}
    assert labels[rows[0]] == labels[rows[1]] == ["arts", "sports"]
    assert labels[rows[2]] == []
    # The same set in another order, merged again, is the same answer (not a conflict).
    _answer(
        batch, Y, label={rows[0]: "sports|arts", rows[1]: "arts|sports", rows[2]: "(none)"}.get
    )
    assert _cli("teach", data, batch) == 0
    assert len(_state(data)["labels"]) == 3
    # b|a typed into DATA where the campaign recorded a|b agrees with it.
    pool = _read(data)
    pool.loc[rows[1], "tags"] = "sports|arts"
    pool.to_csv(data, sep=";", index=False)
    assert _cli("teach", data) == 0
    assert len(_state(data)["labels"]) == 3


def test_blank_is_unlabeled_and_the_token_is_no_label(tmp_path, capsys):
    data, Y = _write_pool(tmp_path)
    batch = tmp_path / "batch.csv"
    rows = _query_rows(data, batch, 4)
    cells = {rows[0]: "(none)", rows[1]: "", rows[2]: "arts", rows[3]: "NA"}
    _answer(batch, Y, label=cells.get)
    assert _cli("teach", data, batch) == 0
    assert "2 still blank" in capsys.readouterr().out
    labels = {e["row"]: e["label"] for e in _state(data)["labels"]}
    assert labels == {rows[0]: [], rows[2]: ["arts"]}
    pool = _read(data)
    assert pool.loc[rows[0], "tags"] == "(none)" and pool.loc[rows[1], "tags"] == "NA"
    status = campaign_status(data)
    assert status["counts"] == {"arts": 1, "(none)": 1}
    assert status["task"] == "multi-label"


@pytest.mark.parametrize(
    "cell, needle",
    [
        ("arts|(none)", "combines labels with '(none)'"),
        ("|", "holds no label"),
        ("sprots", "misspelling of the class 'sports'"),
        ("arts|Sports ", "misspelling of the class 'sports'"),
    ],
)
def test_bad_cells_are_refused_and_nothing_changes(tmp_path, capsys, cell, needle):
    data, Y = _write_pool(tmp_path)
    batch = tmp_path / "batch.csv"
    rows = _query_rows(data, batch, 4)
    _answer(batch, Y, label={rows[0]: "sports", rows[1]: "arts", rows[2]: "politics"}.get)
    assert _cli("teach", data, batch) == 0
    _answer(batch, Y, label={rows[3]: cell}.get)
    assert needle in _refused(capsys, data, "teach", data, batch)


def test_numbers_as_labels_read_by_value_after_a_pandas_re_save(tmp_path, capsys):
    # Cells of one number each: pandas reads the column as floats and writes 100.0.
    data, Y = _write_pool(tmp_path)
    batch = tmp_path / "batch.csv"
    rows = _query_rows(data, batch, 4)
    _answer(batch, Y, label={rows[0]: "100", rows[1]: "101", rows[2]: "100"}.get)
    answers = pd.read_csv(batch, sep=";")
    answers.to_csv(batch, sep=";", index=False)
    assert "100.0" in batch.read_text()
    # 101 is another number, not a typo of 100; 100.0 is the label 100.
    assert _cli("teach", data, batch) == 0
    labels = {e["row"]: e["label"] for e in _state(data)["labels"]}
    assert labels == {rows[0]: ["100"], rows[1]: ["101"], rows[2]: ["100"]}
    pool = pd.read_csv(data, sep=";")
    pool.to_csv(data, sep=";", index=False)
    assert _cli("teach", data) == 0
    assert _cli("correct", data, "--row", rows[0], "--label", "101.0|100.00") == 0
    assert _state(data)["labels"][-1]["label"] == ["100", "101"]
    assert campaign_status(data)["counts"] == {"100": 2, "101": 2, "(none)": 0}


def test_declared_classes_refuse_other_labels_naming_the_nearest(tmp_path, capsys):
    data, Y = _write_pool(tmp_path)
    batch = tmp_path / "batch.csv"
    options = ("--target", "tags", "--multi-label", "--classes", "arts,politics,sports")
    rows = _query_rows(data, batch, 3, *options)
    assert _state(data)["settings"]["classes"] == ["arts", "politics", "sports"]
    _answer(batch, Y, label={rows[0]: "arts|science", rows[1]: "politic"}.get)
    err = _refused(capsys, data, "teach", data, batch)
    assert "label 'science' is not one of the declared classes" in err
    assert "did you mean 'politics'?" in err
    # --classes holding the separator or the token is refused too.
    assert _cli("query", data, "-o", batch, "--classes", "arts,(none)") == 2
    assert "no label applies" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command, flags",
    [
        ("teach", ["--label-sep", "/"]),
        ("status", ["--no-labels", "-"]),
        ("query", ["--label-sep", ";"]),
        ("export", ["--no-labels", "nothing"]),
    ],
)
def test_a_contradicting_flag_is_an_error_and_changes_nothing(campaign, capsys, command, flags):
    data, _batch, _ = campaign
    folder = Path(data).parent
    before = _snapshot(*sorted(p for p in folder.iterdir() if p.is_file()))
    capsys.readouterr()
    status = main([command, str(data), *flags] + (["--no-plot"] if command == "status" else []))
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith("skbait: error:") and "Traceback" not in err
    assert "fixed by the first query" in err
    assert _snapshot(*sorted(p for p in folder.iterdir() if p.is_file())) == before


def test_multi_label_flags_on_a_single_label_campaign_are_refused(tmp_path, capsys):
    data = tmp_path / "pool.csv"
    pd.DataFrame({"x": range(8), "y": ["a", "b"] + [""] * 6}).to_csv(data, index=False)
    assert _cli("query", data, "--target", "y", "-o", tmp_path / "b.csv", "-b", "2") == 0
    err = _refused(capsys, data, "teach", data, "--multi-label")
    assert "one label per row" in err and "--multi-label" in err
    # And on a new campaign, --label-sep alone asks for --multi-label.
    other = tmp_path / "other.csv"
    pd.DataFrame({"x": range(8), "y": [""] * 8}).to_csv(other, index=False)
    assert _cli("query", other, "--target", "y", "--label-sep", "/") == 2
    assert "add --multi-label" in capsys.readouterr().err
    assert not Path(campaign_path(other)).exists()


def test_a_custom_separator_and_token(tmp_path):
    data, Y = _write_pool(tmp_path)
    batch = tmp_path / "batch.csv"
    options = ("--target", "tags", "--multi-label", "--label-sep", "/", "--no-labels", "-")
    rows = _query_rows(data, batch, 4, *options)
    _answer(batch, Y, label={rows[0]: "sports / arts", rows[1]: "-", rows[2]: "arts"}.get)
    assert _cli("teach", data, batch) == 0
    pool = _read(data)
    assert pool.loc[rows[0], "tags"] == "arts/sports" and pool.loc[rows[1], "tags"] == "-"
    assert _cli("status", data, "--label-sep", "/", "--no-plot") == 0


@pytest.mark.parametrize("token", ["None", "<NA>", "#NA"])
def test_a_token_pandas_reads_as_missing_is_refused(tmp_path, capsys, token):
    # pandas would re-save the token as a blank: the rows would read as not labeled yet.
    data, _ = _write_pool(tmp_path)
    before = _snapshot(data)
    options = ("--target", "tags", "--multi-label", "--no-labels", token)
    assert _cli("query", data, *options, "-o", tmp_path / "batch.csv") == 2
    err = capsys.readouterr().err
    assert err.startswith("skbait: error:") and "reads as a missing value in pandas" in err
    assert _snapshot(data) == before and not Path(campaign_path(data)).exists()


def test_a_row_repeated_blank_in_the_answers_is_not_still_blank(tmp_path, capsys):
    data, Y = _write_pool(tmp_path)
    batch = tmp_path / "batch.csv"
    assert _cli("query", data, "--target", "tags", "--multi-label", "-o", batch, "-b", "3") == 0
    frame = _answer(batch, Y, label={}.get)
    rows = frame["row"].astype(int).tolist()
    frame["tags"] = ["(none)", "arts", ""]
    # The first row again, blank: it was answered above.
    pd.concat([frame, frame.iloc[[0]].assign(tags="")]).to_csv(batch, sep=";", index=False)
    capsys.readouterr()
    assert _cli("teach", data, batch) == 0
    out = capsys.readouterr().out
    assert "merged 2 label(s) from" in out and "(1 still blank)" in out, out
    result = merge_answers(data, batch)
    assert result["unanswered"] == [rows[2]] and result["already"] == sorted(rows[:2])


@pytest.mark.parametrize("cell", ["arts, politics", "politics ;arts", "sports;arts|politics"])
def test_labels_joined_by_a_comma_or_semicolon_are_refused(tmp_path, capsys, cell):
    # The annotator joined known labels with the table's separators, not "|": the cell
    # would be one new label "arts, politics".
    data, Y = _write_pool(tmp_path)
    batch = tmp_path / "batch.csv"
    rows = _query_rows(data, batch, 4)
    _answer(batch, Y, label={rows[0]: "arts", rows[1]: "politics|sports", rows[2]: cell}.get)
    err = _refused(capsys, data, "teach", data, batch)
    assert f"answers line 4, row {rows[2]}" in err and "joins the labels" in err, err
    assert "write 'arts|politics'" in err or "write 'arts|sports'" in err, err
    # A label with a comma whose parts are no labels is a label of its own.
    _answer(batch, Y, label={rows[0]: "arts", rows[2]: "arts, culture"}.get)
    assert _cli("teach", data, batch) == 0
    assert ["arts, culture"] in [e["label"] for e in _state(data)["labels"]]


@pytest.mark.parametrize("cell", ["arts|politics", "politics + arts", "arts & sports"])
def test_labels_joined_by_another_mark_than_the_separator_are_refused(tmp_path, capsys, cell):
    # With --label-sep /, an annotator used to "|" (or writing "+", "&") would make
    # a new label of two known ones, in an answer file as in a correction.
    data, Y = _write_pool(tmp_path)
    batch = tmp_path / "batch.csv"
    rows = _query_rows(data, batch, 3, "--target", "tags", "--multi-label", "--label-sep", "/")
    _answer(batch, Y, label={rows[0]: "arts", rows[1]: "politics/sports", rows[2]: cell}.get)
    err = _refused(capsys, data, "teach", data, batch)
    assert f"answers line 4, row {rows[2]}" in err and "joins the labels" in err, err
    assert "write 'arts/politics'" in err or "write 'arts/sports'" in err, err
    _answer(batch, Y, label={rows[0]: "arts", rows[1]: "politics/sports"}.get)
    assert _cli("teach", data, batch) == 0
    err = _refused(capsys, data, "correct", data, "--row", rows[2], "--label", cell)
    assert "joins the labels" in err, err
    known = {label for entry in _state(data)["labels"] for label in entry["label"]}
    assert known == {"arts", "politics", "sports"}


@pytest.mark.parametrize("cell", ["none", "None", "arts|NONE"])
def test_none_written_out_is_not_taken_as_a_new_label(tmp_path, capsys, cell):
    # An annotator who means "no label applies" and writes "none" would add a label
    # "none" (and "None" comes back blank from a pandas re-save).
    data, Y = _write_pool(tmp_path)
    batch = tmp_path / "batch.csv"
    rows = _query_rows(data, batch, 3)
    _answer(batch, Y, label={rows[0]: "arts", rows[1]: cell, rows[2]: "(none)"}.get)
    err = _refused(capsys, data, "teach", data, batch)
    assert f"answers line 3, row {rows[1]}" in err and "write '(none)'" in err, err
    assert "write '(none)'" in _refused(
        capsys, data, "correct", data, "--row", rows[0], "--label", cell
    )
    # Declared, "none" is a label like any other.
    other = tmp_path / "other.csv"
    pd.read_csv(data, sep=";").to_csv(other, sep=";", index=False, na_rep="NA")
    options = ("--target", "tags", "--multi-label", "--classes", "arts,none")
    batch = tmp_path / "other_batch.csv"
    rows = _query_rows(other, batch, 3, *options)
    _answer(batch, Y, label={rows[0]: "arts|none", rows[1]: "none"}.get)
    assert _cli("teach", other, batch) == 0
    assert sorted(e["label"] for e in _state(other)["labels"]) == [["arts", "none"], ["none"]]


@pytest.mark.parametrize("command", ["query", "teach"])
def test_na_values_that_hold_the_token_are_refused_later_too(campaign, capsys, command):
    # Read as missing, "(none)" would be a row not labeled yet: the annotator's answer
    # that no label applies would be dropped as a blank.
    data, _batch, _ = campaign
    folder = Path(data).parent
    before = _snapshot(*sorted(p for p in folder.iterdir() if p.is_file()))
    capsys.readouterr()
    assert _cli(command, data, "--na-values", "NA,(none)") == 2
    err = capsys.readouterr().err
    assert err.startswith("skbait: error:") and err.count("\n") == 1, err
    assert "'(none)'" in err and "--na-values" in err and "lost" not in err
    assert _snapshot(*sorted(p for p in folder.iterdir() if p.is_file())) == before


def test_restore_with_a_typo_typed_into_data_changes_nothing(campaign, capsys):
    # DATA lost a label and gained a misspelt one: restore wrote the lost label back, then
    # refused the typo, saying "Nothing was changed".
    data, _batch, Y = campaign
    state = _state(data)
    lost = state["labels"][0]["row"]
    typed = next(r for r in range(N) if r not in {e["row"] for e in state["labels"]})
    pool = _read(data)
    pool.loc[lost, "tags"] = "NA"
    pool.loc[typed, "tags"] = "sports|Politics"
    pool.to_csv(data, sep=";", index=False)
    err = _refused(capsys, data, "teach", data, "--restore")
    assert "'Politics' looks like a misspelling" in err and "Nothing was changed" in err, err
    assert _read(data).loc[lost, "tags"] == "NA"
    pool.loc[typed, "tags"] = "Politics | sports".lower()
    pool.to_csv(data, sep=";", index=False)
    assert _cli("teach", data, "--restore") == 0
    after = _read(data)
    assert after.loc[lost, "tags"] == _cell(Y, lost)
    assert [e["label"] for e in _state(data)["labels"] if e["row"] == typed] == [
        ["politics", "sports"]
    ]


def test_boolean_labels_respelt_by_a_spreadsheet_are_the_same_labels(tmp_path, capsys):
    # A spreadsheet re-saves a cell "true" as TRUE: the campaign stopped every command
    # with "DATA says 'TRUE', the campaign recorded 'true'", and refused an answer TRUE.
    data, Y = _write_pool(tmp_path)
    batch = tmp_path / "batch.csv"
    rows = _query_rows(data, batch, 4)
    cells = dict(zip(rows, ["true", "false|true", "(none)", "false"]))
    _answer(batch, Y, label=cells.get)
    assert _cli("teach", data, batch) == 0
    pool = _read(data)
    pool["tags"] = pool["tags"].replace({"true": "TRUE", "false": "FALSE"})
    pool.to_csv(data, sep=";", index=False)
    capsys.readouterr()
    assert _cli("status", data) == 0
    assert "rows per label: false: 2, true: 2, (none): 1" in capsys.readouterr().out
    assert _cli("query", data, "-o", batch, "-b", "2") == 0
    _answer(batch, Y, label=lambda row: "TRUE|False")
    assert _cli("teach", data, batch) == 0
    labels = [e["label"] for e in _state(data)["labels"]]
    assert labels[-2:] == [["false", "true"]] * 2
    assert {label for entry in labels for label in entry} == {"false", "true"}


def test_correct_and_retract_a_label_set(campaign, capsys):
    data, _batch, Y = campaign
    row = _state(data)["labels"][0]["row"]
    previous = _cell(Y, row)
    assert _cli("correct", data, "--row", row, "--label", "sports | politics") == 0
    assert f"{previous!r} corrected to 'politics|sports'" in capsys.readouterr().out
    assert _read(data).loc[row, "tags"] == "politics|sports"
    entry = _state(data)["labels"][-1]
    assert entry["label"] == ["politics", "sports"] and entry["correction"] == "correct"
    assert _cli("correct", data, "--row", row, "--label", "(none)") == 0
    assert _read(data).loc[row, "tags"] == "(none)"
    assert _cli("correct", data, "--row", row, "--retract") == 0
    assert _read(data).loc[row, "tags"] == "NA"
    assert _state(data)["labels"][-1]["label"] is None
    err = _refused(capsys, data, "correct", data, "--row", row, "--label", "arts|polítics")
    assert "misspelling of the class 'politics'" in err


def test_the_token_with_a_trailing_separator_or_another_case(campaign, capsys):
    data, _batch, _ = campaign
    row = next(e["row"] for e in _state(data)["labels"] if e["label"])
    # "(none)|" is "(none)", as "arts|" is "arts".
    assert _cli("correct", data, "--row", row, "--label", "(none)|") == 0
    assert _state(data)["labels"][-1]["label"] == []
    # "(None)" combines nothing: the message names the token to write.
    err = _refused(capsys, data, "correct", data, "--row", row, "--label", "(None)")
    assert "is not the token '(none)'" in err and "combines" not in err, err


def test_status_counts_and_the_micro_f1_estimate(campaign, capsys):
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MultiLabelBinarizer, StandardScaler

    from skbait.campaign._features import _feature_matrix
    from skbait.campaign._files import _Table

    data, _batch, Y = campaign
    assert _cli("status", data, "--no-plot") == 0
    out = capsys.readouterr().out
    state = _state(data)
    rows = sorted({e["row"] for e in state["labels"]})
    counts = Y[rows].sum(axis=0)
    none = int((Y[rows].sum(axis=1) == 0).sum())
    expected = ", ".join(f"{n}: {c}" for n, c in zip(NAMES, counts)) + f", (none): {none}"
    assert f"rows per label: {expected}" in out
    assert "estimated micro-F1" in out
    # The estimate, by hand: 5-fold out-of-fold predictions of the preset, micro-F1.
    X = _feature_matrix(_Table(data), state["data"]["features"])
    y = MultiLabelBinarizer(classes=NAMES.tolist()).fit_transform(
        [set(NAMES[Y[r] == 1]) for r in rows]
    )
    predicted = np.zeros_like(y)
    for train, test in KFold(5, shuffle=True, random_state=0).split(rows):
        model = make_pipeline(
            StandardScaler(), OneVsRestClassifier(LogisticRegression(max_iter=1000))
        )
        model.fit(X[rows][train], y[train])
        predicted[test] = model.predict(X[rows][test])
    status = campaign_status(data)
    assert status["estimate"]["metric"] == "micro-F1"
    assert status["estimate"]["value"] == pytest.approx(f1_score(y, predicted, average="micro"))
    low, high = status["estimate"]["interval"]
    assert 0.0 <= low <= high <= 1.0


def test_predict_and_export_write_label_sets(campaign, capsys):
    data, _batch, _Y = campaign
    folder = Path(data).parent
    assert _cli("predict", data) == 0
    table = pd.read_csv(folder / "pool_predictions.csv", sep=";", keep_default_na=False)
    assert list(table.columns) == [
        "row", "prediction", "labeled", "score", "rank", *(f"proba_{n}" for n in NAMES)
    ]  # fmt: skip
    proba = table[[f"proba_{n}" for n in NAMES]].to_numpy(dtype=float)
    # The predicted set: the labels of probability above 0.5, joined by the separator.
    for cell, p in zip(table["prediction"], proba):
        labels = NAMES[p > 0.5]
        assert cell == ("|".join(labels) if labels.size else "(none)")
    score = np.mean(1.0 - np.abs(2.0 * proba - 1.0), axis=1)
    np.testing.assert_allclose(table["score"], score, rtol=1e-9)
    unlabeled = table[table["labeled"] == "False"]
    assert (table[table["labeled"] == "True"]["rank"] == "").all()
    ranked = unlabeled.assign(rank=unlabeled["rank"].astype(int)).sort_values("rank")
    assert ranked["rank"].tolist() == list(range(1, len(unlabeled) + 1))
    assert ranked["score"].is_monotonic_decreasing
    assert _cli("export", data) == 0
    assert "over labels arts, politics, sports" in capsys.readouterr().out
    model = joblib.load(folder / "pool_model.joblib")
    features = _read(data)[["a", "b", "c", "d"]]
    assert model.predict(features).tolist() == table["prediction"].tolist()
    # The wrapped pipeline's indicator predictions (one-vs-rest's own threshold) agree.
    indicator = model.pipeline.predict(features)
    assert ["|".join(NAMES[r == 1]) or "(none)" for r in indicator] == table["prediction"].tolist()
    frame = predict_table(data, folder / "again.csv")
    assert frame["prediction"].tolist() == table["prediction"].tolist()


@pytest.mark.parametrize("estimator", ["logistic", "mlp"])
@pytest.mark.filterwarnings("error::sklearn.exceptions.DataConversionWarning")
def test_a_campaign_of_one_label_estimates_predicts_and_exports(tmp_path, capsys, estimator):
    # Rows with "sports" or none: the model learns one column as a binary target, whose
    # (n,) predictions and (n, 2) probabilities broke status, predict and export.
    data, Y = _write_pool(tmp_path)
    batch = tmp_path / "batch.csv"
    rows = _query_rows(data, batch, 8, "--target", "tags", "--multi-label", "-e", estimator)
    _answer(batch, Y, label=lambda row: "sports" if row % 2 else "(none)")
    assert _cli("teach", data, batch) == 0
    assert _cli("status", data) == 0
    out = capsys.readouterr().out
    assert "rows per label: sports: 4, (none): 4" in out and "estimated micro-F1" in out, out
    assert _cli("predict", data) == 0
    table = pd.read_csv(tmp_path / "pool_predictions.csv", sep=";", keep_default_na=False)
    assert list(table.columns) == ["row", "prediction", "labeled", "score", "rank", "proba_sports"]
    proba = table["proba_sports"].to_numpy(dtype=float)
    assert ((proba >= 0) & (proba <= 1)).all()
    assert table["prediction"].tolist() == np.where(proba > 0.5, "sports", "(none)").tolist()
    assert _cli("export", data) == 0
    model = joblib.load(tmp_path / "pool_model.joblib")
    features = _read(data)[["a", "b", "c", "d"]]
    np.testing.assert_allclose(model.predict_proba(features)[:, 0], proba)
    assert model.predict(features).tolist() == table["prediction"].tolist()
    assert sorted(rows) == sorted(e["row"] for e in _state(data)["labels"])


def test_a_network_campaign_fits_the_same_model_in_every_command(tmp_path):
    # -e mlp had no seed: each query, predict and export trained another network, so the
    # exported model disagreed with the predictions and a round was not reproducible.
    data, Y = _write_pool(tmp_path)
    batch = tmp_path / "batch.csv"
    _query_rows(data, batch, 10, "--target", "tags", "--multi-label", "-e", "mlp")
    _answer(batch, Y)
    assert _cli("teach", data, batch) == 0
    saved = Path(campaign_path(data)).read_bytes()
    assert _cli("query", data, "-o", tmp_path / "one.csv") == 0
    Path(campaign_path(data)).write_bytes(saved)
    assert _cli("query", data, "-o", tmp_path / "two.csv") == 0
    assert (
        _read(tmp_path / "one.csv")["row"].tolist() == _read(tmp_path / "two.csv")["row"].tolist()
    )
    first = predict_table(data, tmp_path / "p1.csv")
    second = predict_table(data, tmp_path / "p2.csv")
    columns = [column for column in first.columns if column.startswith("proba_")]
    assert len(columns) >= 2
    np.testing.assert_array_equal(first[columns], second[columns])
    assert _cli("export", data) == 0
    model = joblib.load(tmp_path / "pool_model.joblib")
    np.testing.assert_allclose(
        model.predict_proba(_read(data)[["a", "b", "c", "d"]]), first[columns]
    )


def test_regression_or_a_single_label_estimator_is_refused(tmp_path, capsys):
    data, _ = _write_pool(tmp_path)
    assert _cli("query", data, "--target", "tags", "--multi-label", "--task", "regression") == 2
    assert "multi-label campaign classifies" in capsys.readouterr().err
    assert not Path(campaign_path(data)).exists()


def test_a_single_label_task_is_refused_and_the_page_reads_label_sets(campaign, capsys):
    # --task classification was kept, and the labeling page then fitted a classifier on
    # label sets, failing every round.
    from skbait.label import _bridge

    data, batch, _ = campaign
    err = _refused(capsys, data, "query", data, "-o", batch, "--task", "classification")
    assert "--task classification does not apply" in err
    # A campaign file that recorded it reads as multi-label on the page.
    state = _state(data)
    state["settings"]["task"] = "classification"
    assert _bridge.campaign_task(state) == "multi-label"


def test_the_stopping_criteria_read_every_label_decision(campaign, capsys):
    data, batch, _ = campaign
    assert _cli("query", data, "-o", batch, "--device", "cpu", "-b", "8") == 0
    state = _state(data)
    stopping = [r["stopping"] for r in state["rounds"] if r.get("stopping")]
    assert stopping, "no round updated the stopping criteria"
    last = stopping[-1]
    for name in ("stabilizing_predictions", "overall_uncertainty", "max_confidence"):
        assert name in last, last
    # An uncertainty of label decisions is a min(p, 1 - p): at most one half.
    value = last["overall_uncertainty"]
    assert value is not None and 0.0 <= value <= 0.5
    capsys.readouterr()
    assert _cli("status", data) == 0
    assert "overall_uncertainty" in capsys.readouterr().out
