"""Determinism: the same random_state gives the same indices across runs, across
CPU thread counts, across processes and (in float64) across CPU and CUDA."""

import json
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from skbait import ActiveLearner, get_strategy_tags
from skbait.strategies import BAIT, FisherApproximation, available_strategies, make_strategy

X, Y = make_classification(
    n_samples=150, n_features=6, n_informative=4, n_classes=3, random_state=1
)
LABELED = np.arange(10)
MODEL = LogisticRegression(max_iter=500).fit(X[LABELED], Y[LABELED])
# The strategies that compute on the embedding in torch (by their tags, not a list).
TORCH_STRATEGIES = [
    n for n in available_strategies() if get_strategy_tags(make_strategy(n)).needs_embedding
]


def strategy(name, device="cpu", **params):
    s = make_strategy(name)
    if "device" in s.get_params():
        s.set_params(device=device, **params)
    return s


def run_loop(name, seed):
    al = ActiveLearner(
        LogisticRegression(max_iter=500),
        query_strategy=strategy(name),
        n_initial=8,
        batch_size=6,
        budget=32,
        random_state=seed,
    )
    return al.fit(X, Y)


@pytest.mark.parametrize("name", available_strategies())
def test_same_random_state_same_loop(name):
    a, b = run_loop(name, 7), run_loop(name, 7)
    np.testing.assert_array_equal(a.labeled_indices_, b.labeled_indices_)
    for ra, rb in zip(a.history_, b.history_):
        np.testing.assert_array_equal(ra["indices"], rb["indices"])
    # A RandomState instance seeded alike gives the same run too.
    c = ActiveLearner(
        LogisticRegression(max_iter=500),
        query_strategy=strategy(name),
        n_initial=8,
        batch_size=6,
        budget=32,
        random_state=np.random.RandomState(7),
    ).fit(X, Y)
    d = ActiveLearner(
        LogisticRegression(max_iter=500),
        query_strategy=strategy(name),
        n_initial=8,
        batch_size=6,
        budget=32,
        random_state=np.random.RandomState(7),
    ).fit(X, Y)
    np.testing.assert_array_equal(c.labeled_indices_, d.labeled_indices_)


def test_other_random_state_other_initial_draw():
    assert not np.array_equal(
        run_loop("random", 1).labeled_indices_, run_loop("random", 2).labeled_indices_
    )


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("name", TORCH_STRATEGIES)
def test_same_indices_across_thread_counts(name, restore_threads):
    results = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        results[threads] = strategy(name, dtype="float64").select(
            MODEL, X, LABELED, 12, random_state=3, return_utilities=True
        )
    np.testing.assert_array_equal(results[1][0], results[2][0])
    np.testing.assert_allclose(results[1][1], results[2][1], rtol=1e-9)


def test_same_loop_across_thread_counts(restore_threads):
    torch.set_num_threads(1)
    one = run_loop("bait", 5).labeled_indices_
    torch.set_num_threads(2)
    two = run_loop("bait", 5).labeled_indices_
    np.testing.assert_array_equal(one, two)


_SCRIPT = textwrap.dedent("""
    import json, sys, warnings
    import numpy as np
    warnings.simplefilter("ignore")
    sys.path.insert(0, {tests!r})
    from test_determinism import run_loop
    print(json.dumps({{n: run_loop(n, 11).labeled_indices_.tolist()
                      for n in ("bait", "badge", "random")}}))
""")


