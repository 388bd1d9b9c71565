"""A run's report: figures, a markdown summary, and the run's details kept in JSON.

``skbait run`` and ``skbait report`` call :func:`write_report`; the details of a run
(dataset, estimator, protocol, wall time, the command that reproduces it) are kept in
``run.json`` beside ``results.csv``, so that a report redrawn later says the same.
"""

import json
import math
import os
import sys

import pandas as pd

from skbait.evaluation._files import staged_files
from skbait.evaluation._penalty import penalty_checkpoints, penalty_matrix
from skbait.evaluation._tables import MULTILABEL_COLUMNS, _check_results, score_table, summarize

__all__ = ["write_report"]

#: The file, beside results.csv, that keeps a run's details.
RUN_INFO = "run.json"
_INFO_KEYS = ("title", "details", "command")
#: The figures a report may draw.
_FIGURES = ("learning_curves.png", "penalty_matrix.png", "selection_time.png")


def _check_info(info):
    """``{"title": str, "details": [(key, value), ...], "command": str or None}``."""
    if info is None:
        return {"title": "results", "details": [], "command": None}
    if not isinstance(info, dict):
        raise TypeError(f"info must be a dict or None, got {type(info).__name__}.")
    unknown = sorted(set(info) - set(_INFO_KEYS))
    if unknown:
        raise ValueError(f"info has unknown key(s) {unknown}; valid keys are {list(_INFO_KEYS)}.")
    title = info.get("title") or "results"
    details = info.get("details") or []
    command = info.get("command")
    if not isinstance(title, str) or (command is not None and not isinstance(command, str)):
        raise TypeError("info's title and command must be strings.")
    try:
        details = [(str(key), str(value)) for key, value in details]
    except (TypeError, ValueError):
        raise TypeError(
            f"info's details must be a list of (name, value) pairs, got {details!r}."
        ) from None
    return {"title": title, "details": details, "command": command}


def read_run_info(folder):
    """The details kept by :func:`write_report` in ``folder``, or None without a file."""
    path = os.path.join(folder, RUN_INFO)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            return _check_info(json.load(handle))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path!r} is not a run description written by skbait: {exc}") from None


