"""Scoped control of torch's and the BLAS libraries' thread counts.

Why: a greedy step of BAIT is some forty small kernels. With several threads,
each kernel is a parallel region that ends only when every thread has been
scheduled; on a busy machine (other notebooks, joblib workers, a docs build)
that wait dominates and a call becomes ten times slower. A single thread runs
such small kernels as fast on a quiet machine and is never held up. Large
matrix products (the pool Fisher, the distances to the labeled rows) do gain
from threads. So the thread count is chosen per phase, from the size of the
work, and never above what the caller has set; while a probe finds the
machine oversubscribed (:func:`oversubscribed`), a selection runs on one
thread throughout (:func:`single_thread_when_busy`), and so does a whole round
of a labeling loop (:func:`round_threads`): the estimator's fit and
predictions run numpy's BLAS, scikit-learn's OpenMP loops and torch, whose
parallel regions wait alike.

torch's thread count (:func:`torch.set_num_threads`) is process-wide: while a
:func:`limited_threads` block runs, other Python threads of the same process
see the lowered setting too. The caller's setting is restored when the block
exits, also on an exception; nothing here changes a setting for good.
"""

import contextlib
import functools
import math
import numbers
import os
import sys
import threading
import time

import torch
from threadpoolctl import ThreadpoolController

__all__ = [
    "StepThreads",
    "available_cpus",
    "check_n_threads",
    "dense_threads",
    "known_oversubscribed",
    "limited_threads",
    "oversubscribed",
    "recent_step_threads",
    "round_threads",
    "single_thread_when_busy",
    "threads_for_flops",
    "threads_per_round",
    "worker_threads",
]

# Floating-point operations a thread must get for a parallel region to pay
# off on a quiet machine: a fraction of a millisecond of one core's work.
# Below it, the cost of waking and joining the threads exceeds the gain.
FLOPS_PER_THREAD = 2e7
# A matrix product (BLAS's GEMM) splits its work with little overhead, so it
# takes threads from a tenth of that (the user guide's "Measured choices of
# the core" has the set-up times behind it).
GEMM_FLOPS_PER_THREAD = 2e6

# A busy machine is measured, not guessed: a few tiny parallel regions, each
# after a pause so that it must wake its threads. On a quiet machine one takes
# microseconds (about 10 us on 2 cores); when other processes hold the cores
# it waits for a time slice of the scheduler (3 to 16 ms measured beside one
# to four busy processes on 2 cores). The regions are spread over 10 ms,
# several of the scheduler's slices: five regions within one millisecond all
# ran unhindered in a third of the probes beside four busy processes. Past a
# millisecond for two of them, no kernel of a selection gains from more than
# one thread.
_PROBE_ELEMENTS = 1 << 17  # four times torch's grain: one parallel region
_PROBE_REGIONS = 5
_PROBE_PAUSE_S = 2e-3
_OVERSUBSCRIBED_WAIT_S = 1e-3
# A slow probe is confirmed after this pause: this process's own pools keep
# spinning after their last product, and a region then waits for them, while a
# busy machine stays busy. numpy's OpenBLAS kept two-thread regions waiting
# for 50 to 100 ms after a product (none from 150 ms on); Intel's OpenMP
# runtime (MKL builds of numpy) spins 200 ms by default.
_CONFIRM_PAUSE_S = 0.25
# One measurement serves the phases of a call that follow within this time.
_PROBE_TTL_S = 1.0
# ... or longer after a slow one. A probe is mostly pauses, about 10 ms on a
# quiet machine; on a busy one each pause ends late, when the scheduler gets to
# it (0.5 to 0.6 s a probe at load 15 to 20 on 2 cores), and probing every
# second took a third of a campaign's time. So a measurement serves until
# probing has cost at most this share of the time since.
_PROBE_MAX_SHARE = 0.05
_probe = {"at": -math.inf, "n_threads": None, "oversubscribed": False, "cost": 0.0}


