"""The decimal mark of a campaign's files is the one their numbers are written with.

pandas, R's ``write.csv2(dec=".")`` and many tools write ``;`` with decimal
points; European Excel writes ``;`` with decimal commas. Labels are written with
the mark of their column, read back as the same numbers, and the fingerprints
campaigns recorded before the mark was detected still match their rows.
"""

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd

from skbait._cli import main
from skbait.campaign import campaign_path
from skbait.campaign._features import encode_hashes, row_hashes
from skbait.campaign._files import _Table, decimal_marks, sniff_dialect


def _cli(*args):
    return main([str(a) for a in args])


def _state(data):
    return json.loads(Path(campaign_path(data)).read_text())


def _reproduction_pool(path, sep=";", decimal="."):
    """The issue's DATA: two features, a regression target with 10 labels."""
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"a": rng.normal(size=60).round(3), "b": rng.normal(size=60).round(3)})
    frame["y"] = np.where(frame.a + frame.b > 0, 1.5, 2.25)
    frame.loc[10:, "y"] = np.nan
    frame.to_csv(path, sep=sep, decimal=decimal, index=False)
    return path


def _type_answers(batch, answer, sep):
    """Type ``answer`` into every answer cell of the batch file, as a spreadsheet would."""
    with open(batch, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle, delimiter=sep))
    column = rows[0].index("y")
    for row in rows[1:]:
        row[column] = answer
    with open(batch, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=sep, lineterminator="\n").writerows(rows)
    return [int(row[0]) for row in rows[1:]]


def _query_and_teach(data, answer, sep):
    batch = data.parent / "batch.csv"
    options = ("--target", "y", "-b", "5", "-o", batch, "--device", "cpu")
    assert _cli("query", data, *options) == 0
    rows = _type_answers(batch, answer, sep)
    assert _cli("teach", data, batch) == 0
    return rows


def _label_cells(data, sep):
    with open(data, newline="", encoding="utf-8-sig") as handle:
        return [row[-1] for row in csv.reader(handle, delimiter=sep)][1:]


def test_semicolon_file_with_decimal_points_gets_labels_with_points(tmp_path):
    """The issue's reproduction: labels beside 1.5 were written 3,75, which pandas then
    read as text."""
    data = _reproduction_pool(tmp_path / "pool.csv")
    rows = _query_and_teach(data, "3.75", ";")
    cells = _label_cells(data, ";")
    assert [cells[r] for r in rows] == ["3.75"] * 5
    assert "3,75" not in data.read_text()
    y = pd.read_csv(data, sep=";")["y"]
    assert y.dtype == np.float64 and (y[rows] == 3.75).all()
    # skbait reads back the labels it wrote.
    table = _Table(data)
    assert table.dialect.decimal == "."
    assert [table.number(cells[r]) for r in rows] == [3.75] * 5
    assert {e["row"]: e["label"] for e in _state(data)["labels"]}.items() >= {
        r: 3.75 for r in rows
    }.items()
    assert _cli("status", data) == 0  # no row of DATA reads as edited


def test_european_excel_file_keeps_decimal_commas(tmp_path):
    """A ';' file of decimal commas gets its labels with commas; an answer typed with
    either mark reads as the same number."""
    data = _reproduction_pool(tmp_path / "pool.csv", decimal=",")
    assert "1,5" in data.read_text()
    rows = _query_and_teach(data, "3,75", ";")
    cells = _label_cells(data, ";")
    assert [cells[r] for r in rows] == ["3,75"] * 5
    y = pd.read_csv(data, sep=";", decimal=",")["y"]
    assert y.dtype == np.float64 and (y[rows] == 3.75).all()
    assert [e["label"] for e in _state(data)["labels"]][-5:] == [3.75] * 5
    # 4.5 typed with a point into the batch of decimal commas: 4.5, written 4,5.
    rows = _query_and_teach(data, "4.5", ";")
    cells = _label_cells(data, ";")
    assert [cells[r] for r in rows] == ["4,5"] * 5
    assert "4.5" not in data.read_text()


