"""Scoped thread control: limits hold inside a block and the caller's settings come back."""

import math
import threading
import time
import types

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_info

from skbait.base import QueryStrategy
from skbait.evaluation import compare_strategies
from skbait.strategies import badge_select, bait_select, coreset_select, logdet_select
from skbait.utils import _threads
from skbait.utils._threads import (
    FLOPS_PER_THREAD,
    available_cpus,
    dense_threads,
    limited_threads,
    oversubscribed,
    threads_for_flops,
    worker_threads,
)

_SELECTIONS = {
    "bait": bait_select,
    "logdet": logdet_select,
    "coreset": lambda Z, P, labeled, batch_size: coreset_select(Z, labeled, batch_size),
    "badge": lambda *args: badge_select(*args, random_state=0),
}


def _blas_threads():
    return sorted(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")


@pytest.fixture(autouse=True)
def no_step_memory(monkeypatch):
    """Forget what earlier tests' timed steps found (it answers for the machine a second)."""
    monkeypatch.setattr(_threads, "_last_steps", {"at": -math.inf, "many": None, "best": None})


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
    assert threads_for_flops(FLOPS_PER_THREAD * 3, max_threads=8, busy=False) == 3
    assert threads_for_flops(FLOPS_PER_THREAD * 1e6, max_threads=8, busy=False) == 8
    assert threads_for_flops(1e30, busy=False) == torch.get_num_threads()


def test_a_busy_machine_gets_one_thread_and_is_probed_only_for_large_work(monkeypatch):
    asked = []

    def probe(answer):
        def oversubscribed():
            asked.append(answer)
            return answer

        return oversubscribed

    monkeypatch.setattr(_threads, "oversubscribed", probe(True))
    assert threads_for_flops(FLOPS_PER_THREAD * 1e6, max_threads=8) == 1
    assert threads_for_flops(FLOPS_PER_THREAD * 1e6, max_threads=8, busy=True) == 1
    assert threads_for_flops(FLOPS_PER_THREAD * 0.5, max_threads=8) == 1
    assert threads_for_flops(FLOPS_PER_THREAD * 1e6, max_threads=1) == 1
    assert asked == [True]  # neither small work nor one thread needs the probe
    monkeypatch.setattr(_threads, "oversubscribed", probe(False))
    assert threads_for_flops(FLOPS_PER_THREAD * 3, max_threads=8) == 3
    assert dense_threads(4096) == threads_for_flops(2.0 * 4096**2 * 64, busy=False)


def test_the_probe_measures_once_a_second_and_never_on_one_thread(two_threads, monkeypatch):
    waits = iter([5e-3, 5e-3, 5e-3, 5e-3, 1e-5, 5e-3, 1e-5])
    measured = []

    def region_seconds():
        measured.append(torch.get_num_threads())
        return next(waits)

    monkeypatch.setattr(_threads, "_region_seconds", region_seconds)
    monkeypatch.setattr(_threads, "_probe", {"at": -math.inf, "n_threads": None})
    monkeypatch.setattr(_threads, "_CONFIRM_PAUSE_S", 0.0)
    monkeypatch.setattr(_threads, "_PROBE_MAX_SHARE", math.inf)  # the probe's cost aside
    assert oversubscribed()  # regions waited 5 ms, twice: other processes hold the cores
    assert oversubscribed()  # the same answer within the second, not measured again
    assert measured == [2, 2]
    with limited_threads(1):
        assert not oversubscribed()  # nothing to wait for
    assert measured == [2, 2]
    monkeypatch.setattr(_threads, "_PROBE_TTL_S", 0.0)
    assert oversubscribed()
    assert not oversubscribed()  # 10 us: a quiet machine
    assert not oversubscribed()  # slow once, then quiet: a passing wait, not a busy machine
    assert measured == [2] * 7


def test_a_slow_probe_serves_longer(two_threads, monkeypatch):
    """A probe whose pauses ended late is not repeated until it cost 5% of the time since."""
    clock = {"now": 100.0}
    measured = []

    def region_seconds():
        measured.append(clock["now"])
        clock["now"] += 0.25  # a busy machine: the pauses end late
        return 5e-3

    fake_time = types.SimpleNamespace(monotonic=lambda: clock["now"], sleep=lambda seconds: None)
    monkeypatch.setattr(_threads, "time", fake_time)
    monkeypatch.setattr(_threads, "_region_seconds", region_seconds)
    monkeypatch.setattr(_threads, "_probe", {"at": -math.inf, "n_threads": None})
    assert oversubscribed()
    assert len(measured) == 2  # measured, and confirmed: 0.5 s of probing
    for elapsed in (1.0, 5.0, 9.9):  # past the second, within 0.5 / 0.05 = 10 s
        clock["now"] = 100.5 + elapsed
        assert oversubscribed()
        assert len(measured) == 2
    clock["now"] = 100.5 + 10.0
    assert oversubscribed()
    assert len(measured) == 4


def test_a_probe_reading_spreads_its_regions_and_needs_two_slow_ones(monkeypatch):
    """Regions 2 ms apart (several time slices); one slow region is not a busy machine."""

    class Clock:
        def __init__(self, durations):
            self.now, self.durations, self.pauses, self.started = 0.0, iter(durations), [], None

        def sleep(self, seconds):
            self.pauses.append(seconds)
            self.now += seconds

        def perf_counter(self):
            if self.started is None:
                self.started = self.now
                return self.now
            self.now += next(self.durations)
            self.started = None
            return self.now

    for durations, expected in [
        ([1e-5, 8e-3, 1e-5, 1e-5, 1e-5], 1e-5),  # one wait: quiet
        ([1e-5, 8e-3, 1e-5, 1e-5, 5e-3], 5e-3),  # two: the second-longest counts
    ]:
        clock = Clock(durations)
        monkeypatch.setattr(_threads, "time", clock)
        assert _threads._region_seconds() == pytest.approx(expected)
        assert clock.pauses == [_threads._PROBE_PAUSE_S] * 5
        assert sum(clock.pauses) >= 5e-3
    monkeypatch.undo()
    assert _threads._OVERSUBSCRIBED_WAIT_S < 5e-3


def test_the_probe_times_real_parallel_regions(two_threads):
    # On any machine a region of a few hundred KB takes well under a second.
    assert 0.0 < _threads._region_seconds() < 1.0
    assert torch.get_num_threads() == two_threads


@pytest.mark.parametrize("busy", [False, True])
def test_selections_run_on_one_thread_on_a_busy_machine_and_choose_the_same(
    two_threads, monkeypatch, busy
):
    rng = np.random.RandomState(0)
    Z = rng.normal(size=(200, 6))
    P = np.exp(Z[:, :3])
    P /= P.sum(axis=1, keepdims=True)
    labeled = np.arange(10)
    expected = {name: select(Z, P, labeled, 8) for name, select in _SELECTIONS.items()}
    seen = []
    # Large pools probe; small ones time their steps unless a probe that still
    # serves found the machine busy.
    monkeypatch.setattr(_threads, "oversubscribed", lambda: busy)
    monkeypatch.setattr(_threads, "known_oversubscribed", lambda: busy)
    real_add = torch.Tensor.add_

    def recording_add(self, *args, **kwargs):
        seen.append(torch.get_num_threads())
        return real_add(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "add_", recording_add)
    for name, select in _SELECTIONS.items():
        np.testing.assert_array_equal(select(Z, P, labeled, 8), expected[name])
    assert seen
    assert max(seen) == 1 if busy else max(seen) <= two_threads
    assert torch.get_num_threads() == two_threads


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
        pools = [p["num_threads"] for p in threadpool_info()]  # BLAS and OpenMP
        with open(self.path, "a") as handle:
            handle.write(f"{torch.get_num_threads()} {max(pools, default=1)}\n")
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
    assert all(torch_n <= share and pools_n <= share for torch_n, pools_n in seen)
    assert share * (n_jobs or 1) <= max(available_cpus(), n_jobs or 1)


def test_the_set_up_products_take_threads_by_their_size(two_threads, monkeypatch):
    from skbait._fisher import bait_factors, block_quadratic, kron_gram
    from skbait._fisher._linalg import _threads_for_product

    monkeypatch.setattr(_threads, "oversubscribed", lambda: False)
    seen = []
    real_addmm = torch.Tensor.addmm_

    def recording_addmm(self, *args, **kwargs):
        seen.append(torch.get_num_threads())
        return real_addmm(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "addmm_", recording_addmm)
    rng = np.random.RandomState(0)
    Z = torch.as_tensor(rng.normal(size=(300, 12)))
    P = torch.softmax(torch.as_tensor(rng.normal(size=(300, 6))), dim=1)
    A = kron_gram(Z, bait_factors(P))  # the packed form: one addmm_ a chunk
    block_quadratic(Z, A, 6)
    assert seen and set(seen) == {1}  # products of a few hundred thousand operations
    with _threads_for_product(4096, 4096, 4096) as n:
        assert n == two_threads
    assert torch.get_num_threads() == two_threads


class _FakeClock:
    """Seconds that advance only when a step says how long it took."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _run_steps(clock, steps, n_steps, seconds_on):
    """Run ``n_steps`` steps of a step clock; each takes ``seconds_on[threads]``."""
    used = []
    for _ in range(n_steps):
        with steps.step() as inside:
            assert inside == torch.get_num_threads()
            used.append(inside)
            clock.now += seconds_on[inside]
    return used


@pytest.fixture
def no_recent_steps(monkeypatch):
    monkeypatch.setattr(_threads, "known_oversubscribed", lambda: None)


@pytest.mark.parametrize("faster", [1, 2])
def test_step_threads_try_both_counts_then_keep_the_faster(two_threads, no_recent_steps, faster):
    clock = _FakeClock()
    steps = _threads.StepThreads(2, recheck=8, clock=clock)
    seconds_on = {faster: 1e-3, 3 - faster: 3e-3}
    used = _run_steps(clock, steps, 20, seconds_on)
    # Trials: two, one, two; then the faster, the other after 8 steps, then after 16.
    other = 3 - faster
    assert used == [2, 1, 2] + [faster] * 8 + [other] + [faster] * 8
    assert torch.get_num_threads() == two_threads
    # The next clock within a second starts on the faster count, without trials;
    # so does the next call's set-up.
    assert _threads.recent_step_threads(2) == faster
    assert (
        _run_steps(clock, _threads.StepThreads(2, recheck=8, clock=clock), 3, seconds_on)
        == [faster] * 3
    )


def test_step_threads_follow_a_change_of_load(two_threads, no_recent_steps):
    clock = _FakeClock()
    steps = _threads.StepThreads(2, recheck=4, clock=clock)
    quiet = _run_steps(clock, steps, 8, {1: 2e-3, 2: 1e-3})
    busy = _run_steps(clock, steps, 8, {1: 2e-3, 2: 20e-3})  # other processes took the cores
    assert quiet == [2, 1, 2, 2, 2, 2, 2, 1]  # trials, two, one again after 4 steps
    # A step on two threads three times slower than its best: one is tried at once and
    # wins; two is tried again after 4 steps, then after 8.
    assert busy == [2, 1, 1, 1, 1, 1, 2, 1]


def test_step_threads_one_thread_when_capped_or_when_a_probe_found_the_machine_busy(
    two_threads, no_recent_steps, monkeypatch
):
    clock = _FakeClock()
    assert _run_steps(clock, _threads.StepThreads(1, clock=clock), 5, {1: 1e-3}) == [1] * 5
    monkeypatch.setattr(_threads, "known_oversubscribed", lambda: True)
    steps = _threads.StepThreads(2, clock=clock)
    assert _run_steps(clock, steps, 5, {1: 5e-3, 2: 1e-3}) == [1] * 5
    assert _threads.recent_step_threads(2) == 1


def test_known_oversubscribed_reads_a_serving_probe_without_probing(two_threads, monkeypatch):
    monkeypatch.setattr(_threads, "_region_seconds", lambda: pytest.fail("probed"))
    monkeypatch.setitem(_threads._probe, "at", -math.inf)
    assert _threads.known_oversubscribed() is None
    monkeypatch.setitem(_threads._probe, "at", time.monotonic())
    monkeypatch.setitem(_threads._probe, "n_threads", two_threads)
    monkeypatch.setitem(_threads._probe, "oversubscribed", True)
    assert _threads.known_oversubscribed() is True
    assert oversubscribed() is True  # the serving answer, no new probe


@pytest.mark.parametrize("objective", ["trace", "logdet"])
def test_timed_steps_choose_the_rows_of_untimed_ones(two_threads, no_recent_steps, objective):
    from skbait._fisher import Factors, KroneckerGreedy, LogDetObjective, TraceObjective

    rng = np.random.RandomState(3)
    Z = torch.as_tensor(rng.normal(size=(400, 6)))
    P = torch.softmax(torch.as_tensor(rng.normal(size=(400, 4))), dim=1)
    factors = Factors.bait(Z, P)
    D = factors.k * factors.d
    F = torch.as_tensor(np.cov(rng.normal(size=(D, 3 * D)))) + torch.eye(D, dtype=torch.float64)
    picks = []
    for step_threads in (None, 2, 1):
        obj = TraceObjective(F) if objective == "trace" else LogDetObjective()
        greedy = KroneckerGreedy(factors, torch.eye(D, dtype=torch.float64), obj)
        greedy.step_threads = step_threads
        greedy.forward(24, final_keep_picked=True)
        greedy.backward(12)
        picks.append(greedy.picked)
    assert picks[0] == picks[1] == picks[2]
    assert len(picks[0]) == 12


def test_step_threads_keep_several_threads_unless_one_is_clearly_faster(
    two_threads, no_recent_steps
):
    clock = _FakeClock()
    close = _run_steps(clock, _threads.StepThreads(2, clock=clock), 6, {1: 0.9e-3, 2: 1e-3})
    assert close == [2, 1, 2, 2, 2, 2]  # within a fifth: noise, several threads kept
    _threads._last_steps["at"] = -math.inf  # a fresh clock, with its trials
    clear = _run_steps(clock, _threads.StepThreads(2, clock=clock), 6, {1: 0.7e-3, 2: 1e-3})
    assert clear == [2, 1, 2, 1, 1, 1]
