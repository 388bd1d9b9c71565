"""`skbait run --multi-label`: a label-set column, the multi-label strategies and metrics."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_multilabel_classification

from skbait._cli import main
from skbait.evaluation import load_results

NAMES = np.array(["arts", "politics", "sports", "tech"])
RUN = ["--seeds", "2", "--budget", "50", "-b", "15", "--n-initial", "20", "-q", "-j", "1"]


def _write(path, sep="|", order=1, spaces=False):
    X, Y = make_multilabel_classification(
        n_samples=160, n_features=5, n_classes=4, n_labels=2, random_state=0
    )
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(5)])
    join = f" {sep} " if spaces else sep
    frame["tags"] = [join.join(NAMES[row == 1][::order]) if row.any() else "(none)" for row in Y]
    frame.to_csv(path, index=False)
    return Y


def _run(data, out, *extra):
    return main(["run", "-d", str(data), "--target", "tags", "--multi-label", *RUN,
                 "-o", str(out), *extra])  # fmt: skip


@pytest.fixture(scope="module")
def multilabel_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ml")
    data = folder / "tags.csv"
    _write(data)
    out = folder / "out"
    assert _run(data, out, "-s", "bait,margin,random") == 0
    return data, out


def test_a_label_set_column_runs_the_multilabel_strategies_and_reports_their_metrics(
    multilabel_run,
):
    _, out = multilabel_run
    results = load_results(out / "results.csv")
    assert list(pd.unique(results["strategy"])) == ["bait", "margin", "random"]
    assert sorted(results["n_labeled"].unique()) == [20, 35, 50]
    # The score is the micro-F1; the other metrics are kept beside it.
    np.testing.assert_allclose(results["score"], results["f1_micro"])
    for column in ("f1_macro", "subset_accuracy", "hamming_loss", "average_precision"):
        assert results[column].between(0, 1).all()
    # A row with any wrong label counts as one subset error, so Hamming <= 1 - subset accuracy.
    assert (results["hamming_loss"] <= 1 - results["subset_accuracy"] + 1e-12).all()
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "## Multi-label metrics" in summary
    assert (
        "| strategy | f1_micro | f1_macro | subset_accuracy | hamming_loss | average_precision |"
        in summary
    )
    assert "4 labels (arts, politics, sports, tech)" in summary
    assert "micro-F1 on the test rows" in summary
    assert "--multi-label" in summary  # the command that repeats the run


def test_label_sets_are_read_as_sets_whatever_the_separator_order_and_spaces(
    multilabel_run, tmp_path
):
    _, out = multilabel_run
    other = tmp_path / "tags_slash.csv"
    _write(other, sep="/", order=-1, spaces=True)
    assert _run(other, tmp_path / "out", "-s", "bait,margin,random", "--label-sep", "/") == 0
    before = load_results(out / "results.csv")
    after = load_results(tmp_path / "out" / "results.csv")
    for column in ("strategy", "seed", "n_labeled", "f1_micro", "hamming_loss"):
        assert before[column].tolist() == after[column].tolist(), column


def test_a_header_written_with_spaces_finds_its_label_column(multilabel_run, tmp_path):
    # "x0, x1, ..., tags": --target tags is the column " tags", as in the campaign commands.
    data, out = multilabel_run
    spaced = tmp_path / "spaced.csv"
    lines = data.read_text().splitlines()
    spaced.write_text("\n".join(", ".join(line.split(",")) for line in lines) + "\n")
    assert spaced.read_text().startswith("x0, x1, x2, x3, x4, tags\n")
    assert _run(spaced, tmp_path / "out", "-s", "bait,margin,random") == 0
    before = load_results(out / "results.csv")
    after = load_results(tmp_path / "out" / "results.csv")
    for column in ("strategy", "seed", "n_labeled", "f1_micro", "hamming_loss"):
        assert before[column].tolist() == after[column].tolist(), column


@pytest.mark.parametrize(
    "cell, extra, message",
    [
        ("arts|(none)", [], "line 5 of bad.csv: 'arts|(none)' combines labels with '(none)'"),
        ("arts", ["--task", "classification"], "--multi-label sets the task"),
        ("arts", ["-s", "entropy"], "strategy 'entropy' cannot choose rows for label sets"),
        ("arts", ["--label-sep", ","], "is a CSV separator"),
    ],
)
def test_bad_label_sets_and_options_are_one_error_line(tmp_path, capsys, cell, extra, message):
    data = tmp_path / "bad.csv"
    _write(data)
    frame = pd.read_csv(data)
    frame.loc[3, "tags"] = cell  # line 5 of the file
    frame.to_csv(data, index=False)
    out = tmp_path / "out"
    assert _run(data, out, *extra) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("skbait: error:") and message in err[0], err
    assert not out.exists()


def test_one_label_or_a_built_in_dataset_is_refused(tmp_path, capsys):
    data = tmp_path / "one.csv"
    pd.DataFrame({"x": np.arange(40.0), "tags": ["a"] * 20 + ["(none)"] * 20}).to_csv(
        data, index=False
    )
    for args in (["-d", str(data), "--target", "tags"], ["-d", "digits"]):
        assert main(["run", *args, "--multi-label", *RUN, "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "a multi-label run needs two or more" in err
    assert "'digits' has one class per row" in err
    assert main(["run", "--label-sep", "/", *RUN, "-o", str(tmp_path / "out")]) == 2
    assert "apply with --multi-label only" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_label_sets_joined_by_another_separator_than_label_sep_are_refused(tmp_path, capsys):
    # Cells "arts/sports" read with the default "|" were each one label: the run compared
    # strategies on label combinations, with 1 label a row, and said nothing.
    data = tmp_path / "slash.csv"
    _write(data, sep="/")
    out = tmp_path / "out"
    assert _run(data, out) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("skbait: error:"), err
    assert "with '/', not with --label-sep '|'; pass --label-sep '/'" in err[0], err
    assert not out.exists()


@pytest.mark.parametrize("sep, option", [("|", "pass --multi-label."), ("/", "--label-sep '/'")])
def test_label_sets_run_without_multi_label_say_how_to_learn_each_label(
    tmp_path, capsys, sep, option
):
    # Without --multi-label each combination ("arts|politics") was a class, in silence.
    data = tmp_path / "tags.csv"
    _write(data, sep=sep)
    out = tmp_path / "out"
    args = ["run", "-d", str(data), "--target", "tags", "-s", "random", "--seeds", "1"]
    assert main([*args, "--budget", "30", "-q", "-j", "1", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    notes = [line for line in err.splitlines() if "each combination is learned" in line]
    assert len(notes) == 1 and notes[0].startswith("skbait: note:") and option in notes[0], err


@pytest.mark.parametrize("cells", [["a|b"], ["a|b", "b | a"]])
def test_the_same_label_set_in_every_row_is_refused(tmp_path, capsys, cells):
    # As a single-label target of one value: nothing to learn, and the run went to its end
    # with scikit-learn's "Label 0 is present in all training examples" warnings.
    data = tmp_path / "same.csv"
    pd.DataFrame({"x": np.arange(40.0), "tags": cells * (40 // len(cells))}).to_csv(
        data, index=False
    )
    out = tmp_path / "out"
    assert _run(data, out) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("skbait: error:"), err
    assert "holds the same labels ('a|b') in all 40 rows" in err[0] and "--target" in err[0]
    assert not out.exists()
