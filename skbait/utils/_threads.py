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
thread throughout (:func:`single_thread_when_busy`).

torch's thread count (:func:`torch.set_num_threads`) is process-wide: while a
:func:`limited_threads` block runs, other Python threads of the same process
see the lowered setting too. The caller's setting is restored when the block
exits, also on an exception; nothing here changes a setting for good.
"""

import contextlib
import functools
import math
import os
import threading
import time

import torch
from threadpoolctl import threadpool_limits

__all__ = [
    "available_cpus",
    "dense_threads",
    "limited_threads",
    "oversubscribed",
    "single_thread_when_busy",
    "threads_for_flops",
    "worker_threads",
]

# Floating-point operations a thread must get for a parallel region to pay
# off on a quiet machine: a fraction of a millisecond of one core's work.
# Below it, the cost of waking and joining the threads exceeds the gain.
FLOPS_PER_THREAD = 2e7

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
# A slow probe is confirmed after this pause: this process's own pools (numpy's
# BLAS) keep spinning up to a few tens of milliseconds after their last
# product, and a region then waits for them, while a busy machine stays busy.
_CONFIRM_PAUSE_S = 0.05
# One measurement serves the phases of a call that follow within this time.
_PROBE_TTL_S = 1.0
_probe = {"at": -math.inf, "n_threads": None, "oversubscribed": False}


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


def threads_for_flops(flops, *, max_threads=None, busy=None):
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
    n_threads = int(max(1, min(cap, flops // FLOPS_PER_THREAD)))
    if n_threads > 1 and (oversubscribed() if busy is None else busy):
        return 1
    return n_threads


def _region_seconds(n_regions=_PROBE_REGIONS):
    """The second-longest wall time of a few tiny parallel regions on torch's current threads."""
    x = torch.zeros(_PROBE_ELEMENTS)
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
    were slow; the answer serves for a second. With one thread there is
    nothing to wait for.

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
    n_threads = torch.get_num_threads()
    if n_threads == 1:
        return False
    now = time.monotonic()
    if _probe["n_threads"] == n_threads and now - _probe["at"] < _PROBE_TTL_S:
        return _probe["oversubscribed"]
    busy = _region_seconds() > _OVERSUBSCRIBED_WAIT_S
    if busy:
        time.sleep(_CONFIRM_PAUSE_S)
        busy = _region_seconds() > _OVERSUBSCRIBED_WAIT_S
    _probe.update(at=time.monotonic(), n_threads=n_threads, oversubscribed=busy)
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


# The settings are process-wide: blocks entered by several Python threads
# (joblib's threading backend) must not restore each other's values. The first
# block to enter records the caller's settings, the last to leave restores
# them, and in between the smallest active limit is in force.
_lock = threading.Lock()
_active = []
_saved = {}


def _apply():
    """Put the smallest active limits in force (the caller's once none is active)."""
    # BLAS first: restoring an OpenMP-threaded BLAS can reset torch's pool too.
    blas = min((n for n, with_blas in _active if with_blas), default=None)
    if blas == _saved.get("blas_n"):
        pass
    elif blas is None:
        # threadpoolctl recorded the caller's BLAS settings on the first change.
        _saved.pop("blas").restore_original_limits()
    elif "blas" not in _saved:
        _saved["blas"] = threadpool_limits(limits=blas, user_api="blas")
    else:
        threadpool_limits(limits=blas, user_api="blas")
    _saved["blas_n"] = blas
    wanted = min((n for n, _ in _active), default=_saved["torch"])
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)


def _enter(n_threads, blas):
    with _lock:
        if not _active:
            _saved.clear()
            _saved["torch"] = torch.get_num_threads()
        n_threads = max(1, min(int(n_threads), _saved["torch"]))
        _active.append((n_threads, blas))
        _apply()
        return n_threads


def _leave(n_threads, blas):
    with _lock:
        _active.remove((n_threads, blas))
        _apply()


@contextlib.contextmanager
def limited_threads(n_threads, *, blas=False):
    """Run a block with at most ``n_threads`` torch (and BLAS) threads, then restore.

    The torch setting is lowered only (never raised above the caller's), and
    the caller's settings are restored on exit, also after an exception. The
    BLAS pools that numpy and scipy use are limited alike, through
    :mod:`threadpoolctl`. Both settings are process-wide: while the block
    runs, other Python threads of the process see the lowered values too
    (when several blocks overlap, the smallest limit holds, and the last one
    to leave restores the caller's values).

    Parameters
    ----------
    n_threads : int or None
        ``None`` leaves every setting as it is.
    blas : bool, default=False
        Also limit numpy's and scipy's BLAS threads.

    Yields
    ------
    int
        The thread count this block asked for (the caller's torch setting
        when ``n_threads`` is ``None``).

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
    n_threads = _enter(n_threads, bool(blas))
    try:
        yield n_threads
    finally:
        _leave(n_threads, bool(blas))


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


def greedy_threads(greedy):
    """Threads for the steps of a :class:`~skbait._fisher.KroneckerGreedy`.

    A step's largest kernels are a chunk's product ``Z_chunk @ [L | T]``
    (``2 c d h k r`` operations for ``c`` rows per chunk, ``h`` blocks) and
    the design's ``(k d) x (k d)`` by ``(k d) x r`` products; the count follows
    the larger. Small problems run their steps on one thread.

    Examples
    --------
    >>> import torch
    >>> from skbait._fisher import Factors, KroneckerGreedy, LogDetObjective
    >>> from skbait.utils._threads import greedy_threads
    >>> Z = torch.eye(3, dtype=torch.float64)
    >>> greedy = KroneckerGreedy(Factors.regression(Z), torch.eye(3, dtype=torch.float64),
    ...                          LogDetObjective())
    >>> greedy_threads(greedy)
    1
    """
    f = greedy.factors
    rows = min(greedy.rows.chunk_size, len(f))
    h = greedy.objective.n_blocks
    D = f.k * f.d
    return threads_for_flops(max(2.0 * rows * f.d * h * f.k * f.r, 6.0 * D * D * f.r))
