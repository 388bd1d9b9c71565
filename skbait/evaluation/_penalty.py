"""The pairwise penalty matrix of Ash et al. (2021), section 6.2.

The protocol, per experiment (one tidy results table, many strategies and seeds):

1. ``r`` is the first labeling budget at which the reference strategy (random
   sampling), averaged over seeds, scores within ``tolerance`` (1%) of its
   final score.
2. The checkpoints are the budgets ``L_k = M0 + 2**k * B <= r`` for
   ``k = 0, 1, 2, ...``, with ``M0`` the initial labeled set and ``B`` the
   batch size; ``z`` is their number.
3. At each checkpoint, every ordered pair of strategies ``(i, j)`` gets a
   paired t statistic over the seeds both ran, ``t = sqrt(N) mean(d) / sd(d)``
   with ``d = e_i - e_j``; ``i`` beats ``j`` when ``t`` exceeds the two-sided
   ``1 - alpha`` quantile of Student's t with ``N - 1`` degrees of freedom
   (2.776 for five seeds).
4. Each win adds ``1 / z`` to entry ``(i, j)``. Matrices of several
   experiments are summed.
"""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["penalty_checkpoints", "penalty_matrix", "t_threshold"]

_NEEDED = ("strategy", "seed", "n_labeled", "score")
# Two scores this close are one score: far below any real difference, above float noise.
_SAME_SCORE_RTOL, _SAME_SCORE_ATOL = 1e-9, 1e-12


def t_threshold(n_seeds, alpha=0.05):
    """Critical value of the paired two-sided t test over ``n_seeds`` seeds.

    Parameters
    ----------
    n_seeds : int
        Number of paired observations, at least 2.
    alpha : float, default=0.05
        Significance level of the two-sided test.

    Returns
    -------
    float
        ``scipy.stats.t.ppf(1 - alpha / 2, n_seeds - 1)``.

    Raises
    ------
    TypeError
        When ``n_seeds`` is not an integer.
    ValueError
        When ``n_seeds`` is below 2 or ``alpha`` is not in (0, 1).

    Examples
    --------
    >>> from skbait.evaluation import t_threshold
    >>> round(t_threshold(5), 3)
    2.776
    """
    if not isinstance(n_seeds, Integral) or isinstance(n_seeds, bool):
        raise TypeError(f"n_seeds must be an integer, got {n_seeds!r}.")
    if n_seeds < 2:
        raise ValueError(f"A paired t test needs at least 2 seeds, got {n_seeds!r}.")
    if not isinstance(alpha, Real) or not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}.")
    return float(stats.t.ppf(1.0 - alpha / 2.0, int(n_seeds) - 1))


def _check_table(results):
    if not isinstance(results, pd.DataFrame):
        raise TypeError(
            "Expected a results table (pandas DataFrame, as returned by compare_strategies "
            f"or load_results), got {type(results).__name__}."
        )
    missing = [c for c in _NEEDED if c not in results.columns]
    if missing:
        raise ValueError(
            f"The results table lacks the column(s) {missing}; it needs {list(_NEEDED)}."
        )
    if results.empty:
        raise ValueError("The results table is empty.")
    return results


def _mean_curve(results, strategy):
    rows = results[results["strategy"] == strategy]
    # A budget where no seed has a score (NaN) is no point of the curve.
    return rows.groupby("n_labeled")["score"].mean().dropna().sort_index()


