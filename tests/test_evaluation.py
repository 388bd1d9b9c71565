"""skbait.evaluation: runs over strategies x seeds, the tidy table, summaries, CSV."""

import re
import warnings
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from skbait import embeddings
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
    write_report,
)
from skbait.evaluation._report import read_run_info
from skbait.strategies import UncertaintySampling, register_strategy
from skbait.strategies._registry import _FACTORIES

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


def test_regression_curves_in_a_regression_metric():
    # compare_strategies with scoring: every round's score is the scorer's, here the
    # negated mean absolute error of the model a learner of the same seed trains.
    from sklearn.datasets import make_regression
    from sklearn.linear_model import Ridge
    from sklearn.metrics import mean_absolute_error

    from skbait import ActiveLearner

    X, y = make_regression(n_samples=160, n_features=4, noise=5.0, random_state=0)
    X_pool, y_pool, X_test, y_test = X[:100], y[:100], X[100:], y[100:]
    results = compare_strategies(
        Ridge(),
        X_pool,
        y_pool,
        X_test,
        y_test,
        strategies=["bait", "random"],
        seeds=[0, 1],
        n_initial=5,
        batch_size=5,
        budget=20,
        n_jobs=1,
        verbose=0,
        scoring="neg_mean_absolute_error",
    )
    for (strategy, seed), run in results.groupby(["strategy", "seed"]):
        learner = ActiveLearner(
            Ridge(),
            query_strategy=strategy,
            n_initial=5,
            batch_size=5,
            budget=20,
            random_state=seed,
        ).fit(X_pool, y_pool)
        expected = -mean_absolute_error(y_test, learner.predict(X_test))
        assert run["score"].iloc[-1] == pytest.approx(expected)
        assert (run["score"] <= 0).all()
    assert set(summarize(results).index) == {"bait", "random"}


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


def test_initial_draw_is_shared_across_strategies(iris_split):
    # Round 0 trains on the same random draw for every strategy at a given seed, so
    # the scores are paired: identical at round 0, different across seeds. The train
    # score of round 0 is that of the model fitted on the draw: it tells the draws apart
    # where the test score might coincide.
    results = compare_strategies(
        LogisticRegression(max_iter=500),
        *iris_split,
        strategies=["random", "margin", "confidence"],
        seeds=4,
        n_initial=4,
        batch_size=5,
        budget=9,
        verbose=0,
    )
    first = results[results["round"] == 0]
    for column in ("score", "train_score"):
        by_seed = first.pivot(index="seed", columns="strategy", values=column)
        assert (by_seed.nunique(axis=1) == 1).all(), column
    draws = first[first["strategy"] == "random"][["score", "train_score"]]
    assert len(draws.drop_duplicates()) > 1, "every seed drew the same initial rows"


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


def test_registered_strategy_runs_in_worker_processes(iris_split):
    # A name registered in this process only: joblib's workers import skbait afresh.
    name = "test_margin_alias"
    register_strategy(name, lambda: UncertaintySampling(measure="margin"))
    try:
        kwargs = dict(
            strategies=[name, "margin"], seeds=2, n_initial=6, batch_size=5, budget=16, verbose=0
        )
        two = compare_strategies(LogisticRegression(max_iter=500), *iris_split, n_jobs=2, **kwargs)
        one = compare_strategies(LogisticRegression(max_iter=500), *iris_split, n_jobs=1, **kwargs)
    finally:
        _FACTORIES.pop(name)
    pd.testing.assert_frame_equal(two.drop(columns=TIMING), one.drop(columns=TIMING))
    alias, margin = (two[two["strategy"] == s].reset_index(drop=True) for s in (name, "margin"))
    pd.testing.assert_series_equal(alias["score"], margin["score"])


def test_registered_embedding_rule_applies_in_worker_processes(iris_split):
    # CoreSet on a registered embedding (only the first feature, scaled) chooses other
    # rows than on the input features; the workers must use the rule too.
    class FirstFeatureModel(LogisticRegression):
        pass

    def first_feature(estimator, X, proba):
        return np.asarray(X, dtype=float)[:, :1] * 10.0, None

    rules = list(embeddings._RULES)
    embeddings.register_embedding(FirstFeatureModel, first_feature)
    try:
        kwargs = dict(
            strategies=["coreset"], seeds=2, n_initial=6, batch_size=5, budget=26, verbose=0
        )
        one = compare_strategies(FirstFeatureModel(max_iter=500), *iris_split, n_jobs=1, **kwargs)
        two = compare_strategies(FirstFeatureModel(max_iter=500), *iris_split, n_jobs=2, **kwargs)
    finally:
        embeddings._RULES[:] = rules
    plain = compare_strategies(LogisticRegression(max_iter=500), *iris_split, **kwargs)
    assert not np.array_equal(one["score"], plain["score"]), "the rule changed nothing"
    pd.testing.assert_frame_equal(two.drop(columns=TIMING), one.drop(columns=TIMING))


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