def test_same_indices_in_a_fresh_process():
    """Another interpreter (other hash seed, one thread) makes the same selections."""
    here = {n: run_loop(n, 11).labeled_indices_.tolist() for n in ("bait", "badge", "random")}
    env = dict(os.environ, PYTHONHASHSEED="123", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    script = _SCRIPT.format(tests=os.path.dirname(__file__))
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == here


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.mark.cuda
@cuda
@pytest.mark.parametrize("name", TORCH_STRATEGIES)
def test_same_indices_on_cpu_and_cuda_float64(name):
    cpu = strategy(name, "cpu", dtype="float64").select(MODEL, X, LABELED, 12, random_state=3)
    gpu = strategy(name, "cuda", dtype="float64").select(MODEL, X, LABELED, 12, random_state=3)
    np.testing.assert_array_equal(cpu, gpu)


@pytest.mark.cuda
@cuda
@pytest.mark.parametrize("k", [None, 2, 10])
def test_bait_select_cpu_cuda_float64(k):
    from skbait.strategies import bait_select, logdet_select

    rng = np.random.RandomState(k or 0)
    Z = rng.normal(size=(400, 8))
    P = None
    if k:
        L = rng.normal(size=(400, k))
        P = np.exp(L) / np.exp(L).sum(axis=1, keepdims=True)
    for select in (bait_select, logdet_select):
        cpu = select(Z, P, np.arange(20), 15, device="cpu", dtype="float64")
        gpu = select(Z, P, np.arange(20), 15, device="cuda", dtype="float64")
        np.testing.assert_array_equal(cpu, gpu)


@pytest.mark.cuda
@cuda
def test_loop_on_cpu_and_cuda_float64():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runs = [
            ActiveLearner(
                LogisticRegression(max_iter=500),
                query_strategy=strategy("bait", device, dtype="float64"),
                n_initial=8,
                batch_size=6,
                budget=32,
                random_state=4,
            ).fit(X, Y)
            for device in ("cpu", "cuda")
        ]
    np.testing.assert_array_equal(runs[0].labeled_indices_, runs[1].labeled_indices_)


# A default device set by the caller (torch.set_default_device("cuda"), common in
# notebooks) must change neither where skbait computes nor what it picks. "meta"
# stands in for it on any machine: a tensor made there holds no numbers, so a
# strategy that made one without naming its device would fail or pick other rows.
@pytest.mark.parametrize("name", [*available_strategies(), "bait-reduced"])
def test_a_default_device_set_by_the_caller_changes_no_pick(name):
    def make():
        if name == "bait-reduced":  # the approximation's own factors
            return BAIT(device="cpu", approximation=FisherApproximation(embedding_dims=3))
        return strategy(name)

    expected = make().select(MODEL, X, LABELED, 12, random_state=3, return_utilities=True)
    with torch.device("meta"):
        got = make().select(MODEL, X, LABELED, 12, random_state=3, return_utilities=True)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


def _objectives():
    from skbait.strategies import (
        bait_objective,
        label_sets_objective,
        labeled_set_objective,
        multilabel_bait_objective,
    )

    rng = np.random.RandomState(0)
    Z, logits = rng.normal(size=(40, 3)), rng.normal(size=(40, 3))
    P = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = 1.0 / (1.0 + np.exp(-logits))
    chosen = np.array([10, 11, 12])
    return {
        "bait_objective": lambda: bait_objective(Z, P, np.arange(6), chosen),
        "multilabel_bait_objective": lambda: multilabel_bait_objective(
            Z, labels, np.arange(6), chosen
        ),
        "labeled_set_objective": lambda: labeled_set_objective(Z, P, np.arange(6)),
        "label_sets_objective": lambda: label_sets_objective(Z, labels, np.arange(6)),
    }


@pytest.mark.parametrize("name", list(_objectives()))
def test_a_default_device_set_by_the_caller_changes_no_objective(name):
    objective = _objectives()[name]
    expected = objective()
    with torch.device("meta"):
        assert objective() == expected


@pytest.mark.cuda
@cuda
@pytest.mark.parametrize("name", TORCH_STRATEGIES)
def test_a_cuda_default_device_changes_no_cpu_pick(name):
    expected = strategy(name, "cpu").select(MODEL, X, LABELED, 12, random_state=3)
    with torch.device("cuda"):
        got = strategy(name, "cpu").select(MODEL, X, LABELED, 12, random_state=3)
    np.testing.assert_array_equal(got, expected)


class _Net(torch.nn.Module):
    """A small classifier for skorch (module level, so that it pickles)."""

    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh())
        self.out = torch.nn.Linear(8, 3)

    def forward(self, X):
        return torch.softmax(self.out(self.hidden(X)), dim=-1)


@pytest.fixture(scope="module")
def skorch_net():
    skorch = pytest.importorskip("skorch")
    net = skorch.NeuralNetClassifier(_Net, max_epochs=2, train_split=None, verbose=0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return net.fit(X[LABELED].astype(np.float32), Y[LABELED])


@pytest.mark.parametrize("name", available_strategies())
def test_a_query_leaves_the_global_torch_generator_alone(name, skorch_net):
    # A skorch net's prediction loader draws a seed from torch's global generator
    # on every pass: a query read the net and moved the caller's torch draws.
    X32 = X.astype(np.float32)
    before = torch.get_rng_state()
    picks = strategy(name).select(skorch_net, X32, LABELED, 6, random_state=3)
    assert torch.equal(torch.get_rng_state(), before)
    # Nor do the picks depend on the state of torch's global generator.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(12345)
        again = strategy(name).select(skorch_net, X32, LABELED, 6, random_state=3)
    np.testing.assert_array_equal(again, picks)


@pytest.mark.parametrize("name", available_strategies())
def test_a_numpy_generator_is_refused_with_what_to_pass(name):
    # scikit-learn's convention: an int, a RandomState or None. Its own error named
    # neither, nor how to keep a Generator's stream.
    with pytest.raises(ValueError, match=r"int, a numpy.random.RandomState or None.*integers"):
        strategy(name).select(MODEL, X, LABELED, 6, random_state=np.random.default_rng(0))
