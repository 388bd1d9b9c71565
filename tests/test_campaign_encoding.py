"""Campaign files in Windows-1252: Excel on Windows saves "CSV (Comma delimited)" and
"CSV (semicolon)" in the ANSI code page, and the campaign keeps them so."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skbait._cli import main
from skbait.campaign import campaign_path
from skbait.campaign._files import sniff_dialect

N = 60
NOTES = ["café", "Müller, Hans", "€ 12", "naïve", "façade", "plain"]


def _cli(*args):
    return main([str(a) for a in args])


def _one_error_line(err):
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("skbait: error: "), err
    return lines[0]


def _truth(a):
    return "élevé" if a > 0 else "bas"


def _excel_pool(folder, sep):
    """DATA as Excel on Windows saves it: Windows-1252, CRLF, a semicolon file with
    decimal commas or a comma file that quotes the cells holding a comma."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=N).round(3), rng.normal(size=N).round(3)
    frame = pd.DataFrame({"a": a, "b": b, "note": [NOTES[i % len(NOTES)] for i in range(N)]})
    frame["label"] = [_truth(v) if i < 12 else "" for i, v in enumerate(a)]
    path = folder / "pool.csv"
    frame.to_csv(
        path,
        sep=sep,
        decimal="," if sep == ";" else ".",
        index=False,
        encoding="cp1252",
        lineterminator="\r\n",
    )
    return path, a


def _read(path, sep):
    return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="cp1252")


def _answer(batch, a, sep, encoding="cp1252", labels=None):
    """Type the labels into the batch file and save it as Excel would."""
    codec = sniff_dialect(batch).codec
    frame = pd.read_csv(batch, sep=sep, dtype=str, keep_default_na=False, encoding=codec)
    rows = frame["row"].astype(int)
    frame["label"] = labels if labels is not None else [_truth(a[r]) for r in rows]
    frame.to_csv(batch, sep=sep, index=False, encoding=encoding, lineterminator="\r\n")
    return rows.tolist()


def _lines(path):
    return Path(path).read_bytes().split(b"\r\n")


def _is_windows_1252(path):
    raw = Path(path).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    return raw.decode("cp1252") is not None


@pytest.mark.parametrize("sep", [";", ","], ids=["CSV (semicolon)", "CSV (Comma delimited)"])
def test_a_windows_1252_file_goes_through_a_campaign_as_it_is(tmp_path, capsys, sep):
    data, a = _excel_pool(tmp_path, sep)
    assert sniff_dialect(data).encoding == "cp1252"
    before = _lines(data)
    batch = tmp_path / "batch.csv"
    assert _cli("query", data, "--target", "label", "-o", batch, "-b", "5") == 0
    assert "élevé" in capsys.readouterr().err  # the classes recorded from DATA
    # The batch is written as DATA is: Windows-1252, its separator and line ends.
    assert _is_windows_1252(batch) and _read(batch, sep).shape[1] == 5
    rows = _answer(batch, a, sep)
    assert _cli("teach", data, batch) == 0
    after = _lines(data)
    assert _is_windows_1252(data) and len(after) == len(before)
    # Untouched lines are byte for byte what Excel wrote; labeled ones differ only in it.
    changed = [i for i, (x, y) in enumerate(zip(before, after)) if x != y]
    assert changed == sorted(r + 1 for r in rows)
    for r in rows:
        assert after[r + 1] == before[r + 1] + _truth(a[r]).encode("cp1252")
    labels = _read(data, sep)["label"]
    assert all(labels[r] == _truth(a[r]) for r in rows)
    state = json.loads(Path(campaign_path(data)).read_text(encoding="utf-8"))
    assert {e["label"] for e in state["labels"]} == {"élevé", "bas"}
    # A correction to an accented class is written back in Windows-1252 too.
    row = rows[0]
    assert _cli("correct", data, "--row", row, "--label", "crème") == 0
    assert _is_windows_1252(data)
    assert _read(data, sep)["label"][row] == "crème"
    assert _lines(data)[row + 1] == before[row + 1] + "crème".encode("cp1252")
    capsys.readouterr()
    assert _cli("status", data, "--no-plot") == 0
    out = capsys.readouterr().out
    assert "élevé" in out and "crème" in out


def test_a_campaign_goes_on_after_excel_re_saves_data_in_windows_1252(tmp_path, capsys):
    # Started on a UTF-8 file, then opened and saved in Excel on Windows: the same rows
    # (their fingerprints are of the text, not of its bytes), and the labels still merge.
    data, a = _excel_pool(tmp_path, ";")
    frame = _read(data, ";")
    frame.to_csv(data, sep=";", index=False, encoding="utf-8", lineterminator="\r\n")
    batch = tmp_path / "batch.csv"
    assert _cli("query", data, "--target", "label", "-o", batch, "-b", "4") == 0
    assert sniff_dialect(batch).encoding == "utf-8"
    frame.to_csv(data, sep=";", index=False, encoding="cp1252", lineterminator="\r\n")
    rows = _answer(batch, a, ";", encoding="utf-8")
    capsys.readouterr()
    assert _cli("teach", data, batch) == 0
    assert "changed" not in capsys.readouterr().err
    assert _is_windows_1252(data)
    assert [_read(data, ";")["label"][r] for r in rows] == [_truth(a[r]) for r in rows]