def test_progress_bar_names_the_run_that_just_finished(iris_split, capsys, monkeypatch):
    # It named the run before it: the postfix was set after update() had drawn the bar.
    import tqdm.auto

    class EveryUpdate(tqdm.auto.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, mininterval=0, miniters=1, **kwargs)

    monkeypatch.setattr(tqdm.auto, "tqdm", EveryUpdate)
    compare_strategies(
        LogisticRegression(max_iter=500),
        *iris_split,
        strategies=["random", "confidence"],
        seeds=1,
        n_initial=6,
        batch_size=5,
        budget=11,
        n_jobs=1,
        verbose=1,
    )
    drawn = re.findall(r"(\d)/2 \[[^\]]*?(?:, last: (\w+))?\]", capsys.readouterr().err)
    finished = {"1": "random", "2": "confidence"}
    assert {done for done, _ in drawn} >= {"1", "2"}
    assert all(last == finished[done] for done, last in drawn if done != "0"), drawn


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(strategies=["random", "random"]), ValueError, "share the label"),
        (dict(strategies=[]), ValueError, "empty"),
        (dict(seeds=0), ValueError, "positive number of seeds"),
        (dict(seeds=[1, 1]), ValueError, "duplicates"),
        # Numbers in messages read as the user wrote them, not as np.int64(1).
        (dict(seeds=np.array([1, 1])), ValueError, r"duplicates: \[1, 1\]\.$"),
        (dict(seeds=np.array([0.5])), ValueError, r"list of integers, got \[0\.5\]\.$"),
        (dict(seeds=[0.5]), ValueError, "list of integers"),
        (dict(strategies=["no-such-strategy"]), ValueError, "Unknown query strategy"),
        (dict(batch_size=0), ValueError, "batch_size must be at least 1"),
        (dict(budget=2.5), TypeError, "budget must be an integer"),
        (dict(n_initial=True), TypeError, "n_initial must be an integer"),
        (dict(learner_params=[("warm_start", True)]), TypeError, "learner_params must be a dict"),
        (dict(learner_params={"budget": 5}), ValueError, r"learner_params sets \['budget'\]"),
        (dict(verbose="yes"), TypeError, "verbose must be an integer"),
    ],
)
def test_compare_strategies_errors(iris_split, kwargs, error, match):
    params = dict(strategies=["random"], seeds=1, n_initial=6, batch_size=5, budget=11, verbose=0)
    params.update(kwargs)
    with pytest.raises(error, match=match):
        compare_strategies(LogisticRegression(), *iris_split, **params)


@pytest.mark.parametrize(
    "seed, error, match",
    [
        # None ran the whole simulation, then failed in pandas: "int() argument must be
        # a string, a bytes-like object or a real number, not 'NoneType'".
        (None, TypeError, r"seed must be an integer, got None\."),
        ("a", TypeError, r"seed must be an integer, got 'a'\."),
        (1.0, TypeError, r"seed must be an integer, got 1\.0\."),
        (True, TypeError, r"seed must be an integer, got True\."),
        (-1, ValueError, r"seed must be in 0\.\.4294967295, got -1\."),
    ],
)
def test_run_experiment_refuses_what_is_not_a_seed(iris_split, seed, error, match):
    with pytest.raises(error, match=match):
        run_experiment(LogisticRegression(), "random", *iris_split, seed=seed, budget=11)


def test_compare_strategies_refuses_a_negative_seed_before_any_run(iris_split):
    # It reached the learner, whose message named random_state, not seeds.
    with pytest.raises(ValueError, match=r"seeds must be in 0\.\.4294967295, got \[0, -1\]"):
        compare_strategies(
            LogisticRegression(),
            *iris_split,
            strategies=["random"],
            seeds=[0, -1],
            budget=11,
            verbose=0,
        )