def available_cpus():
    """CPUs this process may run on (its affinity mask where the OS has one).

    Returns
    -------
    int

    Examples
    --------
    >>> from skbait.utils._threads import available_cpus
    >>> available_cpus() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def threads_for_flops(flops, *, max_threads=None, busy=None, per_thread=FLOPS_PER_THREAD):
    """Threads worth using for one kernel of ``flops`` floating-point operations.

    One thread per :data:`FLOPS_PER_THREAD` operations, at least one and at
    most ``max_threads`` (by default torch's current setting, so that the
    caller's choice is an upper bound that is never exceeded); one thread
    while the machine is oversubscribed.

    Parameters
    ----------
    flops : float
        Work of the typical kernel of the phase about to run.
    max_threads : int, default=None
        Upper bound; ``None`` means :func:`torch.get_num_threads`.
    busy : bool, default=None
        Whether the machine is oversubscribed; ``None`` measures it with
        :func:`oversubscribed`, only when the work would take several threads.
    per_thread : float, default=FLOPS_PER_THREAD
        Operations each thread must get (:data:`GEMM_FLOPS_PER_THREAD` for
        a matrix product).

    Returns
    -------
    int

    Examples
    --------
    >>> from skbait.utils._threads import threads_for_flops
    >>> threads_for_flops(1e5, max_threads=8)
    1
    >>> threads_for_flops(1e12, max_threads=8, busy=False)
    8
    >>> threads_for_flops(1e12, max_threads=8, busy=True)
    1
    """
    cap = torch.get_num_threads() if max_threads is None else int(max_threads)
    if not math.isfinite(flops) or flops <= 0:
        return 1
    n_threads = int(max(1, min(cap, flops // per_thread)))
    if n_threads > 1 and (oversubscribed() if busy is None else busy):
        return 1
    return n_threads


def _region_seconds(n_regions=_PROBE_REGIONS):
    """The second-longest wall time of a few tiny parallel regions on torch's current threads."""
    # The CPU's threads are timed, whatever default device or dtype the caller set.
    x = torch.zeros(_PROBE_ELEMENTS, dtype=torch.float32, device="cpu")
    out = torch.empty_like(x)
    torch.add(x, 1.0, out=out)  # untimed: the first region may start the thread pool
    times = []
    for _ in range(n_regions):
        time.sleep(_PROBE_PAUSE_S)  # let the threads go idle: each region wakes them
        start = time.perf_counter()
        torch.add(x, 1.0, out=out)
        times.append(time.perf_counter() - start)
    return sorted(times)[-2]


def oversubscribed():
    """Whether torch's threads now wait to be scheduled (other processes hold the cores).

    Times a few tiny parallel regions on torch's current threads, spread
    over about 10 ms (mostly pauses), and once more after a pause when they
    were slow; the answer serves for a second, or for twenty times as long
    as the probe took (on a busy machine its pauses end late). With one
    thread there is nothing to wait for.

    Returns
    -------
    bool

    Examples
    --------
    >>> from skbait.utils._threads import limited_threads, oversubscribed
    >>> with limited_threads(1):
    ...     oversubscribed()
    False
    """
    known = known_oversubscribed()
    if known is not None:
        return known
    start = time.monotonic()
    busy = _region_seconds() > _OVERSUBSCRIBED_WAIT_S
    if busy:
        time.sleep(_CONFIRM_PAUSE_S)
        busy = _region_seconds() > _OVERSUBSCRIBED_WAIT_S
    end = time.monotonic()
    _probe.update(at=end, n_threads=torch.get_num_threads(), oversubscribed=busy, cost=end - start)
    return busy


def single_thread_when_busy(func):
    """Run a selection on one thread while the machine is oversubscribed.

    Checked once as the call starts (:func:`oversubscribed`): beside busy
    processes every parallel region of the call, the small ones that no
    size rule sees included, would wait for its threads. Otherwise the
    phases choose their threads from their size (:func:`threads_for_flops`).

    Examples
    --------
    >>> import torch
    >>> from skbait.utils._threads import single_thread_when_busy
    >>> @single_thread_when_busy
    ... def threads_inside():
    ...     return torch.get_num_threads()
    >>> threads_inside() <= torch.get_num_threads()
    True
    """

    @functools.wraps(func)
    def run(*args, **kwargs):
        with limited_threads(1 if oversubscribed() else None):
            return func(*args, **kwargs)

    return run


# Columns of a blocked factorization's panel (LAPACK's block size is of this
# order): a Cholesky or triangular inverse runs one parallel region per panel.
_PANEL = 64


def dense_threads(D):
    """Threads for the dense work on ``D x D`` matrices: factorizations and sweeps.

    A blocked Cholesky factorization or triangular inverse is one parallel
    region per panel of about 64 columns, a rank-64 update of the trailing
    matrix (at most ``2 D^2 64`` operations); an entrywise sweep (adding the
    regularizer, scaling) is ``D^2``. The count follows the former, the
    larger, through :func:`threads_for_flops`.

    Parameters
    ----------
    D : int
        Side of the matrices.

    Returns
    -------
    int

    Examples
    --------
    >>> from skbait.utils._threads import dense_threads
    >>> dense_threads(100)
    1
    """
    return threads_for_flops(2.0 * D * D * _PANEL)


# torch's setting and the BLAS pools are process-wide: blocks entered by several
# Python threads (joblib's threading backend) must not restore each other's
# values. The first block to enter records the caller's settings, the last to
# leave restores them, and in between the smallest active limit is in force.
_lock = threading.Lock()
_MAIN = threading.main_thread()
_active = []
_saved = {}
# threadpoolctl's scan of the loaded libraries takes milliseconds, too much for
# every round of a loop; a newly loaded BLAS or OpenMP library comes with newly
# imported modules, so the scan is redone when sys.modules grows.
_pools_lock = threading.Lock()
_pools = {"n_modules": -1, "libraries": ()}


def _thread_pools(user_api):
    """threadpoolctl's controllers of the ``user_api`` libraries ("blas", "openmp") loaded now."""
    with _pools_lock:
        n_modules = len(sys.modules)
        if _pools["n_modules"] != n_modules:
            libraries = tuple(ThreadpoolController().lib_controllers)
            _pools.update(n_modules=n_modules, libraries=libraries)
    return [library for library in _pools["libraries"] if library.user_api == user_api]


def _apply():
    """Put the smallest active limits in force (the caller's once none is active)."""
    blas = min((n for n, with_blas in _active if with_blas), default=None)
    originals = _saved.setdefault("blas", {})
    if blas is not None:
        for library in _thread_pools("blas"):
            originals.setdefault(library.filepath, (library, library.get_num_threads()))
    for library, original in originals.values():
        wanted = original if blas is None else min(original, blas)
        if library.get_num_threads() != wanted:
            library.set_num_threads(wanted)
    if blas is None:
        originals.clear()  # the caller's values are back; the next block reads them afresh
    # torch last: restoring a BLAS or OpenMP library can reset torch's pool too.
    wanted = min((min(n, _saved["torch"]) for n, _ in _active), default=_saved["torch"])
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)


