"""skbait.evaluation: runs over strategies x seeds, the tidy table, summaries, CSV."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from skbait.evaluation import (
    COLUMNS,
    compare_strategies,
    exponential_budgets,
    learning_curve_auc,
    learning_curves,
    load_results,
    run_experiment,
    save_results,
    score_table,
    summarize,
)
from skbait.strategies import UncertaintySampling

TIMING = ["selection_seconds", "fit_seconds"]


@pytest.fixture(scope="module")
def iris_split():
    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)  # standardised: lbfgs converges fast
    return X[::2], y[::2], X[1::2], y[1::2]


@pytest.fixture(scope="module")
def small_results(iris_split):
    return compare_strategies(
        LogisticRegression(max_iter=500),
        *iris_split,
        strategies=["random", "margin", "confidence"],
        seeds=2,
        n_initial=6,
        batch_size=5,
        budget=21,
        verbose=0,
    )


def test_tidy_table_layout(small_results):
    res = small_results
    assert tuple(res.columns) == COLUMNS
    # 3 strategies x 2 seeds x rounds at 6, 11, 16, 21 labels.
    assert len(res) == 3 * 2 * 4
    assert list(pd.unique(res["strategy"])) == ["random", "margin", "confidence"]
    assert sorted(res["seed"].unique()) == [0, 1]
    assert sorted(res["n_labeled"].unique()) == [6, 11, 16, 21]
    for (_, _), run in res.groupby(["strategy", "seed"]):
        assert list(run["round"]) == [0, 1, 2, 3]
        # The last round chooses nothing: no selection time.
        assert np.isnan(run["selection_seconds"].iloc[-1])
        assert (run["selection_seconds"].iloc[:-1] >= 0).all()
    assert res["score"].between(0, 1).all()
    assert res["seed"].dtype == np.int64 and res["n_labeled"].dtype == np.int64


def test_initial_draw_is_shared_across_strategies(small_results):
    # Round 0 trains on the same random draw for every strategy at a given seed, so
    # the scores are paired: identical at round 0, different across seeds.
    first = small_results[small_results["round"] == 0].pivot(
        index="seed", columns="strategy", values="score"
    )
    assert (first.nunique(axis=1) == 1).all()


def test_reproducible_and_independent_of_n_jobs(iris_split, small_results):
    # Two worker processes, results collected in completion order: the same table.
    kwargs = dict(
        strategies=["margin", "random"], seeds=2, n_initial=6, batch_size=5, budget=21, verbose=0
    )
    again = compare_strategies(LogisticRegression(max_iter=500), *iris_split, n_jobs=2, **kwargs)
    expected = small_results[small_results["strategy"] != "confidence"]
    expected = pd.concat(
        [expected[expected["strategy"] == "margin"], expected[expected["strategy"] == "random"]],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(again.drop(columns=TIMING), expected.drop(columns=TIMING))


def test_estimator_random_state_follows_the_seed(iris_split):
    # An MLP with random_state=None is seeded by the run's seed: runs repeat exactly.
    mlp = MLPClassifier(hidden_layer_sizes=(8,), max_iter=50)
    kwargs = dict(seed=3, n_initial=6, batch_size=5, budget=16)
    one = run_experiment(mlp, "random", *iris_split, **kwargs)
    two = run_experiment(mlp, "random", *iris_split, **kwargs)
    pd.testing.assert_frame_equal(one.drop(columns=TIMING), two.drop(columns=TIMING))
    assert mlp.random_state is None  # the user's estimator is left alone


def test_strategy_instances_and_labels(iris_split):
    res = compare_strategies(
        LogisticRegression(max_iter=500),
        *iris_split,
        strategies={"lc": UncertaintySampling(), "ent": UncertaintySampling(measure="entropy")},
        seeds=[7],
        n_initial=6,
        batch_size=5,
        budget=11,
        verbose=0,
    )
    assert list(pd.unique(res["strategy"])) == ["lc", "ent"]
    assert list(res["seed"].unique()) == [7]
    unnamed = compare_strategies(
        LogisticRegression(max_iter=500),
        *iris_split,
        strategies=[UncertaintySampling()],
        seeds=1,
        n_initial=6,
        batch_size=5,
        budget=11,
        verbose=0,
    )
    assert set(unnamed["strategy"]) == {"UncertaintySampling"}


def test_progress_bar_on_stderr(iris_split, capsys):
    compare_strategies(
        LogisticRegression(max_iter=500),
        *iris_split,
        strategies=["random"],
        seeds=2,
        n_initial=6,
        batch_size=5,
        budget=11,
        verbose=1,
    )
    captured = capsys.readouterr()
    assert "2/2" in captured.err
    compare_strategies(
        LogisticRegression(max_iter=500),
        *iris_split,
        strategies=["random"],
        seeds=1,
        n_initial=6,
        batch_size=5,
        budget=11,
        verbose=0,
    )
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(strategies=["random", "random"]), ValueError, "share the label"),
        (dict(strategies=[]), ValueError, "empty"),
        (dict(seeds=0), ValueError, "positive number of seeds"),
        (dict(seeds=[1, 1]), ValueError, "duplicates"),
        (dict(seeds=[0.5]), ValueError, "list of integers"),
        (dict(strategies=["no-such-strategy"]), ValueError, "Unknown query strategy"),
    ],
)
def test_compare_strategies_errors(iris_split, kwargs, error, match):
    params = dict(strategies=["random"], seeds=1, n_initial=6, batch_size=5, budget=11, verbose=0)
    params.update(kwargs)
    with pytest.raises(error, match=match):
        compare_strategies(LogisticRegression(), *iris_split, **params)


def test_csv_round_trip(small_results, tmp_path):
    path = tmp_path / "results.csv"
    save_results(small_results, path)
    loaded = load_results(path)
    pd.testing.assert_frame_equal(loaded, small_results, check_dtype=False, rtol=1e-9)
    assert loaded["seed"].dtype == np.int64 and loaded["round"].dtype == np.int64
    # Numeric-looking strategy labels stay strings.
    odd = small_results.assign(strategy="1")
    save_results(odd, path)
    assert load_results(path)["strategy"].tolist() == ["1"] * len(odd)
    with pytest.raises(ValueError, match="lacks the column"):
        save_results(small_results.drop(columns="score"), path)


# ------------------------------------------------------------------ summaries


@pytest.fixture
def hand_table():
    # a: seeds give 0.5/0.7 at 10 and 0.8/0.9 at 20 and 0.9/0.9 at 30; b constant 0.6.
    rows = []
    for seed, scores in enumerate([[0.5, 0.8, 0.9], [0.7, 0.9, 0.9]]):
        for rnd, (n, s) in enumerate(zip([10, 20, 30], scores)):
            rows.append(("a", seed, rnd, n, s, 0.1 if rnd < 2 else np.nan))
            rows.append(("b", seed, rnd, n, 0.6, 0.3 if rnd < 2 else np.nan))
    return pd.DataFrame(
        rows, columns=["strategy", "seed", "round", "n_labeled", "score", "selection_seconds"]
    )


def test_learning_curves_mean_and_sem(hand_table):
    curves = learning_curves(hand_table)
    a = curves[curves["strategy"] == "a"]
    np.testing.assert_allclose(a["mean"], [0.6, 0.85, 0.9])
    np.testing.assert_allclose(a["sem"], [0.1, 0.05, 0.0], atol=1e-12)
    assert list(a["n_seeds"]) == [2, 2, 2]
    assert list(curves["strategy"].unique()) == ["a", "b"]
    assert list(learning_curves(hand_table, budgets=[20])["n_labeled"]) == [20, 20]


def test_auc_is_normalised_trapezoid(hand_table):
    per_seed = learning_curve_auc(hand_table, per_seed=True)
    a0 = per_seed[(per_seed["strategy"] == "a") & (per_seed["seed"] == 0)]["auc"].item()
    # Trapezoids: 10 * (0.5 + 0.8) / 2 + 10 * (0.8 + 0.9) / 2 = 15, over a width of 20.
    assert a0 == pytest.approx(0.75)
    auc = learning_curve_auc(hand_table)
    assert auc.loc["a", "auc_mean"] == pytest.approx((0.75 + 0.85) / 2)
    assert auc.loc["a", "auc_sem"] == pytest.approx(0.05)
    assert auc.loc["b", "auc_mean"] == pytest.approx(0.6)


def test_summarize(hand_table):
    summary = summarize(hand_table)
    assert list(summary.index) == ["a", "b"]
    assert summary.loc["a", "final_budget"] == 30
    assert summary.loc["a", "final_mean"] == pytest.approx(0.9)
    assert summary.loc["a", "selection_seconds"] == pytest.approx(0.1)
    assert summary.loc["b", "selection_seconds_total"] == pytest.approx(0.6)
    assert summary.loc["b", "n_seeds"] == 2


def test_score_table_and_budgets(hand_table):
    assert exponential_budgets(10, 10, 300) == [20, 30, 50, 90, 170, 300]
    assert exponential_budgets(10, 10, 20) == [20]
    table = score_table(hand_table)
    assert list(table.columns) == [20, 30]
    assert table.loc["a", 20] == "0.850 ± 0.050"
    assert score_table(hand_table, [10], decimals=1).loc["b", 10] == "0.6 ± 0.0"


def test_summaries_reject_bad_tables():
    with pytest.raises(TypeError, match="DataFrame"):
        summarize([1, 2, 3])
    with pytest.raises(ValueError, match="empty"):
        learning_curves(pd.DataFrame(columns=["strategy", "seed", "n_labeled", "score"]))
