"""Slow, dense references for BAIT and the greedy log-det designs.

Written straight from the paper (Algorithm 1, appendix A.4 and B) and from the
reference implementation's formula, with every ``(k d) x k`` matrix ``V_x`` and
every ``(k d) x (k d)`` matrix formed explicitly. They exist to check the
Kronecker-factored code in :mod:`skbait._fisher` and to time it against.

Conventions (DESIGN.md): pool Fisher over the whole pool; ``M_0 = reg I +
n_L / (n_L + B)`` times the labeled rows' mean information; candidates scaled by
``sqrt(B / (n_L + B))``; ties go to the lowest pool index.
"""

import math

import numpy as np
import torch


def _labeled_mask(labeled, n):
    labeled = np.asarray(labeled)
    if labeled.dtype == bool:
        return labeled.copy()
    mask = np.zeros(n, dtype=bool)
    mask[labeled.astype(int)] = True
    return mask


def dense_factor(z, p, kind="bait"):
    """``V_x`` for one row: (k d, k) for BAIT, (k d, 1) rank-one, (d, 1) for regression."""
    z = np.asarray(z, dtype=np.float64)
    if p is None:
        return z[:, None].copy()
    p = np.asarray(p, dtype=np.float64)
    k = p.size
    if kind == "rank1":
        e = np.zeros(k)
        e[int(np.argmax(p))] = 1.0
        return np.kron(p - e, z)[:, None]
    cols = [math.sqrt(p[c]) * np.kron(np.eye(k)[c] - p, z) for c in range(k)]
    return np.stack(cols, axis=1)


def _setup(Z, P, labeled, B, reg, kind):
    n = Z.shape[0]
    mask = _labeled_mask(labeled, n)
    n_L = int(mask.sum())
    V = [dense_factor(Z[i], None if P is None else P[i], kind) for i in range(n)]
    D = V[0].shape[0]
    M0 = reg * np.eye(D)
    for i in np.flatnonzero(mask):
        M0 += V[i] @ V[i].T / (n_L + B)
    scale = math.sqrt(B / (n_L + B))
    cand = np.flatnonzero(~mask)
    Vc = {int(i): V[i] * scale for i in cand}
    return V, M0, Vc, cand, D


def _argbest(values, keys, maximize):
    """Best value; ties (relative 1e-12) to the lowest key."""
    values = np.asarray(values, dtype=np.float64)
    best = values.max() if maximize else values.min()
    tol = 1e-12 * abs(best)
    close = values >= best - tol if maximize else values <= best + tol
    return min(k for k, c in zip(keys, close) if c)


def dense_bait(Z, P, labeled, batch_size, *, reg=1.0, oversample=2, backward=True, fisher="pool"):
    """BAIT straight from the paper: ``tr((M +- V V^T)^-1 F)`` solved per candidate.

    Returns the chosen pool indices (forward order, pruned rows dropped).
    """
    Z = np.asarray(Z, dtype=np.float64)
    P = None if P is None else np.asarray(P, dtype=np.float64)
    B = batch_size
    V, M, Vc, cand, D = _setup(Z, P, labeled, B, reg, "bait")
    if cand.size <= B:
        return cand
    F = np.eye(D) if fisher == "identity" else sum(v @ v.T for v in V) / len(V)
    n_forward = min(math.floor(oversample * B + 0.5), cand.size) if backward else B
    picked = []
    for _ in range(n_forward):
        keys = [int(i) for i in cand if int(i) not in picked]
        traces = [np.trace(np.linalg.solve(M + Vc[i] @ Vc[i].T, F)) for i in keys]
        best = _argbest(traces, keys, maximize=False)
        picked.append(best)
        M = M + Vc[best] @ Vc[best].T
    while backward and len(picked) > B:
        traces = [np.trace(np.linalg.solve(M - Vc[i] @ Vc[i].T, F)) for i in picked]
        worst = _argbest(traces, picked, maximize=False)
        picked.remove(worst)
        M = M - Vc[worst] @ Vc[worst].T
    return np.asarray(picked, dtype=np.int64)


def dense_logdet(Z, P, labeled, batch_size, *, fisher="full", reg=1.0):
    """Greedy ``log det(M + I(x))`` (appendix B, Algorithms 3 and 2), slogdet per candidate."""
    Z = np.asarray(Z, dtype=np.float64)
    P = None if P is None else np.asarray(P, dtype=np.float64)
    kind = "rank1" if fisher == "rank1" else "bait"
    B = batch_size
    _, M, Vc, cand, _ = _setup(Z, P, labeled, B, reg, kind)
    if cand.size <= B:
        return cand
    picked = []
    for _ in range(B):
        keys = [int(i) for i in cand if int(i) not in picked]
        logdets = [np.linalg.slogdet(M + Vc[i] @ Vc[i].T)[1] for i in keys]
        best = _argbest(logdets, keys, maximize=True)
        picked.append(best)
        M = M + Vc[best] @ Vc[best].T
    return np.asarray(picked, dtype=np.int64)