def _grid(results, n_initial, batch_size):
    """``M0`` and ``B`` of an experiment: given, or read from its labeling grid.

    ``B`` is the first step of the grid: every batch is full but the last, which
    the budget may cut (``--budget 205`` with batches of 10 ends on a step of 5).
    """
    for name, value, low in (("n_initial", n_initial, 0), ("batch_size", batch_size, 1)):
        if value is not None and (
            not isinstance(value, Integral) or isinstance(value, bool) or value < low
        ):
            shown = value.item() if isinstance(value, np.generic) else value
            raise ValueError(f"{name} must be None or an integer >= {low}, got {shown!r}.")
    if n_initial is None:
        if "round" in results.columns:
            n_initial = int(results.loc[results["round"] == 0, "n_labeled"].min())
        else:
            n_initial = int(results["n_labeled"].min())
    if batch_size is None:
        budgets = np.unique(results["n_labeled"].to_numpy())
        steps = np.diff(budgets[budgets >= n_initial])
        if steps.size == 0:
            raise ValueError(
                "Cannot infer the batch size from a table with a single labeling budget; "
                "pass batch_size."
            )
        batch_size = int(steps[0])
    return int(n_initial), int(batch_size)


def _check_options(reference, tolerance, alpha=0.05):
    if not isinstance(reference, str):
        raise TypeError(f"reference must be a strategy label (str), got {reference!r}.")
    if not isinstance(tolerance, Real) or isinstance(tolerance, bool) or not tolerance >= 0:
        raise ValueError(f"tolerance must be a non-negative number, got {tolerance!r}.")
    if not isinstance(alpha, Real) or isinstance(alpha, bool) or not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}.")


def penalty_checkpoints(
    results, *, reference="random", tolerance=0.01, n_initial=None, batch_size=None
):
    """Labeling budgets at which one experiment's strategies are compared.

    ``r`` is the smallest ``n_labeled`` at which the seed-averaged score of
    ``reference`` is within ``tolerance`` of its final value (the value at
    its largest ``n_labeled``), relatively: ``score >= final - tolerance *
    |final|`` (for an accuracy of 0.9 that is 0.891, against 0.89 for one
    point absolute). The checkpoints are ``n_initial + 2**k * batch_size``
    for ``k = 0, 1, ...`` while ``<= r``. When ``reference`` reaches that
    level before ``n_initial + batch_size`` there is no checkpoint and the
    experiment counts for nothing in :func:`penalty_matrix`.

    Parameters
    ----------
    results : pandas.DataFrame
        One experiment's tidy table: columns ``strategy``, ``seed``,
        ``n_labeled``, ``score`` (and ``round``).
    reference : str, default="random"
        The strategy whose curve sets ``r``.
    tolerance : float, default=0.01
        Relative distance to the final score.
    n_initial, batch_size : int, default=None
        ``M0`` and ``B``; by default read from the table (the ``n_labeled``
        of round 0, and the first step between budgets: a budget that cuts
        the last batch leaves a smaller step at the end).

    Returns
    -------
    list of int

    Raises
    ------
    ValueError
        When ``reference`` is not a strategy of the table, or has no score.

    Examples
    --------
    >>> import pandas as pd
    >>> from skbait.evaluation import penalty_checkpoints
    >>> curve = [0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99, 1.0, 1.0, 1.0]
    >>> table = pd.DataFrame({"strategy": "random", "seed": 0,
    ...                       "round": range(10), "n_labeled": range(10, 110, 10),
    ...                       "score": curve})
    >>> penalty_checkpoints(table)  # random is within 1% from n_labeled = 70
    [20, 30, 50]
    """
    results = _check_table(results)
    _check_options(reference, tolerance)
    if reference not in set(results["strategy"]):
        raise ValueError(
            f"The reference strategy {reference!r} is not in the results table (strategies: "
            f"{sorted(set(results['strategy']))}); pass reference=<one of them>."
        )
    n_initial, batch_size = _grid(results, n_initial, batch_size)
    curve = _mean_curve(results, reference)
    if curve.empty:
        raise ValueError(
            f"The reference strategy {reference!r} has no score (every score is NaN): "
            "pass reference=<a strategy with scores>."
        )
    final = curve.iloc[-1]
    reached = curve.index[curve.to_numpy() >= final - tolerance * abs(final)]
    r = int(reached[0])
    checkpoints = []
    k = 0
    while n_initial + 2**k * batch_size <= r:
        checkpoints.append(n_initial + 2**k * batch_size)
        k += 1
    return checkpoints


