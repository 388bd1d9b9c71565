"""Scoped thread control: limits hold inside a block and the caller's settings come back."""

import threading

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_info

from skbait.base import QueryStrategy
from skbait.evaluation import compare_strategies
from skbait.utils._threads import (
    FLOPS_PER_THREAD,
    available_cpus,
    limited_threads,
    threads_for_flops,
    worker_threads,
)


def _blas_threads():
    return sorted(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")


@pytest.fixture
def two_threads():
    """The caller runs with two torch threads (restored afterwards)."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield 2
    torch.set_num_threads(before)


def test_limit_inside_and_restore_after(two_threads):
    blas_before = _blas_threads()
    with limited_threads(1, blas=True) as n:
        assert n == 1
        assert torch.get_num_threads() == 1
        assert all(t == 1 for t in _blas_threads())
    assert torch.get_num_threads() == two_threads
    assert _blas_threads() == blas_before


def test_blas_untouched_unless_asked(two_threads):
    blas_before = _blas_threads()
    with limited_threads(1):
        assert _blas_threads() == blas_before
        with limited_threads(1, blas=True):
            assert all(t == 1 for t in _blas_threads())
        assert _blas_threads() == blas_before
    assert _blas_threads() == blas_before


def test_restored_after_an_exception(two_threads):
    with pytest.raises(KeyError), limited_threads(1):
        raise KeyError("boom")
    assert torch.get_num_threads() == two_threads


def test_never_raises_above_the_callers_setting(two_threads):
    with limited_threads(64) as n:
        assert n == two_threads == torch.get_num_threads()


def test_none_changes_nothing(two_threads):
    with limited_threads(None) as n:
        assert n == torch.get_num_threads() == two_threads


def test_nested_blocks_restore_the_outer_limit(two_threads):
    with limited_threads(2):
        with limited_threads(1):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == two_threads


def test_overlapping_blocks_in_threads_leave_no_lasting_change(two_threads):
    # Thread A enters, then B; A leaves first. A naive save/restore per block
    # would leave B's saved value (A's limit) in force for good.
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first():
        with limited_threads(1):
            a_in.set()
            b_in.wait(10)
        a_out.set()

    def second():
        a_in.wait(10)
        with limited_threads(1):
            b_in.set()
            a_out.wait(10)
            seen["b"] = torch.get_num_threads()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert seen["b"] == 1  # A's exit did not lift B's limit
    assert torch.get_num_threads() == two_threads


def test_threads_for_flops_grows_with_the_work():
    assert threads_for_flops(0, max_threads=8) == 1
    assert threads_for_flops(float("nan"), max_threads=8) == 1
    assert threads_for_flops(FLOPS_PER_THREAD * 0.5, max_threads=8) == 1
    assert threads_for_flops(FLOPS_PER_THREAD * 3, max_threads=8) == 3
    assert threads_for_flops(FLOPS_PER_THREAD * 1e6, max_threads=8) == 8
    assert threads_for_flops(1e30) == torch.get_num_threads()


@pytest.mark.parametrize(
    "n_jobs, n_cpus, expected",
    [
        (None, 8, 8),
        (1, 8, 8),
        (2, 8, 4),
        (3, 8, 2),
        (16, 8, 1),
        (-1, 8, 1),
        (-2, 8, 1),
        (-4, 8, 1),
        (-7, 8, 4),
    ],
)
def test_worker_threads_share_the_cpus(n_jobs, n_cpus, expected):
    assert worker_threads(n_jobs, n_cpus=n_cpus) == expected
    jobs = n_jobs or 1
    workers = jobs if jobs > 0 else max(1, n_cpus + 1 + jobs)
    assert workers * worker_threads(n_jobs, n_cpus=n_cpus) <= max(n_cpus, workers)


class _RecordThreads(QueryStrategy):
    """Pick the first unlabeled rows; write the thread counts it saw to a file."""

    def __init__(self, path=None):
        self.path = path

    def _select(self, estimator, X, labeled, batch_size, random_state, embedding):
        blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
        with open(self.path, "a") as handle:
            handle.write(f"{torch.get_num_threads()} {max(blas, default=1)}\n")
        return np.flatnonzero(~labeled)[:batch_size], None


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_compare_strategies_workers_do_not_oversubscribe(tmp_path, n_jobs):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    path = tmp_path / "threads.txt"
    compare_strategies(
        LogisticRegression(),
        X[:40],
        y[:40],
        X[40:],
        y[40:],
        strategies={"record": _RecordThreads(str(path))},
        seeds=2,
        n_initial=6,
        batch_size=4,
        budget=14,
        n_jobs=n_jobs,
        verbose=0,
    )
    share = worker_threads(n_jobs)
    seen = [tuple(map(int, line.split())) for line in path.read_text().splitlines()]
    assert seen
    assert all(torch_n <= share and blas_n <= share for torch_n, blas_n in seen)
    assert share * (n_jobs or 1) <= max(available_cpus(), n_jobs or 1)