def test_tab_file_with_decimal_points(tmp_path):
    data = _reproduction_pool(tmp_path / "pool.tsv", sep="\t")
    rows = _query_and_teach(data, "3.75", "\t")
    cells = _label_cells(data, "\t")
    assert [cells[r] for r in rows] == ["3.75"] * 5
    y = pd.read_csv(data, sep="\t")["y"]
    assert y.dtype == np.float64 and (y[rows] == 3.75).all()


def test_integers_only_semicolon_file_falls_back_to_decimal_commas(tmp_path):
    """Nothing in the file says its mark: a ';' file is European Excel's, decimal commas."""
    rng = np.random.RandomState(1)
    frame = pd.DataFrame({"a": rng.randint(0, 100, 40), "b": rng.randint(0, 100, 40)})
    frame["y"] = pd.array([int(v) for v in frame.a[:8] % 3] + [None] * 32, dtype="Int64")
    data = tmp_path / "pool.csv"
    frame.to_csv(data, sep=";", index=False)
    assert sniff_dialect(data).decimal == ","
    batch = tmp_path / "batch.csv"
    options = ("--target", "y", "-b", "4", "-o", batch, "--device", "cpu")
    assert _cli("query", data, *options, "--task", "regression") == 0
    rows = _type_answers(batch, "2,5", ";")
    assert _cli("teach", data, batch) == 0
    cells = _label_cells(data, ";")
    assert [cells[r] for r in rows] == ["2,5"] * 4
    assert (pd.read_csv(data, sep=";", decimal=",")["y"][rows] == 2.5).all()


def test_regression_round_trip_through_query_teach_correct(tmp_path, capsys):
    data = _reproduction_pool(tmp_path / "pool.csv")
    rows = _query_and_teach(data, "3.75", ";")
    assert _cli("correct", data, "--row", rows[0], "--label", "4.125") == 0
    assert _cli("correct", data, "--row", rows[1], "--retract") == 0
    cells = _label_cells(data, ";")
    assert cells[rows[0]] == "4.125" and cells[rows[1]] == ""
    assert [cells[r] for r in rows[2:]] == ["3.75"] * 3
    more = _query_and_teach(data, "0.5", ";")
    cells = _label_cells(data, ";")
    assert [cells[r] for r in more] == ["0.5"] * 5
    assert not any("," in cell for cell in cells)
    y = pd.read_csv(data, sep=";")["y"]
    assert y.dtype == np.float64 and y[rows[0]] == 4.125
    assert y[rows[1]] == 0.5 if rows[1] in more else np.isnan(y[rows[1]])
    capsys.readouterr()
    assert _cli("status", data) == 0
    assert "edited" not in capsys.readouterr().err


def test_a_mixed_file_writes_each_column_in_its_own_mark(tmp_path):
    """A file whose numbers use both marks is read as before (decimal commas in a ';'
    file), and a label is written with the mark of its column's other numbers."""
    data = tmp_path / "pool.csv"
    lines = ["a;b;y"] + [
        f"{i},{i % 7};{i}.{(3 * i) % 10};{'1.5' if i < 6 else ''}" for i in range(30)
    ]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = _Table(data)
    assert table.dialect.decimal == "," and table.dialect.mixed
    assert table.dialect.decimal_for("y") == "." and table.dialect.decimal_for("a") == ","
    rows = _query_and_teach(data, "2,25", ";")
    cells = _label_cells(data, ";")
    assert [cells[r] for r in rows] == ["2.25"] * 5


def test_what_says_the_mark():
    """Documented decisions: thousands-grouped cells say nothing; in a comma-separated
    file a quoted 1,234 (Excel's US grouping?) says nothing, a quoted 1,5 a comma."""
    cells = ["1.5", " 2,5 ", "1.234,5", "1,234.5", "1,234", "x", None, ".5", "-3,1e4", "7"]
    assert decimal_marks(cells, ";") == (2, 3)
    assert decimal_marks(cells, ",") == (2, 2)
    assert decimal_marks(["1,234", "12,000", "7"], ",") == (0, 0)