def _enter(n_threads, blas):
    with _lock:
        if not _active:
            _saved.clear()
            _saved["torch"] = torch.get_num_threads()
        # OpenBLAS (0.3.31 measured) ignores a count set from a Python thread once
        # another live thread has set one (joblib's threading workers): a limit set
        # there might never be restored. The BLAS pools are limited from the main
        # thread only.
        entry = (max(1, int(n_threads)), blas and threading.current_thread() is _MAIN)
        _active.append(entry)
        _apply()
        return entry


def _leave(entry):
    with _lock:
        _active.remove(entry)
        _apply()


@contextlib.contextmanager
def _limited_openmp(n_threads):
    """At most ``n_threads`` in every OpenMP runtime, for the calling thread.

    An OpenMP runtime keeps its thread count per Python thread (joblib's
    threading workers each have their own), so each block saves and
    restores the values of the thread that runs it.
    """
    saved = [(library, library.get_num_threads()) for library in _thread_pools("openmp")]
    for library, value in saved:
        if value > n_threads:
            library.set_num_threads(n_threads)
    try:
        yield
    finally:
        for library, value in saved:
            if library.get_num_threads() != value:
                library.set_num_threads(value)


@contextlib.contextmanager
def limited_threads(n_threads, *, blas=False, openmp=False):
    """Run a block with at most ``n_threads`` torch (and BLAS, OpenMP) threads, then restore.

    Every setting is lowered only (never raised above the caller's: each
    library keeps its own setting when that is smaller), and the caller's
    settings are restored on exit, also after an exception. The BLAS pools
    that numpy and scipy use and the OpenMP runtimes (scikit-learn's, torch's)
    are limited alike, through :mod:`threadpoolctl`. torch's and the BLAS
    settings are process-wide: while the block runs, other Python threads of
    the process see the lowered values too (when several blocks overlap, the
    smallest limit holds, and the last one to leave restores the caller's
    values). The OpenMP settings belong to the Python thread that runs the
    block. The BLAS pools are limited from the main thread only: OpenBLAS
    ignores a count set from a second thread, which could leave a limit in
    force for good.

    Parameters
    ----------
    n_threads : int or None
        ``None`` leaves every setting as it is.
    blas : bool, default=False
        Also limit numpy's and scipy's BLAS threads.
    openmp : bool, default=False
        Also limit the OpenMP runtimes' threads (scikit-learn's Cython loops).

    Yields
    ------
    int
        torch's thread count inside the block (the caller's when
        ``n_threads`` is ``None``).

    Examples
    --------
    >>> import torch
    >>> from skbait.utils._threads import limited_threads
    >>> before = torch.get_num_threads()
    >>> with limited_threads(1) as inside:
    ...     inside == torch.get_num_threads() == 1
    True
    >>> torch.get_num_threads() == before
    True
    """
    if n_threads is None:
        yield torch.get_num_threads()
        return
    entry = _enter(n_threads, bool(blas))
    try:
        with _limited_openmp(entry[0]) if openmp else contextlib.nullcontext():
            yield min(entry[0], _saved["torch"])
    finally:
        _leave(entry)


