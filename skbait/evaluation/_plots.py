"""Figures of a strategy comparison: learning curves, penalty matrix, selection time.

Public as :mod:`skbait.plotting`, which checks that matplotlib (an optional
dependency) is installed; the report (:mod:`skbait.evaluation._report`) draws
with these functions too. Every function draws on the given ``ax`` (or on a new
figure's axes) and returns the axes; nothing is shown or saved, and no backend
is chosen.
"""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import Normalize

from skbait.evaluation._tables import learning_curves
from skbait.utils._validation import check_flag

__all__ = ["plot_learning_curves", "plot_penalty_matrix", "plot_selection_time"]


def _axes(ax, figsize):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _chosen(strategies, available, nothing):
    """The strategies to draw: all, one name, or a list of names the table has."""
    if strategies is None:
        return available
    # One name is one strategy, as compare_strategies reads it, not its letters.
    names = [strategies] if isinstance(strategies, str) else list(strategies)
    unknown = [name for name in names if name not in available]
    if unknown:
        raise ValueError(
            f"{nothing} for the strategies {unknown}; the results table has {available}."
        )
    return names


def plot_learning_curves(results, *, ax=None, strategies=None, sem=True, ylabel="test score"):
    """Mean test score against labels used, one line per strategy.

    Parameters
    ----------
    results : pandas.DataFrame
        A results table (see :func:`skbait.evaluation.compare_strategies`).
    ax : matplotlib.axes.Axes, default=None
        Where to draw; a new figure by default.
    strategies : str or list of str, default=None
        Which strategies to draw, in this order; all, by default.
    sem : bool, default=True
        Shade the standard error of the mean over seeds (mean ± s.e.).
    ylabel : str, default="test score"

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from skbait.plotting import plot_learning_curves
    >>> table = pd.DataFrame({"strategy": "random", "seed": [0, 1, 0, 1],
    ...                       "n_labeled": [10, 10, 20, 20],
    ...                       "score": [0.5, 0.7, 0.8, 0.8]})
    >>> ax = plot_learning_curves(table)
    >>> [line.get_label() for line in ax.get_lines()]
    ['random']
    """
    ax = _axes(ax, (6.4, 4.2))
    curves = learning_curves(results)
    names = _chosen(strategies, list(pd.unique(curves["strategy"])), "No results")
    drawn = results[results["strategy"].isin(names)]
    n_seeds = int(drawn.groupby("strategy")["seed"].nunique().max())
    for name in names:
        curve = curves[curves["strategy"] == name]
        x = curve["n_labeled"].to_numpy()
        y = curve["mean"].to_numpy()
        (line,) = ax.plot(x, y, label=name, linewidth=1.6)
        if sem:
            err = np.nan_to_num(curve["sem"].to_numpy())
            ax.fill_between(x, y - err, y + err, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xlabel("labels used")
    ax.set_ylabel(ylabel)
    band = f", bands: ± s.e. over {n_seeds} seeds" if sem and n_seeds > 1 else ""
    ax.set_title(f"Learning curves (mean{band})", fontsize="medium")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_penalty_matrix(matrix, *, ax=None, cmap="viridis", decimals=2, colorbar=True, vmax=1.0):
    """The pairwise penalty matrix as an annotated heatmap, column means below.

    The colour scale is fixed to ``[0, vmax]``, ``[0, 1]`` by default: a
    cell's colour says the same thing in every figure (1 is a win at every
    checkpoint of one experiment), whatever the largest entry happens to be.
    The diagonal, a strategy against itself, is left blank.

    Parameters
    ----------
    matrix : pandas.DataFrame
        As returned by :func:`skbait.evaluation.penalty_matrix`: entry
        ``(i, j)`` is how often row ``i`` beat column ``j``.
    ax : matplotlib.axes.Axes, default=None
        Where to draw; a new figure by default.
    cmap : str or Colormap, default="viridis"
    decimals : int, default=2
        Decimals of the numbers written in the cells.
    colorbar : bool, default=True
    vmax : float, default=1.0
        Top of the colour scale. One experiment's entries lie in ``[0, 1]``;
        a matrix summed over ``E`` experiments has entries up to ``E``, so
        pass ``vmax=E`` for it.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        When ``matrix`` is not a penalty matrix (a results table, not square,
        NaN off the diagonal, negative entries, entries above ``vmax``), or
        ``decimals`` or ``vmax`` is out of range.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from skbait.plotting import plot_penalty_matrix
    >>> P = pd.DataFrame([[0.0, 1.0], [0.5, 0.0]], index=["bait", "random"],
    ...                  columns=["bait", "random"])
    >>> ax = plot_penalty_matrix(P)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['bait', 'random', 'column mean']
    >>> ax.images[0].norm.vmin, ax.images[0].norm.vmax
    (0.0, 1.0)
    """
    if isinstance(matrix, pd.DataFrame) and {"strategy", "score"} <= set(matrix.columns):
        raise ValueError(
            "plot_penalty_matrix draws the matrix that penalty_matrix computes, not the "
            "results table: pass plot_penalty_matrix(penalty_matrix(results))."
        )
    if isinstance(decimals, bool) or not isinstance(decimals, Integral) or decimals < 0:
        raise ValueError(f"decimals must be a non-negative integer, got {decimals!r}.")
    if not isinstance(matrix, pd.DataFrame):
        matrix = pd.DataFrame(np.asarray(matrix, dtype=float))
    values = matrix.to_numpy(dtype=float)
    if values.ndim != 2 or values.shape[0] != values.shape[1]:
        raise ValueError(f"The penalty matrix must be square, got shape {values.shape}.")
    if isinstance(vmax, bool) or not isinstance(vmax, Real) or not vmax > 0:
        raise ValueError(f"vmax must be a positive number, got {vmax!r}.")
    vmax = float(vmax)
    n = values.shape[0]
    off_diagonal = ~np.eye(n, dtype=bool)
    if np.isnan(values[off_diagonal]).any():
        raise ValueError("The penalty matrix holds NaN off its diagonal.")
    if (values[off_diagonal] < 0).any():
        raise ValueError("The penalty matrix holds negative entries: they count wins.")
    if (values[off_diagonal] > vmax).any():
        raise ValueError(
            f"The penalty matrix has entries up to {values[off_diagonal].max():g}, above "
            f"vmax={vmax:g}. A matrix summed over E experiments has entries up to E: pass "
            "vmax=E."
        )
    means = values.mean(axis=0)
    ax = _axes(ax, (1.2 * n + 2.4, 1.0 * n + 1.8))
    # The diagonal is masked: drawn in no colour at all, so the axes show through.
    shown = np.ma.masked_array(values, mask=~off_diagonal)
    # with_extremes returns a copy: the caller's colormap is left as it was.
    colormap = (colormaps[cmap] if isinstance(cmap, str) else cmap).with_extremes(
        bad=(0.0, 0.0, 0.0, 0.0)
    )
    norm = Normalize(vmin=0.0, vmax=vmax)
    image = ax.imshow(shown, cmap=colormap, norm=norm, aspect="equal")
    # The column means sit in an extra row below the matrix, on white.
    ax.axhline(n - 0.5, color="black", linewidth=1.0)
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            shade = colormap(norm(values[i, j]))
            light = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2] > 0.55
            ax.text(
                j,
                i,
                f"{values[i, j]:.{decimals}f}",
                ha="center",
                va="center",
                color="black" if light else "white",
                fontsize="small",
            )
    for j in range(n):
        ax.text(
            j,
            n,
            f"{means[j]:.{decimals}f}",
            ha="center",
            va="center",
            color="black",
            fontsize="small",
            fontweight="bold",
        )
    labels = [str(name) for name in matrix.index]
    ax.set_xticks(range(n), [str(name) for name in matrix.columns], rotation=30, ha="right")
    ax.set_yticks(list(range(n + 1)), labels + ["column mean"])
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(n + 0.5, -0.5)
    ax.set_xlabel("loser (j)")
    ax.set_ylabel("winner (i)")
    ax.set_title(
        "Pairwise penalty matrix: row i beat column j\n(column mean: lower is better)",
        fontsize="medium",
    )
    ax.tick_params(length=0)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, shrink=0.8)
    return ax


