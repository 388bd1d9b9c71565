"""A slow, dense reference for multi-label BAIT and its log-det variant.

Every row's Fisher is formed as the full ``(K d) x (K d)`` matrix
``kron(diag(p (1 - p)), z z^T)``; every candidate's objective is evaluated
directly (``tr(inv(M + I_x) F)`` or ``log det(M + I_x)``) and the best is
taken, with no Woodbury update and no block structure used. Written apart
from :mod:`skbait._fisher._multilabel` to check it.

Conventions (as multiclass BAIT's): pool Fisher over the whole pool;
``M_0 = reg I + n_L / (n_L + B)`` times the labeled rows' mean information;
candidates' information scaled by ``B / (n_L + B)``; ``round(oversample * B)``
forward steps, then removals back to ``B``; ties to the lowest pool index.
"""

import math

import numpy as np


def dense_information(z, p):
    """``kron(diag(p (1 - p)), z z^T)``: one row's Fisher, ``(K d) x (K d)``."""
    z = np.asarray(z, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    return np.kron(np.diag(p * (1.0 - p)), np.outer(z, z))


def _value(M, F, objective):
    if objective == "logdet":
        sign, logdet = np.linalg.slogdet(M)
        return logdet if sign > 0 else -np.inf
    G = np.linalg.inv(M)
    return -float(np.trace(G @ F))  # larger is better


def _best(values, keys):
    """The largest value; ties (relative 1e-12) to the lowest key."""
    values = np.asarray(values, dtype=np.float64)
    best = values.max()
    tied = values >= best - 1e-12 * abs(best)
    return int(np.asarray(keys)[tied].min())


def dense_multilabel_bait(
    Z, P, labeled, B, *, reg=1.0, oversample=2, backward=True, fisher="pool", objective="trace"
):
    """The picks of multi-label BAIT, densely: (forward order, final batch in forward order)."""
    Z = np.asarray(Z, dtype=np.float64)
    P = np.asarray(P, dtype=np.float64)
    n, d = Z.shape
    K = P.shape[1]
    mask = np.zeros(n, dtype=bool)
    mask[np.asarray(labeled, dtype=int)] = True
    n_L = int(mask.sum())
    infos = [dense_information(Z[i], P[i]) for i in range(n)]
    F = np.eye(K * d) if fisher == "identity" else sum(infos) / n
    M = reg * np.eye(K * d)
    for i in np.flatnonzero(mask):
        M += infos[i] / (n_L + B)
    scale = B / (n_L + B)
    cand = [int(i) for i in np.flatnonzero(~mask)]
    n_forward = min(math.floor(oversample * B + 0.5), len(cand)) if backward else B
    picked = []
    for _ in range(n_forward):
        free = [i for i in cand if i not in picked]
        values = [_value(M + scale * infos[i], F, objective) for i in free]
        i = _best(values, free)
        picked.append(i)
        M = M + scale * infos[i]
    forward = list(picked)
    while len(picked) > B:
        values = [_value(M - scale * infos[i], F, objective) for i in picked]
        i = _best(values, picked)
        picked.remove(i)
        M = M - scale * infos[i]
    return forward, picked
