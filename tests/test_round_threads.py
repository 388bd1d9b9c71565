"""The loop's rounds on a busy machine: every pool limited inside, the user's settings after."""

import numpy as np
import pytest
import torch
from joblib import parallel_config
from sklearn.linear_model import LogisticRegression
from threadpoolctl import ThreadpoolController, threadpool_info

from skbait import ActiveLearner
from skbait.base import QueryStrategy
from skbait.evaluation import compare_strategies
from skbait.utils import _threads
from skbait.utils._threads import check_n_threads, limited_threads, round_threads

# Inside fit, predict_proba and the strategy: what each pool was set to.
_SEEN = []


def _settings():
    """Every BLAS and OpenMP library's thread count, and torch's, as threadpoolctl reads them."""
    pools = {(p["user_api"], p["filepath"]): p["num_threads"] for p in threadpool_info()}
    return pools, torch.get_num_threads()


class _Probe(LogisticRegression):
    """A logistic regression that records the thread settings it runs under."""

    def fit(self, X, y, sample_weight=None):
        _SEEN.append(("fit", _settings()))
        if len(y) >= _Probe.fail_at:
            raise RuntimeError("the refit failed")
        return super().fit(X, y, sample_weight=sample_weight)

    def predict_proba(self, X):
        _SEEN.append(("predict_proba", _settings()))
        return super().predict_proba(X)


_Probe.fail_at = np.inf


class _FailingStrategy(QueryStrategy):
    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        _SEEN.append(("select", _settings()))
        raise KeyError("the selection failed")


def _data(n=80):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] + 0.3 * rng.normal(size=n) > 0).astype(int)
    return X, y


@pytest.fixture
def user_settings():
    """A user who set torch to two threads, and numpy's BLAS to one: restored afterwards."""
    before_torch = torch.get_num_threads()
    controller = ThreadpoolController()
    before = [(lib, lib.get_num_threads()) for lib in controller.lib_controllers]
    torch.set_num_threads(2)
    blas = controller.select(user_api="blas").lib_controllers
    for lib in controller.lib_controllers:
        lib.set_num_threads(1 if lib is blas[0] else 2)
    _SEEN.clear()
    _Probe.fail_at = np.inf
    yield _settings()
    _Probe.fail_at = np.inf
    for lib, n in before:
        lib.set_num_threads(n)
    torch.set_num_threads(before_torch)


def _capped(settings, n):
    """``settings`` with every pool (torch's included) at most ``n``."""
    pools, torch_n = settings
    return {key: min(value, n) for key, value in pools.items()}, min(torch_n, n)


def _simulate(**params):
    X, y = _data()
    # Seeded: an unlucky initial draw of one class has no classifier to fit, one
    # fit fewer than the tests count.
    return ActiveLearner(
        _Probe(),
        query_strategy="margin",
        n_initial=10,
        batch_size=10,
        budget=40,
        random_state=0,
        **params,
    ).fit(X, y)


@pytest.mark.parametrize(
    "busy, n_threads, inside",
    [
        (True, "auto", 1),  # oversubscribed: one thread in every pool
        (False, "auto", None),  # quiet: the user's settings, as before
        (False, 1, 1),  # a fixed count, whatever the machine
        (True, 2, 2),  # fixed, never above the user's one BLAS thread
        (True, None, None),  # off
    ],
)
def test_a_round_limits_every_pool_and_restores_them(
    user_settings, monkeypatch, busy, n_threads, inside
):
    monkeypatch.setattr(_threads, "oversubscribed", lambda: busy)
    _simulate(n_threads=n_threads)
    assert _settings() == user_settings
    expected = user_settings if inside is None else _capped(user_settings, inside)
    fits = [seen for where, seen in _SEEN if where == "fit"]
    predictions = [seen for where, seen in _SEEN if where == "predict_proba"]
    assert len(fits) == 4 and predictions  # four rounds; the strategy asked for probabilities
    assert all(seen == expected for seen in fits + predictions)
    if inside == 2:  # the user's one BLAS thread stays one
        assert min(expected[0].values()) == 1 < max(expected[0].values())


def test_real_labeling_fit_query_teach_restore_the_settings(user_settings, monkeypatch):
    monkeypatch.setattr(_threads, "oversubscribed", lambda: True)
    X, y = _data()
    y_partial = np.full(len(y), np.nan)
    y_partial[:10] = y[:10]
    learner = ActiveLearner(_Probe(), query_strategy="margin", batch_size=5)
    learner.fit(X, y_partial)
    assert _settings() == user_settings
    idx = learner.query()
    assert _settings() == user_settings
    learner.teach(y=y[idx], indices=idx)
    assert _settings() == user_settings
    assert {where for where, _ in _SEEN} == {"fit", "predict_proba"}
    assert all(seen == _capped(user_settings, 1) for _, seen in _SEEN)


def test_the_settings_come_back_when_a_round_raises(user_settings, monkeypatch):
    monkeypatch.setattr(_threads, "oversubscribed", lambda: True)
    _Probe.fail_at = 30  # the third refit fails
    with pytest.raises(RuntimeError, match="refit failed"):
        _simulate()
    assert _settings() == user_settings
    assert _SEEN[-1] == ("fit", _capped(user_settings, 1))
    _Probe.fail_at = np.inf
    X, y = _data()
    learner = ActiveLearner(_Probe(), query_strategy=_FailingStrategy(), budget=30, random_state=0)
    with pytest.raises(KeyError, match="selection failed"):
        learner.fit(X, y)
    assert _settings() == user_settings
    assert _SEEN[-1] == ("select", _capped(user_settings, 1))