def test_comma_file_with_quoted_decimal_commas(tmp_path):
    """LibreOffice in a comma locale, told to separate by commas, quotes 1,5: its numbers
    are read, and its labels written, with commas."""
    data = tmp_path / "pool.csv"
    lines = ["a,b,y"] + [
        f'"{i % 5},{(7 * i) % 10 + 1}",{(3 * i) % 7},' + (f'"{i % 3},5"' if i < 8 else "")
        for i in range(30)
    ]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _Table(data).dialect.decimal == ","
    rows = _query_and_teach(data, "3,75", ",")
    cells = _label_cells(data, ",")
    assert [cells[r] for r in rows] == ["3,75"] * 5
    assert [e["label"] for e in _state(data)["labels"]][-5:] == [3.75] * 5


# A comma-separated DATA whose features are quoted decimal commas: before the mark was
# detected they were text, and the campaign's fingerprints hashed that text. These are
# the fingerprints the release before computed for it.
_LEGACY_HASHES = (
    "6h7Oiz4QPDA5VsMyteN4nZSZu8cE9mHbISvbTbcvrpJPPVpDtTrBaz2TCPMKKylqtci9XLLgFM9CPi0MXbGagjgX"
    "KTxz4nG+miAY6toKaGXPujVqKFG/bNd2RNMRdPRe"
)


def _legacy_pool(path):
    lines = ["a,b,label"]
    for i in range(12):
        label = ("cat", "dog")[i % 2] if i < 6 else ""
        lines.append(f'"{i % 5},{(7 * i) % 10 + 1}",{(3 * i) % 7},{label}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_campaign_started_before_the_mark_was_detected_keeps_matching(tmp_path, capsys):
    data = tmp_path / "pool.csv"
    _legacy_pool(data)
    table = _Table(data)
    assert table.dialect.decimal == ","  # the features read as numbers now
    assert encode_hashes(row_hashes(table, ["a", "b"])) == _LEGACY_HASHES
    batch = tmp_path / "batch.csv"
    options = ("--target", "label", "-b", "3", "-o", batch, "--device", "cpu")
    assert _cli("query", data, *options) == 0
    assert _state(data)["data"]["row_hashes"] == _LEGACY_HASHES
    frame = pd.read_csv(batch, dtype=str, keep_default_na=False)
    frame["label"] = ["cat", "dog", "cat"]
    frame.to_csv(batch, index=False)
    capsys.readouterr()
    assert _cli("teach", data, batch) == 0
    assert "edited" not in capsys.readouterr().err
    assert _state(data)["data"]["row_hashes"] == _LEGACY_HASHES


def test_semicolon_fingerprints_are_those_of_the_release_before(tmp_path):
    # The reproduction's DATA: read with commas before, with points now, alike.
    data = _reproduction_pool(tmp_path / "pool.csv")
    table = _Table(data)
    hashes = row_hashes(table, ["a", "b"])
    table.dialect.decimal = ","  # the release before
    from skbait.campaign._features import _canonical

    before = [_canonical(table, c).tolist() for c in ("a", "b")]
    table.dialect.decimal = "."
    assert [_canonical(table, c).tolist() for c in ("a", "b")] == before
    assert row_hashes(table, ["a", "b"]) == hashes


def test_predictions_file_writes_numbers_with_datas_mark(tmp_path):
    from skbait.campaign import predict_table

    data = _reproduction_pool(tmp_path / "pool.csv", decimal=",")
    assert _cli("query", data, "--target", "y", "-b", "5", "-o", tmp_path / "b.csv") == 0
    output = tmp_path / "predictions.csv"
    predict_table(data, output)
    frame = pd.read_csv(output, sep=";", decimal=",")
    assert frame["prediction"].dtype == np.float64
    assert "." not in output.read_text()
