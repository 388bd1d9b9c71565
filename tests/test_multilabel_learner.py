"""Multi-label targets in ActiveLearner: the y forms, the models, the baselines, the scores."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_multilabel_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, f1_score, hamming_loss
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import ClassifierChain, MultiOutputClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.svm import LinearSVC

from skbait import ActiveLearner, get_strategy_tags
from skbait.evaluation import MULTILABEL_COLUMNS, compare_strategies, load_results, save_results
from skbait.evaluation._report import multilabel_table
from skbait.strategies import (
    BAIT,
    MultiLabelBAIT,
    available_strategies,
    make_strategy,
    multilabel_badge_select,
    predict_label_probabilities,
)
from skbait.strategies._multilabel import multilabel_uncertainty_scores
from skbait.utils._multilabel import (
    format_label_sets,
    is_multilabel_target,
    label_probabilities,
    multilabel_scores,
    parse_label_sets,
    read_label_sets,
)

NAMES = np.array(["arts", "politics", "science", "sports"])


@pytest.fixture(scope="module")
def data():
    X, Y = make_multilabel_classification(
        n_samples=260, n_features=6, n_classes=4, n_labels=2, random_state=0
    )
    # Every label present and absent in the first rows, so that every model can fit them.
    return X / X.std(axis=0), Y


def _ovr():
    return OneVsRestClassifier(LogisticRegression(solver="liblinear"))


def _forms(Y):
    sets = [set(NAMES[row.astype(bool)]) for row in Y]
    frame = pd.DataFrame(Y, columns=NAMES)
    return {
        "array": (Y, np.arange(Y.shape[1])),
        "sparse": (sp.csr_matrix(Y), np.arange(Y.shape[1])),
        "sets": (sets, NAMES),
        "frame": (frame, NAMES),
        "float": (Y.astype(float), np.arange(Y.shape[1])),
    }


@pytest.mark.parametrize("form", ["array", "sparse", "sets", "frame", "float"])
def test_every_form_gives_the_same_run(data, form):
    X, Y = data
    y, classes = _forms(Y)[form]
    args = dict(n_initial=20, batch_size=10, budget=50, random_state=0)
    reference = ActiveLearner(_ovr(), **args).fit(X[:200], Y[:200])
    y_pool = y[:200] if not isinstance(y, pd.DataFrame) else y.iloc[:200]
    al = ActiveLearner(_ovr(), **args).fit(X[:200], y_pool)
    assert isinstance(al.query_strategy_, MultiLabelBAIT)
    assert al.labeled_indices_.tolist() == reference.labeled_indices_.tolist()
    assert al.classes_.tolist() == classes.tolist()
    np.testing.assert_array_equal(al.y_[al.labeled_indices_], Y[al.labeled_indices_])


def test_real_labeling_reads_missing_rows_and_teaches_label_sets(data):
    X, Y = data
    sets = [set(NAMES[row.astype(bool)]) for row in Y[:100]]
    partial = sets[:30] + [None] * 70
    al = ActiveLearner(_ovr(), classes=NAMES, batch_size=5).fit(X[:100], partial)
    assert al.labeled_indices_.tolist() == list(range(30))
    idx = al.query()
    assert np.all(idx >= 30) and len(idx) == 5
    al.teach(y=[sets[i] for i in idx], indices=idx)
    assert al.labeled_indices_.tolist() == list(range(30)) + idx.tolist()
    np.testing.assert_array_equal(al.y_[idx], Y[idx])
    # New rows with their label sets; an empty set is a row with no label.
    al.teach(X[100:102], [{"arts"}, set()])
    np.testing.assert_array_equal(al.y_[-2:], [[1, 0, 0, 0], [0, 0, 0, 0]])
    proba = al.predict_proba(X[:5])
    assert proba.shape == (5, 4)
    np.testing.assert_allclose(proba, al.estimator_.predict_proba(X[:5]))
    assert 0.0 <= al.score(X[:50], sets[:50]) <= 1.0


def test_a_row_of_nan_is_unlabeled(data):
    X, Y = data
    y = Y[:60].astype(float)
    y[20:] = np.nan
    al = ActiveLearner(_ovr(), batch_size=3).fit(X[:60], y)
    assert al.labeled_indices_.tolist() == list(range(20))
    frame = pd.DataFrame(y, columns=NAMES)
    al = ActiveLearner(_ovr(), batch_size=3).fit(X[:60], frame)
    assert al.classes_.tolist() == NAMES.tolist()
    assert len(al.labeled_indices_) == 20


def test_a_row_of_the_missing_label_is_unlabeled(data):
    # missing_label=-1 marks the unlabeled rows of 0/1 columns too; they were
    # refused as "multilabel-indicator", a target the error said was supported.
    X, Y = data
    y = Y[:60].copy()
    y[20:] = -1
    al = ActiveLearner(_ovr(), batch_size=3, missing_label=-1).fit(X[:60], y)
    assert al.labeled_indices_.tolist() == list(range(20))
    assert al.classes_.tolist() == [0, 1, 2, 3]
    frame = pd.DataFrame(y, columns=NAMES)
    al = ActiveLearner(_ovr(), batch_size=3, missing_label=-1).fit(X[:60], frame)
    assert al.classes_.tolist() == NAMES.tolist()
    assert len(al.labeled_indices_) == 20
    y[20, 0] = 0
    with pytest.raises(ValueError, match="partly labeled"):
        ActiveLearner(_ovr(), missing_label=-1).fit(X[:60], y)
    # NaN beside the marker is ambiguous, as it is for one label per row.
    y = y.astype(float)
    y[20, 0], y[21] = -1, np.nan
    for form in (y, pd.DataFrame(y, columns=NAMES)):
        with pytest.raises(ValueError, match="ambiguous"):
            ActiveLearner(_ovr(), missing_label=-1).fit(X[:60], form)


def test_bad_multilabel_inputs_get_clear_errors(data):
    X, Y = data
    y = Y[:40].astype(float)
    y[5, 0] = np.nan
    with pytest.raises(ValueError, match="partly labeled"):
        ActiveLearner(_ovr()).fit(X[:40], y)
    with pytest.raises(ValueError, match="outside the declared labels"):
        ActiveLearner(_ovr(), classes=["a", "b"]).fit(X[:3], [{"a"}, {"c"}, None])
    with pytest.raises(ValueError, match="multi-label strategy"):
        ActiveLearner(_ovr(), query_strategy=BAIT(reg=2.0)).fit(X[:40], Y[:40])
    al = ActiveLearner(_ovr(), batch_size=2).fit(X[:40], list(Y[:20]) + [None] * 20)
    before = al.labeled_indices_.copy()
    with pytest.raises(ValueError, match=r"^teach\(\) got rows without a label set"):
        al.teach(y=[None, [0, 1, 0, 0]], indices=[25, 26])
    with pytest.raises(ValueError, match=r"^score\(\) got rows without a label set"):
        al.score(X[:2], [None, [0, 1, 0, 0]])
    with pytest.raises(ValueError, match="0 and 1"):
        al.teach(y=[[0, 2, 0, 0]], indices=[25])
    assert al.labeled_indices_.tolist() == before.tolist()
    with pytest.raises(ValueError, match="budget"):
        ActiveLearner(_ovr(), budget=30).fit(X[:40], list(Y[:20]) + [None] * 20)


def test_multiclass_multioutput_is_still_refused(data):
    X, _ = data
    y = np.random.RandomState(0).randint(0, 3, size=(40, 2))
    with pytest.raises(ValueError, match="Multi-output multiclass"):
        ActiveLearner(_ovr()).fit(X[:40], y)


@pytest.mark.parametrize("low, high", [(-1, 1), (0, 2)])
def test_label_columns_coded_other_than_0_1_say_to_recode_them(data, low, high):
    # Y coded -1/1 was called "multilabel-indicator" and refused as multi-output
    # multiclass classification.
    X, Y = data
    coded = np.where(Y == 1, high, low)
    with pytest.raises(ValueError, match=rf"values \[{low}, {high}\].*\(y == {high}\)") as info:
        ActiveLearner(_ovr(), budget=30).fit(X, coded)
    assert "multiclass" not in str(info.value)
    # The recoding it names is the target itself.
    recoded = (coded == high).astype(int)
    np.testing.assert_array_equal(recoded, Y)


@pytest.mark.parametrize(
    "model",
    [
        _ovr(),
        MultiOutputClassifier(LogisticRegression(solver="liblinear")),
        ClassifierChain(LogisticRegression(solver="liblinear"), random_state=0),
        MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0),
    ],
    ids=["ovr", "multioutput", "chain", "mlp"],
)
def test_every_multilabel_model_runs_with_bait(data, model):
    X, Y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        al = ActiveLearner(model, n_initial=40, batch_size=10, budget=60, random_state=0)
        al.fit(X[:200], Y[:200], eval_set=(X[200:], Y[200:]))
    assert len(al.labeled_indices_) == 60
    P = predict_label_probabilities(al.estimator_, X[:7])
    raw = al.estimator_.predict_proba(X[:7])
    expected = np.column_stack([p[:, 1] for p in raw]) if isinstance(raw, list) else raw
    np.testing.assert_allclose(P, expected)
    last = al.history_[-1]
    pred = al.estimator_.predict(X[200:])
    assert last["eval_f1_micro"] == pytest.approx(f1_score(Y[200:], pred, average="micro"))
    assert last["eval_hamming_loss"] == pytest.approx(hamming_loss(Y[200:], pred))
    # Average precision from the probabilities, one label at a time, as sklearn ranks them.
    P_eval = predict_label_probabilities(al.estimator_, X[200:])
    by_label = [average_precision_score(Y[200:, j], P_eval[:, j]) for j in range(Y.shape[1])]
    assert last["eval_average_precision"] == pytest.approx(np.mean(by_label))


def test_a_model_without_probabilities_has_no_average_precision(data):
    X, Y = data
    model = OneVsRestClassifier(LinearSVC())
    al = ActiveLearner(model, query_strategy="random", n_initial=40, batch_size=10, budget=50)
    al.fit(X[:200], Y[:200], eval_set=(X[200:], Y[200:]))
    assert np.isnan(al.history_[-1]["eval_average_precision"])
    assert 0 <= al.history_[-1]["eval_f1_micro"] <= 1
    results = compare_strategies(
        model,
        X[:200],
        Y[:200],
        X[200:],
        Y[200:],
        strategies=["random"],
        seeds=1,
        n_initial=40,
        batch_size=10,
        budget=50,
        verbose=0,
    )
    # The report's table leaves the empty column out, and keeps the others.
    assert list(multilabel_table(results).columns) == list(MULTILABEL_COLUMNS[:4])


def test_a_skorch_net_with_a_sigmoid_head():
    torch = pytest.importorskip("torch")
    skorch = pytest.importorskip("skorch")
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(5, 8)
            self.out = nn.Linear(8, 3)

        def forward(self, X):
            return self.out(torch.relu(self.hidden(X)))

    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 5)).astype(np.float32)
    Y = (X[:, :3] + 0.3 * rng.normal(size=(120, 3)) > 0).astype(int)
    net = skorch.NeuralNetClassifier(
        Net,
        criterion=nn.BCEWithLogitsLoss,
        predict_nonlinearity=torch.sigmoid,
        max_epochs=3,
        train_split=None,
        verbose=0,
    )
    al = ActiveLearner(net, n_initial=30, batch_size=10, budget=50, random_state=0)
    al.fit(X[:100], Y[:100], eval_set=(X[100:], Y[100:]))
    assert len(al.labeled_indices_) == 50
    assert 0.0 <= al.history_[-1]["eval_f1_micro"] <= 1.0
    assert al.predict_proba(X[:4]).shape == (4, 3)


@pytest.mark.parametrize(
    "settings, outputs, needle",
    [
        # A softmax over the labels, read as each label's probability, without a word.
        ({"criterion": "CrossEntropyLoss"}, 3, "trained with CrossEntropyLoss"),
        ({"predict_nonlinearity": "auto"}, 3, "predict_nonlinearity='auto'"),
        ({"predict_nonlinearity": None}, 3, "gives the logits"),
        ({}, 2, "another number of outputs than y has labels"),
    ],
    ids=["cross-entropy", "auto", "logits", "outputs"],
)
def test_a_skorch_net_that_cannot_learn_label_sets_is_told_how(settings, outputs, needle):
    torch = pytest.importorskip("torch")
    skorch = pytest.importorskip("skorch")
    from torch import nn

    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 5)).astype(np.float32)
    Y = (X[:, :3] > 0).astype(int)
    options = {"criterion": nn.BCEWithLogitsLoss, "predict_nonlinearity": torch.sigmoid}
    options.update(settings)
    if options["criterion"] == "CrossEntropyLoss":
        options["criterion"] = nn.CrossEntropyLoss
    net = skorch.NeuralNetClassifier(
        nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, outputs)),
        max_epochs=2,
        train_split=None,
        verbose=0,
        **options,
    )
    al = ActiveLearner(net, n_initial=20, batch_size=10, budget=30, random_state=0)
    with pytest.raises(ValueError, match=re.escape(needle)) as info:
        al.fit(X, Y)
    assert "criterion=torch.nn.BCEWithLogitsLoss, predict_nonlinearity=torch.sigmoid" in str(
        info.value
    )
    assert not hasattr(al, "estimator_")


@pytest.mark.parametrize("name", ["coreset", "random", "badge", "margin", "multilabel_min_margin"])
def test_baselines_serve_multilabel_targets(data, name):
    X, Y = data
    al = ActiveLearner(_ovr(), query_strategy=name, n_initial=20, batch_size=10, budget=40)
    al.fit(X[:200], Y[:200])
    assert len(set(al.labeled_indices_)) == 40
    assert get_strategy_tags(al.query_strategy_).multilabel


def test_tags_name_the_multilabel_strategies():
    names = ["coreset", "random", "multilabel_bait", "multilabel_badge", "multilabel_margin"]
    assert all(get_strategy_tags(make_strategy(n)).multilabel for n in names)
    for name in ["bait", "badge", "margin", "logdet", "entropy"]:
        assert not get_strategy_tags(make_strategy(name)).multilabel
    assert set(names) <= set(available_strategies())


def test_uncertainty_scores_are_the_margins():
    rng = np.random.RandomState(0)
    P = rng.uniform(size=(20, 5))
    margins = np.array([[abs(p - (1 - p)) for p in row] for row in P])
    np.testing.assert_allclose(multilabel_uncertainty_scores(P, "mean_margin"), -margins.mean(1))
    np.testing.assert_allclose(multilabel_uncertainty_scores(P, "min_margin"), -margins.min(1))


def test_uncertainty_strategy_takes_the_least_certain_rows(data):
    X, Y = data
    model = _ovr().fit(X[:40], Y[:40])
    idx = make_strategy("multilabel_min_margin").select(model, X, np.arange(40), 5)
    scores = multilabel_uncertainty_scores(model.predict_proba(X[40:]), "min_margin")
    assert sorted(idx - 40) == sorted(np.argsort(-scores, kind="stable")[:5])


def _dense_badge(Z, P, labeled, B, seed):
    """k-means++ on explicit gradient vectors (p - 1[p > 0.5]) (x) z, with the same draws."""
    rng = np.random.RandomState(seed)
    unl = np.setdiff1d(np.arange(len(Z)), labeled)
    G = np.stack([np.kron(P[i] - (P[i] > 0.5), Z[i]) for i in unl])
    chosen = [int(np.argmax((G * G).sum(1)))]
    d2 = np.full(len(unl), np.inf)
    for _ in range(1, B):
        d2 = np.minimum(d2, ((G - G[chosen[-1]]) ** 2).sum(1))
        d2[chosen] = 0.0
        cumulative = np.cumsum(d2)
        chosen.append(
            int(np.searchsorted(cumulative, rng.random_sample() * cumulative[-1], "right"))
        )
    return unl[chosen]


@pytest.mark.parametrize("seed", range(4))
def test_multilabel_badge_matches_explicit_gradients(seed):
    rng = np.random.RandomState(seed)
    Z = rng.normal(size=(50, 3))
    P = rng.uniform(size=(50, 4))
    labeled = np.arange(5)
    got = multilabel_badge_select(Z, P, labeled, 6, random_state=seed, device="cpu")
    assert got.tolist() == _dense_badge(Z, P, labeled, 6, seed).tolist()
    sparse = multilabel_badge_select(
        sp.csr_matrix(Z), P, labeled, 6, random_state=seed, device="cpu"
    )
    assert sparse.tolist() == got.tolist()


def test_compare_strategies_reports_the_multilabel_scores(data, tmp_path):
    X, Y = data
    results = compare_strategies(
        _ovr(),
        X[:200],
        Y[:200],
        X[200:],
        Y[200:],
        strategies=["bait", "random"],
        seeds=2,
        n_initial=20,
        batch_size=10,
        budget=40,
        verbose=0,
    )
    for column in MULTILABEL_COLUMNS:
        assert column in results.columns
    np.testing.assert_allclose(results["score"], results["f1_micro"])
    assert ((results["hamming_loss"] >= 0) & (results["hamming_loss"] <= 1)).all()
    path = tmp_path / "results.csv"
    save_results(results, path)
    assert load_results(path)["f1_macro"].dtype == np.float64


def test_read_label_sets_forms():
    sets = read_label_sets([("b", "a"), None, [], {"c"}], classes=["a", "b", "c"])
    assert sets.indicator.tolist() == [[1, 1, 0], [0, 0, 0], [0, 0, 0], [0, 0, 1]]
    assert sets.labeled.tolist() == [True, False, True, True]
    assert is_multilabel_target(pd.Series([{"a"}, None]))
    assert not is_multilabel_target(np.array([[0, 1, 2], [1, 0, 0]]))
    assert not is_multilabel_target(["a", "b"])
    with pytest.raises(ValueError, match="columns"):
        read_label_sets(np.eye(3), classes=["a", "b"])
    with pytest.raises(TypeError, match="set of labels"):
        read_label_sets([{"a"}, "b"])


def test_labels_of_numbers_and_text_keep_their_type_and_are_sorted_by_value():
    # numpy made 2024 the text "2024", and the binarizer then dropped the label 2024.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sets = read_label_sets([{2024, "news"}, {"news"}, {2024}, None])
    assert sets.classes.tolist() == [2024, "news"]
    assert sets.indicator.tolist() == [[1, 1], [0, 1], [1, 0], [0, 0]]
    declared = read_label_sets([{1}, {"a"}], classes=[1, "a"])
    assert declared.indicator.tolist() == [[1, 0], [0, 1]]
    # Numbers of several types (a numpy integer beside ints, a float) sort by value.
    assert read_label_sets([{2}, {np.int64(1)}, {1.5}]).classes.tolist() == [1, 1.5, 2]


def test_label_probabilities_reads_both_forms():
    raw = [np.array([[0.3, 0.7], [1.0, 0.0]]), np.array([[1.0], [1.0]])]
    np.testing.assert_allclose(label_probabilities(raw, 2), [[0.7, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(label_probabilities(np.array([[0.2, 0.9]]), 1), [[0.2, 0.9]])
    with pytest.raises(ValueError, match="outside"):
        label_probabilities(np.array([[1.5, 0.1]]), 1)
    with pytest.raises(ValueError, match="labels"):
        label_probabilities(np.array([[0.5, 0.1]]), 1, n_labels=3)


def test_multilabel_scores_are_sklearn_metrics():
    rng = np.random.RandomState(0)
    truth, pred = rng.randint(0, 2, size=(30, 4)), rng.randint(0, 2, size=(30, 4))
    scores = multilabel_scores(truth, sp.csr_matrix(pred))
    assert scores["f1_micro"] == pytest.approx(f1_score(truth, pred, average="micro"))
    assert scores["f1_macro"] == pytest.approx(f1_score(truth, pred, average="macro"))
    assert scores["subset_accuracy"] == pytest.approx(np.mean((truth == pred).all(1)))
    assert scores["hamming_loss"] == pytest.approx(np.mean(truth != pred))
    assert "average_precision" not in scores


def _average_precision_by_hand(truth, score):
    """Mean over the positives of the precision among the rows scored at least as high."""
    positives = np.flatnonzero(truth == 1)
    return np.mean([np.mean(truth[score >= score[i]] == 1) for i in positives])


def test_average_precision_is_the_mean_over_labels_where_it_is_defined():
    rng = np.random.RandomState(1)
    truth = rng.randint(0, 2, size=(40, 5))
    truth[:, 3] = 0  # no positive: average precision is undefined for this label
    truth[:, 4] = 1  # no negative: every ranking is perfect, so it says nothing
    score = rng.rand(40, 5)
    got = multilabel_scores(truth, truth, score)["average_precision"]
    by_hand = [_average_precision_by_hand(truth[:, j], score[:, j]) for j in range(3)]
    assert got == pytest.approx(np.mean(by_hand))
    # Only the order counts, not the scale or the 0.5 threshold.
    assert multilabel_scores(truth, truth, 0.1 * score)["average_precision"] == pytest.approx(got)
    assert multilabel_scores(truth, truth, sp.csr_matrix(score))["average_precision"] == got
    undefined = multilabel_scores(truth[:, 3:], truth[:, 3:], score[:, 3:])
    assert np.isnan(undefined["average_precision"])
    with pytest.raises(ValueError, match="must match the label matrix"):
        multilabel_scores(truth, truth, score[:, :4])


def test_label_strings_round_trip():
    sets = [{"sports", "politics"}, set(), None]
    text = format_label_sets(sets, sep=";")
    assert text == ["politics;sports", "", None]
    assert parse_label_sets(text, sep=";") == [
        frozenset(s) if s is not None else None for s in sets
    ]
    with pytest.raises(ValueError, match="separator"):
        format_label_sets([{"a|b"}])
    with pytest.raises(ValueError, match="sep"):
        parse_label_sets(["a"], sep="")


class _Sigmoids:
    """A stand-in multi-label model: fixed label probabilities, an argmax predict."""

    def __init__(self, P):
        self.P = P

    def predict_proba(self, X):
        return self.P[: len(X)]

    def predict(self, X):
        return np.argmax(self.P[: len(X)], axis=1)


def test_label_sets_come_from_probabilities_when_predict_takes_an_argmax():
    from skbait.strategies import predict_label_sets

    P = np.array([[0.9, 0.7, 0.1], [0.2, 0.4, 0.6]])
    np.testing.assert_array_equal(predict_label_sets(_Sigmoids(P), P), [[1, 1, 0], [0, 0, 1]])


def test_multilabel_strategies_need_probabilities_and_warn_when_all_are_certain():
    from skbait.strategies import MultiLabelBADGE, multilabel_strategy_name

    X = np.random.RandomState(0).normal(size=(20, 3))
    with pytest.raises(TypeError, match="predict_proba"):
        MultiLabelBAIT().select(object(), X, np.arange(5), 2)
    certain = _Sigmoids(np.tile([1.0, 0.0], (20, 1)))
    with pytest.warns(UserWarning, match="uniform random"):
        idx = MultiLabelBADGE(device="cpu").select(
            certain, X, np.arange(5), 3, random_state=0, embedding=lambda est, X: X
        )
    assert len(set(idx)) == 3 and np.all(idx >= 5)
    assert multilabel_strategy_name("BAIT") == "multilabel_bait"
    assert multilabel_strategy_name("coreset") == "coreset"


def test_utilities_are_the_chosen_rows_gains(data):
    X, Y = data
    model = _ovr().fit(X[:40], Y[:40])
    P = model.predict_proba(X)
    idx, gains = MultiLabelBAIT(reg=1.0, device="cpu", backward=False).select(
        model, X, np.arange(40), 3, return_utilities=True
    )
    import torch

    from skbait._fisher._multilabel import label_fisher_blocks
    from skbait.strategies._multilabel import _pool_fisher, _start

    Zt, Wt = torch.as_tensor(X), torch.as_tensor(P * (1 - P))
    mask = np.zeros(len(X), dtype=bool)
    mask[:40] = True
    M0, scale = _start(Zt, Wt, mask, 3, 40, 1.0)
    F = _pool_fisher(Zt, Wt, "pool")
    M = M0.clone()
    for i, gain in zip(idx, gains):
        before = float(torch.linalg.solve(M, F).diagonal(dim1=1, dim2=2).sum())
        M = M + label_fisher_blocks(Zt[[i]], Wt[[i]], scale)
        after = float(torch.linalg.solve(M, F).diagonal(dim1=1, dim2=2).sum())
        assert gain == pytest.approx(before - after, rel=1e-8)


def test_label_set_readers_refuse_what_they_cannot_read():
    with pytest.raises(ValueError, match="0 and 1"):
        read_label_sets(pd.DataFrame({"a": [0, 2], "b": [1, 0]}))
    with pytest.raises(ValueError, match=r"not the labels \['a', 'b'\] \(missing \['a'\]; "):
        read_label_sets(pd.DataFrame({"c": [0, 1], "b": [1, 0]}), classes=["a", "b"])
    with pytest.raises(ValueError, match=r"extra \['x'\]; repeated \['b'\]"):
        read_label_sets(pd.DataFrame([[0, 1, 1]], columns=["b", "x", "b"]), classes=["a", "b"])
    with pytest.raises(ValueError, match="None or NaN"):
        read_label_sets([{"a", None}, {"b"}])
    with pytest.raises(ValueError, match="no label at all"):
        read_label_sets([set(), None])
    with pytest.raises(ValueError, match="indicator rows"):
        read_label_sets([[0, 3], [1, 0]])
    # A campaign's cell among label sets: the error names the function that splits it.
    with pytest.raises(TypeError, match=r"parse_label_sets\(y, sep=\.\.\.\)"):
        read_label_sets([{"a"}, "a|b", None])
    with pytest.raises(
        TypeError,
        match=r"a set of labels \(a set, tuple or list; None for a row "
        r"not labeled yet\)\.$",
    ):
        read_label_sets([{"a"}, "a", None])
    assert is_multilabel_target(sp.csr_matrix(np.eye(3)))
    assert not is_multilabel_target(pd.DataFrame({"a": ["x", "y"], "b": ["z", "w"]}))
    assert not is_multilabel_target([]) and not is_multilabel_target([None, None])
    assert read_label_sets(sp.csr_matrix(np.eye(3))).labeled.all()
    with pytest.raises(ValueError, match=r"\(n_samples=2, 2\)"):
        label_probabilities([np.zeros((2, 3))], 2)
    with pytest.raises(ValueError, match="n_labels"):
        label_probabilities(np.zeros(2), 2)
    with pytest.raises(TypeError, match="strings"):
        parse_label_sets([3])
    assert parse_label_sets([float("nan")]) == [None]


def test_label_set_columns_in_another_order_are_read_by_name(data):
    # The same labels in another order were refused ("classes differ from y's columns"),
    # where the learner reorders shuffled DataFrame columns of X.
    frame = pd.DataFrame({"b": [0, 1], "a": [1, 1]})
    sets = read_label_sets(frame, classes=["a", "b"])
    assert sets.classes.tolist() == ["a", "b"]
    assert sets.indicator.tolist() == [[1, 0], [1, 1]]
    X, Y = data
    al = ActiveLearner(_ovr(), batch_size=3).fit(X[:60], pd.DataFrame(Y[:60], columns=NAMES))
    shuffled = pd.DataFrame(Y[60:62], columns=NAMES)[NAMES[::-1]]
    al.teach(X[60:62], shuffled)
    np.testing.assert_array_equal(al.y_[-2:], Y[60:62])
    expected = al.score(X[:50], pd.DataFrame(Y[:50], columns=NAMES))
    assert al.score(X[:50], pd.DataFrame(Y[:50], columns=NAMES)[NAMES[::-1]]) == expected
    other = pd.DataFrame(Y[:1], columns=["arts", "politics", "science", "music"])
    with pytest.raises(ValueError, match=r"missing \['sports'\]; extra \['music'\]"):
        al.score(X[:1], other)


def test_labeled_data_gives_the_indicator_whatever_the_form(data):
    # As its docstring says: the 0/1 indicator over classes_, not the label sets given.
    X, Y = data
    sets = [set(NAMES[row.astype(bool)]) for row in Y[:30]] + [None] * 30
    al = ActiveLearner(_ovr(), batch_size=3).fit(pd.DataFrame(X[:60]), sets)
    X_lab, y_lab = al.labeled_data()
    assert isinstance(X_lab, pd.DataFrame) and X_lab.index.tolist() == list(range(30))
    assert isinstance(y_lab, np.ndarray) and y_lab.dtype == np.int64
    np.testing.assert_array_equal(y_lab, Y[:30])
    assert set(al.classes_[y_lab[0] == 1]) == sets[0]


def test_resume_continues_a_multilabel_simulation_as_one_run(data):
    X, Y = data
    sets = [set(NAMES[row.astype(bool)]) for row in Y[:200]]
    args = dict(n_initial=20, batch_size=10, random_state=0)
    whole = ActiveLearner(_ovr(), budget=50, **args).fit(X[:200], sets)
    part = ActiveLearner(_ovr(), budget=30, **args).fit(X[:200], sets)
    part.set_params(budget=50).resume(X[:200], sets)
    assert part.labeled_indices_.tolist() == whole.labeled_indices_.tolist()


@pytest.mark.parametrize("form", ["array", "frame"])
def test_a_cold_start_of_label_sets_takes_its_first_labels(data, form):
    X, Y = data
    blank = np.full((60, 4), np.nan)
    y = blank if form == "array" else pd.DataFrame(blank, columns=NAMES)
    al = ActiveLearner(_ovr(), batch_size=8).fit(X[:60], y)
    classes = np.arange(4) if form == "array" else NAMES
    assert al.classes_.tolist() == classes.tolist()
    idx = al.query()
    al.teach(y=Y[idx], indices=idx)
    np.testing.assert_array_equal(al.y_[idx], Y[idx])
    assert al.predict_proba(X[:3]).shape == (3, 4)
    assert len(al.query()) == 8


def test_label_sets_taught_after_a_single_label_cold_start_say_how_to_start(data):
    # A list of None is one label per row; the label sets taught then failed in
    # scikit-learn's fit with "Unknown label type: unknown".
    X, _ = data
    al = ActiveLearner(_ovr(), batch_size=4).fit(X[:60], [None] * 60)
    idx = al.query()
    with pytest.raises(ValueError, match=r"label sets.*np\.full") as info:
        al.teach(y=[{"arts"}, set(), {"arts", "sports"}, {"science"}], indices=idx)
    assert "Unknown label type" not in str(info.value)
    assert al.labeled_indices_.size == 0


@pytest.mark.parametrize(
    "model",
    [RandomForestClassifier(n_estimators=5, random_state=0), KNeighborsClassifier(3)],
    ids=["forest", "knn"],
)
def test_a_label_every_labeled_row_has_gets_probability_one(data, model):
    # Native multi-label models give such a label an (n, 1) column: the probability of 1.
    X, Y = data
    Y = Y.copy()
    Y[:, 1], Y[:, 2] = 1, 0
    sets = [set(NAMES[row.astype(bool)]) for row in Y[:30]] + [None] * 30
    al = ActiveLearner(model, classes=NAMES, batch_size=5).fit(X[:60], sets)
    np.testing.assert_array_equal(al.predict(X[:4])[:, 1:3], [[1, 0]] * 4)
    np.testing.assert_array_equal(al.predict_proba(X[:4])[:, 1:3], [[1.0, 0.0]] * 4)
    raw = [np.array([[0.3, 0.7]]), np.array([[1.0]]), np.array([[1.0]])]
    P = label_probabilities(raw, 1, output_classes=[[0, 1], [1], [0]])
    np.testing.assert_allclose(P, [[0.7, 1.0, 0.0]])


@pytest.mark.parametrize(
    "model",
    [_ovr(), MLPClassifier(hidden_layer_sizes=(4,), max_iter=300, random_state=0)],
    ids=["ovr", "mlp"],
)
def test_one_label_is_a_target_of_label_sets_too(data, model):
    # These models learn one indicator column as a binary target: (n,) predictions and
    # (n, 2) probabilities, read as the label's column.
    X, Y = data
    sets = [{"sports"} if row[0] else set() for row in Y[:100]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        al = ActiveLearner(model, n_initial=20, batch_size=10, budget=40, random_state=0)
        al.fit(X[:80], sets[:80], eval_set=(X[80:100], sets[80:]))
    assert al.classes_.tolist() == ["sports"]
    pred, proba = al.predict(X[80:100]), al.predict_proba(X[80:100])
    assert pred.shape == proba.shape == (20, 1)
    np.testing.assert_allclose(proba[:, 0], al.estimator_.predict_proba(X[80:100])[:, 1])
    np.testing.assert_array_equal(pred[:, 0], al.estimator_.predict(X[80:100]))
    last = al.history_[-1]
    assert last["eval_f1_micro"] == pytest.approx(f1_score(Y[80:100, :1], pred, average="micro"))
    assert 0.0 <= last["train_score"] <= 1.0


@pytest.mark.parametrize(
    "model",
    [
        MultiOutputClassifier(LogisticRegression()),
        ClassifierChain(LogisticRegression(), random_state=0),
    ],
    ids=["multioutput", "chain"],
)
def test_a_model_per_label_refusing_a_constant_label_names_it(data, model):
    # The solver's own words ("only one class: 0") named no label and no way out.
    X, Y = data
    sets = [set(NAMES[row.astype(bool)]) - {"science"} | {"arts"} for row in Y[:20]]
    with pytest.raises(ValueError, match="refused to fit") as info:
        ActiveLearner(model, classes=NAMES).fit(X[:60], sets + [None] * 40)
    message = str(info.value)
    assert "['science'] are on no labeled row" in message, message
    assert "['arts'] are on every labeled row" in message and "OneVsRestClassifier" in message
    # Taught later, the refusal of the refit names it too, and the labels stay.
    al = ActiveLearner(model, classes=NAMES).fit(X[:60], [set(NAMES[r == 1]) for r in Y[:60]])
    with pytest.raises(ValueError, match="labels are kept") as info:
        al.retract(np.flatnonzero(Y[:60, 0] == 0))
    assert "['arts'] are on every labeled row" in str(info.value)


def test_a_label_fit_did_not_see_says_to_declare_the_labels(data):
    X, Y = data
    sets = [set(NAMES[row.astype(bool)]) for row in Y[:30]] + [None] * 30
    al = ActiveLearner(_ovr(), batch_size=3).fit(X[:60], sets)
    before = al.labeled_indices_.tolist()
    with pytest.raises(ValueError, match=r"\['health'\] that fit did not see.*classes="):
        al.teach(y=[{"health"}, set(), {"arts"}], indices=[40, 41, 42])
    assert al.labeled_indices_.tolist() == before


def test_an_eval_label_the_pool_lacks_says_to_declare_the_labels(data):
    # Not "or leave classes=None": the learner's classes were None already.
    X, Y = data
    sets = [set(NAMES[row.astype(bool)]) - {"sports"} for row in Y]
    eval_sets = [set(NAMES[row.astype(bool)]) for row in Y[200:]]
    al = ActiveLearner(_ovr(), n_initial=20, batch_size=10, budget=30)
    with pytest.raises(ValueError, match=r"eval_set.*\['sports'\].*classes=") as info:
        al.fit(X[:200], sets[:200], eval_set=(X[200:], eval_sets))
    assert "leave classes=None" not in str(info.value)
    declared = ActiveLearner(_ovr(), n_initial=20, batch_size=10, budget=30, classes=NAMES)
    declared.fit(X[:200], sets[:200], eval_set=(X[200:], eval_sets))
    assert declared.classes_.tolist() == NAMES.tolist()


@pytest.mark.parametrize("name", ["bait", "margin", "badge"])
def test_set_params_after_fit_gives_the_strategy_its_multilabel_form(data, name):
    # A name stands for its multi-label form at fit; set_params after fit must
    # read it the same way, not hand the single-label strategy a multi-label model.
    X, Y = data
    sets = list(Y[:30]) + [None] * 30
    al = ActiveLearner(_ovr(), batch_size=3, random_state=0).fit(X[:60], sets)
    al.set_params(query_strategy=name)
    expected = ActiveLearner(_ovr(), query_strategy=name, batch_size=3, random_state=0)
    expected.fit(X[:60], sets)
    assert type(al.query_strategy_) is type(expected.query_strategy_)
    np.testing.assert_array_equal(al.query(), expected.query())


def test_set_params_after_fit_refuses_a_single_label_strategy_and_changes_nothing(data):
    X, Y = data
    al = ActiveLearner(_ovr(), batch_size=3).fit(X[:60], list(Y[:30]) + [None] * 30)
    with pytest.raises(ValueError, match="multi-label strategy"):
        al.set_params(query_strategy=BAIT(reg=2.0))
    assert al.query_strategy == "bait"
    assert isinstance(al.query_strategy_, MultiLabelBAIT)


def test_nested_strategy_parameters_of_a_fitted_learner_are_the_multilabel_forms(data):
    # After a multi-label fit, "bait" is MultiLabelBAIT: query_strategy__<param>
    # reads and sets its parameters, not those of single-label BAIT.
    X, Y = data
    sets = list(Y[:30]) + [None] * 30
    al = ActiveLearner(_ovr(), batch_size=3, random_state=0).fit(X[:60], sets)
    params = al.get_params()
    assert params["query_strategy__objective"] == "trace"
    assert "query_strategy__candidates" not in params
    al.set_params(query_strategy__reg=2.0)
    assert isinstance(al.query_strategy, MultiLabelBAIT)
    assert al.query_strategy_.get_params() == MultiLabelBAIT(reg=2.0).get_params()
    expected = ActiveLearner(_ovr(), query_strategy=MultiLabelBAIT(reg=2.0), batch_size=3)
    expected.set_params(random_state=0).fit(X[:60], sets)
    np.testing.assert_array_equal(al.query(), expected.query())


@pytest.mark.parametrize("y", [[1, 2, 1], pd.Series([1, 2, 1]), (0.5, 1.5)])
def test_one_label_per_row_is_named_not_a_len_error(y):
    # A single-label column given where label sets belong failed on "object of type
    # 'int' has no len()": the message names the row and says what a row should be.
    with pytest.raises(TypeError, match=r"Row 0 of y is 1|Row 0 of y is 0.5") as info:
        read_label_sets(y)
    assert "set of labels" in str(info.value)


@pytest.mark.parametrize("y", [5, 2.5, None, "sports"])
def test_a_single_value_is_no_multi_label_target(y):
    with pytest.raises(TypeError, match=r"y must hold one label set per row.*got"):
        read_label_sets(y)
