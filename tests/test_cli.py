"""The `skbait` command: tiny runs in-process and through `python -m skbait`, and errors."""

import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_diabetes

from skbait._cli import _build_parser, main
from skbait.evaluation import load_results, save_results
from skbait.strategies import available_strategies, register_strategy
from skbait.strategies._registry import _FACTORIES

ROOT = Path(__file__).resolve().parents[1]
TINY = [
    "--seeds",
    "2",
    "--budget",
    "30",
    "--batch-size",
    "10",
    "--n-initial",
    "10",
    "-q",
    "-j",
    "1",
]
FIGURES = ["learning_curves.png", "penalty_matrix.png", "selection_time.png"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("run")
    status = main(["run", "--strategies", "random,confidence", *TINY, "-o", str(out)])
    return status, out


def test_run_in_process_writes_everything(tiny_run):
    status, out = tiny_run
    assert status == 0
    for name in ["results.csv", "summary.md", "run.json", *FIGURES]:
        path = out / name
        assert path.exists() and path.stat().st_size > 0, name
    for name in FIGURES:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    results = load_results(out / "results.csv")
    assert list(pd.unique(results["strategy"])) == ["random", "confidence"]
    assert sorted(results["seed"].unique()) == [0, 1]
    assert sorted(results["n_labeled"].unique()) == [10, 20, 30]
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "| strategy | 20 | 30 | AUC |" in summary
    assert "| random |" in summary and " ± " in summary
    assert "seconds per batch" in summary
    assert "Pairwise penalty matrix" in summary


def test_report_redraws_from_csv(tiny_run, tmp_path, capsys):
    _, out = tiny_run
    status = main(["report", str(out / "results.csv"), "-o", str(tmp_path)])
    assert status == 0
    for name in ["summary.md", *FIGURES]:
        assert (tmp_path / name).stat().st_size > 0
    assert "random" in capsys.readouterr().out


def test_python_dash_m_skbait(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "skbait",
            "run",
            "--strategies",
            "random,margin",
            *TINY,
            "--estimator",
            "ridge",
            "-o",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "results.csv").stat().st_size > 0
    assert (tmp_path / "summary.md").stat().st_size > 0
    assert "margin" in done.stdout
    version = subprocess.run(
        [sys.executable, "-m", "skbait", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert version.returncode == 0 and version.stdout.startswith("skbait ")


def test_strategies_command(capsys):
    assert main(["strategies"]) == 0
    names = capsys.readouterr().out.split()
    assert "random" in names and "confidence" in names


def test_csv_dataset_classification_and_regression(tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 120
    frame = pd.DataFrame(
        {
            "a": rng.standard_normal(n),
            "b": rng.standard_normal(n),
            "colour": rng.choice(["red", "blue"], n),
        }
    )
    frame["label"] = np.where(frame["a"] + (frame["colour"] == "red") > 0.5, "yes", "no")
    frame["amount"] = 2.0 * frame["a"] - frame["b"] + 0.1 * rng.standard_normal(n)
    frame.loc[3, "b"] = np.nan  # dropped with a note
    path = tmp_path / "data.csv"
    frame.drop(columns="amount").to_csv(path, index=False)
    out = tmp_path / "cls"
    status = main(
        [
            "run",
            "--dataset",
            str(path),
            "--target",
            "label",
            "--strategies",
            "random,margin",
            "--budget",
            "20",
            "--seeds",
            "2",
            "-q",
            "-j",
            "1",
            "-o",
            str(out),
        ]
    )
    assert status == 0
    assert "dropped 1 row" in capsys.readouterr().err
    assert load_results(out / "results.csv")["n_labeled"].max() == 20

    frame.drop(columns="label").to_csv(path, index=False)
    out = tmp_path / "reg"
    status = main(
        [
            "run",
            "--dataset",
            str(path),
            "--target",
            "amount",
            "--strategies",
            "coreset,random",
            "--budget",
            "20",
            "--seeds",
            "2",
            "-q",
            "-j",
            "1",
            "-o",
            str(out),
        ]
    )
    assert status == 0
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "R^2" in summary and "ridge" in summary


def _error(args, capsys):
    status = main(args)
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--dataset", "mnist"], "unknown dataset 'mnist'"),
        (["run", "--dataset", "no/such/file.csv", "--target", "y"], "no such CSV file"),
        (["run", "--estimator", "forest"], "unknown classification estimator 'forest'"),
        (["run", "--strategies", "random,psychic"], "unknown strategy 'psychic'"),
        (["run", "--strategies", "random,random"], "twice"),
        (["run", "--strategies", "random", "--budget", "5000"], "exceeds the pool"),
        (["run", "--strategies", "random", "--budget", "10"], "must exceed --n-initial"),
        (["run", "--strategies", "random", "--device", "tpu"], "unknown --device 'tpu'"),
        pytest.param(
            ["run", "--strategies", "random", "--device", "cuda"],
            "--device cuda was asked for, but CUDA is not available here: use --device auto",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available"),
        ),
        (["run", "--target", "y"], "--target applies to CSV datasets only"),
        (["report", "no_such_results.csv"], "no such results file"),
    ],
)
def test_bad_options_give_one_line_errors(args, message, capsys):
    err = _error(args, capsys)
    assert err.startswith("skbait: error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args",
    [
        [],  # no subcommand
        ["fly"],
        ["run", "--seeds", "0"],
        ["run", "--seeds", "two"],
        ["run", "--batch-size", "-3"],
        ["run", "--test-size", "1.5"],
        ["run", "--n-jobs", "0"],
        ["run", "--task", "ranking"],
    ],
)
def test_argparse_errors_exit_2(args, capsys):
    err = _error(args, capsys)
    assert "skbait" in err and "error:" in err


def test_csv_errors(tmp_path, capsys):
    path = tmp_path / "d.csv"
    pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [0.5, 1.5, 2.5, 3.5]}).to_csv(path, index=False)
    assert "needs --target" in _error(["run", "--dataset", str(path)], capsys)
    assert "no column 'z'" in _error(["run", "--dataset", str(path), "--target", "z"], capsys)
    # A continuous target is a regression: logistic and badge do not apply.
    err = _error(
        ["run", "--dataset", str(path), "--target", "y", "--estimator", "logistic"], capsys
    )
    assert "unknown regression estimator 'logistic'" in err
    err = _error(
        ["run", "--dataset", str(path), "--target", "y", "--strategies", "confidence,random"],
        capsys,
    )
    assert "cannot serve a regression target" in err
    # Every strategy that serves a regressor is offered, log-det included.
    assert all(f"'{name}'" in err for name in ("bait", "coreset", "logdet", "logdet_rank1"))