def _wins(scores, strategies, threshold_cache, alpha):
    """Boolean matrix: wins[i, j] when strategy i significantly beats j at one budget."""
    n = len(strategies)
    wins = np.zeros((n, n), dtype=bool)
    for i in range(n):
        for j in range(i + 1, n):
            a, b = scores.get(strategies[i]), scores.get(strategies[j])
            if a is None or b is None:
                continue
            # A seed without a score (NaN) is a seed not run, as for a missing row.
            a, b = a.dropna(), b.dropna()
            common = a.index.intersection(b.index)
            if common.size < 2:
                continue
            e_i, e_j = a.loc[common].to_numpy(dtype=float), b.loc[common].to_numpy(dtype=float)
            d = e_i - e_j
            # Scores equal but for floating-point noise (the last bits of a sum taken in
            # another order) are equal: noise is no win, and results.csv, which keeps ten
            # significant digits, would not show it.
            d[np.isclose(e_i, e_j, rtol=_SAME_SCORE_RTOL, atol=_SAME_SCORE_ATOL)] = 0.0
            mu = d.mean()
            sd = d.std(ddof=1)
            if sd == 0.0:
                # Every seed gave the same difference: a constant nonzero gap is a
                # win (t is infinite), no gap at all is a tie.
                sign = np.sign(mu)
            else:
                n_pairs = common.size
                if n_pairs not in threshold_cache:
                    threshold_cache[n_pairs] = t_threshold(n_pairs, alpha)
                t = np.sqrt(n_pairs) * mu / sd
                threshold = threshold_cache[n_pairs]
                sign = 1.0 if t > threshold else (-1.0 if t < -threshold else 0.0)
            if sign > 0:
                wins[i, j] = True
            elif sign < 0:
                wins[j, i] = True
    return wins


def _experiments(results, experiment):
    """Split the input into (label, table) pairs."""
    if isinstance(results, pd.DataFrame):
        if experiment is not None:
            if experiment not in results.columns:
                raise ValueError(f"The results table has no column {experiment!r}.")
            return [(key, group) for key, group in results.groupby(experiment, sort=False)]
        return [(None, results)]
    if isinstance(results, dict):
        return list(results.items())
    if isinstance(results, (list, tuple)):
        return list(enumerate(results))
    raise TypeError(
        "results must be a DataFrame, a list of DataFrames or a dict of DataFrames, got "
        f"{type(results).__name__}."
    )