def reference_bait_batched(
    Z,
    P,
    labeled,
    batch_size,
    *,
    reg=1.0,
    oversample=2,
    backward=True,
    max_candidates=None,
    dtype=torch.float64,
):
    """The reference implementation's formula, batched over all candidates.

    Every ``V_x`` is stored, as an (n, k, k d) tensor, and every forward step
    evaluates ``tr(V M^-1 F M^-1 V^T (I + V M^-1 V^T)^-1)`` for all candidates
    by re-multiplying the dense matrices (``O(n k (kd)^2)`` per step); the
    inverse is updated by Woodbury. ``max_candidates`` scores only that many
    candidates per step (to time one step of a problem too large to run whole).

    Returns
    -------
    picked : ndarray of int64
    seconds_per_forward_step : float
    """
    import time

    Z = torch.as_tensor(np.asarray(Z), dtype=dtype)
    n, d = Z.shape
    mask = _labeled_mask(labeled, n)
    n_L = int(mask.sum())
    B = batch_size
    if P is None:
        V = Z[:, None, :]
    else:
        P = torch.as_tensor(np.asarray(P), dtype=dtype)
        k = P.shape[1]
        eye = torch.eye(k, dtype=dtype)
        # V[x, c] = sqrt(p_c) (e_c - p) (x) z
        V = ((eye[None] - P[:, None, :]) * P.sqrt()[:, :, None])[:, :, :, None] * Z[:, None, None]
        V = V.reshape(n, k, k * d)
    rank, D = V.shape[1], V.shape[2]
    fisher = torch.zeros(D, D, dtype=dtype)
    for s in range(0, n, 1000):
        x = V[s : s + 1000]
        fisher += (x.transpose(1, 2) @ x).sum(0) / n
    init = torch.zeros(D, D, dtype=dtype)
    lab = torch.as_tensor(np.flatnonzero(mask))
    for s in range(0, n_L, 1000):
        x = V[lab[s : s + 1000]]
        init += (x.transpose(1, 2) @ x).sum(0) / n_L
    inv = torch.linalg.inv(reg * torch.eye(D, dtype=dtype) + init * n_L / (n_L + B))
    cand = np.flatnonzero(~mask)
    X = V[torch.as_tensor(cand)] * math.sqrt(B / (n_L + B))
    if max_candidates is not None:
        X = X[:max_candidates]
    n_forward = min(math.floor(oversample * B + 0.5), len(cand)) if backward else B
    eye_r = torch.eye(rank, dtype=dtype)
    picked = []
    start = time.perf_counter()
    for _ in range(n_forward):
        inner = torch.linalg.inv(eye_r + X @ inv @ X.transpose(1, 2))
        trace = torch.diagonal(
            X @ inv @ fisher @ inv @ X.transpose(1, 2) @ inner, dim1=-2, dim2=-1
        ).sum(-1)
        trace[picked] = -math.inf
        ind = int(torch.argmax(trace))
        picked.append(ind)
        x = X[ind][None]
        inner = torch.linalg.inv(eye_r + x @ inv @ x.transpose(1, 2))
        inv = (inv - inv @ x.transpose(1, 2) @ inner @ x @ inv)[0]
        if max_candidates is not None:
            break
    per_step = (time.perf_counter() - start) / (1 if max_candidates is not None else n_forward)
    if max_candidates is not None:
        return np.asarray(picked), per_step
    while backward and len(picked) > B:
        x = X[picked]
        inner = torch.linalg.inv(-eye_r + x @ inv @ x.transpose(1, 2))
        trace = torch.diagonal(
            x @ inv @ fisher @ inv @ x.transpose(1, 2) @ inner, dim1=-2, dim2=-1
        ).sum(-1)
        j = int(torch.argmin(-trace))
        x = X[picked[j]][None]
        inner = torch.linalg.inv(-eye_r + x @ inv @ x.transpose(1, 2))
        inv = (inv - inv @ x.transpose(1, 2) @ inner @ x @ inv)[0]
        del picked[j]
    return cand[np.asarray(picked)], per_step


def dense_logdet_increments(Z, P, labeled, selected, batch_size, *, fisher="full", reg=1.0):
    """``log det`` of the design after each row of ``selected`` is added, minus the one before.

    The design is formed densely in float64 with :func:`dense_logdet`'s
    convention (``M_0`` and the candidates' scale for a batch of ``batch_size``).
    """
    Z = np.asarray(Z, dtype=np.float64)
    P = None if P is None else np.asarray(P, dtype=np.float64)
    kind = "rank1" if fisher == "rank1" else "bait"
    _, M, Vc, _, _ = _setup(Z, P, labeled, batch_size, reg, kind)
    before = np.linalg.slogdet(M)[1]
    out = []
    for i in selected:
        M = M + Vc[int(i)] @ Vc[int(i)].T
        after = np.linalg.slogdet(M)[1]
        out.append(after - before)
        before = after
    return np.asarray(out)