def test_a_quiet_round_is_measured_once_a_second_not_forced(user_settings, monkeypatch):
    asked = []
    monkeypatch.setattr(_threads, "oversubscribed", lambda: asked.append(1) or False)
    _simulate(n_threads=1)
    assert asked == []  # a fixed count needs no measurement
    _simulate(n_threads=None)
    assert asked == []
    _simulate()
    assert len(asked) == 7  # four fits and three queries, each asks (the probe caches)


def test_never_above_the_callers_blas_setting(user_settings):
    with limited_threads(2, blas=True, openmp=True) as n:
        assert n == 2
        assert _settings() == user_settings  # the one BLAS thread is not raised to two
    with limited_threads(1, blas=True):
        pools, torch_n = _settings()
        assert torch_n == 1
        assert {value for (api, _), value in pools.items() if api == "blas"} == {1}
    assert _settings() == user_settings


def test_round_threads_checks_its_argument(user_settings, monkeypatch):
    monkeypatch.setattr(_threads, "oversubscribed", lambda: True)
    with round_threads("auto") as n:
        assert n == 1 and _settings() == _capped(user_settings, 1)
    with round_threads(None) as n:
        assert n == 2 and _settings() == user_settings
    for bad in ["fast", 0, -1, 1.5, True]:
        with pytest.raises(ValueError, match="n_threads must be"), round_threads(bad):
            pass
        with pytest.raises(ValueError, match="n_threads must be"):
            check_n_threads(bad)
    with pytest.raises(ValueError, match="n_threads"):
        ActiveLearner(LogisticRegression(), n_threads="fast", budget=20).fit(*_data())
    X, y = _data()
    with pytest.raises(ValueError, match="n_threads must be"):
        compare_strategies(LogisticRegression(), X, y, X, y, n_threads=0, verbose=0)
    assert _settings() == user_settings


class _RecordPools(QueryStrategy):
    """Pick the first unlabeled rows; record every pool's thread count."""

    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        _SEEN.append(("select", _settings()))
        return np.flatnonzero(~labeled)[:batch_size], None


def test_compare_strategies_workers_share_every_pool(user_settings, monkeypatch):
    """Each of n_jobs workers runs its rounds within its share of the cores, in every pool."""
    from skbait.evaluation import _experiments

    monkeypatch.setattr(_threads, "oversubscribed", lambda: False)
    # One thread each, as two workers on two cores (the share's arithmetic is tested in
    # tests/test_threads.py), on any machine.
    monkeypatch.setattr(_experiments, "worker_threads", lambda n_jobs: 1)
    X, y = _data()
    # Threads, so that the workers' settings are seen here; loky's processes get the
    # same limits (tests/test_threads.py).
    with parallel_config(backend="threading"):
        compare_strategies(
            _Probe(),
            X[:60],
            y[:60],
            X[60:],
            y[60:],
            strategies={"record": _RecordPools()},
            seeds=4,
            n_initial=6,
            batch_size=4,
            budget=14,
            n_jobs=2,
            verbose=0,
        )
    assert len(_SEEN) == 4 * (3 + 2)  # four runs of three fits and two queries
    # OpenMP and torch at the share; the BLAS pools are left to the main thread
    # (OpenBLAS ignores a count set from a second thread), loky's processes limit them.
    expected_pools, expected_torch = _capped(user_settings, 1)
    expected_pools.update({key: n for key, n in user_settings[0].items() if key[0] == "blas"})
    assert all(settings == (expected_pools, expected_torch) for _, settings in _SEEN)
    assert _settings() == user_settings


def test_the_single_class_warning_still_names_the_callers_line():
    X, y = _data()
    y_partial = np.full(len(y), np.nan)
    y_partial[:3] = 1
    with pytest.warns(UserWarning, match="single class") as record:
        ActiveLearner(LogisticRegression(), query_strategy="random").fit(X, y_partial)
    assert record[0].filename == __file__


def test_the_warnings_of_a_simulation_name_the_callers_line():
    # A simulation's rounds run one call deeper (fit -> _simulate -> _fit_round).
    X, y = _data()
    y = np.where(np.arange(len(y)) < 77, 1, 0)  # the initial draw holds one class
    al = ActiveLearner(
        LogisticRegression(), query_strategy="bait", n_initial=3, budget=9, random_state=0
    )
    with pytest.warns(UserWarning, match="single class") as record:
        al.fit(X, y)
    assert {warning.filename for warning in record} == {__file__}


def test_a_campaign_query_limits_every_pool_and_restores_them(
    user_settings, monkeypatch, tmp_path
):
    # `skbait query` does not go through ActiveLearner: its round is governed too.
    import pandas as pd

    from skbait import _presets
    from skbait.campaign import query_batch

    monkeypatch.setattr(_threads, "oversubscribed", lambda: True)
    monkeypatch.setattr(_presets, "_make_estimator", lambda name, task: ("probe", _Probe()))
    X, y = _data()
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    frame["label"] = [str(label) if i < 12 else "" for i, label in enumerate(y)]
    data = tmp_path / "pool.csv"
    frame.to_csv(data, index=False)
    query_batch(data, tmp_path / "batch.csv", target="label", batch_size=5, device="cpu")
    assert _settings() == user_settings
    fits = [seen for where, seen in _SEEN if where == "fit"]
    assert fits and all(seen == _capped(user_settings, 1) for seen in fits)