@contextlib.contextmanager
def round_threads(n_threads="auto"):
    """Threads for one round of a labeling loop: its fit, predict, embed and selection.

    The estimator's ``fit`` and ``predict_proba`` run numpy's and scipy's
    BLAS, scikit-learn's OpenMP loops and torch; beside busy processes each
    of their parallel regions waits for its threads to be scheduled, and a
    round becomes ten times slower. With ``"auto"`` the machine is measured
    (:func:`oversubscribed`, the probe that guards the selections): while it
    is oversubscribed, every pool (BLAS, OpenMP, torch) runs the round on one
    thread; on a quiet machine nothing changes. An integer fixes the count,
    ``None`` leaves every setting alone. A count is never above the
    caller's setting, and the caller's settings come back when the round
    ends, also after an exception.

    Parameters
    ----------
    n_threads : "auto", int or None, default="auto"

    Yields
    ------
    int
        torch's thread count inside the round.

    Examples
    --------
    >>> import torch
    >>> from skbait.utils._threads import round_threads
    >>> before = torch.get_num_threads()
    >>> with round_threads(1) as inside:
    ...     inside
    1
    >>> torch.get_num_threads() == before
    True
    """
    if check_n_threads(n_threads) == "auto":
        n_threads = 1 if oversubscribed() else None
    with limited_threads(n_threads, blas=True, openmp=True) as inside:
        yield inside


def check_n_threads(n_threads):
    """``n_threads`` as given, after checking it is "auto", a positive integer or None.

    Examples
    --------
    >>> from skbait.utils._threads import check_n_threads
    >>> check_n_threads("auto"), check_n_threads(2), check_n_threads(None)
    ('auto', 2, None)
    """
    if n_threads is None or (isinstance(n_threads, str) and n_threads == "auto"):
        return n_threads
    is_count = isinstance(n_threads, numbers.Integral) and not isinstance(n_threads, bool)
    if is_count and n_threads >= 1:
        return int(n_threads)
    raise ValueError(
        f'n_threads must be "auto", a positive integer or None, got {n_threads!r}: "auto" '
        "uses one thread while the machine is busy, an integer fixes the count, None leaves "
        "the thread settings alone."
    )