def _markdown_table(frame, index_name):
    header = [index_name] + [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    for label, row in frame.iterrows():
        lines.append("| " + " | ".join([str(label)] + [str(v) for v in row]) + " |")
    return "\n".join(lines)


def _mean_sem(mean, sem, decimals=3):
    if sem is None or not math.isfinite(sem):
        return f"{mean:.{decimals}f}"
    return f"{mean:.{decimals}f} ± {sem:.{decimals}f}"


def _seeds(n):
    return f"{n} seed" if n == 1 else f"{n} seeds"


def report_tables(results):
    """The score table (with an AUC column) and the selection-time table of a report."""
    results = _check_results(results)
    summary = summarize(results)
    scores = score_table(results)
    scores["AUC"] = [
        _mean_sem(r.auc_mean, r.auc_sem) for r in summary.loc[scores.index].itertuples()
    ]
    if "selection_seconds" in results.columns:
        times = pd.DataFrame(
            {
                "seconds per batch": [f"{v:.4f}" for v in summary["selection_seconds"]],
                "seconds per run": [f"{v:.3f}" for v in summary["selection_seconds_total"]],
            },
            index=summary.index,
        )
    else:
        times = pd.DataFrame(index=summary.index)
    return scores, times


def multilabel_table(results):
    """Each multi-label metric's area under the curve per strategy (mean ± s.e.), or None.

    For a run on a multi-label target (its table has :data:`MULTILABEL_COLUMNS`).
    """
    results = _check_results(results)
    # A model without probabilities has no average precision: a column of NaN says nothing.
    metrics = [m for m in MULTILABEL_COLUMNS if m in results and results[m].notna().any()]
    if not metrics:
        return None
    table = {}
    for metric in metrics:
        summary = summarize(results.assign(score=results[metric]))
        table[metric] = [_mean_sem(r.auc_mean, r.auc_sem) for r in summary.itertuples()]
        index = summary.index
    return pd.DataFrame(table, index=index)


def _penalty(results):
    """(matrix or None, checkpoints, a note saying why there is no matrix)."""
    if "random" not in set(results["strategy"]) or results["seed"].nunique() < 2:
        return None, [], "the penalty matrix needs a 'random' strategy and at least 2 seeds."
    checkpoints = penalty_checkpoints(results)
    if not checkpoints:
        note = (
            "random was within 1% of its final score from the start: no checkpoint, "
            "the matrix is empty."
        )
        return penalty_matrix(results), [], note
    return penalty_matrix(results), checkpoints, ""


def write_report(results, output, *, info=None):
    """Write a results table's figures, ``summary.md`` and ``run.json`` to a folder.

    The summary holds the test score at :func:`exponential_budgets` (mean ± standard
    error over seeds) with the area under each learning curve, the selection times,
    the pairwise :func:`penalty_matrix` (with a ``random`` strategy and two seeds or
    more) and links to the figures: learning curves, penalty matrix and selection
    time, drawn when matplotlib is installed. ``run.json`` keeps ``info``, so that
    a report redrawn from ``results.csv`` later (``skbait report``) keeps the run's
    details: pass ``info=read_run_info(folder)``. A figure left in the folder by an
    earlier report that this one does not draw (no penalty matrix without
    ``random``) is removed.

    The files are written to temporary ones and put in place once all are
    written: a write that fails (a full disk, a folder that refuses new files,
    a read-only file) raises ``OSError`` and leaves an earlier report whole.

    Parameters
    ----------
    results : pandas.DataFrame
        A results table, as returned by :func:`compare_strategies`.
    output : str or path-like
        The folder; created if needed.
    info : dict, default=None
        The run's description: ``title`` (str), ``details`` (a list of
        ``(name, value)`` pairs, listed at the top of the summary) and
        ``command`` (the command line that reproduces the run).

    Returns
    -------
    list of str
        The paths written: the figures, ``summary.md`` and ``run.json``.

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> from skbait.evaluation import write_report
    >>> table = pd.DataFrame({"strategy": ["random"] * 2, "seed": 0, "round": [0, 1],
    ...                       "n_labeled": [10, 20], "score": [0.5, 0.7],
    ...                       "selection_seconds": [0.01, float("nan")]})
    >>> folder = tempfile.mkdtemp()
    >>> paths = write_report(table, folder, info={"title": "demo",
    ...                                          "details": [("data", "toy")]})
    >>> sorted(os.path.basename(p) for p in paths if not p.endswith(".png"))
    ['run.json', 'summary.md']
    >>> with open(os.path.join(folder, "summary.md")) as handle:
    ...     print("".join(handle.readlines()[:3]).strip())
    # skbait run: demo
    <BLANKLINE>
    - **data**: toy
    """
    results = _check_results(results)
    info = _check_info(info)
    output = os.fspath(output)
    os.makedirs(output, exist_ok=True)
    scores, times = report_tables(results)
    penalty, checkpoints, penalty_note = _penalty(results)
    figures = _figure_drawers(results, penalty if checkpoints else None)

    n_seeds = int(results["seed"].nunique())
    spread = "mean ± s.e." if n_seeds > 1 else "mean"
    lines = [f"# skbait run: {info['title']}", ""]
    lines += [f"- **{key}**: {value}" for key, value in info["details"]]
    lines += [
        "",
        f"## Test score at chosen budgets ({spread} over {_seeds(n_seeds)})",
        "",
        "Columns are labels used; AUC is the area under the learning curve divided by its "
        "width (the score averaged over the labels used, from the initial draw to the "
        "budget).",
        "",
        _markdown_table(scores, "strategy"),
        "",
    ]
    multilabel = multilabel_table(results)
    if multilabel is not None:
        lines += [
            "## Multi-label metrics",
            "",
            "Area under each metric's learning curve (mean ± s.e.); the score above is the "
            "micro-F1. Hamming loss: lower is better. Average precision ranks the test rows "
            "by each label's probability, whatever the 0.5 threshold of the label sets.",
            "",
            _markdown_table(multilabel, "strategy"),
            "",
        ]
    if len(times.columns):
        lines += ["## Selection time", "", _markdown_table(times, "strategy"), ""]
    lines += ["## Pairwise penalty matrix", ""]
    if checkpoints:
        lines += [
            "Entry (row i, column j): the fraction of checkpoints at which i beat j "
            f"(two-sided paired t test over seeds, p < 0.05). Checkpoints: "
            f"{', '.join(map(str, checkpoints))} labels (Ash et al. 2021, section 6.2). "
            "Last row: column means, lower is better.",
            "",
        ]
        shown = penalty.apply(lambda column: column.map(lambda v: f"{v:.2f}"))
        shown.loc["column mean"] = [f"**{v:.2f}**" for v in penalty.mean(axis=0)]
        shown.columns = [str(c) for c in shown.columns]
        lines += [_markdown_table(shown, "winner \\ loser"), ""]
    else:
        lines += [penalty_note, ""]
    if figures:
        lines += ["## Figures", ""]
        for name in figures:
            lines.append(f"![{os.path.splitext(name)[0]}]({name})")
        lines.append("")
    if info["command"]:
        lines += [f"Reproduce: `{info['command']}`", ""]
    with staged_files(output) as stage:
        for name, draw in figures.items():
            draw(stage(name))
        with open(stage("summary.md"), "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines).rstrip("\n") + "\n")
        with open(stage(RUN_INFO), "w", encoding="utf-8") as handle:
            json.dump(info, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
    # A figure of an earlier report in this folder that this one does not draw would be
    # read as this run's (a penalty matrix of strategies no longer in results.csv).
    for name in _FIGURES:
        stale = os.path.join(output, name)
        if name not in figures and os.path.isfile(stale):
            os.remove(stale)
    return [os.path.join(output, name) for name in [*figures, "summary.md", RUN_INFO]]


def _figure_drawers(results, penalty):
    """``{name: draw(path)}``: each PNG figure of a report; none, with a note, without
    matplotlib."""
    try:
        # matplotlib itself first: its submodules may be cached from an earlier import.
        import matplotlib  # noqa: F401
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        from skbait.evaluation._plots import (
            plot_learning_curves,
            plot_penalty_matrix,
            plot_selection_time,
        )
    except ImportError:
        print(
            "skbait: note: matplotlib is not installed, so no figure was drawn "
            "(pip install 'skbait[plotting]').",
            file=sys.stderr,
        )
        return {}

    def drawer(plot, size):
        def draw(path):
            figure = Figure(figsize=size, layout="constrained")
            FigureCanvasAgg(figure)
            plot(figure.add_subplot())
            # The format by name: the temporary file written has no .png ending.
            figure.savefig(path, dpi=120, format="png")

        return draw

    drawers = {
        "learning_curves.png": drawer(lambda ax: plot_learning_curves(results, ax=ax), (7.0, 4.5))
    }
    if penalty is not None:
        n = len(penalty)
        drawers["penalty_matrix.png"] = drawer(
            lambda ax: plot_penalty_matrix(penalty, ax=ax), (1.1 * n + 2.8, 0.95 * n + 2.0)
        )
    if "selection_seconds" in results.columns and results["selection_seconds"].notna().any():
        n = results["strategy"].nunique()
        drawers["selection_time.png"] = drawer(
            lambda ax: plot_selection_time(results, ax=ax), (0.9 * n + 3.0, 3.8)
        )
    return drawers