def test_csv_without_a_complete_row(tmp_path, capsys):
    # An empty notes column drops every row: say so, and which column, not "n_samples=0".
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"x": rng.standard_normal(40), "notes": np.nan})
    frame["y"] = np.where(frame["x"] > 0, "a", "b")
    path = tmp_path / "notes.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    err = _error(["run", "-d", str(path), "--target", "y", "-o", str(out)], capsys)
    assert "every row" in err and "'notes'" in err and "n_samples" not in err
    assert len([line for line in err.splitlines() if "error" in line]) == 1
    path.write_text("x,y\n", encoding="utf-8")  # a header and no row
    err = _error(["run", "-d", str(path), "--target", "y", "-o", str(out)], capsys)
    assert "has no row" in err and "--task regression" not in err
    assert not out.exists()


def test_failed_split_names_what_to_change(tmp_path, capsys):
    # A text class with a single row: drop it; "--task regression" cannot apply to text.
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"x": rng.standard_normal(60)})
    frame["y"] = np.where(frame["x"] > 0, "yes", "no")
    frame.loc[7, "y"] = "maybe"
    path = tmp_path / "rare.csv"
    frame.to_csv(path, index=False)
    err = _error(["run", "-d", str(path), "--target", "y", "-s", "random"], capsys)
    assert "'maybe' has one row" in err and "two rows of each class" in err
    assert "--task regression" not in err
    # A held-out set too small for one row of each class: the fix is --test-size.
    err = _error(["run", "-s", "random", "--test-size", "0.001"], capsys)
    assert "larger --test-size" in err and "--task regression" not in err


def test_csv_from_a_spreadsheet_with_semicolons_and_decimal_commas(tmp_path, capsys):
    # A European spreadsheet's export: ';' between fields, decimal commas, a BOM and
    # CRLF line ends; read as the campaign commands read it, not as one column.
    rng = np.random.default_rng(5)
    x, z = rng.standard_normal(80), rng.standard_normal(80)
    lines = ["x;z;colour;amount"]
    for a, b in zip(x, z):
        colour = "red" if a > 0 else "blue"
        lines.append(f"{a:.4f};{b:.4f};{colour};{2 * a - b:.3f}".replace(".", ","))
    path = tmp_path / "export.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
    out = tmp_path / "out"
    argv = ["run", "-d", str(path), "--target", "amount", "-s", "random,coreset"]
    assert main([*argv, "--budget", "20", "--seeds", "2", "-q", "-j", "1", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    # Two numeric features and the colour's two columns; the amount read as numbers.
    assert "4 features, regression on amount" in err


def test_csv_in_windows_1252_is_read_as_the_campaign_reads_it(tmp_path, capsys):
    # Excel's "CSV (semicolon)" on Windows writes Windows-1252 ("é" is the byte 0xe9): read
    # as the campaign commands read it, where it was a decoding error; a byte that is not
    # Windows-1252 either is refused, naming it.
    rng = np.random.default_rng(5)
    x = rng.standard_normal(60)
    frame = pd.DataFrame({"x": x, "note": "café", "label": np.where(x > 0, "élevé", "bas")})
    path = tmp_path / "export.csv"
    frame.to_csv(path, sep=";", index=False, encoding="cp1252", lineterminator="\r\n")
    out = tmp_path / "out"
    argv = ["run", "-d", str(path), "--target", "label", "-s", "random", *TINY]
    assert main([*argv, "-q", "-j", "1", "-o", str(out)]) == 0
    assert "2 features, 2 classes" in capsys.readouterr().err
    path.write_bytes(path.read_bytes().replace(b"caf\xe9", b"caf\x81", 1))
    err = _error([*argv, "-o", str(tmp_path / "again")], capsys)
    assert "byte 0x81" in err and "'CSV UTF-8'" in err and len(err.strip().splitlines()) == 1


def test_infinite_target_value_is_named(tmp_path, capsys):
    # The features were checked for inf, the target was not: the run ended on a traceback.
    rng = np.random.default_rng(6)
    frame = pd.DataFrame({"x": rng.standard_normal(40), "y": rng.standard_normal(40)})
    frame.loc[4, "y"] = np.inf
    path = tmp_path / "inf.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    err = _error(
        ["run", "-d", str(path), "--target", "y", "-s", "random", *TINY, "-o", str(out)], capsys
    )
    assert "infinite" in err and "line 6" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize("value, task", [("spam", "auto"), (3.5, "regression"), (1, "auto")])
def test_a_target_of_one_value_is_refused(tmp_path, capsys, value, task):
    # One class in every row ran to the end: warnings, and an accuracy of 1 for all.
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"x": rng.standard_normal(40), "label": value})
    path = tmp_path / "one.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    argv = ["run", "-d", str(path), "--target", "label", "--task", task, "-s", "random"]
    err = _error([*argv, "--budget", "8", "--n-initial", "4", "-o", str(out)], capsys)
    assert f"holds one value ({value!r}) in all 40 rows" in err and "--target" in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()