def test_a_test_set_the_model_refuses_is_named_by_the_arguments_given(iris_split):
    # Both errors spoke of eval_set, which the caller of compare_strategies never passed;
    # the first blamed the model's first fit and advised more rows.
    X_pool, y_pool, X_test, y_test = iris_split
    params = dict(strategies=["random"], seeds=1, n_initial=6, batch_size=5, budget=11, verbose=0)
    with pytest.raises(ValueError, match=r"X_test holds 75 rows but y_test 74 labels"):
        compare_strategies(LogisticRegression(), X_pool, y_pool, X_test, y_test[:-1], **params)
    with pytest.raises(ValueError, match=r"could not score the test set \(X_test, y_test\)"):
        compare_strategies(LogisticRegression(), X_pool, y_pool, X_test[:, :3], y_test, **params)


def test_run_experiment_takes_a_numpy_seed(iris_split):
    params = dict(n_initial=6, batch_size=5, budget=11)
    run = run_experiment(LogisticRegression(), "random", *iris_split, seed=np.int64(3), **params)
    assert run["seed"].tolist() == [3, 3]
    expected = run_experiment(LogisticRegression(), "random", *iris_split, seed=3, **params)
    pd.testing.assert_frame_equal(run.drop(columns=TIMING), expected.drop(columns=TIMING))


def test_learner_params_take_nested_parameters(iris_split):
    # The guide: a strategy parameter is a nested parameter in compare_strategies
    # too; learner_params went to ActiveLearner's constructor, which takes none.
    params = dict(strategies=["margin"], seeds=1, n_initial=6, batch_size=5, budget=16, verbose=0)
    nested = compare_strategies(
        LogisticRegression(),
        *iris_split,
        learner_params={"query_strategy__measure": "entropy", "estimator__C": 0.5},
        **params,
    )
    expected = compare_strategies(
        LogisticRegression(C=0.5),
        *iris_split,
        **{**params, "strategies": {"margin": UncertaintySampling(measure="entropy")}},
    )
    pd.testing.assert_frame_equal(nested.drop(columns=TIMING), expected.drop(columns=TIMING))


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


def test_a_failed_write_leaves_the_last_whole_table(small_results, tmp_path, monkeypatch):
    path = tmp_path / "results.csv"
    save_results(small_results, path)
    before = path.read_bytes()

    def write_half_then_fail(self, target, **kwargs):
        with open(target, "w") as handle:
            handle.write("strategy,seed\nrand")
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", write_half_then_fail)
    with pytest.raises(KeyboardInterrupt):
        save_results(small_results.assign(score=0.0), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv"]


def test_saving_into_a_missing_folder_names_the_path_given(small_results, tmp_path):
    # The error named the hidden temporary file: ".results.csv.tmp-127a6a6f".
    path = tmp_path / "missing" / "results.csv"
    with pytest.raises(FileNotFoundError, match=r"no folder .*missing.* create it") as info:
        save_results(small_results, path)
    assert info.value.filename == str(path)
    assert not (tmp_path / "missing").exists()


def test_csv_round_trip_keeps_labels_that_read_as_missing(hand_table, tmp_path, capsys):
    # pandas reads "NA", "None" and "nan" as missing values: a strategy label stays text.
    path = tmp_path / "results.csv"
    labels = hand_table.assign(strategy=hand_table["strategy"].map({"a": "NA", "b": "None"}))
    save_results(labels, path)
    loaded = load_results(path)
    assert list(pd.unique(loaded["strategy"])) == ["NA", "None"]
    assert list(summarize(loaded).index) == ["NA", "None"]
    # A row whose label was erased by hand is refused by name, not a KeyError later.
    text = path.read_text(encoding="utf-8").splitlines()
    text[1] = "," + text[1].split(",", 1)[1]
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="without a strategy label"):
        load_results(path)
    with pytest.raises(ValueError, match="without a strategy label"):
        summarize(hand_table.assign(strategy=[None] + ["a"] * (len(hand_table) - 1)))


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


def test_runs_ending_at_different_budgets_are_pointed_out(hand_table):
    # A run stopped early (a stopping criterion, a table merged by hand): its AUC
    # covers a shorter range and the final score averages the runs that got there.
    short = hand_table.drop(
        hand_table.index[(hand_table["strategy"] == "a") & (hand_table["seed"] == 1)][-1:]
    )
    with pytest.warns(UserWarning, match=r"'a' end at different budgets \(seed 1 at 20") as w:
        summary = summarize(short)
    assert w[0].filename == __file__  # the user's line, through summarize's own call
    assert summary.loc["a", "final_mean"] == pytest.approx(0.9)  # seed 0 alone
    with pytest.warns(UserWarning, match="'a' end at different budgets"):
        learning_curve_auc(short)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # equal runs, and a per-run table, say nothing
        summarize(hand_table)
        learning_curve_auc(short, per_seed=True)