def threads_per_round(method):
    """Run a method of a loop (a fit round, a query) under :func:`round_threads`.

    The count comes from the instance's ``n_threads`` (``"auto"`` when it has
    none, as a learner pickled before the option existed).

    Examples
    --------
    >>> import torch
    >>> from skbait.utils._threads import threads_per_round
    >>> class Loop:
    ...     n_threads = 1
    ...     @threads_per_round
    ...     def round(self):
    ...         return torch.get_num_threads()
    >>> Loop().round()
    1
    """

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        with round_threads(getattr(self, "n_threads", "auto")):
            return method(self, *args, **kwargs)

    return run


def worker_threads(n_jobs, *, n_cpus=None):
    """Threads each of ``n_jobs`` parallel workers may use without oversubscribing.

    ``n_cpus // n_jobs``, at least one; ``n_jobs`` follows joblib's convention
    (``None`` is 1, ``-1`` all CPUs, ``-2`` all but one).

    Parameters
    ----------
    n_jobs : int or None
    n_cpus : int, default=None
        ``None`` means :func:`available_cpus`.

    Returns
    -------
    int

    Examples
    --------
    >>> from skbait.utils._threads import worker_threads
    >>> worker_threads(2, n_cpus=8), worker_threads(-1, n_cpus=8), worker_threads(None, n_cpus=8)
    (4, 1, 8)
    """
    n_cpus = available_cpus() if n_cpus is None else int(n_cpus)
    if n_jobs is None:
        n_jobs = 1
    n_jobs = int(n_jobs)
    if n_jobs < 0:
        n_jobs = max(1, n_cpus + 1 + n_jobs)
    return max(1, n_cpus // max(1, n_jobs))


# What the last step clock learned: for this many threads, which count ran
# its steps faster, and when. It serves the next call's set-up and its first
# steps for as long as a probe's answer does.
_last_steps = {"at": -math.inf, "many": None, "best": None}


def known_oversubscribed():
    """The answer of a probe that still serves (see :func:`oversubscribed`), without probing.

    Steps timed within the last second (:class:`StepThreads`) that ran
    faster on torch's current thread count than on one answer it too: the
    machine is not oversubscribed.

    Returns
    -------
    bool or None
        ``None`` when no probe of torch's current thread count serves now.

    Examples
    --------
    >>> from skbait.utils._threads import known_oversubscribed, limited_threads
    >>> with limited_threads(1):
    ...     known_oversubscribed()
    False
    """
    n_threads = torch.get_num_threads()
    if n_threads == 1:
        return False
    now = time.monotonic()
    serves = max(_PROBE_TTL_S, _probe.get("cost", 0.0) / _PROBE_MAX_SHARE)
    if _probe["n_threads"] == n_threads and now - _probe["at"] < serves:
        return _probe["oversubscribed"]
    # Steps that just ran faster on these threads than on one did not wait for them.
    steps = _last_steps
    if steps["many"] == n_threads == steps["best"] and now - steps["at"] < _PROBE_TTL_S:
        return False
    return None


def recent_step_threads(max_threads):
    """The thread count the last timed steps found faster with ``max_threads`` allowed.

    ``None`` when no step clock (:class:`StepThreads`) with the same
    ``max_threads`` has chosen within the last second: a call's set-up can
    then take what its predecessor's steps measured.

    Examples
    --------
    >>> from skbait.utils._threads import recent_step_threads
    >>> recent_step_threads(1)
    1
    """
    if int(max_threads) <= 1 or known_oversubscribed():
        return 1
    fresh = time.monotonic() - _last_steps["at"] < _PROBE_TTL_S
    return _last_steps["best"] if fresh and _last_steps["many"] == int(max_threads) else None


# One thread wins a step clock's choice only when clearly faster than several:
# on a quiet machine the two are often close (float32 steps), and noise would
# decide; beside busy processes one thread is several times faster.
_ONE_THREAD_MARGIN = 0.8


class StepThreads:
    """Threads for the steps of a greedy loop, chosen by timing the steps themselves.

    Whether a step's kernels gain from more threads depends on their size and
    on what else runs on the machine right now: on an idle machine even
    steps of a few milliseconds run faster on two threads, while beside busy
    processes each of their parallel regions waits for a time slice of the
    scheduler (the user guide's "Measured choices of the core" has the
    figures). The probe of :func:`oversubscribed` answers that question with
    pauses of its own, too slow for such a call; timing the steps costs
    nothing. So the first three steps of a phase run on ``max_threads``,
    one, and ``max_threads`` threads (the first step on several threads may
    wake their pool); the faster count, by its quicker step, runs the steps
    that follow (one thread only when it is faster by a fifth: close timings
    are noise). The other count runs one step again after ``recheck``
    steps, then after twice as many each time the choice holds (at most
    eight times), and at once when a step of the chosen count takes three
    times its recent best: the choice follows the machine as its load
    changes, at a cost of a few percent of the steps.
    A choice made within the last second starts the next clock without the
    trials. A probe that still serves and found the machine
    oversubscribed means one thread throughout. A wrong choice costs time,
    never a different selection.

    Parameters
    ----------
    max_threads : int
        The most threads a step may take (never above torch's setting when
        the step runs: :func:`limited_threads` only lowers it).
    recheck : int, default=16
        Steps before the count not chosen runs again (doubling while the
        choice holds).
    clock : callable, default=time.perf_counter
        Seconds, for timing the steps.

    Examples
    --------
    >>> from skbait.utils._threads import StepThreads
    >>> steps = StepThreads(1)
    >>> with steps.step() as n_threads:
    ...     n_threads
    1
    """

    def __init__(self, max_threads, *, recheck=16, clock=time.perf_counter):
        many = 1 if known_oversubscribed() else int(max_threads)
        self.options = (many, 1) if many > 1 else (1,)
        self.best = recent_step_threads(many)
        self.trials = () if self.best is not None or many == 1 else (many, 1, many)
        self.recheck = int(recheck)
        self.interval = self.recheck
        # A remembered choice is checked after `recheck` steps; trials choose at their end.
        self.next_check = self.recheck if self.best is not None else math.inf
        self.clock = clock
        self.recent = {n: [] for n in self.options}  # the last two step times of each count
        self.n_steps = 0

    def _threads_for_next_step(self):
        if len(self.options) == 1:
            return 1
        if self.n_steps < len(self.trials):
            return self.trials[self.n_steps]
        if self.n_steps >= self.next_check:
            return self.options[1] if self.best == self.options[0] else self.options[0]
        return self.best

    def _record(self, n_threads, seconds):
        times = self.recent[n_threads]
        times.append(seconds)
        del times[:-2]
        self.n_steps += 1
        if len(self.options) == 1 or self.n_steps < len(self.trials):
            return
        if n_threads != self.best:
            # The trials' end (no choice yet), or a recheck: choose again. A
            # confirmed choice is checked half as often (up to every 8 recheck
            # intervals); a changed one from the start.
            many, one = self.options
            clearly_faster = min(self.recent[one]) < _ONE_THREAD_MARGIN * min(self.recent[many])
            best = one if clearly_faster else many
            confirmed = best == self.best
            self.interval = min(2 * self.interval, 8 * self.recheck) if confirmed else self.recheck
            self.best = best
            self.next_check = self.n_steps + self.interval
            _last_steps.update(at=time.monotonic(), many=self.options[0], best=best)
        elif seconds > 3.0 * min(times):
            # The chosen count slowed down: its earlier times no longer hold; check now.
            times[:] = [seconds]
            self.next_check = self.n_steps

    @contextlib.contextmanager
    def step(self):
        """Run one step on the count chosen for it, and time it.

        Yields
        ------
        int
            torch's thread count inside the step.
        """
        n_threads = self._threads_for_next_step()
        start = self.clock()
        with limited_threads(n_threads) as inside:
            yield inside
        self._record(n_threads, self.clock() - start)
