"""The pairwise penalty matrix protocol (Ash et al. 2021, section 6.2) on hand-made curves."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from skbait.evaluation import (
    load_results,
    penalty_checkpoints,
    penalty_matrix,
    save_results,
    t_threshold,
)

BUDGETS = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]  # M0 = 10, B = 10


def _table(curves, seeds=5, noise=None, budgets=BUDGETS):
    """A tidy table from {strategy: list of scores per budget}, identical across seeds
    unless ``noise[strategy]`` gives per-seed offsets (a list of length ``seeds``)."""
    rows = []
    for name, curve in curves.items():
        for seed in range(seeds):
            offset = 0.0 if noise is None or name not in noise else noise[name][seed]
            for rnd, (n, score) in enumerate(zip(budgets, curve)):
                rows.append((name, seed, rnd, n, score + offset))
    return pd.DataFrame(rows, columns=["strategy", "seed", "round", "n_labeled", "score"])


# random reaches 0.99 * 0.9 = 0.891 at n_labeled = 80 (0.89 at 70 is not within 1%).
RANDOM = [0.30, 0.50, 0.60, 0.70, 0.80, 0.85, 0.89, 0.895, 0.90, 0.90]
# The common per-seed noise makes every paired difference exact and constant where the
# curves are shifted copies, and the tests below add their own noise where needed.
SEED_NOISE = [0.0, 0.01, -0.01, 0.02, -0.02]


def test_t_threshold_matches_paper_and_scipy():
    assert t_threshold(5) == pytest.approx(2.776, abs=5e-4)
    for n in (2, 3, 10, 30):
        assert t_threshold(n) == pytest.approx(stats.t.ppf(0.975, n - 1))
    assert t_threshold(5, alpha=0.1) == pytest.approx(stats.t.ppf(0.95, 4))
    with pytest.raises(ValueError, match="at least 2 seeds"):
        t_threshold(1)
    with pytest.raises(ValueError, match="alpha"):
        t_threshold(5, alpha=1.5)


def test_t_threshold_names_a_count_that_is_not_an_integer():
    # t_threshold(5.0) said "needs at least 2 seeds, got 5.0".
    for n_seeds in (5.0, "5", True):
        with pytest.raises(TypeError, match=rf"n_seeds must be an integer, got {n_seeds!r}"):
            t_threshold(n_seeds)
    assert t_threshold(np.int64(5)) == t_threshold(5)


def test_checkpoints_are_exponential_up_to_first_round_within_one_percent():
    table = _table({"random": RANDOM}, seeds=2)
    # r = 80: the checkpoints are 10 + 10 * 2**k <= 80, k = 0, 1, 2 -> 20, 30, 50.
    assert penalty_checkpoints(table) == [20, 30, 50]
    # A 30% tolerance moves r to 40 (0.70 >= 0.9 - 0.27): checkpoints 20, 30.
    assert penalty_checkpoints(table, tolerance=0.3) == [20, 30]
    # M0 and B can be forced.
    assert penalty_checkpoints(table, n_initial=0, batch_size=10) == [10, 20, 40, 80]
    # A curve flat from the start gives no checkpoint.
    flat = _table({"random": [0.9] * 10}, seeds=2)
    assert penalty_checkpoints(flat) == []


def test_checkpoints_use_the_mean_curve_over_seeds():
    # Seed 0 reaches 0.9 at 40, seed 1 only at 100: the mean is within 1% at 100.
    rows = []
    for n, a, b in zip(BUDGETS, [0.5, 0.7, 0.8, 0.9] + [0.9] * 6, [0.5] * 9 + [0.9]):
        rows += [("random", 0, n, a), ("random", 1, n, b)]
    table = pd.DataFrame(rows, columns=["strategy", "seed", "n_labeled", "score"])
    assert penalty_checkpoints(table, n_initial=10, batch_size=10) == [20, 30, 50, 90]


def test_hand_made_matrix_is_pinned_exactly():
    # Checkpoints 20, 30, 50 (z = 3).
    # - "good" is random + 0.05 everywhere: beats random at all 3 checkpoints -> 1.
    # - "mixed" equals good at 20, equals random at 30, is below random at 50:
    #   beats random at 20 (1/3), ties at 30, loses at 50 (random gets 1/3);
    #   against good: ties at 20, loses at 30 and 50 (good gets 2/3).
    # - Beyond the checkpoints (60..100) "mixed" is far better: it must not count.
    good = [s + 0.05 for s in RANDOM]
    mixed = list(RANDOM)
    mixed[1] = good[1]
    mixed[4] = RANDOM[4] - 0.05
    for i in range(5, 10):
        mixed[i] = 1.0
    noise = {name: SEED_NOISE for name in ("random", "good", "mixed")}
    table = _table({"random": RANDOM, "good": good, "mixed": mixed}, noise=noise)
    P = penalty_matrix(table)
    expected = np.array(
        [
            # random  good  mixed
            [0.0, 0.0, 1 / 3],  # random beat mixed at 50
            [1.0, 0.0, 2 / 3],  # good beat random at 20, 30, 50, and mixed at 30, 50
            [1 / 3, 0.0, 0.0],  # mixed beat random at 20
        ]
    )
    assert list(P.index) == ["random", "good", "mixed"]
    assert list(P.columns) == ["random", "good", "mixed"]
    np.testing.assert_allclose(P.to_numpy(), expected, atol=1e-12)
    # Column averages (over all rows, diagonal included): lower is better.
    np.testing.assert_allclose(P.mean(axis=0).to_numpy(), [4 / 9, 0.0, 1 / 3])


def test_significance_follows_the_t_threshold():
    # Differences d with mean 0.01 over 5 seeds: t = sqrt(5) * 0.01 / sd(d).
    # d_small has t ~ 3.7 > 2.776 (a win); d_large has t ~ 0.9 (no win).
    d_small = np.array([0.005, 0.015, 0.01, 0.017, 0.003])
    d_large = np.array([-0.01, 0.03, 0.01, 0.04, -0.02])
    for d in (d_small, d_large):
        assert d.mean() == pytest.approx(0.01)
    t_small = np.sqrt(5) * d_small.mean() / d_small.std(ddof=1)
    t_large = np.sqrt(5) * d_large.mean() / d_large.std(ddof=1)
    assert t_small > 2.776 > t_large > 0
    noise = {"random": [0.0] * 5, "a": list(d_small), "b": list(d_large)}
    table = _table({"random": RANDOM, "a": RANDOM, "b": RANDOM}, noise=noise)
    P = penalty_matrix(table)
    assert P.loc["a", "random"] == pytest.approx(1.0)  # all 3 checkpoints
    assert P.loc["b", "random"] == 0.0
    assert P.loc["random", "a"] == 0.0 and P.loc["random", "b"] == 0.0
    # a - b = d_small - d_large: t ~ 0.04, no win either way.
    assert P.loc["a", "b"] == 0.0 and P.loc["b", "a"] == 0.0
    # With alpha = 0.5 the threshold drops to 0.741 and b beats random too.
    assert penalty_matrix(table, alpha=0.5).loc["b", "random"] == pytest.approx(1.0)


def test_threshold_depends_on_the_number_of_seeds():
    # Three seeds: threshold t.ppf(0.975, 2) = 4.303. d gives t = 3.46: a win with
    # five seeds' threshold, but not with three.
    d = np.array([0.01, 0.02, 0.03])
    t = np.sqrt(3) * d.mean() / d.std(ddof=1)
    assert 2.776 < t < t_threshold(3)
    table = _table(
        {"random": RANDOM, "a": RANDOM}, seeds=3, noise={"random": [0.0] * 3, "a": list(d)}
    )
    assert penalty_matrix(table).loc["a", "random"] == 0.0
    d4 = np.array([0.01, 0.02, 0.03, 0.02])
    assert np.sqrt(4) * d4.mean() / d4.std(ddof=1) > t_threshold(4)
    table4 = _table(
        {"random": RANDOM, "a": RANDOM}, seeds=4, noise={"random": [0.0] * 4, "a": list(d4)}
    )
    assert penalty_matrix(table4).loc["a", "random"] == pytest.approx(1.0)


def test_zero_variance_constant_gap_is_a_win_and_equal_scores_a_tie():
    table = _table({"random": RANDOM, "same": RANDOM, "above": [s + 0.02 for s in RANDOM]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division-by-zero or NaN warning
        P = penalty_matrix(table)
    assert not P.isna().any().any()
    assert P.loc["above", "random"] == pytest.approx(1.0)
    assert P.loc["above", "same"] == pytest.approx(1.0)
    assert P.loc["same", "random"] == 0.0 and P.loc["random", "same"] == 0.0


def test_floating_point_noise_is_a_tie_and_survives_the_csv(tmp_path):
    # "twin" scores what random scores, but for the last bit at most seeds (the same
    # sum taken in another order): a constant gap of one ulp was counted as a win at
    # every checkpoint, and the report redrawn from results.csv (ten significant
    # digits) then said the opposite of the run's own.
    rng = np.random.default_rng(0)
    rows = []
    for seed in range(5):
        for rnd, (n, base) in enumerate(zip(BUDGETS, RANDOM)):
            score = base + 0.01 * rng.normal()
            rows.append(("random", seed, rnd, n, score))
            rows.append(("twin", seed, rnd, n, np.nextafter(score, 2.0) if seed else score))
    table = pd.DataFrame(rows, columns=["strategy", "seed", "round", "n_labeled", "score"])
    P = penalty_matrix(table)
    assert P.to_numpy().sum() == 0.0
    save_results(table, tmp_path / "results.csv")
    pd.testing.assert_frame_equal(penalty_matrix(load_results(tmp_path / "results.csv")), P)


def _reference_matrix(table, alpha=0.05):
    """The paper's matrix from its definition, with scipy's paired t test."""
    names = list(pd.unique(table["strategy"]))
    checkpoints = penalty_checkpoints(table)
    P = pd.DataFrame(0.0, index=names, columns=names)
    for budget in checkpoints:
        at = table[(table["n_labeled"] == budget) & table["score"].notna()]
        for i in names:
            for j in names:
                e_i = at[at["strategy"] == i].set_index("seed")["score"]
                e_j = at[at["strategy"] == j].set_index("seed")["score"]
                seeds = sorted(set(e_i.index) & set(e_j.index))
                if i == j or len(seeds) < 2:
                    continue
                result = stats.ttest_rel(e_i[seeds], e_j[seeds])
                if result.statistic > 0 and result.pvalue < alpha:
                    P.loc[i, j] += 1 / len(checkpoints)
    return P


def test_matrix_matches_scipy_paired_t_tests_with_uneven_seeds_and_holes():
    rng = np.random.default_rng(1)
    for _ in range(20):
        rows = []
        for name in ("random", "a", "b", "c"):
            shift = rng.normal(0.0, 0.01)
            # Seeds differ in number between strategies, and some scores are missing.
            for seed in rng.choice(8, size=rng.integers(2, 8), replace=False):
                for rnd, n in enumerate(range(10, 210, 10)):
                    score = 1 - 0.8 * np.exp(-n / 40) + shift + rng.normal(0.0, 0.01)
                    rows.append((name, seed, rnd, n, np.nan if rng.random() < 0.05 else score))
        table = pd.DataFrame(rows, columns=["strategy", "seed", "round", "n_labeled", "score"])
        expected = _reference_matrix(table)
        got = penalty_matrix(table)
        np.testing.assert_allclose(got.loc[expected.index, expected.columns], expected)


def test_aggregation_over_experiments_sums_matrices():
    noise = {name: SEED_NOISE for name in ("random", "good")}
    one = _table({"random": RANDOM, "good": [s + 0.05 for s in RANDOM]}, noise=noise)
    # Second experiment: "good" only wins at the first of its checkpoints.
    other_good = list(RANDOM)
    other_good[1] += 0.05
    two = _table({"random": RANDOM, "good": other_good}, noise=noise)
    expected = np.array([[0.0, 0.0], [1.0 + 1 / 3, 0.0]])
    for results in ([one, two], {"mnist": one, "svhn": two}):
        np.testing.assert_allclose(penalty_matrix(results).to_numpy(), expected)
    stacked = pd.concat([one.assign(experiment="a"), two.assign(experiment="b")])
    np.testing.assert_allclose(penalty_matrix(stacked, experiment="experiment"), expected)


def test_pairs_use_common_seeds_and_missing_strategies():
    # "late" only ran seeds 0-2 (3 common seeds with random): threshold 4.303.
    table = _table(
        {"random": RANDOM, "late": [s + 0.05 for s in RANDOM]},
        noise={"random": SEED_NOISE, "late": SEED_NOISE},
    )
    table = table[~((table["strategy"] == "late") & (table["seed"] >= 3))]
    P = penalty_matrix(table)
    assert P.loc["late", "random"] == pytest.approx(1.0)  # constant gap
    # A strategy present in one experiment only keeps its row and column.
    other = _table({"random": RANDOM, "extra": RANDOM})
    P2 = penalty_matrix([table, other])
    assert list(P2.index) == ["random", "late", "extra"]
    assert P2.loc["extra"].sum() == 0.0


def test_missing_scores_count_as_seeds_not_run():
    # A NaN score (a run that failed, a cell erased by hand) drops that seed from the
    # pairs it is in; it does not cancel the whole comparison at that checkpoint.
    table = _table(
        {"random": RANDOM, "late": [s + 0.05 for s in RANDOM]},
        noise={"random": SEED_NOISE, "late": SEED_NOISE},
    )
    expected = penalty_matrix(table)
    assert expected.loc["late", "random"] == pytest.approx(1.0)
    holed = table.copy()
    holed.loc[(holed["strategy"] == "late") & (holed["seed"] == 0), "score"] = np.nan
    pd.testing.assert_frame_equal(penalty_matrix(holed), expected)
    # The reference's last budget without any score: its curve ends a budget earlier.
    cut = table.copy()
    cut.loc[(cut["strategy"] == "random") & (cut["n_labeled"] == 100), "score"] = np.nan
    assert penalty_checkpoints(cut) == penalty_checkpoints(table)
    empty = table.assign(score=np.where(table["strategy"] == "random", np.nan, table["score"]))
    with pytest.raises(ValueError, match="no score"):
        penalty_checkpoints(empty)


def test_penalty_matrix_errors():
    table = _table({"random": RANDOM, "a": RANDOM})
    with pytest.raises(ValueError, match="reference strategy 'bait'"):
        penalty_matrix(table, reference="bait")
    with pytest.raises(ValueError, match="lacks the column"):
        penalty_matrix(table.drop(columns="score"))
    with pytest.raises(TypeError, match="DataFrame"):
        penalty_matrix(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="no column"):
        penalty_matrix(table, experiment="dataset")
    with pytest.raises(ValueError, match="tolerance"):
        penalty_checkpoints(table, tolerance=-1)


def test_a_single_seed_is_refused_not_a_matrix_of_zeros():
    # One seed leaves no t test: every entry was 0, as if no strategy ever beat another.
    table = _table({"random": RANDOM, "good": [s + 0.05 for s in RANDOM]}, seeds=1)
    with pytest.raises(ValueError, match=r"at least 2 seeds.*has 1 \(seed 0\).*seeds="):
        penalty_matrix(table)
    # In a list of experiments, the one with a single seed is named.
    two = _table({"random": RANDOM, "good": RANDOM}, seeds=2)
    with pytest.raises(ValueError, match=r"experiment 'svhn' has 1 \(seed 0\)"):
        penalty_matrix({"mnist": two, "svhn": table})


def test_a_budget_that_cuts_the_last_batch_keeps_the_checkpoints_on_the_grid():
    # `skbait run --budget 205`: batches of 10 from 10 labels, the last batch cut to 5.
    # The batch size is the grid's first step, not its smallest: with 5 the checkpoint
    # 15 (not in the table) would count against every strategy.
    budgets = list(range(10, 210, 10)) + [205]
    random = list(np.linspace(0.3, 0.8, len(budgets) - 1)) + [0.9]
    good = [s + 0.05 for s in random]
    noise = {name: SEED_NOISE for name in ("random", "good")}
    table = _table({"random": random, "good": good}, noise=noise, budgets=budgets)
    assert penalty_checkpoints(table) == [20, 30, 50, 90, 170]
    P = penalty_matrix(table)
    assert P.loc["good", "random"] == pytest.approx(1.0)  # a win at every checkpoint
    assert P.loc["random", "good"] == 0.0


def test_checkpoints_off_the_grid_are_an_error():
    table = _table({"random": RANDOM, "a": RANDOM})
    # B = 4 puts checkpoints at 14, 18, 26, 42 and 74: budgets the table never reached.
    pattern = r"checkpoint\(s\) \[14, 18, 26, 42, 74\] are not labeling budgets"
    with pytest.raises(ValueError, match=pattern):
        penalty_matrix(table, batch_size=4)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(alpha=0.0), ValueError, r"alpha must be in \(0, 1\)"),
        (dict(alpha=float("nan")), ValueError, r"alpha must be in \(0, 1\)"),
        (dict(tolerance=float("nan")), ValueError, "tolerance must be a non-negative number"),
        (dict(reference=0), TypeError, "reference must be a strategy label"),
        (dict(batch_size=0), ValueError, "batch_size must be None or an integer >= 1"),
        (dict(n_initial=-1), ValueError, "n_initial must be None or an integer >= 0"),
        (dict(batch_size=2.5), ValueError, "batch_size must be None or an integer >= 1"),
    ],
)
def test_penalty_options_are_checked_up_front(kwargs, error, match):
    # Checked before any computation, even where an option would never be used (alpha
    # with constant gaps, whose t statistic is infinite).
    table = _table({"random": RANDOM, "a": [s + 0.02 for s in RANDOM]})
    with pytest.raises(error, match=match):
        penalty_matrix(table, **kwargs)