def test_score_table_and_budgets(hand_table):
    assert exponential_budgets(10, 10, 300) == [20, 30, 50, 90, 170, 300]
    assert exponential_budgets(10, 10, 20) == [20]
    assert exponential_budgets(0, 1, 5) == [1, 2, 4, 5]
    table = score_table(hand_table)
    assert list(table.columns) == [20, 30]
    assert table.loc["a", 20] == "0.850 ± 0.050"
    assert score_table(hand_table, [10], decimals=1).loc["b", 10] == "0.6 ± 0.0"


@pytest.mark.parametrize(
    "args, error, match",
    [
        # A zero or negative step would never reach the budget: once these never returned.
        ((10, 0, 100), ValueError, "batch_size must be at least 1"),
        ((10, -5, 100), ValueError, "batch_size must be at least 1"),
        ((-1, 10, 100), ValueError, "n_initial must be at least 0"),
        ((10, 10, 10), ValueError, r"budget \(10\) must exceed n_initial \(10\)"),
        ((10, 2.5, 100), TypeError, "batch_size must be an integer"),
        ((10, True, 100), TypeError, "batch_size must be an integer"),
        ((10, 10, None), TypeError, "budget must be an integer"),
    ],
)
def test_exponential_budgets_rejects_bad_arguments(args, error, match):
    with pytest.raises(error, match=match):
        exponential_budgets(*args)


def test_summary_functions_check_their_options(hand_table):
    with pytest.raises(TypeError, match="budgets must be a list of integers"):
        learning_curves(hand_table, budgets=20)
    with pytest.raises(TypeError, match="budgets must be a list of integers"):
        score_table(hand_table, budgets=[20.5])
    with pytest.raises(ValueError, match="decimals must be a non-negative integer"):
        score_table(hand_table, decimals=-1)
    with pytest.raises(TypeError, match="`per_seed` must be True or False"):
        learning_curve_auc(hand_table, per_seed="yes")
    with pytest.raises(TypeError, match="label must be a string"):
        run_experiment(LogisticRegression(), "random", *[None] * 4, label=3)


def test_budgets_the_table_does_not_hold_are_named(hand_table):
    # A budget off the grid was dropped without a word: learning_curves gave an empty
    # table, score_table empty cells.
    grid = sorted(set(hand_table["n_labeled"]))
    listed = re.escape(str(grid))
    with pytest.raises(ValueError, match=rf"budgets \[25\] are not.*n_labeled: {listed}"):
        learning_curves(hand_table, budgets=[grid[0], 25])
    with pytest.raises(ValueError, match=r"budgets \[5, 25\] are not"):
        score_table(hand_table, budgets=[5, 25])
    assert learning_curves(hand_table, budgets=np.array(grid[:1]))["n_labeled"].unique() == [
        grid[0]
    ]


def test_summaries_reject_bad_tables():
    with pytest.raises(TypeError, match="DataFrame"):
        summarize([1, 2, 3])
    with pytest.raises(ValueError, match="empty"):
        learning_curves(pd.DataFrame(columns=["strategy", "seed", "n_labeled", "score"]))


# ------------------------------------------------------------------ the report


def test_write_report_keeps_its_info_and_says_why_there_is_no_matrix(hand_table, tmp_path):
    info = {"title": "hand", "details": [("data", "made by hand")], "command": "skbait run"}
    paths = write_report(hand_table, tmp_path, info=info)
    names = {Path(p).name for p in paths}
    assert {"summary.md", "run.json"} <= names
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("# skbait run: hand\n\n- **data**: made by hand\n")
    assert "(mean ± s.e. over 2 seeds)" in summary
    # No 'random' strategy: no matrix, and the summary says so.
    assert "needs a 'random' strategy" in summary
    assert "penalty_matrix.png" not in names
    assert summary.rstrip().endswith("Reproduce: `skbait run`")
    assert read_run_info(tmp_path) == {
        "title": "hand",
        "details": [("data", "made by hand")],
        "command": "skbait run",
    }


def test_write_report_removes_its_figures_from_an_earlier_run(hand_table, tmp_path):
    pytest.importorskip("matplotlib")
    # A first run with random sampling draws a penalty matrix ...
    first = hand_table.assign(strategy=hand_table["strategy"].replace({"a": "random"}))
    names = {Path(p).name for p in write_report(first, tmp_path)}
    assert "penalty_matrix.png" in names
    # ... which a later run into the same folder, without one, must not leave behind.
    names = {
        Path(p).name for p in write_report(hand_table.drop(columns="selection_seconds"), tmp_path)
    }
    assert names == {"learning_curves.png", "summary.md", "run.json"}
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["learning_curves.png"]