def plot_selection_time(results, *, ax=None, strategies=None, log=None):
    """Mean seconds a strategy takes to choose one batch, with its standard error.

    A bar is the mean over seeds of each run's mean time per batch; its error
    bar the standard error over seeds (``ddof=1``; none for one seed), as for
    the learning curves: the batches of one run are not independent draws
    (BAIT's time grows with the labeled set).

    Parameters
    ----------
    results : pandas.DataFrame
        A results table with a ``selection_seconds`` column.
    ax : matplotlib.axes.Axes, default=None
        Where to draw; a new figure by default.
    strategies : str or list of str, default=None
        Which strategies to draw, in this order; all, by default.
    log : bool, default=None
        Logarithmic time axis; by default when the times span more than two
        orders of magnitude.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        When the results table holds no selection time.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from skbait.plotting import plot_selection_time
    >>> table = pd.DataFrame({"strategy": ["bait", "random"], "seed": 0,
    ...                       "n_labeled": 10, "score": 0.5,
    ...                       "selection_seconds": [0.2, 0.001]})
    >>> ax = plot_selection_time(table)
    >>> len(ax.patches)
    2
    """
    if log is not None:
        log = check_flag("log", log)
    if "selection_seconds" not in getattr(results, "columns", ()):
        raise ValueError("The results table has no selection_seconds column.")
    times = results.dropna(subset=["selection_seconds"])
    if times.empty:
        raise ValueError("The results table holds no selection time.")
    # Each run's mean time per batch, then mean and s.e. over seeds, as for the scores:
    # a run's batches are no independent draws (BAIT's cost grows with every round).
    per_run = times.groupby(["strategy", "seed"], sort=False)["selection_seconds"].mean()
    grouped = per_run.groupby(level="strategy", sort=False)
    mean = grouped.mean()
    sem = (grouped.std(ddof=1) / np.sqrt(grouped.count())).fillna(0.0)
    names = _chosen(strategies, list(mean.index), "No selection times")
    mean, sem = mean.loc[names], sem.loc[names]
    ax = _axes(ax, (1.0 * len(names) + 3.0, 3.8))
    colors = [f"C{i}" for i in range(len(names))]
    ax.bar(range(len(names)), mean.to_numpy(), yerr=sem.to_numpy(), color=colors, capsize=3)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    positive = mean.to_numpy()[mean.to_numpy() > 0]
    if log is None:
        log = positive.size > 1 and positive.max() / positive.min() > 100
    if log:
        ax.set_yscale("log")
    for i, (value, err) in enumerate(zip(mean.to_numpy(), sem.to_numpy())):
        ax.annotate(
            f"{value:.3g} s",
            (i, value + err),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize="small",
        )
    ax.margins(y=0.12)
    ax.set_ylabel("seconds per batch")
    ax.set_title("Selection time per batch (mean ± s.e. over seeds)", fontsize="medium")
    ax.grid(True, axis="y", alpha=0.3)
    return ax
