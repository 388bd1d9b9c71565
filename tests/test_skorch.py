"""skorch networks in skbait: embeddings, probabilities, the learner, the GPU."""

import math
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

skorch = pytest.importorskip("skorch")
import torch  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from skorch import NeuralNetBinaryClassifier, NeuralNetClassifier, NeuralNetRegressor  # noqa: E402
from torch import nn  # noqa: E402

from skbait import ActiveLearner  # noqa: E402
from skbait._skorch import (  # noqa: E402
    SkorchEmbedding,
    check_train_split,
    net_output_count,
    skorch_rule,
)
from skbait.embeddings import embed  # noqa: E402
from skbait.utils import resolve_device  # noqa: E402

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


class MLP(nn.Module):
    """One ReLU hidden layer, initialised from its own seed (no global RNG)."""

    def __init__(self, n_in=4, n_hidden=8, n_out=3, seed=0, softmax=False):
        super().__init__()
        # skip_init builds the layers without drawing from the global generator.
        self.hidden = nn.utils.skip_init(nn.Linear, n_in, n_hidden)
        self.output = nn.utils.skip_init(nn.Linear, n_hidden, n_out)
        self.softmax = softmax
        generator = torch.Generator().manual_seed(seed)
        for layer in (self.hidden, self.output):
            bound = 1.0 / math.sqrt(layer.in_features)
            with torch.no_grad():
                layer.weight.uniform_(-bound, bound, generator=generator)
                layer.bias.uniform_(-bound, bound, generator=generator)

    def forward(self, X):
        out = self.output(torch.relu(self.hidden(X)))
        return torch.softmax(out, dim=-1) if self.softmax else out