@pytest.mark.parametrize(
    "info, error, match",
    [
        ({"titel": "x"}, ValueError, r"unknown key\(s\) \['titel'\]"),
        ({"details": [1, 2]}, TypeError, r"list of \(name, value\) pairs"),
        ({"title": 3}, TypeError, "title and command must be strings"),
        ("title", TypeError, "info must be a dict or None"),
    ],
)
def test_write_report_rejects_bad_info(hand_table, tmp_path, info, error, match):
    with pytest.raises(error, match=match):
        write_report(hand_table, tmp_path, info=info)
    assert not (tmp_path / "summary.md").exists()


def test_read_run_info_rejects_a_foreign_file(tmp_path):
    assert read_run_info(tmp_path) is None
    (tmp_path / "run.json").write_text('{"title": "x", "colour": "red"}', encoding="utf-8")
    with pytest.raises(ValueError, match="not a run description written by skbait"):
        read_run_info(tmp_path)


def test_default_strategies_with_a_regressor_follow_the_tags():
    from sklearn.linear_model import Ridge

    from skbait.base import get_strategy_tags
    from skbait.evaluation import DEFAULT_STRATEGIES
    from skbait.strategies import make_strategy

    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    results = compare_strategies(
        Ridge(), X[:40], y[:40], X[40:], y[40:], seeds=1, n_initial=4, batch_size=4, budget=8
    )
    expected = [
        n for n in DEFAULT_STRATEGIES if not get_strategy_tags(make_strategy(n)).classifier_only
    ]
    assert expected == ["bait", "coreset", "random"]
    assert sorted(results["strategy"].unique()) == sorted(expected)


def _reference_auc(n_labeled, scores):
    """The area under one run's curve over its width, one trapezoid at a time."""
    points = sorted(zip(n_labeled, scores))
    area = sum((x1 - x0) * (y0 + y1) / 2 for (x0, y0), (x1, y1) in pairwise(points))
    return area / (points[-1][0] - points[0][0])


def _mean_sem(values):
    values = list(values)
    mean = sum(values) / len(values)
    sd = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5
    return mean, sd / len(values) ** 0.5


def test_summary_numbers_are_those_of_results_csv_with_a_short_last_batch(iris_split, tmp_path):
    # Budget 19 with batches of 5 from 6 labels: 6, 11, 16, then a last step of 3.
    results = compare_strategies(
        LogisticRegression(max_iter=500),
        *iris_split,
        strategies=["random", "margin"],
        seeds=3,
        n_initial=6,
        batch_size=5,
        budget=19,
        verbose=0,
    )
    save_results(results, tmp_path / "results.csv")
    write_report(results, tmp_path)
    saved = load_results(tmp_path / "results.csv")
    assert sorted(set(saved["n_labeled"])) == [6, 11, 16, 19]
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    rows = {}  # the score table's rows: the first of each name (the penalty matrix follows)
    for line in summary.splitlines():
        if line.startswith(("| random |", "| margin |")):
            rows.setdefault(line.split("|")[1].strip(), [c.strip() for c in line.split("|")[2:-1]])
    header = next(line for line in summary.splitlines() if line.startswith("| strategy |"))
    columns = [c.strip() for c in header.split("|")[2:-1]]
    assert columns == ["11", "16", "19", "AUC"]
    summary_auc = summarize(saved)
    for name in ("random", "margin"):
        runs = saved[saved["strategy"] == name]
        aucs = [
            _reference_auc(run["n_labeled"].tolist(), run["score"].tolist())
            for _, run in runs.groupby("seed")
        ]
        # Label-weighted, not the mean over rounds: the last step of 3 weighs 3/13.
        mean, sem = _mean_sem(aucs)
        assert summary_auc.loc[name, "auc_mean"] == pytest.approx(mean, abs=1e-12)
        assert summary_auc.loc[name, "auc_sem"] == pytest.approx(sem, abs=1e-12)
        assert rows[name][-1] == f"{mean:.3f} ± {sem:.3f}"
        for column, cell in zip(columns[:-1], rows[name]):
            at = runs[runs["n_labeled"] == int(column)]["score"]
            assert cell == "{:.3f} ± {:.3f}".format(*_mean_sem(at))