def test_a_target_named_twice_in_the_header_is_refused(tmp_path, capsys):
    # pandas reads "x,y,y" as x, y, y.1: the copy of the labels became a feature, and
    # every strategy scored a perfect accuracy from it.
    rng = np.random.default_rng(8)
    x = rng.standard_normal(40)
    rows = [f"{a:.3f},{'p' if a > 0 else 'q'},{'p' if a > 0 else 'q'}" for a in x]
    path = tmp_path / "twice.csv"
    path.write_text("x,y,y\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = ["run", "-d", str(path), "--target", "y", "-s", "random", "--budget", "8", "-b", "4"]
    err = _error([*argv, "--n-initial", "4", "-o", str(out)], capsys)
    assert "'y' twice (columns 2 and 3)" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    # Two feature columns of one name are two features, as the campaign commands read them.
    path.write_text("x,x,y\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert main([*argv, "--n-initial", "4", "-q", "-j", "1", "-o", str(out)]) == 0


def test_help_exits_0(capsys):
    assert main(["run", "--help"]) == 0
    out = capsys.readouterr().out
    for option in [
        "--dataset",
        "--target",
        "--estimator",
        "--strategies",
        "--seeds",
        "--batch-size",
        "--budget",
        "--n-initial",
        "--device",
        "--output",
        "--n-jobs",
    ]:
        assert option in out
    # It says when the penalty matrix it promises is drawn: not with one seed or no random.
    assert "penalty_matrix.png (with 2 seeds or more and random among the strategies)" in " ".join(
        out.split()
    )


def test_run_without_matplotlib(monkeypatch, tmp_path, capsys):
    # Every matplotlib module hidden: an earlier test's import of matplotlib.figure
    # would otherwise still be found, as it never is where matplotlib is missing.
    for name in [m for m in sys.modules if m.split(".")[0] == "matplotlib"]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.delitem(sys.modules, "skbait.plotting", raising=False)
    status = main(["run", "--strategies", "random,margin", *TINY, "-o", str(tmp_path)])
    assert status == 0
    assert "skbait[plotting]" in capsys.readouterr().err
    assert (tmp_path / "results.csv").exists() and (tmp_path / "summary.md").exists()
    assert not list(tmp_path.glob("*.png"))


def test_default_run_settings():
    from skbait._cli import _build_parser
    from skbait._presets import _make_strategies

    args = _build_parser().parse_args(["run"])
    assert (args.dataset, args.estimator, args.strategies) == ("digits", None, None)
    assert (args.seeds, args.batch_size, args.n_initial) == (5, 10, 10)
    assert args.output == "skbait_results" and args.n_jobs == -1
    assert args.budget == 200
    strategies = _make_strategies(None, "classification", "cpu")
    assert list(strategies) == ["bait", "badge", "coreset", "confidence", "random"]
    # The device reaches the strategies that compute with torch.
    assert strategies["bait"].device == "cpu"
    assert list(_make_strategies(None, "regression", "auto")) == ["bait", "coreset", "random"]


def _reproduce_line(summary):
    lines = [line for line in summary.splitlines() if line.startswith("Reproduce: `")]
    assert len(lines) == 1, summary
    return lines[0][len("Reproduce: `") : -1]


def test_reproduce_line_repeats_every_option(tmp_path):
    # An output path with a space and a quote: the command must survive the shell.
    out = tmp_path / "it's a run"
    argv = ["run", "--strategies", "random,margin", "--test-size", "0.4", "--device", "cpu"]
    argv += ["--task", "classification", *TINY, "-o", str(out)]
    assert main(argv) == 0
    command = _reproduce_line((out / "summary.md").read_text(encoding="utf-8"))
    words = shlex.split(command)
    assert words[:2] == ["skbait", "run"]
    again = _build_parser().parse_args(words[1:])
    assert vars(again) == vars(_build_parser().parse_args(argv))
    for option in ("--task", "--test-size", "--device", "--output", "--n-jobs", "--quiet"):
        assert option in words


def test_reproduce_line_records_the_detected_task(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "amounts.csv"
    frame = pd.DataFrame({"a": rng.standard_normal(60), "b": rng.standard_normal(60)})
    frame["y"] = np.round(50 * frame["a"] + 100)  # whole numbers: 151.0, 75.0, ...
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    argv = ["run", "-d", str(path), "--target", "y", "-s", "random", "--budget", "20"]
    assert main([*argv, "--seeds", "2", "-q", "-j", "1", "-o", str(out)]) == 0
    words = shlex.split(_reproduce_line((out / "summary.md").read_text(encoding="utf-8")))
    assert words[words.index("--task") + 1] == "regression"


def test_whole_number_target_is_a_regression(tmp_path, capsys):
    # scikit-learn's diabetes target: floats that are whole numbers, 214 distinct values.
    X, y = load_diabetes(return_X_y=True)
    path = tmp_path / "diabetes.csv"
    pd.DataFrame(X[:, :3], columns=["age", "sex", "bmi"]).assign(progression=y).to_csv(
        path, index=False
    )
    out = tmp_path / "out"
    argv = ["run", "-d", str(path), "--target", "progression", "-s", "random,coreset"]
    status = main([*argv, "--budget", "30", "--seeds", "2", "-q", "-j", "1", "-o", str(out)])
    err = capsys.readouterr().err
    assert status == 0, err
    assert "taken as a regression target" in err and "--task classification" in err
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "regression on progression" in summary and "R^2" in summary
    # Forced to be classes, the split fails on classes of one row: a short message that
    # names the way out, not hundreds of class labels.
    err = _error([*argv, "--task", "classification", "-o", str(out)], capsys)
    assert "--task regression" in err
    assert len(err) < 300, err


def test_few_whole_numbers_stay_classes(tmp_path, capsys):
    rng = np.random.default_rng(2)
    path = tmp_path / "grades.csv"
    frame = pd.DataFrame({"a": rng.standard_normal(80), "b": rng.standard_normal(80)})
    frame["grade"] = np.where(frame["a"] > 0, 2.0, 1.0)  # floats, two classes
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    argv = ["run", "-d", str(path), "--target", "grade", "-s", "random,margin"]
    assert main([*argv, "--budget", "20", "--seeds", "2", "-q", "-j", "1", "-o", str(out)]) == 0
    assert "2 classes" in (out / "summary.md").read_text(encoding="utf-8")
    assert "regression" not in capsys.readouterr().err


def test_whole_number_ratings_are_classes_and_the_user_is_told(tmp_path, capsys):
    # Ratings 1 to 10 read exactly as class codes do: auto keeps them as classes, and a
    # note says so and names the option that makes them a regression.
    rng = np.random.default_rng(3)
    path = tmp_path / "ratings.csv"
    frame = pd.DataFrame({"a": rng.standard_normal(120), "b": rng.standard_normal(120)})
    frame["rating"] = np.clip(np.round(5.5 + 2 * frame["a"]), 1, 10).astype(int)
    frame.to_csv(path, index=False)
    low, high = frame["rating"].min(), frame["rating"].max()
    out = tmp_path / "out"
    argv = ["run", "-d", str(path), "--target", "rating", "-s", "random", "--budget", "20"]
    common = ["--seeds", "1", "-q", "-j", "1"]
    assert main([*argv, *common, "-o", str(out)]) == 0
    err = capsys.readouterr().err
    n_values = frame["rating"].nunique()
    assert f"{n_values} distinct whole numbers ({low} to {high})" in err, err
    assert "taken as classes" in err and "--task regression" in err
    assert f"{n_values} classes" in (out / "summary.md").read_text(encoding="utf-8")
    # Exactly 0 to k - 1 are a label encoder's class codes: classes, no note.
    codes = frame["rating"].rank(method="dense").astype(int) - 1
    frame.assign(rating=codes).to_csv(path, index=False)
    assert main([*argv, *common, "-o", str(tmp_path / "codes")]) == 0
    assert "note" not in capsys.readouterr().err
    # Either choice, given, silences the note; regression makes them numbers.
    for task, shape in (("regression", "regression on rating"), ("classification", "classes")):
        folder = tmp_path / task
        assert main([*argv, *common, "--task", task, "-o", str(folder)]) == 0
        assert "note" not in capsys.readouterr().err
        assert shape in (folder / "summary.md").read_text(encoding="utf-8")


def test_report_keeps_the_run_details(tiny_run, tmp_path):
    _, out = tiny_run
    before = (out / "summary.md").read_text(encoding="utf-8")
    info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert info["command"].startswith("skbait run ")
    # Redrawn in place (summary.md is overwritten) and elsewhere: the details stay.
    for target in ([], ["-o", str(tmp_path)]):
        assert main(["report", str(out / "results.csv"), *target]) == 0
        folder = tmp_path if target else out
        after = (folder / "summary.md").read_text(encoding="utf-8")
        for line in before.splitlines():
            if line.startswith("- **") and not line.startswith("- **wall time"):
                assert line in after
        assert _reproduce_line(after) == _reproduce_line(before)
        assert "- **wall time**" in after


def test_one_seed_says_seed_not_seeds(tmp_path):
    out = tmp_path / "one"
    argv = ["run", "--strategies", "random", "--seeds", "1", "--budget", "20", "-q", "-j", "1"]
    assert main([*argv, "-o", str(out)]) == 0
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "(mean over 1 seed)" in summary
    assert "1 seeds" not in summary


def test_strategies_command_documents_every_name(capsys):
    assert main(["strategies"]) == 0
    lines = capsys.readouterr().out.splitlines()
    by_name = {line.split()[0]: line for line in lines}
    assert sorted(by_name) == available_strategies()
    # `uncertainty` says what it is: least-confident sampling, like `confidence`.
    assert "UncertaintySampling()" in by_name["uncertainty"]
    assert "the same as 'confidence'" in by_name["uncertainty"]
    assert "measure='margin'" in by_name["margin"]
    assert main(["run", "--help"]) == 0
    assert "'uncertainty' is least-confident sampling" in " ".join(capsys.readouterr().out.split())


def test_strategies_command_survives_a_broken_factory(capsys):
    def broken():
        raise RuntimeError("no GPU here")

    register_strategy("test_broken_factory", broken)
    try:
        assert main(["strategies"]) == 0
    finally:
        _FACTORIES.pop("test_broken_factory")
    out = capsys.readouterr().out
    assert "test_broken_factory" in out and "RuntimeError: no GPU here" in out
    assert "random" in out.split()


def test_report_on_a_table_without_timings(tmp_path, capsys):
    # save_results needs strategy, seed, n_labeled and score: so does the report.
    rows = [("random", s, n, 0.5 + n / 100 + s / 50) for s in range(2) for n in (10, 20, 30)]
    table = pd.DataFrame(rows, columns=["strategy", "seed", "n_labeled", "score"])
    save_results(table, tmp_path / "results.csv")
    assert main(["report", str(tmp_path / "results.csv")]) == 0
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "| random |" in summary and "Selection time" not in summary
    assert not (tmp_path / "selection_time.png").exists()


def test_report_with_a_foreign_run_json_is_a_usage_error(tiny_run, tmp_path, capsys):
    _, out = tiny_run
    folder = tmp_path / "copy"
    folder.mkdir()
    (folder / "results.csv").write_bytes((out / "results.csv").read_bytes())
    (folder / "run.json").write_text("[1, 2]", encoding="utf-8")
    err = _error(["report", str(folder / "results.csv")], capsys)
    assert "is not a run description written by skbait" in err
    assert len(err.strip().splitlines()) == 1


def test_unusable_output_folder_is_a_usage_error(tiny_run, tmp_path, capsys):
    # A file where the folder should be, or above it: one line, before any run.
    taken = tmp_path / "taken"
    taken.write_text("not a folder", encoding="utf-8")
    argv = ["run", "--strategies", "random", *TINY]
    for output in (taken, taken / "sub"):
        err = _error([*argv, "-o", str(output)], capsys)
        assert "is a file" in err and len(err.strip().splitlines()) == 1
        _, out = tiny_run
        err = _error(["report", str(out / "results.csv"), "-o", str(output)], capsys)
        assert "is a file" in err and len(err.strip().splitlines()) == 1
    assert taken.read_text(encoding="utf-8") == "not a folder"


def test_output_folder_without_write_permission(tmp_path, monkeypatch, capsys):
    import os

    # As root every folder is writable: the permission is what os.access says.
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    err = _error(["run", "--strategies", "random", *TINY, "-o", str(tmp_path / "out")], capsys)
    assert "permission denied" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_output_folder_that_cannot_be_made(tmp_path, capsys):
    # /proc takes no new folder, even for root, whom os.access lets write anywhere: the
    # run went to the end and failed on os.makedirs with a traceback, its work lost.
    output = "/proc/skbait_no_such_output"
    err = _error(["run", "--strategies", "random", *TINY, "-o", output], capsys)
    assert "cannot make the output folder" in err and "'/proc'" in err
    assert len(err.strip().splitlines()) == 1
    assert "skbait: digits" not in err  # refused before the run


def test_failed_or_interrupted_run_creates_no_folder(tmp_path, monkeypatch, capsys):
    import skbait.evaluation

    argv = ["run", "--strategies", "random", *TINY]

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(skbait.evaluation, "compare_strategies", interrupted)
    assert main([*argv, "-o", str(tmp_path / "interrupted")]) == 130
    assert not (tmp_path / "interrupted").exists()

    def refused(*args, **kwargs):
        raise ValueError("the strategy refused the pool")

    monkeypatch.setattr(skbait.evaluation, "compare_strategies", refused)
    assert "refused the pool" in _error([*argv, "-o", str(tmp_path / "failed")], capsys)
    assert not (tmp_path / "failed").exists()


def test_every_option_of_every_command_has_a_help_text():
    """``skbait COMMAND --help`` explains each option it lists."""
    import argparse

    from skbait._cli import _build_parser

    commands = next(
        a for a in _build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    silent = [
        f"{name} {action.option_strings[-1]}"
        for name, parser in commands.choices.items()
        for action in parser._actions
        if action.option_strings and not action.help
    ]
    assert silent == []


def test_no_option_help_gives_two_parentheses_in_a_row():
    """``(first: |) (as the first query set it; ...)`` read as two rules for one value;
    each option's help says what it needs in one remark."""
    import argparse
    import re

    from skbait._cli import _build_parser

    commands = next(
        a for a in _build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    doubled = [
        f"{name} {action.option_strings[-1]}: {action.help}"
        for name, parser in commands.choices.items()
        for action in parser._actions
        if action.help and re.search(r"\)\s*\(", action.help)
    ]
    assert doubled == []


def test_a_write_that_fails_is_one_line_and_leaves_no_folder(tmp_path, monkeypatch, capsys):
    import errno

    import skbait.evaluation

    argv = ["run", "--strategies", "random", *TINY]
    # A folder where results.csv goes: refused before the run, not by save_results after it.
    taken = tmp_path / "taken"
    (taken / "results.csv").mkdir(parents=True)
    err = _error([*argv, "-o", str(taken)], capsys)
    assert "results.csv" in err and "is a folder" in err and "skbait: digits" not in err
    assert len(err.strip().splitlines()) == 1

    # A write that fails after the run (a full disk): one line, and the folder the command
    # made for it removed; a folder that was there before stays.
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(skbait.evaluation, "write_report", full)
    err = _error([*argv, "-o", str(tmp_path / "new")], capsys).strip().splitlines()
    assert err[0].startswith("skbait: digits") and len(err) == 2  # the run's line, then the error
    assert err[1].startswith("skbait: error: ") and "No space left on device" in err[1]
    assert not (tmp_path / "new").exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "notes.txt").write_text("mine", encoding="utf-8")
    assert "No space left on device" in _error([*argv, "-o", str(kept)], capsys)
    assert (kept / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_a_batch_larger_than_the_labels_to_query_is_refused(tmp_path, capsys):
    # -b 500 with 20 labels to query ran one batch of 20; summary.md said "batches of 500".
    out = tmp_path / "out"
    argv = ["run", "-s", "random", "--seeds", "1", "--n-initial", "10", "--budget", "30"]
    err = _error([*argv, "-b", "500", "-o", str(out)], capsys)
    assert "--batch-size (500) exceeds the 20 labels" in err and "--batch-size 20" in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()
    # A budget that is no multiple of the batch: the summary says what the last one was.
    assert main([*argv, "-b", "15", "-q", "-j", "1", "-o", str(out)]) == 0
    assert sorted(load_results(out / "results.csv")["n_labeled"].unique()) == [10, 25, 30]
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "batches of 15 (the last of 5)" in summary


@pytest.mark.parametrize("n_jobs", ["1", "2"])
def test_warnings_of_the_runs_read_as_skbaits_once_each(tmp_path, capsys, n_jobs):
    # A single class in an initial draw: the warning came attributed to a line of
    # joblib/parallel.py, and from each worker process in turn.
    import warnings

    rng = np.random.default_rng(9)
    frame = pd.DataFrame({"x": rng.standard_normal(20), "y": ["p"] * 4 + ["q"] * 16})
    path = tmp_path / "skew.csv"
    frame.to_csv(path, index=False)
    argv = ["run", "-d", str(path), "--target", "y", "-s", "random,margin", "--seeds", "3"]
    argv += ["--n-initial", "4", "--budget", "8", "-b", "2", "-q", "-j", n_jobs]
    filters = warnings.filters[:]
    assert main([*argv, "-o", str(tmp_path / "out")]) == 0
    assert warnings.filters == filters
    err = capsys.readouterr().err
    assert "joblib" not in err and "Traceback" not in err
    single = "skbait: warning: The 4 labeled rows hold a single class ('q')"
    assert err.count(single) == 1, err
    # The user's filters still decide: ignored, none is shown.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main([*argv, "-o", str(tmp_path / "quiet")]) == 0
    assert "warning" not in capsys.readouterr().err


def test_a_text_column_of_a_different_value_in_every_row_gets_a_note(tmp_path, capsys):
    # Dates or IDs: one-hot encoded into one feature per row, which said nothing.
    rng = np.random.default_rng(10)
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=40).strftime("%Y-%m-%d"),
            "x": rng.standard_normal(40),
            "colour": rng.choice(["red", "blue"], 40),
        }
    )
    frame["y"] = np.where(frame["x"] > 0, "p", "q")
    path = tmp_path / "dates.csv"
    frame.to_csv(path, index=False)
    argv = ["run", "-d", str(path), "--target", "y", "-s", "random", "--budget", "8", "-b", "4"]
    assert main([*argv, "--n-initial", "4", "-q", "-j", "1", "-o", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    notes = [line for line in err.splitlines() if line.startswith("skbait: note:")]
    assert len(notes) == 1 and "'date'" in notes[0] and "colour" not in notes[0], notes
    assert "a different value in each of the 40 rows" in notes[0] and "remove it" in notes[0]
    assert "43 features" in err  # 40 dates, x, and the colour's two columns


def test_a_column_numbering_the_rows_gets_a_note_and_notes_never_precede_an_error(
    tmp_path, capsys
):
    # A saved pandas index (a blank header cell, 0..n-1) or an ID column was a feature
    # without a word; in a file sorted by label it gives the labels away.
    rng = np.random.default_rng(12)
    frame = pd.DataFrame({"x": rng.standard_normal(40), "colour": rng.choice(["a", "b"], 40)})
    frame["y"] = np.where(frame["x"] > 0, "p", "q")
    frame = frame.sort_values("y").reset_index(drop=True)
    frame.loc[5, "colour"] = np.nan  # a row dropped, with its note
    path = tmp_path / "indexed.csv"
    frame.to_csv(path)  # the index, under a blank header cell
    argv = ["run", "-d", str(path), "--target", "y", "-s", "random", "--budget", "8", "-b", "4"]
    assert main([*argv, "--n-initial", "4", "-q", "-j", "1", "-o", str(tmp_path / "o")]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if "note:" in line]
    assert len(notes) == 2 and "dropped 1 row(s)" in notes[0], notes
    assert "'Unnamed: 0'" in notes[1] and "numbering the rows" in notes[1]
    assert "'x'" not in notes[1] and "remove it" in notes[1]
    # The same file with an impossible setting: the error alone, on one line.
    err = _error([*argv, "--n-initial", "10", "-o", str(tmp_path / "o2")], capsys)
    assert err.strip().splitlines() == [err.strip()] and "must exceed --n-initial" in err


def test_true_false_columns_with_a_blank_cell_are_booleans(tmp_path, capsys):
    # pandas reads True/False beside a blank cell as objects, which stayed objects once
    # the row was dropped: the target was refused as "of type 'unknown'", and a feature
    # became two one-hot columns.
    rng = np.random.default_rng(13)
    frame = pd.DataFrame({"x": rng.standard_normal(40), "flag": rng.random(40) > 0.5})
    frame["y"] = frame["x"] > 0
    frame = frame.astype(object)
    frame.loc[3, "y"] = np.nan
    frame.loc[8, "flag"] = np.nan
    path = tmp_path / "flags.csv"
    frame.to_csv(path, index=False)
    argv = ["run", "-d", str(path), "--target", "y", "-s", "random", "--budget", "8", "-b", "4"]
    assert main([*argv, "--n-initial", "4", "-q", "-j", "1", "-o", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "dropped 2 row(s)" in err and "2 features, 2 classes" in err, err
    results = pd.read_csv(tmp_path / "o" / "results.csv")
    assert len(results) and np.isfinite(results["score"]).all()


def test_whole_number_classes_with_a_blank_cell_stay_whole_numbers(tmp_path, capsys):
    # pandas reads whole numbers beside a blank cell as floats: the classes were 1.0, 2.0
    # and 3.0, and messages named a class the file never wrote.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.standard_normal(40), "z": rng.standard_normal(40)})
    frame["y"] = (frame["x"] > 0).astype(int) + 1
    frame.loc[5, "y"] = 3
    frame["y"] = frame["y"].astype(object)
    frame.loc[3, "y"] = np.nan
    path = tmp_path / "classes.csv"
    frame.to_csv(path, index=False)
    argv = ["run", "-d", str(path), "--target", "y", "-s", "random", "--budget", "8", "-b", "4"]
    assert main([*argv, "--n-initial", "4", "-q", "-j", "1", "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "and 3 has one row" in err and "3.0" not in err, err


def test_a_column_of_numbers_with_stray_text_is_refused_naming_its_cells(tmp_path, capsys):
    # "?" marking a missing value made the column text: each number became a one-hot
    # feature of its own (the best feature lost, without a word), and in the target a
    # class of its own ("the least populated classes have only 1 member").
    rng = np.random.default_rng(11)
    frame = pd.DataFrame({"x": rng.standard_normal(40).round(3), "colour": "red"})
    frame["y"] = np.where(frame["x"] > 0, "p", "q")
    frame["amount"] = (2 * frame["x"]).round(3)
    stray = frame.astype({"x": object})
    stray.loc[[2, 9], "x"] = "?"
    path = tmp_path / "stray.csv"
    stray.drop(columns="amount").to_csv(path, index=False)
    out = tmp_path / "out"
    err = _error(["run", "-d", str(path), "--target", "y", "-o", str(out)], capsys)
    assert "column 'x'" in err and "'?' on line(s) 4, 11" in err and "blank" in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()
    target = frame.astype({"amount": object})
    target.loc[5, "amount"] = "n.a"
    target.drop(columns="y").to_csv(path, index=False)
    err = _error(["run", "-d", str(path), "--target", "amount", "-o", str(out)], capsys)
    assert "column 'amount'" in err and "'n.a' on line(s) 7" in err
    assert "least populated" not in err and not out.exists()


@pytest.mark.parametrize("n_jobs", ["1", "2"])
def test_warnings_gathered_before_a_failing_run_come_before_its_error(tmp_path, capsys, n_jobs):
    # The warning that explains a failure was lost with it: only the error line came.
    import warnings

    from skbait.strategies import RandomSampling

    class WarnsThenFails(RandomSampling):
        def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
            warnings.warn("the pool looks odd to this strategy", UserWarning, stacklevel=2)
            raise ValueError("the strategy gave up")

    register_strategy("test_warns_then_fails", WarnsThenFails)
    try:
        argv = ["run", "-s", "test_warns_then_fails", *TINY[:-2], "-j", n_jobs]
        err = _error([*argv, "-o", str(tmp_path / "out")], capsys)
    finally:
        _FACTORIES.pop("test_warns_then_fails")
    lines = err.strip().splitlines()
    warned = [i for i, line in enumerate(lines) if "the pool looks odd" in line]
    assert len(warned) == 1 and lines[warned[0]].startswith("skbait: warning: "), err
    errors = [i for i, line in enumerate(lines) if line.startswith("skbait: error: ")]
    assert len(errors) == 1 and warned[0] < errors[0] == len(lines) - 1, err
    assert "the strategy gave up" in lines[-1]
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------ writes that fail


def _files(folder):
    """Every file under ``folder``: its bytes and modification time."""
    return {
        str(path.relative_to(folder)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(Path(folder).rglob("*"))
        if path.is_file()
    }


def _one_error(args, capsys):
    err = _error(args, capsys)
    lines = [line for line in err.splitlines() if line.startswith("skbait: error:")]
    assert len(lines) == 1 and err.strip().splitlines()[-1] == lines[0], err
    return lines[0]


def _refuse_new_files_in(monkeypatch, folder):
    """Refuse, as a read-only folder does (root included), any file opened to write in it."""
    import builtins
    import errno
    import os

    folder = os.path.abspath(folder)
    inside = lambda path: os.path.abspath(os.fspath(path)).startswith(folder + os.sep)  # noqa: E731
    real_open, real_os_open = builtins.open, os.open

    def refused(path):
        raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))

    def fake_open(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and inside(file) and set(mode) & set("wax+"):
            refused(file)
        return real_open(file, mode, *args, **kwargs)

    def fake_os_open(path, flags, *args, **kwargs):
        if inside(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            refused(path)
        return real_os_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(os, "open", fake_os_open)


@pytest.fixture
def reported(tiny_run, tmp_path):
    """A folder with a run's results.csv and run.json and a report drawn from them."""
    _, out = tiny_run
    folder = tmp_path / "reported"
    folder.mkdir()
    for name in ("results.csv", "run.json"):
        (folder / name).write_bytes((out / name).read_bytes())
    assert main(["report", str(folder / "results.csv")]) == 0
    return folder


@pytest.mark.parametrize("failing", ["learning_curves.png", "selection_time.png", "summary.md"])
def test_report_that_fails_to_write_changes_nothing(reported, monkeypatch, capsys, failing):
    # A full disk halfway through: a traceback, and a report half old and half new.
    import builtins
    import errno

    capsys.readouterr()
    before = _files(reported)
    real_open = builtins.open

    class FullDisk:
        def __init__(self, handle):
            self.handle = handle

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            self.handle.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

    def full_open(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        name = Path(os.fspath(file)).name if isinstance(file, (str, os.PathLike)) else ""
        if "w" in mode and name.lstrip(".").startswith(failing):
            return FullDisk(handle)
        return handle

    import os

    monkeypatch.setattr(builtins, "open", full_open)
    line = _one_error(["report", str(reported / "results.csv")], capsys)
    monkeypatch.undo()
    assert "No space left on device" in line, line
    assert _files(reported) == before


def test_report_into_a_folder_that_refuses_new_files(reported, monkeypatch, capsys):
    capsys.readouterr()
    before = _files(reported)
    _refuse_new_files_in(monkeypatch, reported)
    line = _one_error(["report", str(reported / "results.csv")], capsys)
    monkeypatch.undo()
    assert "Permission denied" in line or "permission denied" in line, line
    assert _files(reported) == before


def test_report_over_a_read_only_file_changes_nothing(reported, capsys):
    # chmod a-w summary.md says "do not write here"; the mode bits decide, for root too.
    capsys.readouterr()
    summary = reported / "summary.md"
    summary.chmod(0o444)
    before = _files(reported)
    try:
        line = _one_error(["report", str(reported / "results.csv")], capsys)
    finally:
        summary.chmod(0o644)
    assert "read-only" in line and "summary.md" in line, line
    assert _files(reported) == before


def test_report_into_a_new_folder_that_fails_leaves_none(reported, monkeypatch, capsys):
    import errno

    import matplotlib.figure

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", full)
    new = reported / "new" / "report"
    line = _one_error(["report", str(reported / "results.csv"), "-o", str(new)], capsys)
    assert "No space left on device" in line
    assert not (reported / "new").exists()


def test_run_that_fails_to_write_leaves_an_earlier_run_whole(reported, monkeypatch, capsys):
    # results.csv was replaced before the report failed: a new table beside an old report.
    import errno

    import matplotlib.figure

    capsys.readouterr()
    before = _files(reported)

    def full(self, path, **kwargs):
        Path(path).write_bytes(b"\x89PNG half")
        raise OSError(errno.ENOSPC, "No space left on device", path)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", full)
    argv = ["run", "--strategies", "random,confidence", *TINY, "-o", str(reported)]
    line = _one_error(argv, capsys)
    assert "No space left on device" in line and "learning_curves.png" in line, line
    assert ".tmp" not in line
    assert _files(reported) == before


@pytest.mark.parametrize("name", ["results.csv", "run.json"])
def test_run_refuses_a_read_only_output_file_before_running(reported, capsys, name):
    capsys.readouterr()
    (reported / name).chmod(0o444)
    before = _files(reported)
    try:
        err = _error(["run", "--strategies", "random", *TINY, "-o", str(reported)], capsys)
    finally:
        (reported / name).chmod(0o644)
    assert "read-only" in err and name in err and "skbait: digits" not in err
    assert len(err.strip().splitlines()) == 1
    assert _files(reported) == before


def test_an_unforeseen_error_is_one_line_not_a_traceback(monkeypatch, capsys):
    # A defect deep in a command (here a strategy listing that breaks) still ends in one
    # error line and exit status 2; SKBAIT_DEBUG=1 lets the traceback through for a report.
    import skbait._cli as cli_module

    def broken(args):
        raise RuntimeError("tensor a (3) must match\n  tensor b (4)")

    monkeypatch.setattr(cli_module, "_strategies", broken)
    monkeypatch.delenv("SKBAIT_DEBUG", raising=False)
    assert main(["strategies"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("skbait: error: unexpected RuntimeError: ")
    assert "tensor a (3) must match tensor b (4)" in err and "SKBAIT_DEBUG=1" in err
    assert "Traceback" not in err

    monkeypatch.setenv("SKBAIT_DEBUG", "1")
    with pytest.raises(RuntimeError, match="must match"):
        main(["strategies"])


@pytest.mark.parametrize("command", ["run", "query"])
def test_a_misspelt_target_in_a_wide_table_names_the_column_meant(command, tmp_path, capsys):
    # The error listed the first 20 columns only, without saying that it stopped there:
    # in a table whose label column comes last, the name the user meant was never shown.
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(rng.normal(size=(40, 30)), columns=[f"px{i}" for i in range(30)])
    frame["label"] = rng.randint(0, 2, 40)
    data = tmp_path / "wide.csv"
    frame.to_csv(data, index=False)
    before = sorted(tmp_path.iterdir())
    where = [str(data)] if command == "query" else ["--dataset", str(data)]
    err = _error([command, *where, "--target", "lable"], capsys)
    assert "did you mean 'label'?" in err
    assert "Its 31 columns are: px0," in err and "... (11 more)" in err
    assert len(err.strip().splitlines()) == 1
    # Nothing written but the campaign's lock file, which a query takes first.
    after = [p for p in sorted(tmp_path.iterdir()) if not p.name.endswith(".lock")]
    assert after == before


def test_scoring_scores_the_learning_curves_in_a_scikit_learn_metric(tmp_path, capsys):
    # A regression's curves in RMSE: each round's score is the scorer's on the test rows.
    from sklearn.datasets import make_regression

    X, y = make_regression(n_samples=150, n_features=4, noise=5.0, random_state=0)
    path = tmp_path / "data.csv"
    pd.DataFrame(X, columns=list("abcd")).assign(amount=y).to_csv(path, index=False)
    args = ["run", "-d", str(path), "--target", "amount", "-s", "random", "--budget", "30"]
    args += ["--seeds", "1", "-q", "-j", "1", "-o", str(tmp_path / "out")]
    assert main(args + ["--scoring", "neg_root_mean_squared_error"]) == 0
    results = load_results(tmp_path / "out" / "results.csv")
    assert (results["score"] < 0).all()  # higher is better, as for every scorer
    summary = (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    assert "neg_root_mean_squared_error on the test rows" in summary
    assert "--scoring neg_root_mean_squared_error" in summary  # the command repeats it
    # Without it, the model's own score (R^2) on the same runs.
    plain = main(args[:-1] + [str(tmp_path / "r2")])
    assert plain == 0
    r2 = load_results(tmp_path / "r2" / "results.csv")
    assert np.all(r2["score"] <= 1) and not np.allclose(r2["score"], results["score"])
    # A misspelt scorer is one error line that offers the closest names.
    capsys.readouterr()
    args[-1] = str(tmp_path / "out2")
    err = _error(args + ["--scoring", "neg_root_mean_squred_error"], capsys)
    assert err.startswith("skbait: error: unknown scorer 'neg_root_mean_squred_error'")
    assert "did you mean 'neg_root_mean_squared_error'" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out2").exists()
