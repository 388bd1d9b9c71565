"""Identifiers a spreadsheet rewrote: a campaign keyed by ``--id`` never puts a label on
another row, and its refusal says what the spreadsheet did and how to undo it."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skbait._cli import main
from skbait.campaign import campaign_path

N = 40
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _cli(*args):
    return main([str(a) for a in args])


def _snapshot(*paths):
    return {str(p): Path(p).read_bytes() for p in paths if Path(p).exists()}


def _pool(folder, ids, labeled=6, classes=("no", "yes")):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"key": ids, "a": rng.normal(size=N).round(3)})
    frame["b"] = rng.normal(size=N).round(3)
    frame["label"] = [classes[i % len(classes)] if i < labeled else "" for i in range(N)]
    data = folder / "pool.csv"
    frame.to_csv(data, index=False)
    batch = folder / "batch.csv"
    assert (
        _cli(
            "query",
            data,
            "--target",
            "label",
            "--id",
            "key",
            "-b",
            "3",
            "-o",
            batch,
            "--device",
            "cpu",
        )
        == 0
    )
    return data, batch


def _read(path):
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _excel_date(month_day):
    """Excel opens ``1-3`` as the 3rd of January and saves it as ``3-Jan``."""
    month, day = month_day.split("-")
    return f"{int(day)}-{MONTHS[int(month) - 1]}"


def test_a_rounded_scientific_identifier_is_no_other_rows(tmp_path, capsys):
    """Excel saves 100000000000000007 as 1E+17, which is also the exact value of
    another row's identifier: the answer must not land on that row."""
    ids = [str(10**17 + i) for i in range(N)]
    data, batch = _pool(tmp_path, ids, labeled=0)
    answers = _read(batch)
    answers = answers[answers["key"] != str(10**17)].head(1)[["key", "label"]]
    answers["label"] = "yes"
    answers["key"] = "1E+17"
    answers.to_csv(batch, index=False)
    before = _snapshot(data, campaign_path(data))
    assert _cli("teach", data, batch) == 2
    err = capsys.readouterr().err
    assert "no row of DATA has key '1E+17'" in err and "scientific notation" in err
    assert "Traceback" not in err
    assert _snapshot(data, campaign_path(data)) == before
    assert _read(data)["label"].eq("").all()


def test_identifiers_a_spreadsheet_collapsed_in_data_are_explained(tmp_path, capsys):
    ids = [str(123456789012340000 + 70000 * i) for i in range(N)]
    data, _ = _pool(tmp_path, ids)
    pool = _read(data)
    pool["key"] = "1.23457E+17"
    pool.to_csv(data, index=False)
    capsys.readouterr()
    assert _cli("status", data, "--no-plot") == 2
    err = capsys.readouterr().err
    assert "repeats '1.23457E+17'" in err and "import the column as text" in err


def test_an_exact_scientific_identifier_still_matches(tmp_path):
    """R writes 100000 as 1e+05: no other identifier reads so, and it names its row."""
    ids = [str(100000 * (i + 1)) for i in range(N)]
    data, batch = _pool(tmp_path, ids, labeled=0)
    answers = _read(batch)[["key", "label"]]
    row = ids.index(answers["key"][0])
    answers["label"] = "yes"
    answers["key"] = [f"{float(k):g}".replace("e+0", "e+") for k in answers["key"]]
    answers.to_csv(batch, index=False)
    assert _cli("teach", data, batch) == 0
    assert _read(data)["label"][row] == "yes"


def test_identifiers_excel_read_as_dates_in_data_are_named(tmp_path, capsys):
    """DATA re-saved by Excel turns the identifier 1-3 into 3-Jan: the error says so
    rather than that the labeled rows were removed."""
    ids = [f"{1 + i % 12}-{1 + i // 12}" for i in range(N)]
    data, batch = _pool(tmp_path, ids)
    pool = _read(data)
    pool["key"] = [_excel_date(k) for k in pool["key"]]
    pool.to_csv(data, index=False)
    before = _snapshot(data, campaign_path(data), batch)
    capsys.readouterr()
    for command in (
        ["teach", data, batch],
        ["query", data, "-o", batch],
        ["status", data, "--no-plot"],
    ):
        assert _cli(*command) == 2
        err = capsys.readouterr().err
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("skbait: error: "), err
        assert "'1-1' is now '1-Jan'" in err and "spreadsheet" in err and "as text" in err
        assert _snapshot(data, campaign_path(data), batch) == before


@pytest.mark.parametrize(
    "ids, rewrite, what",
    [
        ([f"{1 + i % 12}-{1 + i // 12}" for i in range(N)], _excel_date, "a date"),
        ([str(1000 + 37 * i) for i in range(N)], lambda k: f"{int(k):,}", "thousands separators"),
    ],
)
def test_identifiers_a_spreadsheet_rewrote_in_the_batch_are_named(
    tmp_path, capsys, ids, rewrite, what
):
    data, batch = _pool(tmp_path, ids)
    answers = _read(batch)
    answers["label"] = "yes"
    answers["key"] = [rewrite(k) for k in answers["key"]]
    answers.to_csv(batch, index=False)
    before = _snapshot(data, campaign_path(data))
    assert _cli("teach", data, batch) == 2
    err = capsys.readouterr().err
    assert what in err and "import the column as text" in err
    assert _snapshot(data, campaign_path(data)) == before


@pytest.mark.parametrize(
    "classes, rewrite",
    [
        (("1-2", "3-4"), _excel_date),
        (("3/4", "5/6"), lambda c: "{:02d}/{:02d}/2026".format(*map(int, c.split("/")))),
    ],
)
def test_a_class_a_spreadsheet_read_as_a_date_is_refused(tmp_path, capsys, classes, rewrite):
    """The annotator types 1-2 into the batch, Excel saves 2-Jan: not a new class."""
    data, batch = _pool(tmp_path, [f"r{i}" for i in range(N)], classes=classes)
    answers = _read(batch)
    answers["label"] = rewrite(classes[0])
    answers.to_csv(batch, index=False)
    before = _snapshot(data, campaign_path(data))
    capsys.readouterr()
    assert _cli("teach", data, batch) == 2
    err = capsys.readouterr().err
    assert f"looks like the class {classes[0]!r}" in err and "as a date" in err
    assert _snapshot(data, campaign_path(data)) == before