class ConvOnly(nn.Module):
    """A network without any nn.Linear layer."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 3, kernel_size=4)

    def forward(self, X):
        return self.conv(X.unsqueeze(1)).squeeze(-1)


def _data(n=90, n_features=4, n_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features)).astype(np.float32)
    y = (np.arange(n) % n_classes).astype(np.int64)
    X[:, 0] += 2.0 * y  # separable enough to learn in a few epochs
    return X, y


_NET = dict(
    module=MLP,
    optimizer=torch.optim.Adam,
    lr=0.05,
    max_epochs=5,
    batch_size=32,
    train_split=None,
    verbose=0,
)


def _clf(**params):
    return NeuralNetClassifier(**{**_NET, "criterion": nn.CrossEntropyLoss, **params})


def _reg(**params):
    return NeuralNetRegressor(**{**_NET, "module__n_out": 1, **params})


def _manual_hidden(net, X):
    module = net.module_
    device = next(module.parameters()).device
    with torch.no_grad():
        return torch.relu(module.hidden(torch.as_tensor(X, device=device))).cpu().numpy()


# ----------------------------------------------------------- the embedding rule


def test_classifier_embedding_and_probabilities_match_a_manual_forward_pass():
    X, y = _data()
    net = _clf().fit(X, y)
    Z, P = skorch_rule(net, X, proba=True)
    assert Z.shape == (len(X), 8) and Z.dtype == np.float32
    np.testing.assert_array_equal(Z, _manual_hidden(net, X))
    np.testing.assert_array_equal(P, net.predict_proba(X))

    Z2, P2 = embed(net, X)  # the registered rule
    np.testing.assert_array_equal(Z2, Z)
    np.testing.assert_allclose(P2, net.predict_proba(X), rtol=0, atol=1e-6)
    assert embed(net, X, proba=False)[1] is None


class HeadFirst(nn.Module):
    """The output layer registered before the hidden one: forward decides their order."""

    def __init__(self):
        super().__init__()
        self.head = nn.Linear(8, 3)
        self.body = nn.Linear(4, 8)
        self.dropout = nn.Dropout(0.5)

    def forward(self, X):
        return self.head(self.dropout(torch.relu(self.body(X))))


def test_the_embedding_is_the_input_of_the_last_linear_called_in_forward():
    # The last nn.Linear registered is the hidden layer here: its input, the raw
    # features, was taken for the embedding.
    X, y = _data()
    torch.manual_seed(0)
    net = _clf(module=HeadFirst).fit(X, y)
    Z, P = embed(net, X)
    # A forward hook on the output layer, in evaluation mode (dropout off).
    captured = []
    handle = net.module_.head.register_forward_hook(lambda m, i, o: captured.append(i[0]))
    try:
        net.module_.eval()
        with torch.no_grad():
            net.module_(torch.as_tensor(X))
    finally:
        handle.remove()
    assert Z.shape == (len(X), 8)
    np.testing.assert_array_equal(Z, captured[0].numpy())
    np.testing.assert_array_equal(embed(net, X)[0], Z)  # dropout is off: the same twice
    np.testing.assert_allclose(P, net.predict_proba(X), rtol=0, atol=1e-6)


def test_one_forward_pass_gives_both():
    X, y = _data(n=70)
    net = _clf(batch_size=32).fit(X, y)
    calls = []
    handle = net.module_.register_forward_hook(lambda *args: calls.append(1))
    try:
        embed(net, X)
    finally:
        handle.remove()
    assert len(calls) == math.ceil(len(X) / 32)


def test_probabilities_mirror_predict_proba_for_nll_loss_and_binary_nets():
    X, y = _data()
    # The module outputs probabilities: skorch applies no softmax after NLLLoss.
    net = _clf(module__softmax=True, criterion=nn.NLLLoss).fit(X, y)
    np.testing.assert_array_equal(skorch_rule(net, X, True)[1], net.predict_proba(X))

    yb = (y == 0).astype(np.float32)
    binary = NeuralNetBinaryClassifier(
        MLP, module__n_out=1, max_epochs=3, train_split=None, verbose=0
    ).fit(X, yb)
    Z, P = embed(binary, X)
    assert Z.shape == (len(X), 8) and P.shape == (len(X), 2)
    np.testing.assert_allclose(P, binary.predict_proba(X), rtol=0, atol=1e-6)


def test_regressor_embedding():
    X, y = _data()
    net = _reg().fit(X, y.astype(np.float32).reshape(-1, 1))
    Z, P = embed(net, X)
    assert P is None
    np.testing.assert_array_equal(Z, _manual_hidden(net, X))


def test_pipeline_embedding():
    X, y = _data()
    pipe = make_pipeline(StandardScaler(), _clf()).fit(X, y)
    Z, P = embed(pipe, X)
    Xt = pipe[0].transform(X)
    assert Xt.dtype == np.float32
    np.testing.assert_array_equal(Z, _manual_hidden(pipe[-1], Xt))
    np.testing.assert_allclose(P, pipe.predict_proba(X), rtol=0, atol=1e-6)
    # An explicit SkorchEmbedding goes through the pipeline too.
    np.testing.assert_array_equal(embed(pipe, X, embedding=SkorchEmbedding())[0], Z)


def test_skorch_embedding_names_a_layer():
    X, y = _data()
    net = _clf().fit(X, y)
    with torch.no_grad():
        pre_relu = net.module_.hidden(torch.as_tensor(X)).numpy()
    Z, P = embed(net, X, embedding=SkorchEmbedding(module="hidden", capture="output"))
    np.testing.assert_array_equal(Z, pre_relu)
    np.testing.assert_allclose(P, net.predict_proba(X), rtol=0, atol=1e-6)
    # The input of "hidden" is the raw features.
    np.testing.assert_array_equal(SkorchEmbedding(module="hidden")(net, X), X)
    # The default names the last nn.Linear.
    np.testing.assert_array_equal(SkorchEmbedding()(net, X), _manual_hidden(net, X))


def test_skorch_embedding_is_an_estimator_like_parameter():
    emb = SkorchEmbedding(module="hidden")
    assert repr(emb) == "SkorchEmbedding(module='hidden')"
    assert clone(emb).get_params() == {"module": "hidden", "capture": "input"}
    assert pickle.loads(pickle.dumps(emb)).module == "hidden"


def test_clear_errors():
    X, y = _data()
    with pytest.raises(NotFittedError):
        embed(_clf(), X)
    no_linear = _clf(module=ConvOnly).fit(X, y)
    with pytest.raises(ValueError, match="has no torch.nn.Linear layer.*'conv'"):
        embed(no_linear, X)
    # Naming the layer fixes it.
    Z, _ = embed(no_linear, X, embedding=SkorchEmbedding("conv", capture="output"))
    assert Z.shape == (len(X), 3)

    net = _clf().fit(X, y)
    with pytest.raises(ValueError, match="no layer named 'fc9'.*'hidden', 'output'"):
        embed(net, X, embedding=SkorchEmbedding("fc9"))
    with pytest.raises(ValueError, match="capture"):
        embed(net, X, embedding=SkorchEmbedding(capture="weights"))
    net.module_.unused = nn.Linear(2, 2)  # the last nn.Linear registered, never called
    np.testing.assert_array_equal(embed(net, X)[0], _manual_hidden(net, X))
    with pytest.raises(RuntimeError, match="'unused'.*was not called"):
        embed(net, X, embedding=SkorchEmbedding("unused"))
    with pytest.raises(TypeError, match="skorch NeuralNet"):
        SkorchEmbedding()(StandardScaler().fit(X), X)


@pytest.mark.parametrize(
    "params, name", [({"capture": "weights"}, "capture"), ({"module": 3}, "module")]
)
def test_skorch_embedding_validates_its_parameters(params, name):
    from sklearn.utils._param_validation import InvalidParameterError

    X, y = _data()
    net = _clf().fit(X, y)
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of SkorchEmbedding"):
        SkorchEmbedding(**params)(net, X)


def test_validation_split_on_tiny_labeled_sets():
    X, y = _data(n=10)
    with pytest.raises(ValueError, match="fails on 4 labeled rows.*train_split=None"):
        check_train_split(_clf(train_split=skorch.dataset.ValidSplit(5)), X[:4], y[:4])
    with pytest.warns(UserWarning, match="holds back 2 of the 10 labeled rows"):
        check_train_split(
            make_pipeline(StandardScaler(), _clf(train_split=skorch.dataset.ValidSplit(5))), X, y
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_train_split(_clf(), X, y)  # train_split=None
        check_train_split(StandardScaler(), X, y)  # not a net: nothing to check
    # With train_split=None a net trains on ten rows of three classes.
    assert _clf().fit(X, y).predict(X).shape == (10,)


def test_the_learner_checks_the_validation_split_of_its_net():
    # check_train_split runs where nets are fit: the learner's first model. A split
    # that fails on the initial draw is a clear error naming the fix (skorch's own
    # error named neither), one that holds rows back is a warning, given once per run.
    X, y = _data(n=60)
    tiny = ActiveLearner(
        _clf(train_split=skorch.dataset.ValidSplit(5)),
        query_strategy="random",
        n_initial=4,
        batch_size=4,
        budget=8,
        random_state=0,
    )
    with pytest.raises(ValueError, match="fails on 4 labeled rows.*train_split=None"):
        tiny.fit(X, y)
    learner = ActiveLearner(
        _clf(train_split=skorch.dataset.ValidSplit(5)),
        query_strategy="random",
        n_initial=10,
        batch_size=5,
        budget=20,
        random_state=0,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        learner.fit(X, y)
    held_back = [w for w in caught if "holds back" in str(w.message)]
    assert len(held_back) == 1 and "2 of the 10 labeled rows" in str(held_back[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ActiveLearner(
            _clf(), query_strategy="random", n_initial=10, batch_size=5, budget=15, random_state=0
        ).fit(X, y)


def test_missing_skorch_gives_a_clear_error(monkeypatch):
    from skbait import _skorch

    monkeypatch.setitem(sys.modules, "skorch", None)  # `import skorch` now fails
    with pytest.raises(ImportError, match=r"pip install skbait\[skorch\]"):
        _skorch._require_skorch()
    with pytest.raises(ImportError, match=r"pip install skbait\[skorch\]"):
        SkorchEmbedding()(object(), np.zeros((2, 2)))


def test_import_skbait_without_skorch():
    code = (
        "import sys; sys.modules['skorch'] = None\n"
        "import numpy as np, skbait, skbait.embeddings, skbait.strategies\n"
        "from skbait._skorch import SkorchEmbedding\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "X = np.eye(4); model = LogisticRegression().fit(X, [0, 1] * 2)\n"
        "assert skbait.embeddings.embed(model, X)[1].shape == (4, 2)\n"
        "assert sys.modules['skorch'] is None\n"
        "print('ok')\n"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# ------------------------------------------------------------------ the learner


@pytest.mark.parametrize("strategy", ["badge", "bait"])
def test_learner_with_a_classifier_retrains_from_scratch(strategy):
    X, y = _data(n=120)
    X_test, y_test = _data(n=60, seed=1)
    al = ActiveLearner(
        _clf(), query_strategy=strategy, n_initial=10, batch_size=10, budget=30, random_state=0
    )
    al.fit(X, y, eval_set=(X_test, y_test))  # float32 X and int64 y, passed unchanged
    assert isinstance(al.estimator_, NeuralNetClassifier)
    assert [r["n_labeled"] for r in al.history_] == [10, 20, 30]
    assert len(np.unique(al.labeled_indices_)) == 30
    # A fresh initialisation every round: the final net's skorch history is one fit long.
    assert len(al.estimator_.history) == 5
    assert al.predict(X_test).dtype == np.int64
    assert 0.0 <= al.score(X_test, y_test) <= 1.0


def test_learner_warm_start_continues_training():
    X, y = _data(n=80)
    al = ActiveLearner(
        _clf(),
        query_strategy="random",
        n_initial=10,
        batch_size=10,
        budget=30,
        warm_start=True,
        random_state=0,
    ).fit(X, y)
    assert len(al.history_) == 3
    assert len(al.estimator_.history) == 3 * 5  # one net, trained on and on


def test_learner_with_a_regressor():
    X, y = _data(n=80)
    y = (X[:, :1] - X[:, 1:2]).astype(np.float32)  # float32, shape (n, 1), as skorch wants
    al = ActiveLearner(
        _reg(), query_strategy="bait", n_initial=10, batch_size=5, budget=20, random_state=0
    ).fit(X, y)
    assert [r["n_labeled"] for r in al.history_] == [10, 15, 20]
    assert al.predict(X).shape == (len(X), 1)


@pytest.mark.parametrize("labels", ["float32", "int64", "nan"])
def test_learner_with_a_binary_net(labels):
    # NeuralNetBinaryClassifier has no `classes` parameter, and its BCE loss takes float
    # targets: the learner asked for the one and handed the net int64 labels.
    X, y = _data(n=60, n_classes=2)
    y_given = y.astype(np.float32) if labels == "float32" else y
    budget = 20
    if labels == "nan":
        y_given = y.astype(np.float64)
        y_given[12:] = np.nan
        budget = None
    net = NeuralNetBinaryClassifier(
        MLP, module__n_out=1, max_epochs=3, train_split=None, verbose=0
    )
    al = ActiveLearner(net, n_initial=10, batch_size=5, budget=budget, random_state=0).fit(
        X, y_given
    )
    if budget is None:
        rows = al.query()
        al.teach(y=y[rows], indices=rows)
    assert len(al.labeled_indices_) in (17, 20)
    np.testing.assert_array_equal(al.classes_, [0, 1])
    np.testing.assert_array_equal(al.predict_proba(X), al.estimator_.predict_proba(X))
    np.testing.assert_array_equal(al.predict(X), al.estimator_.predict(X))


def test_learner_with_a_pipeline_and_a_named_layer():
    X, y = _data(n=80)
    al = ActiveLearner(
        make_pipeline(StandardScaler(), _clf()),
        query_strategy="badge",
        embedding=SkorchEmbedding(module="output"),
        n_initial=10,
        batch_size=10,
        budget=20,
        random_state=0,
    ).fit(X, y)
    assert len(al.labeled_indices_) == 20
    assert al.predict_proba(X).shape == (len(X), 3)


STRATEGIES = ["random", "confidence", "bait"]


def test_grid_search_over_strategies():
    X, y = _data(n=90)
    search = GridSearchCV(
        ActiveLearner(_clf(max_epochs=3), n_initial=10, batch_size=10, budget=20, random_state=0),
        {"query_strategy": STRATEGIES},
        cv=2,
    ).fit(X, y)
    assert set(search.cv_results_["param_query_strategy"]) == set(STRATEGIES)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_clone_and_pickle():
    X, y = _data(n=60)
    al = ActiveLearner(
        _clf(),
        query_strategy="random",
        embedding=SkorchEmbedding(module="output"),
        n_initial=10,
        batch_size=10,
        budget=20,
        random_state=0,
    )
    twin = clone(al)
    assert twin.estimator is not al.estimator and twin.embedding is not al.embedding
    assert twin.get_params()["embedding__module"] == "output"
    al.fit(X, y)
    copy = pickle.loads(pickle.dumps(al))
    np.testing.assert_array_equal(copy.predict_proba(X), al.predict_proba(X))
    np.testing.assert_array_equal(copy.labeled_indices_, al.labeled_indices_)


def test_runs_are_reproducible_without_global_seeding():
    X, y = _data(n=80)
    make = lambda: ActiveLearner(  # noqa: E731
        _clf(),
        query_strategy="confidence",
        n_initial=10,
        batch_size=10,
        budget=30,
        random_state=0,
    ).fit(X, y)
    a, b = make(), make()
    np.testing.assert_array_equal(a.labeled_indices_, b.labeled_indices_)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


# ---------------------------------------------------------------------- the GPU


@pytest.mark.cuda
@cuda
def test_cuda_net_and_bait_on_the_same_device():
    X, y = _data(n=120)
    net = _clf(device="cuda").fit(X, y)
    assert resolve_device("auto", net).type == "cuda"
    assert resolve_device(None, make_pipeline(StandardScaler(), net)).type == "cuda"
    Z, P = embed(net, X)
    np.testing.assert_array_equal(Z, _manual_hidden(net, X))
    np.testing.assert_allclose(P, net.predict_proba(X), rtol=0, atol=1e-6)
    al = ActiveLearner(
        _clf(device="cuda"),
        query_strategy="bait",
        n_initial=10,
        batch_size=10,
        budget=30,
        random_state=0,
    ).fit(X, y)
    assert next(al.estimator_.module_.parameters()).device.type == "cuda"
    assert len(al.labeled_indices_) == 30


# ------------------------------------------------ the loop's skorch defects


def test_readme_recipe_with_nan_for_unknown_labels():
    X, y = _data(n=90)
    y_known = np.full(len(X), np.nan)
    y_known[:12] = y[:12]
    al = ActiveLearner(_clf(), batch_size=5, random_state=0).fit(X, y_known)
    rows = al.query()
    al.teach(y=y[rows], indices=rows)
    assert len(al.labeled_indices_) == 17
    # The net trained on the labels as class indices: its own predictions are the classes.
    np.testing.assert_array_equal(al.classes_, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(al.predict_proba(X), al.estimator_.predict_proba(X))
    np.testing.assert_array_equal(al.predict(X), al.estimator_.predict(X))


def _two_of_three_classes(n=90):
    X, y = _data(n=n)
    y_known = np.full(len(X), -1)
    rows = np.flatnonzero(y != 1)[:12]  # classes 0 and 2 labeled, 1 not yet
    y_known[rows] = y[rows]
    return X, y_known


def test_a_net_without_classes_while_a_class_is_unlabeled():
    X, y_known = _two_of_three_classes()
    al = ActiveLearner(_clf(), missing_label=-1, batch_size=5, random_state=0).fit(X, y_known)
    np.testing.assert_array_equal(al.classes_, [0, 2])
    # The net's columns are its outputs 0, 1, 2; classes_ keeps 0 and 2, renormalised.
    raw = al.estimator_.predict_proba(X)
    expected = raw[:, [0, 2]] / raw[:, [0, 2]].sum(axis=1, keepdims=True)
    proba = al.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba, expected, rtol=1e-6)
    assert np.isin(al.predict(X), al.classes_).all()
    np.testing.assert_array_equal(al.predict(X), al.classes_[proba.argmax(axis=1)])
    assert len(al.query()) == 5


def test_a_net_without_classes_among_declared_classes():
    X, y_known = _two_of_three_classes()
    al = ActiveLearner(
        _clf(), classes=[0, 1, 2], missing_label=-1, batch_size=5, random_state=0
    ).fit(X, y_known)
    np.testing.assert_array_equal(al.classes_, [0, 1, 2])
    # The net knows the declared classes: its columns are the learner's.
    np.testing.assert_array_equal(al.estimator_.classes_, [0, 1, 2])
    np.testing.assert_array_equal(al.predict_proba(X), al.estimator_.predict_proba(X))
    assert al.estimator.classes is None  # the user's net is not modified


def test_the_default_validation_split_gets_the_clear_message_in_the_learner():
    X, y = _data(n=60)
    y_known = np.full(len(X), -1)
    y_known[:4] = y[:4]
    net = _clf(train_split=skorch.dataset.ValidSplit(5))
    learner = ActiveLearner(net, missing_label=-1, batch_size=5, random_state=0)
    with pytest.raises(ValueError, match="fails on 4 labeled rows.*train_split=None"):
        learner.fit(X, y_known)
    y_known[:30] = y[:30]
    with pytest.warns(UserWarning, match="holds back 6 of the 30 labeled rows"):
        learner.fit(X, y_known)
    rows = learner.query()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once a run, at its first model
        learner.teach(y=y[rows], indices=rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ActiveLearner(_clf(), missing_label=-1, random_state=0).fit(X, y_known)


def test_float64_rows_for_a_float32_net_are_a_clear_error():
    # torch's "mat1 and mat2 must have the same dtype" came out of fit, teach and
    # query, and a simulation kept the failed run as if interrupted.
    X, y = _data(n=60)
    X64 = X.astype(np.float64)
    learner = ActiveLearner(
        _clf(), query_strategy="bait", n_initial=10, batch_size=5, budget=20, random_state=0
    )
    with pytest.raises(TypeError, match="float64.*float32.*astype"):
        learner.fit(X64, y)
    assert not hasattr(learner, "pool_")  # rejected input: nothing kept
    y_known = np.where(np.arange(len(X)) < 12, y, -1)
    al = ActiveLearner(_clf(), missing_label=-1, batch_size=5, random_state=0).fit(X, y_known)
    with pytest.raises(TypeError, match="float64.*float32.*astype"):
        al.query(X64)
    with pytest.raises(TypeError, match="none was added.*float64.*float32"):
        al.teach(X64[:2], y[:2])
    assert len(al.labeled_indices_) == 12 and al.X_.dtype == np.float32


@pytest.mark.skipif(torch.cuda.is_available(), reason="the error of a machine without CUDA")
@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
def test_a_cuda_net_without_cuda_is_a_clear_error_before_the_loop(device):
    # torch's "Torch not compiled with CUDA enabled" came out of the first fit, and a
    # simulation kept the failed run as resumable.
    X, y = _data(n=60)
    for budget in (20, None):
        learner = ActiveLearner(
            _clf(device=device), n_initial=10, batch_size=5, budget=budget, random_state=0
        )
        with pytest.raises(ValueError, match=f"device='{device}'.*CUDA.*device='cpu'"):
            learner.fit(X, y)
        assert not hasattr(learner, "pool_") and not hasattr(learner, "history_")
        with pytest.raises(ValueError, match="none to continue"):
            learner.resume(X, y)


def test_text_labels_for_a_net_are_a_clear_error():
    # torch's "new(): invalid data type 'numpy.str_'" came out of the net's fit.
    X, y = _data(n=60)
    names = np.array(["cat", "dog", "eel"])[y]
    learner = ActiveLearner(_clf(), n_initial=10, batch_size=5, budget=20, random_state=0)
    with pytest.raises(ValueError, match="class indices.*'cat'.*LabelEncoder") as error:
        learner.fit(X, names)
    assert "hold 'cat', 'dog', 'eel', which" in str(error.value)  # not np.str_('cat')
    assert not hasattr(learner, "pool_")
    binary = NeuralNetBinaryClassifier(MLP, module__n_out=1, train_split=None, verbose=0)
    with pytest.raises(ValueError, match="class indices.*LabelEncoder"):
        ActiveLearner(binary, budget=None).fit(X, np.where(y == 0, "no", "yes"))
    # Taught text labels are refused before they are stored, cold start included.
    y_known = np.where(np.arange(len(X)) < 12, y, np.nan)
    al = ActiveLearner(_clf(), batch_size=5, random_state=0).fit(X, y_known)
    rows = al.query()
    with pytest.raises(ValueError, match="class indices.*LabelEncoder"):
        al.teach(y=names[rows], indices=rows)
    assert len(al.labeled_indices_) == 12
    cold = ActiveLearner(_clf(), batch_size=5, random_state=0).fit(X, np.full(len(X), np.nan))
    with pytest.raises(ValueError, match="class indices.*LabelEncoder"):
        cold.teach(X[:6], names[:6])
    assert len(cold.labeled_indices_) == 0 and len(cold.X_) == len(X)


@pytest.mark.parametrize(
    "relabel, shown",
    [({2: 5}, "5"), ({0: -1}, "-1"), ({2: 7}, "7")],
    ids=["five", "minus-one", "gap"],
)
def test_labels_outside_the_outputs_of_a_net_are_a_clear_error(relabel, shown):
    # torch's "Target 5 is out of bounds" (a device-side assert on a GPU) came out of
    # the net's first fit, or of a refit after teach.
    X, y = _data(n=60)
    labels = y.copy()
    for old, new in relabel.items():
        labels[y == old] = new
    learner = ActiveLearner(_clf(), n_initial=10, batch_size=5, budget=20, random_state=0)
    message = f"has 3 outputs.*labels hold {shown}, outside that range.*LabelEncoder"
    with pytest.raises(ValueError, match=message):
        learner.fit(X, labels)
    assert not hasattr(learner, "pool_")
    # Taught labels are refused before they are stored, cold start included.
    y_known = np.where(np.arange(len(X)) < 12, y, np.nan)
    al = ActiveLearner(_clf(), batch_size=5, random_state=0).fit(X, y_known)
    rows = al.query()
    with pytest.raises(ValueError, match=message):
        al.teach(y=np.full(len(rows), int(shown)), indices=rows)
    assert len(al.labeled_indices_) == 12
    cold = ActiveLearner(_clf(), batch_size=5, random_state=0).fit(X, np.full(len(X), np.nan))
    with pytest.raises(ValueError, match=message):
        cold.teach(X[:6], np.full(6, int(shown)))
    assert len(cold.labeled_indices_) == 0


def test_net_label_range_messages_name_the_fix():
    X, y = _data(n=60)
    with pytest.raises(ValueError, match="widen the module's output layer to 8 outputs"):
        ActiveLearner(_clf(), budget=None).fit(X, np.where(y == 2, 7, y))
    with pytest.raises(ValueError, match="If -1 marks unlabeled rows.*missing_label"):
        ActiveLearner(_clf(), budget=None).fit(X, y - 1)
    # A pipeline's net is counted after the pipeline's other steps.
    pipe = make_pipeline(StandardScaler(), _clf())
    with pytest.raises(ValueError, match="has 3 outputs.*hold 5"):
        ActiveLearner(pipe, budget=None).fit(X, np.where(y == 2, 5, y))
    # Declared classes beyond the outputs are refused too, and a wider module takes them.
    y_known = np.where(np.arange(len(X)) < 12, y, np.nan)
    with pytest.raises(ValueError, match="has 3 outputs.*declared classes hold 7"):
        ActiveLearner(_clf(), classes=[0, 1, 2, 7]).fit(X, y_known)
    wide = ActiveLearner(_clf(module__n_out=8), classes=[0, 1, 2, 7], batch_size=5).fit(X, y_known)
    wide.teach(X[:3], [7, 7, 7])
    np.testing.assert_array_equal(wide.classes_, [0, 1, 2, 7])


@pytest.mark.parametrize(
    "wrap",
    [
        lambda net: GridSearchCV(net, {"lr": [0.1, 0.05]}, cv=2),
        lambda net: GridSearchCV(
            make_pipeline(StandardScaler(), net), {"neuralnetclassifier__lr": [0.1]}, cv=2
        ),
        lambda net: make_pipeline(StandardScaler(), GridSearchCV(net, {"lr": [0.1]}, cv=2)),
    ],
    ids=["search", "search-of-pipeline", "pipeline-of-search"],
)
def test_labels_outside_the_outputs_of_a_searched_net_are_a_clear_error(wrap):
    # A search around a net was not checked: its labels reached torch unchecked.
    X, y = _data(n=60)
    estimator = wrap(_clf())
    assert net_output_count(estimator, X) == 3
    with pytest.raises(ValueError, match="has 3 outputs.*hold 5"):
        ActiveLearner(estimator, budget=None).fit(X, np.where(y == 2, 5, y))
    y_known = np.where(np.arange(len(X)) < 12, y, np.nan)
    al = ActiveLearner(wrap(_clf()), batch_size=5, random_state=0).fit(X, y_known)
    with pytest.raises(ValueError, match="has 3 outputs.*hold 5"):
        al.teach(X[:3], [5, 5, 5])
    assert len(al.labeled_indices_) == 12


@pytest.mark.parametrize("labels", [(-1, 1), (1, 2)])
def test_binary_net_labels_other_than_0_and_1_are_a_clear_error(labels):
    # The binary net trained its BCE loss on targets -1 or 2 without a word.
    X, y = _data(n=60, n_classes=2)
    given = np.where(y == 0, labels[0], labels[1])
    net = NeuralNetBinaryClassifier(
        MLP, module__n_out=1, max_epochs=2, train_split=None, verbose=0
    )
    with pytest.raises(ValueError, match="classes 0 and 1 only.*LabelEncoder"):
        ActiveLearner(net, n_initial=10, batch_size=5, budget=20, random_state=0).fit(X, given)


def test_the_output_probe_leaves_torch_random_state_alone():
    X, _ = _data(n=60)
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    # nn.Linear draws its initial weights from torch's global generator.
    net = _clf(module=nn.Linear, module__in_features=4, module__out_features=3)
    assert net_output_count(net, X) == 3
    np.testing.assert_array_equal(torch.rand(3), expected)


# ------------------------------------------------------- a PyTorch user's pass


@pytest.mark.parametrize("dtype", [np.int32, np.int16])
def test_narrow_integer_labels_train_a_net(dtype):
    # torch's cross-entropy takes int64 targets only: int32 labels (numpy's default on
    # Windows, pandas' narrowed columns) failed with a message blaming the rows' dtype.
    X, y = _data(n=60)
    y_narrow = y.astype(dtype)
    al = ActiveLearner(
        _clf(), query_strategy="bait", n_initial=10, batch_size=5, budget=20, random_state=0
    ).fit(X, y_narrow)
    assert len(al.labeled_indices_) == 20
    np.testing.assert_array_equal(al.classes_, [0, 1, 2])
    y_known = np.where(np.arange(len(X)) < 12, y_narrow, 9).astype(dtype)
    real = ActiveLearner(_clf(), missing_label=9, batch_size=5, random_state=0).fit(X, y_known)
    rows = real.query()
    real.teach(y=y_narrow[rows], indices=rows)
    assert len(real.labeled_indices_) == 17
    np.testing.assert_array_equal(real.predict(X), real.estimator_.predict(X))


class Plain(nn.Sequential):
    """A module as most users write it: initialised from torch's global generator, with
    batch norm and dropout, whose training draws from it too."""

    def __init__(self):
        super().__init__(
            nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 3)
        )


def test_random_state_repeats_a_run_of_a_plain_module_and_leaves_torch_alone():
    # skorch has no random_state: the learner's repeated only its queries, a module drawing
    # its weights from torch's generator trained differently each run, and every round
    # advanced the generator the user had seeded.
    X, y = _data(n=80)
    torch.manual_seed(7)
    state, n_threads = torch.random.get_rng_state(), torch.get_num_threads()
    runs = [
        ActiveLearner(
            _clf(module=Plain),
            query_strategy=strategy,
            n_initial=10,
            batch_size=5,
            budget=25,
            random_state=0,
        ).fit(X, y)
        for strategy in ("bait", "bait", "margin")
    ]
    np.testing.assert_array_equal(runs[0].labeled_indices_, runs[1].labeled_indices_)
    np.testing.assert_array_equal(runs[0].predict_proba(X), runs[1].predict_proba(X))
    y_known = np.where(np.arange(len(X)) < 12, y, -1)
    al = ActiveLearner(_clf(module=Plain), missing_label=-1, batch_size=5, random_state=0)
    torch.random.set_rng_state(state)
    al.fit(X, y_known)
    rows = al.query()
    al.teach(X[rows], y[rows])
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.get_num_threads() == n_threads


def test_without_random_state_a_net_draws_from_torch_as_outside_the_learner():
    X, y = _data(n=60)
    y_known = np.where(np.arange(len(X)) < 12, y, -1)

    def fit():
        torch.manual_seed(3)
        al = ActiveLearner(_clf(module=Plain), missing_label=-1).fit(X, y_known)
        return al.predict_proba(X), torch.random.get_rng_state()

    (p1, after), (p2, _) = fit(), fit()
    np.testing.assert_array_equal(p1, p2)  # the user's global seed governs
    torch.manual_seed(3)
    assert not torch.equal(after, torch.random.get_rng_state())  # and the net drew from it


def test_a_dict_or_a_dataset_as_the_pool_is_a_clear_error():
    # skorch takes both, and embed() does, but the learner's pool indexes and appends rows:
    # a dict failed with "inconsistent numbers of samples: [2, 80]" (its keys counted as
    # rows), a TensorDataset with torch's IndexError on a 0-dim tensor.
    X, y = _data(n=60)
    dataset = torch.utils.data.TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    for rows, named in (
        ({"a": X, "b": X}, "dict of inputs.*'a', 'b'"),
        (dataset, "torch TensorDataset"),
    ):
        learner = ActiveLearner(_clf(), n_initial=10, batch_size=5, budget=20, random_state=0)
        with pytest.raises(TypeError, match=f"X is a {named}.*pool of rows"):
            learner.fit(rows, y)
        assert not hasattr(learner, "pool_")
    al = ActiveLearner(_clf(), batch_size=5, random_state=0).fit(X[:12], y[:12])
    with pytest.raises(TypeError, match="dict of inputs.*stack them into one array"):
        al.query({"a": X[12:]})
    with pytest.raises(TypeError, match="TensorDataset.*first tensor"):
        al.teach(torch.utils.data.TensorDataset(torch.as_tensor(X[12:14])), y[12:14])
    assert len(al.labeled_indices_) == 12


@pytest.mark.cuda
@cuda
def test_random_state_leaves_the_cuda_generator_of_a_cuda_net_alone():
    X, y = _data(n=60)
    torch.cuda.manual_seed(7)
    state = torch.cuda.get_rng_state()

    def run():
        net = _clf(module=Plain, device="cuda")
        return ActiveLearner(net, n_initial=10, batch_size=5, budget=20, random_state=0).fit(X, y)

    a, b = run(), run()
    np.testing.assert_array_equal(a.labeled_indices_, b.labeled_indices_)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert torch.equal(torch.cuda.get_rng_state(), state)


class OneColumn(nn.Sequential):
    """A regression module as skorch's docs write it: outputs of shape (n, 1)."""

    def __init__(self, squeeze=False):
        super().__init__(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1))
        self.squeeze = squeeze

    def forward(self, X):
        out = super().forward(X)
        return out.squeeze(-1) if self.squeeze else out


@pytest.mark.parametrize("squeeze", [False, True])
def test_a_net_regressor_learns_1d_targets(squeeze):
    # y of shape (n,), as scikit-learn has it, against outputs of shape (n, 1): torch's
    # square loss broadcast them to (n, n) and the net learned the mean target (R^2 ~ 0).
    X, _ = _data(n=80)
    t = (3 * X[:, 1] - X[:, 2]).astype(np.float32)
    net = NeuralNetRegressor(
        **{**_NET, "module": OneColumn, "max_epochs": 150, "lr": 0.02},
        module__squeeze=squeeze,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # torch's "Using a target size ..."
        al = ActiveLearner(
            net, query_strategy="bait", n_initial=30, batch_size=10, budget=40, random_state=0
        ).fit(X, t)
    assert al.history_[-1]["train_score"] > 0.9
    assert al.score(X, t) > 0.8
    assert al.predict(X).shape == t.shape
