"""A campaign's labels survive a process stopped anywhere: SIGKILL or Ctrl-C at every write.

The harness runs a command in a forked child that counts each operation that
changes a file (an open for writing, a write, fsync, replace, unlink, truncate,
chmod) and, at the chosen one, dies by SIGKILL (having written half of what a
write was given, as a power cut may leave it) or takes a Ctrl-C. It then checks
the campaign's promises: the files parse, no label appears that was not given,
every label reported as saved is there, and the same command run again finishes
the work exactly as a run never stopped does, leaving no temporary file.
"""

import builtins
import contextlib
import csv
import errno
import io
import os
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

# What a query imports, imported once here rather than in each forked child.
import sklearn.linear_model
import sklearn.metrics
import sklearn.pipeline  # noqa: F401
import torch
from sklearn.datasets import make_classification

import skbait._campaign_cli
import skbait.embeddings
import skbait.strategies  # noqa: F401
from skbait._cli import main
from skbait.campaign import campaign_path, read_campaign

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="forks a child to kill it")

N = 120
TMP_MARK = ".skbait-tmp-"


def _truth():
    X, y = make_classification(
        n_samples=N,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=3,
        n_clusters_per_class=1,
        random_state=0,
    )
    return np.round(X, 4), y


def _write_pool(folder, labeled=20):
    X, y = _truth()
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    frame["label"] = [str(v) if i < labeled else "" for i, v in enumerate(y)]
    frame.to_csv(folder / "pool.csv", index=False)
    return y


# ------------------------------------------------------------------ the harness


class _Stop(BaseException):
    """A process stopped dead (not an error that the command would report)."""


def _install_stopper(stop_at, how, counter_fd):
    """Count each operation that changes a file; at number ``stop_at`` die (``how`` is
    "kill"), take a Ctrl-C ("interrupt") or find the disk full ("full"). Each operation
    is written to ``counter_fd`` as a letter saying its kind."""
    count = [0]

    def step(kind):
        n = count[0]
        count[0] += 1
        os.write(counter_fd, kind)
        if n == stop_at:
            if how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if how == "full":
                raise OSError(errno.ENOSPC, "No space left on device")
            raise KeyboardInterrupt

    def counted(function, kind):
        def wrapper(*args, **kwargs):
            step(kind)
            return function(*args, **kwargs)

        return wrapper

    for name in ("replace", "rename", "unlink", "remove"):
        setattr(os, name, counted(getattr(os, name), b"R"))
    for name in ("fsync", "truncate", "ftruncate", "chmod"):
        setattr(os, name, counted(getattr(os, name), b"s"))
    real_os_open = os.open

    def os_open(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND):
            step(b"o")
        return real_os_open(path, flags, *args, **kwargs)

    os.open = os_open
    real_open = builtins.open

    class Torn:
        """A file handle whose writes count; the write stopped at is half done."""

        def __init__(self, handle):
            self._handle = handle

        def write(self, data):
            if count[0] == stop_at and how == "kill" and len(data) > 1:
                self._handle.write(data[: len(data) // 2])
                self._handle.flush()
            step(b"w")
            return self._handle.write(data)

        def __getattr__(self, name):
            return getattr(self._handle, name)

        def __iter__(self):
            return iter(self._handle)

        def __enter__(self):
            self._handle.__enter__()
            return self

        def __exit__(self, *exc):
            return self._handle.__exit__(*exc)

    def open_(file, mode="r", *args, **kwargs):
        writing = any(c in mode for c in "wax+")
        if writing and not isinstance(file, int):
            step(b"o")
        handle = real_open(file, mode, *args, **kwargs)
        return Torn(handle) if writing and not isinstance(file, int) else handle

    builtins.open = open_
    io.open = open_


def _in_child(folder, work, stop_at=None, how="kill"):
    """Run ``work()`` (returning an exit code) in a forked child in ``folder``.

    Returns ``(exit code, or -9 when killed; the child's output; the kinds of the
    file-changing operations it went through, one letter each: R replace or unlink,
    o open for writing, w write, s fsync, truncate or chmod)``.
    """
    log = Path(folder) / ".." / f"{Path(folder).name}.log"
    counts = Path(folder) / ".." / f"{Path(folder).name}.count"
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        code = 70
        try:
            out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            counter = os.open(counts, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(out, 1)
            os.dup2(out, 2)
            # Unbuffered: a child killed or leaving by os._exit flushes nothing.
            sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), write_through=True)
            sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), write_through=True)
            os.chdir(folder)
            # OpenMP's thread pool does not survive a fork: a parallel region the
            # parent's tests already started would hang the child. One thread runs
            # torch's regions inline.
            torch.set_num_threads(1)
            _install_stopper(-1 if stop_at is None else stop_at, how, counter)
            code = work()
        except BaseException:
            traceback.print_exc()
            code = 71
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return code, log.read_text(errors="replace"), counts.read_text()