@pytest.mark.parametrize("label", ["日本", "chat 🐈"])
def test_a_label_windows_1252_cannot_hold_is_refused_before_anything_is_written(
    tmp_path, capsys, label
):
    data, a = _excel_pool(tmp_path, ";")
    batch = tmp_path / "batch.csv"
    assert _cli("query", data, "--target", "label", "-o", batch, "-b", "3") == 0
    # Answers typed in a UTF-8 file (pandas, LibreOffice): DATA is still Windows-1252.
    rows = _answer(batch, a, ";", encoding="utf-8", labels=["bas", label, "élevé"])
    files = (data, batch, campaign_path(data))
    before = {str(p): Path(p).read_bytes() for p in files}
    capsys.readouterr()
    assert _cli("teach", data, batch) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert repr(label) in line and "Windows-1252" in line and "'CSV UTF-8'" in line, line
    assert {str(p): Path(p).read_bytes() for p in files} == before
    assert not [p for p in tmp_path.iterdir() if ".skbait-tmp-" in p.name]
    assert _cli("correct", data, "--row", rows[0], "--label", label) == 2
    assert "Windows-1252" in _one_error_line(capsys.readouterr().err)
    assert {str(p): Path(p).read_bytes() for p in files} == before
    # Re-saved as "CSV UTF-8" (Excel writes a byte-order mark), the label is taken.
    frame = _read(data, ";")
    frame.to_csv(data, sep=";", index=False, encoding="utf-8-sig", lineterminator="\r\n")
    assert _cli("teach", data, batch) == 0
    labels = pd.read_csv(data, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert labels["label"][rows[1]] == label


def test_a_batch_its_re_saved_windows_1252_file_cannot_hold_is_refused(tmp_path, capsys):
    # DATA in UTF-8 holds "日本"; the batch file was re-saved as Windows-1252 (Excel made
    # its "日本" "??"), and the next batch, written as that file is, cannot hold it.
    data, _ = _excel_pool(tmp_path, ";")
    frame = _read(data, ";")
    frame["note"] = "日本"
    frame.to_csv(data, sep=";", index=False, encoding="utf-8", lineterminator="\r\n")
    batch = tmp_path / "batch.csv"
    assert _cli("query", data, "--target", "label", "-o", batch, "-b", "3") == 0
    saved = pd.read_csv(batch, sep=";", dtype=str, keep_default_na=False)
    saved["note"] = "?? café"  # a note typed in: a byte Windows-1252 alone reads
    saved.to_csv(batch, sep=";", index=False, encoding="cp1252", lineterminator="\r\n")
    files = (data, batch, campaign_path(data))
    before = {str(p): Path(p).read_bytes() for p in files}
    capsys.readouterr()
    assert _cli("query", data, "-o", batch, "-b", "3") == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "'日本'" in line and "Windows-1252" in line and "'CSV UTF-8'" in line, line
    assert {str(p): Path(p).read_bytes() for p in files} == before
    assert not [p for p in tmp_path.iterdir() if ".skbait-tmp-" in p.name]


@pytest.mark.parametrize(
    "raw, expected",
    [
        # 0x81 is one of the five bytes Windows-1252 leaves undefined.
        (
            b"x;label\r\n1,5;caf\x81\r\n",
            "neither UTF-8 nor Windows-1252 text (byte 0x81 at position 16, line 2,",
        ),
        # UTF-8's mark, then Windows-1252 text: no reading is right.
        (b"\xef\xbb\xbf" + "x;label\r\n1;café\r\n".encode("cp1252"), "byte 0xe9"),
        # UTF-16 (Excel's "Unicode Text"), with and without its byte-order mark.
        ("x\tlabel\r\n1\tcafé\r\n".encode("utf-16"), "NUL byte"),
        ("x\tlabel\r\n1\tcafé\r\n".encode("utf-16-le"), "NUL byte"),
    ],
    ids=["undefined byte", "mark then cp1252", "UTF-16", "UTF-16 without mark"],
)
def test_a_file_neither_utf8_nor_windows_1252_is_refused_naming_the_byte(
    tmp_path, capsys, raw, expected
):
    data = tmp_path / "pool.csv"
    data.write_bytes(raw)
    assert _cli("query", data, "--target", "label", "-o", tmp_path / "b.csv") == 2
    line = _one_error_line(capsys.readouterr().err)
    assert expected in line and "'CSV UTF-8'" in line, line
    assert data.read_bytes() == raw
    assert not Path(campaign_path(data)).exists() and not (tmp_path / "b.csv").exists()


def test_a_utf8_file_stays_utf8(tmp_path):
    """A file that reads as UTF-8 is UTF-8, though its bytes read as Windows-1252 too
    (UTF-8's "é", 0xc3 0xa9, is "Ã©" there)."""
    data = tmp_path / "pool.csv"
    data.write_bytes("x;label\r\n1;café\r\n".encode())
    assert sniff_dialect(data).encoding == "utf-8"
    assert sniff_dialect(data).codec == "utf-8"
    data.write_bytes("x;label\r\n1;café\r\n".encode("utf-8-sig"))
    assert sniff_dialect(data).codec == "utf-8-sig"