def penalty_matrix(
    results,
    *,
    experiment=None,
    reference="random",
    tolerance=0.01,
    alpha=0.05,
    n_initial=None,
    batch_size=None,
):
    """The pairwise penalty matrix (Ash et al., 2021, section 6.2).

    Entry ``(i, j)`` counts how often strategy ``i`` beat strategy ``j`` by a
    significant margin: per experiment, each of its ``z`` checkpoints (see
    :func:`penalty_checkpoints`) where a two-sided paired t test across seeds
    says ``i`` scored higher than ``j`` adds ``1 / z``; the experiments'
    matrices are summed. An entry is thus at most the number of experiments,
    and the diagonal is zero.

    The paper's column averages, ``matrix.mean(axis=0)`` (the mean over all
    rows, the zero diagonal included), say how often a strategy was beaten:
    lower is better.

    Pairs are compared on the seeds both strategies ran at a checkpoint (at
    least two; a NaN score counts as a seed not run). The threshold is
    ``scipy.stats.t.ppf(1 - alpha / 2, N - 1)`` for ``N`` paired seeds: 2.776
    for five. When every seed gives the same nonzero difference the standard
    deviation is zero and ``t`` infinite: that counts as a win; identical
    scores are a tie. Scores that differ by floating-point noise only
    (relatively by 1e-9 or less) count as identical, so a verdict never rests
    on digits that ``results.csv`` does not keep.

    Parameters
    ----------
    results : pandas.DataFrame, list or dict of DataFrames
        Tidy tables as returned by :func:`~skbait.evaluation.compare_strategies`:
        one per experiment (a list or a dict of them), or one table holding
        several experiments told apart by the column named by ``experiment``.
    experiment : str, default=None
        Column of ``results`` naming the experiment of each row.
    reference : str, default="random"
        The strategy whose learning curve sets the last checkpoint.
    tolerance : float, default=0.01
        ``reference`` must be within this relative distance of its final
        score.
    alpha : float, default=0.05
        Significance level of the two-sided test.
    n_initial, batch_size : int, default=None
        ``M0`` and ``B`` of the checkpoints ``M0 + 2**k B``; by default read
        from each table.

    Returns
    -------
    pandas.DataFrame of shape (n_strategies, n_strategies)
        Rows are winners, columns losers, both in order of first appearance.

    Raises
    ------
    ValueError
        When the table is empty, an experiment has fewer than 2 seeds, or
        ``n_initial`` and ``batch_size`` do not match the table's budgets.

    Examples
    --------
    >>> import pandas as pd
    >>> from skbait.evaluation import penalty_matrix
    >>> rows = []
    >>> for seed in range(5):
    ...     for n, base in zip([10, 20, 30, 40, 50], [0.5, 0.7, 0.8, 0.9, 0.9]):
    ...         rows.append(("random", seed, n, base + 0.001 * seed))
    ...         rows.append(("smart", seed, n, min(base + 0.05, 1.0) + 0.001 * seed))
    >>> table = pd.DataFrame(rows, columns=["strategy", "seed", "n_labeled", "score"])
    >>> P = penalty_matrix(table)  # checkpoints 20 and 30: smart wins both
    >>> P  # doctest: +NORMALIZE_WHITESPACE
    strategy  random  smart
    strategy
    random       0.0    0.0
    smart        1.0    0.0
    >>> P.mean(axis=0)  # column averages: lower is better
    strategy
    random    0.5
    smart     0.0
    dtype: float64
    """
    _check_options(reference, tolerance, alpha)
    parts = _experiments(results, experiment)
    if not parts:
        raise ValueError("No experiment to aggregate.")
    strategies = []
    for label, table in parts:
        _check_table(table)
        seeds = pd.unique(table["seed"])
        if len(seeds) < 2:
            # No t test on one seed: every entry would read 0, as if no strategy won.
            which = "the results table" if label is None else f"experiment {label!r}"
            raise ValueError(
                f"The penalty matrix compares strategies by a paired t test across seeds and "
                f"needs at least 2 seeds; {which} has {len(seeds)} (seed "
                f"{', '.join(str(s) for s in seeds)}). Run compare_strategies with seeds=5, "
                "as the paper does."
            )
        for name in pd.unique(table["strategy"]):
            if name not in strategies:
                strategies.append(name)
    total = np.zeros((len(strategies), len(strategies)))
    threshold_cache = {}
    for _, table in parts:
        checkpoints = penalty_checkpoints(
            table,
            reference=reference,
            tolerance=tolerance,
            n_initial=n_initial,
            batch_size=batch_size,
        )
        if not checkpoints:
            continue
        z = len(checkpoints)
        missing = sorted(set(checkpoints) - set(table["n_labeled"]))
        if missing:
            raise ValueError(
                f"The checkpoint(s) {missing} are not labeling budgets of the results table: "
                "n_initial and batch_size do not match its grid. Leave them to None to read "
                "them from the table."
            )
        for budget in checkpoints:
            at = table[table["n_labeled"] == budget]
            # The last row per (strategy, seed) if a budget was logged twice.
            scores = {
                name: group.groupby("seed")["score"].last()
                for name, group in at.groupby("strategy", sort=False)
            }
            total += _wins(scores, strategies, threshold_cache, alpha) / z
    index = pd.Index(strategies, name="strategy")
    return pd.DataFrame(total, index=index, columns=index.copy())