def _cli(*argv):
    return lambda: main([str(a) for a in argv])


def _spread(members, n):
    """``n`` of ``members`` spread from the first to the last."""
    if len(members) <= n:
        return set(members)
    if n == 1:
        return {members[len(members) // 2]}
    return {members[round(j * (len(members) - 1) / (n - 1))] for j in range(n)}


def _points(kinds, wanted):
    """About ``wanted`` operation numbers to stop at: every file put in place or removed
    (where the order of the files matters), two writes cut in half, and opens, fsyncs
    and the like spread over the run."""
    chosen = {i for i, kind in enumerate(kinds) if kind == "R"}
    writes = [i for i, kind in enumerate(kinds) if kind == "w"]
    chosen |= {writes[len(writes) // 3], writes[2 * len(writes) // 3]} if writes else set()
    rest = [i for i, kind in enumerate(kinds) if kind in "os"]
    return sorted(chosen | _spread(rest, max(wanted - len(chosen), 1)))


def _labels_in_data(folder):
    frame = pd.read_csv(Path(folder) / "pool.csv", dtype=str, keep_default_na=False)
    return {i: v for i, v in enumerate(frame["label"]) if v != ""}


def _journal(folder):
    path = campaign_path(Path(folder) / "pool.csv")
    if not os.path.exists(path):
        return None
    return read_campaign(path)


def _journal_labels(state):
    known = {}
    for entry in state["labels"]:
        if entry["label"] is None:
            known.pop(entry["row"], None)
        else:
            known[entry["row"]] = str(entry["label"])
    return known


def _temporaries(folder):
    return sorted(p.name for p in Path(folder).iterdir() if TMP_MARK in p.name)


def _check_sound(folder, allowed):
    """The files parse, and every label in DATA and the journal is one ``allowed`` gives
    for its row (a set of labels per row)."""
    in_data = _labels_in_data(folder)
    for row, label in in_data.items():
        assert label in allowed.get(row, ()), (row, label)
    state = _journal(folder)
    if state is not None:
        for row, label in _journal_labels(state).items():
            assert label in allowed.get(row, ()), (row, label)
    return in_data, state


def _outcome(folder):
    state = _journal(folder)
    journal = [(e["row"], e["label"], e.get("correction")) for e in state["labels"]]
    rounds = [r["batch"] for r in state["rounds"]]
    return _labels_in_data(folder), journal, rounds


# -------------------------------------------------------------- the commands


def _prepared(folder, template=None):
    """Twenty labels in DATA, one round queried and answered in ``batch.csv`` (a copy of
    ``template``'s files where given)."""
    if template is not None:
        shutil.copytree(template, folder)
        return
    folder.mkdir()
    truth = _write_pool(folder)
    code, out, _ = _in_child(
        folder,
        _cli(
            "query",
            "pool.csv",
            "--target",
            "label",
            "-b",
            "5",
            "-o",
            "batch.csv",
            "--device",
            "cpu",
        ),
    )
    assert code == 0, out
    batch = pd.read_csv(folder / "batch.csv", dtype=str, keep_default_na=False)
    batch["label"] = [str(truth[int(r)]) for r in batch["row"]]
    batch.to_csv(folder / "batch.csv", index=False)
    return truth, batch["row"].astype(int).tolist()


def _allowed(truth, rows, corrected=None):
    allowed = {row: {str(truth[row])} for row in range(20)}
    for row in rows:
        allowed[row] = {str(truth[row])}
    for row, label in (corrected or {}).items():
        allowed.setdefault(row, set()).add(label)
    return allowed


COMMANDS = {
    # argv, and the labels it may leave beside the given ones: {row: label}
    "teach": (("teach", "pool.csv", "batch.csv"), lambda truth: {}),
    "correct": (
        ("correct", "pool.csv", "--row", "3", "--label", "LABEL3"),
        lambda truth: {3: str((truth[3] + 1) % 3)},
    ),
    "retract": (("correct", "pool.csv", "--row", "3", "--retract"), lambda truth: {}),
    "query": (
        (
            "query",
            "pool.csv",
            "--answers",
            "batch.csv",
            "-b",
            "5",
            "-o",
            "next.csv",
            "--device",
            "cpu",
        ),
        lambda truth: {},
    ),
}


def _argv(command, truth):
    argv, _ = COMMANDS[command]
    return [str((truth[3] + 1) % 3) if a == "LABEL3" else a for a in argv]


@pytest.mark.parametrize("how", ["kill", "interrupt"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_command_stopped_at_any_write_loses_nothing(tmp_path, command, how):
    reference = tmp_path / "reference"
    truth, rows = _prepared(reference)
    start = tmp_path / "start"
    shutil.copytree(reference, start)
    argv = _argv(command, truth)
    code, out, kinds = _in_child(reference, _cli(*argv))
    assert code == 0, out
    expected = _outcome(reference)
    expected_next = (reference / "next.csv").read_bytes() if command == "query" else None
    allowed = _allowed(truth, rows, COMMANDS[command][1](truth))
    for point in _points(kinds, 8 if command == "query" else 12):
        folder = tmp_path / f"at{point}"
        _prepared(folder, start)
        before = _outcome(folder)
        code, out, _ = _in_child(folder, _cli(*argv), stop_at=point, how=how)
        if how == "kill":
            assert code == -signal.SIGKILL, (point, out)
        else:
            # Ctrl-C: one line, a status that says it did not finish, no traceback.
            assert code == 130, (point, out)
            assert out.strip().splitlines()[-1] == "skbait: interrupted", (point, out)
            assert "Traceback" not in out, (point, out)
            assert _temporaries(folder) == [], point
        _check_sound(folder, allowed)
        # The user runs the same command again: it finishes the work, once.
        code, out, _ = _in_child(folder, _cli(*argv))
        assert code == 0, (point, out)
        assert "waiting" not in out, (point, out)  # a killed run's lock holds no one
        assert _outcome(folder) == expected, (point, before)
        if expected_next is not None:
            assert (folder / "next.csv").read_bytes() == expected_next, point
        assert _temporaries(folder) == [], point


def _files(folder):
    return {p.name: p.read_bytes() for p in Path(folder).iterdir() if not p.name.endswith(".lock")}


@pytest.mark.parametrize("command", ["teach", "correct", "query"])
def test_a_full_disk_at_any_write_is_one_error_and_loses_nothing(tmp_path, command):
    """The disk fills at any write of the command: one ``skbait: error:`` line, status 2,
    no temporary file, every file as it was (unless the disk filled after a file was put
    in place: between two files of one step, a state the next command completes, or
    after ``query --answers`` merged the answers), and the same command run once there
    is room again does the work."""
    reference = tmp_path / "reference"
    truth, rows = _prepared(reference)
    start = tmp_path / "start"
    shutil.copytree(reference, start)
    argv = _argv(command, truth)
    code, out, kinds = _in_child(reference, _cli(*argv))
    assert code == 0, out
    expected = _outcome(reference)
    allowed = _allowed(truth, rows, COMMANDS[command][1](truth))
    for point in _points(kinds, 6 if command == "query" else 10):
        folder = tmp_path / f"at{point}"
        _prepared(folder, start)
        before = _files(folder)
        code, out, _ = _in_child(folder, _cli(*argv), stop_at=point, how="full")
        assert code == 2, (point, out)
        lines = [line for line in out.splitlines() if line.startswith("skbait: error:")]
        assert len(lines) == 1 and "No space left on device" in lines[0], (point, out)
        assert "Traceback" not in out, (point, out)
        assert _temporaries(folder) == [], point
        _check_sound(folder, allowed)
        if "R" not in kinds[:point]:
            assert _files(folder) == before, point
        elif command == "query" and kinds[:point].count("R") >= 2:
            # The answers were merged (and said so) before the batch found the disk full.
            assert "merged 5 label(s)" in out, (point, out)
        code, out, _ = _in_child(folder, _cli(*argv))
        assert code == 0, (point, out)
        assert _outcome(folder) == expected, point


def _stopped_at(monkeypatch, point):
    """Make the in-process command stop at the named write point, as SIGKILL would there."""
    import skbait.campaign._files as files_module

    checkpoint = files_module._checkpoint

    def stop(name):
        if name == point:
            raise _Stop(name)
        checkpoint(name)

    monkeypatch.setattr(files_module, "_checkpoint", stop)


def test_a_retraction_run_again_after_a_crash_says_it_is_done(tmp_path, monkeypatch, capsys):
    """The campaign file recorded the retraction, then the process died before DATA was
    written: the same command run again finished the retraction in DATA but said
    "error: row 3 has no label to retract" (status 2), as if nothing had been done."""
    _prepared(tmp_path / "c")
    folder = tmp_path / "c"
    monkeypatch.chdir(folder)
    with monkeypatch.context() as patch:
        _stopped_at(patch, "write:pool.csv")
        with pytest.raises(_Stop):
            main(["correct", "pool.csv", "--row", "3", "--retract"])
    assert 3 in _labels_in_data(folder) and 3 not in _journal_labels(_journal(folder))
    capsys.readouterr()
    assert main(["correct", "pool.csv", "--row", "3", "--retract"]) == 0
    out, err = capsys.readouterr()
    assert "already retracted" in out and "finished the correction of row(s) 3" in err, out
    assert 3 not in _labels_in_data(folder)
    entries = [e for e in _journal(folder)["labels"] if e["row"] == 3]
    assert [e.get("correction") for e in entries] == [None, "retract"]
    # A row that never had a label is still refused.
    assert main(["correct", "pool.csv", "--row", "100", "--retract"]) == 2
    assert "no label to retract" in capsys.readouterr().err


# ------------------------------------------------------------- the labeling page

TAB = "crash-test-tab"


def _page(truth, reported_fd, n_labels):
    """The labeling page's session (the server aside) labeling ``n_labels`` rows as an
    annotator does; each label the page reports as saved is written to ``reported_fd``."""

    def work():
        from skbait.label._session import LabelSession

        session = LabelSession(
            "pool.csv", target="label", options={"batch_size": 4, "device": "cpu"}, refit_delay=0
        )
        session.start()
        given = 0
        while given < n_labels:
            assert session.wait(120)
            shown = session.view(TAB)["row"]
            if shown is None:
                continue
            row = shown["row"]
            session.label(TAB, row, str(truth[row]))
            os.write(reported_fd, f"{row}\n".encode())
            given += 1
        assert session.wait(120)
        return 0

    return work


def _page_labels(folder):
    """DATA's labels and the page's answer file's, as the page reads it."""
    from skbait.label._journal import AnswerJournal

    journal = AnswerJournal(str(Path(folder) / "pool.csv.campaign.answers.csv"), "label")
    return _labels_in_data(folder), journal.read()


@contextlib.contextmanager
def _reports(folder):
    """A file for the rows the page reports saved: ``(its descriptor, its path)``, open
    until the forked child that writes to it is done."""
    path = Path(folder) / ".." / f"{Path(folder).name}.reported"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        yield fd, path
    finally:
        os.close(fd)


def test_the_page_stopped_at_any_write_loses_no_saved_label(tmp_path):
    """SIGKILL anywhere while the page saves answers, merges a batch and chooses the next:
    every label it reported saved is in DATA or its answer file, no other label appears,
    and the page started again carries on, merging them all."""
    start = tmp_path / "start"
    truth, _ = _prepared(start)
    (start / "batch.csv").unlink()
    reference = tmp_path / "reference"
    shutil.copytree(start, reference)
    with _reports(reference) as (fd, _):
        code, out, kinds = _in_child(reference, _page(truth, fd, 6))
    assert code == 0, out
    allowed = {row: {str(truth[row])} for row in range(N)}
    n_reported = 0
    for point in _points(kinds, 10):
        folder = tmp_path / f"at{point}"
        shutil.copytree(start, folder)
        with _reports(folder) as (fd, reports):
            code, out, _ = _in_child(folder, _page(truth, fd, 6), stop_at=point)
        assert code == -signal.SIGKILL, (point, out)
        reported = [int(r) for r in reports.read_text().split()]
        n_reported += len(reported)
        _check_sound(folder, allowed)
        in_data, pending = _page_labels(folder)
        for row in reported:
            assert in_data.get(row) == str(truth[row]) or pending.get(row) == str(truth[row])
        # The page started again: it tidies, merges what is due, and serves the batch.
        with _reports(folder) as (fd, _):
            code, out, _ = _in_child(folder, _page(truth, fd, 0))
        assert code == 0, (point, out)
        _check_sound(folder, allowed)
        in_data, pending = _page_labels(folder)
        state = _journal(folder)
        recorded = _journal_labels(state)
        for row in reported:
            assert in_data.get(row) == str(truth[row]) or pending.get(row) == str(truth[row])
        assert all(recorded.get(row) == label for row, label in in_data.items()), point
        assert _temporaries(folder) == [], point
    assert n_reported > 0  # the page reported labels saved before some of the kills


def test_the_page_removes_the_batch_file_temporary_a_killed_page_left(tmp_path, monkeypatch):
    """A page killed while writing its batch file (``DATA_batch.csv``) left a hidden
    ``.pool_batch.csv.skbait-tmp-...`` file that the page started again kept for good:
    it reopens the batch recorded in the campaign without writing the batch file."""
    from skbait.label._session import LabelSession

    _prepared(tmp_path / "c")
    folder = tmp_path / "c"
    (folder / "batch.csv").unlink()
    (folder / f".pool_batch.csv{TMP_MARK}0badf00d").write_text("row,a,b,c,d,la")
    monkeypatch.chdir(folder)
    session = LabelSession("pool.csv", options={"device": "cpu"}, refit_delay=0)
    session.start()
    assert session.wait(120) and session._job["error"] is None
    assert session.view(TAB)["row"] is not None
    assert _temporaries(folder) == []


# ------------------------------------------------------------------- two writers


def _hold_lock(data, seconds):
    """Another command holding DATA's lock for ``seconds`` (a thread of this process:
    a lock file is locked per open file, so this process's commands wait for it too)."""
    import threading

    from skbait.campaign._journal import _locked

    holding = threading.Event()

    def hold():
        with _locked(data):
            holding.set()
            time.sleep(seconds)

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(30)
    return thread


def test_a_command_waiting_for_another_says_so(tmp_path, monkeypatch, capsys):
    """``skbait teach`` while another command holds the campaign (a query refitting for
    minutes, the page merging a batch) waited without a word, up to two minutes."""
    truth, rows = _prepared(tmp_path / "c")
    folder = tmp_path / "c"
    monkeypatch.chdir(folder)
    holder = _hold_lock("pool.csv", 1.0)
    capsys.readouterr()
    assert main(["teach", "pool.csv", "batch.csv"]) == 0
    holder.join()
    out, err = capsys.readouterr()
    assert "skbait: waiting for another skbait command" in err and "pool.csv" in err, err
    assert "merged 5 label(s)" in out
    assert all(_labels_in_data(folder)[r] == str(truth[r]) for r in rows)
    # Free at once: nothing said.
    assert main(["correct", "pool.csv", "--row", "3", "--retract"]) == 0
    assert "waiting" not in capsys.readouterr().err


def test_a_command_that_waited_too_long_says_what_held_it(tmp_path, monkeypatch, capsys):
    import skbait.campaign._journal as journal_module

    _prepared(tmp_path / "c")
    folder = tmp_path / "c"
    monkeypatch.chdir(folder)
    monkeypatch.setattr(journal_module, "LOCK_TIMEOUT", 0.3)
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    holder = _hold_lock("pool.csv", 2.0)
    capsys.readouterr()
    assert main(["teach", "pool.csv", "batch.csv"]) == 2
    holder.join()
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert lines[0].startswith("skbait: waiting for another skbait command"), err
    assert lines[-1].startswith("skbait: error: another skbait command has held"), err
    assert "Traceback" not in err
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before


# ---------------------------------------------------------------- re-saved files


def _pandas_with_index(path):
    pd.read_csv(path).to_csv(path)  # pandas' defaults: its index as a first column


def _r_write_csv(path):
    # R's write.csv: row names as a first column headed "", text and headers quoted.
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.index = range(1, len(frame) + 1)
    frame.to_csv(path, quoting=csv.QUOTE_NONNUMERIC, index_label="")


def _crlf(path):
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))


def _bom(path):
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())


def _trailing_empty_line(path):
    path.write_bytes(path.read_bytes() + b"\n")


def _columns_reordered(path):
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame[frame.columns[::-1]].to_csv(path, index=False)


RESAVES = [_pandas_with_index, _r_write_csv, _crlf, _bom, _trailing_empty_line, _columns_reordered]


@pytest.mark.parametrize("resave", RESAVES, ids=lambda f: f.__name__.strip("_"))
@pytest.mark.parametrize("which", ["answers", "data"])
def test_a_re_saved_file_is_read_as_the_same_labels(tmp_path, which, resave):
    """A batch filled in and re-saved by pandas, R or a spreadsheet, or DATA re-saved
    after the labels were merged: the same labels, never others, and nothing refused."""
    truth, rows = _prepared(tmp_path / "c")
    folder = tmp_path / "c"
    if which == "data":
        code, out, _ = _in_child(folder, _cli("teach", "pool.csv", "batch.csv"))
        assert code == 0, out
        resave(folder / "pool.csv")
        code, out, _ = _in_child(folder, _cli("teach", "pool.csv"))
        assert code == 0 and "recorded 0 label(s)" in out, out
    else:
        resave(folder / "batch.csv")
        code, out, _ = _in_child(folder, _cli("teach", "pool.csv", "batch.csv"))
        assert code == 0 and "merged 5 label(s)" in out, out
    expected = {row: str(truth[row]) for row in [*range(20), *rows]}
    assert _journal_labels(_journal(folder)) == expected
    # pandas writes the labels of a column with blanks as floats: 1 as 1.0.
    assert {r: str(int(float(v))) for r, v in _labels_in_data(folder).items()} == expected


@pytest.mark.parametrize("resave", RESAVES, ids=lambda f: f.__name__.strip("_"))
def test_the_pages_answer_file_re_saved_is_read_as_the_same_labels(tmp_path, resave):
    """The page's answer file opened and re-saved by pandas (its index as a column), R
    (row names) or with its columns moved was refused ("not the page's answer file ...
    move it away"), and the page would not start; a label appended to it then would have
    been read as another row's."""
    from skbait.label._journal import AnswerJournal

    path = tmp_path / "answers.csv"
    journal = AnswerJournal(str(path), "label")
    given = {21: "1", 35: "0", 40: "2", 7: "cat, dog"}
    for row, label in given.items():
        journal.append(row, label)
    resave(path)
    assert journal.read() == given
    journal.append(50, "2")
    journal.append(21, "0")
    assert journal.read() == {**given, 50: "2", 21: "0"}
    # Still an answer file skbait teach reads: the page's own layout, or the re-saved one.
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert {"row", "label"} <= set(frame.columns)


@pytest.mark.parametrize("cut", ["ne", ""])
def test_teach_refuses_the_pages_answer_file_cut_short_by_a_crash(tmp_path, cut, capsys):
    """The page died while appending "11,neg" to its answer file: "11,ne" stayed, without
    its line end. The page drops such a line, but ``skbait teach DATA ANSWERS`` by hand
    (as the page advises after a crash) merged it: row 11 labeled "ne", a new class."""
    from label_server import make_pool

    from skbait.label._session import LabelSession

    data, _ = make_pool(str(tmp_path), labeled=6)
    assert main(["query", data, "--target", "y", "-o", str(tmp_path / "b.csv")]) == 0
    answers = Path(LabelSession(data).answers_path)
    answers.write_text(f"row,y\n10,pos\n11,{cut}")
    before = _files(tmp_path)
    capsys.readouterr()
    assert main(["teach", data, str(answers)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("skbait: error: ") and "cut short" in err and f"'11,{cut}'" in err, err
    assert _files(tmp_path) == before
    # Whole again (the line removed): merged.
    answers.write_text("row,y\n10,pos\n")
    assert main(["teach", data, str(answers)]) == 0
    # Any other answer file may end without a line end (Notepad, VS Code): merged.
    (tmp_path / "typed.csv").write_text("row,y\n12,neg")
    assert main(["teach", data, str(tmp_path / "typed.csv")]) == 0
    labels = _journal_labels(read_campaign(campaign_path(data)))
    assert labels[10] == "pos" and labels[12] == "neg" and 11 not in labels
