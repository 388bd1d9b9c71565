"""The Bayesian linear regression problems of the paper's section 4 and Figure 3.

The model (paper, section 4 and appendix A.1): a parameter
``theta* ~ N(0, I / reg)`` (``reg`` is the prior precision lambda), labels
``y = <theta*, x> + noise * eps`` with ``eps ~ N(0, 1)``. Given labels on a set
``S`` of rows, the MAP estimate is ridge regression with penalty
``reg * noise**2``, and its Bayes risk in the norm of the pool's second moment
``Sigma`` is exactly ``noise**2 * tr(Lambda_S^-1 Sigma)`` with
``Lambda_S = sum_{x in S} x x^T + reg * noise**2 * I`` (eq. 3, Lemma 1).

Two distributions in ``d`` dimensions share the badly conditioned second
moment ``Sigma = diag(p)``, ``p_i = i**-2 / sum_j j**-2`` (quadratic spectral
decay, trace one):

- :func:`make_gaussian_decay`: ``x ~ N(0, Sigma)``;
- :func:`make_orthonormal_decay`: ``x = e_i`` with probability ``p_i``.
"""

from numbers import Integral, Real

import numpy as np
from scipy import linalg
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array

__all__ = [
    "bayes_risk",
    "decay_second_moment",
    "make_gaussian_decay",
    "make_orthonormal_decay",
]


def _check_positive_int(value, name):
    if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer, got {value!r}.")
    return int(value)


def _check_positive_real(value, name):
    if not isinstance(value, Real) or isinstance(value, bool) or not value > 0:
        raise ValueError(f"`{name}` must be a positive number, got {value!r}.")
    if not np.isfinite(value):
        raise ValueError(f"`{name}` must be finite, got {value!r}.")
    return float(value)


def _decay_weights(n_features):
    weights = 1.0 / np.arange(1, n_features + 1, dtype=np.float64) ** 2
    return weights / weights.sum()


def decay_second_moment(n_features=100):
    """Population second moment ``Sigma`` of both decay distributions.

    ``Sigma = diag(p)`` with ``p_i = i**-2 / sum_j j**-2`` for ``i = 1..d``:
    quadratic spectral decay, normalised to trace one. It is the covariance of
    :func:`make_gaussian_decay` and the second moment ``E[x x^T]`` of
    :func:`make_orthonormal_decay`, whose ``p_i`` are also the probabilities of
    the basis vectors.

    Parameters
    ----------
    n_features : int, default=100
        The dimension ``d``.

    Returns
    -------
    Sigma : ndarray of shape (n_features, n_features)
        Diagonal matrix; ``np.diag(Sigma)`` gives ``p``.

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.datasets import decay_second_moment
    >>> Sigma = decay_second_moment(3)
    >>> np.diag(Sigma) * (1 + 1 / 4 + 1 / 9)
    array([1.        , 0.25      , 0.11111111])
    """
    n_features = _check_positive_int(n_features, "n_features")
    return np.diag(_decay_weights(n_features))


def _labels(X, rng, reg, noise, coef):
    """Draw theta* from the prior and noisy labels for the rows of X."""
    theta = rng.standard_normal(X.shape[1]) / np.sqrt(reg)
    y = X @ theta + noise * rng.standard_normal(X.shape[0])
    return (X, y, theta) if coef else (X, y)


def make_gaussian_decay(
    n_samples=1000, n_features=100, *, reg=1.0, noise=1.0, coef=False, random_state=None
):
    """Gaussian rows with quadratic spectral decay, and Bayesian linear labels.

    The left panel of the paper's Figure 3: ``x ~ N(0, Sigma)`` with
    ``Sigma = diag(p)``, ``p_i`` proportional to ``1 / i**2`` (see
    :func:`decay_second_moment`). Labels follow the Bayesian linear model of
    section 4: ``theta* ~ N(0, I / reg)``, ``y = X theta* + noise * eps``.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of rows.
    n_features : int, default=100
        The dimension ``d`` (the paper uses 100).
    reg : float, default=1.0
        Prior precision lambda of ``theta*``.
    noise : float, default=1.0
        Standard deviation sigma of the label noise.
    coef : bool, default=False
        Also return ``theta*``.
    random_state : int, RandomState instance or None, default=None
        Seeds the rows, then ``theta*``, then the noise, in that order.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    theta : ndarray of shape (n_features,)
        Only with ``coef=True``: the true parameter.

    See Also
    --------
    make_orthonormal_decay : The same second moment, supported on the basis.
    bayes_risk : The exact Bayes risk of a selection of rows.

    Examples
    --------
    >>> from skbait.datasets import make_gaussian_decay
    >>> X, y = make_gaussian_decay(500, n_features=5, random_state=0)
    >>> X.shape, y.shape
    ((500, 5), (500,))
    >>> bool(X[:, 0].var() > X[:, 4].var())
    True
    """
    n_samples = _check_positive_int(n_samples, "n_samples")
    n_features = _check_positive_int(n_features, "n_features")
    reg = _check_positive_real(reg, "reg")
    noise = _check_positive_real(noise, "noise")
    rng = check_random_state(random_state)
    X = rng.standard_normal((n_samples, n_features)) * np.sqrt(_decay_weights(n_features))
    return _labels(X, rng, reg, noise, coef)


def make_orthonormal_decay(
    n_samples=1000, n_features=100, *, reg=1.0, noise=1.0, coef=False, random_state=None
):
    """Rows drawn from the standard basis with probabilities decaying as ``1 / i**2``.

    The right panel of the paper's Figure 3: each row is ``e_i`` with
    probability ``p_i`` proportional to ``1 / i**2``, so its second moment is
    the same ``Sigma = diag(p)`` as :func:`make_gaussian_decay`'s. Labels
    follow the same Bayesian linear model.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of rows.
    n_features : int, default=100
        The dimension ``d`` (the paper uses 100).
    reg : float, default=1.0
        Prior precision lambda of ``theta*``.
    noise : float, default=1.0
        Standard deviation sigma of the label noise.
    coef : bool, default=False
        Also return ``theta*``.
    random_state : int, RandomState instance or None, default=None
        Seeds the rows, then ``theta*``, then the noise, in that order.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        One-hot rows.
    y : ndarray of shape (n_samples,)
    theta : ndarray of shape (n_features,)
        Only with ``coef=True``: the true parameter.

    See Also
    --------
    make_gaussian_decay : The same second moment, Gaussian rows.
    bayes_risk : The exact Bayes risk of a selection of rows.

    Examples
    --------
    >>> from skbait.datasets import make_orthonormal_decay
    >>> X, y = make_orthonormal_decay(1000, n_features=4, random_state=0)
    >>> X[:2]
    array([[1., 0., 0., 0.],
           [0., 1., 0., 0.]])
    >>> X.sum(axis=0)  # p is proportional to 1, 1/4, 1/9, 1/16
    array([709., 157.,  84.,  50.])
    """
    n_samples = _check_positive_int(n_samples, "n_samples")
    n_features = _check_positive_int(n_features, "n_features")
    reg = _check_positive_real(reg, "reg")
    noise = _check_positive_real(noise, "noise")
    rng = check_random_state(random_state)
    which = rng.choice(n_features, size=n_samples, p=_decay_weights(n_features))
    X = np.zeros((n_samples, n_features))
    X[np.arange(n_samples), which] = 1.0
    return _labels(X, rng, reg, noise, coef)


def bayes_risk(X_selected, Sigma=None, *, X_pool=None, reg=1.0, noise=1.0):
    """Exact Bayes risk of the MAP estimate after labeling the rows ``X_selected``.

    In the Bayesian linear model of the paper's section 4
    (``theta* ~ N(0, I / reg)``, ``y = <theta*, x> + noise * eps``), labeling
    the set ``S`` of rows and fitting the MAP estimate (ridge regression with
    penalty ``reg * noise**2``, no intercept) gives the risk (eq. 3, Lemma 1)::

        E[(theta_S - theta*)^T Sigma (theta_S - theta*)]
            = noise**2 * tr(Lambda_S^-1 Sigma),
        Lambda_S = sum_{x in S} x x^T + reg * noise**2 * I,

    the expectation being over the prior and the label noise. It does not
    depend on the labels, which is why a selection can be judged before any
    label is seen. With ``reg = noise = 1`` it is exactly the objective
    ``tr(M^-1 F)`` that BAIT minimises for a linear regressor with no labeled
    rows (``M = I + sum x x^T``, ``F`` the pool's second moment).

    Parameters
    ----------
    X_selected : array-like of shape (n_selected, n_features)
        The labeled rows ``S``; may have no rows (the prior's risk
        ``tr(Sigma) / reg``). A row selected twice counts twice.
    Sigma : array-like of shape (n_features, n_features), default=None
        The second moment in whose norm the error is measured, such as
        :func:`decay_second_moment`. Give it or ``X_pool``, not both.
    X_pool : array-like of shape (n_samples, n_features), default=None
        The unlabeled pool ``U``: ``Sigma`` is then its second moment
        ``X_pool.T @ X_pool / n_samples`` (not its covariance: rows are not
        centred), as in the paper.
    reg : float, default=1.0
        Prior precision lambda of ``theta*``.
    noise : float, default=1.0
        Standard deviation sigma of the label noise.

    Returns
    -------
    risk : float

    Raises
    ------
    ValueError
        When both or neither of ``Sigma`` and ``X_pool`` are given, or their
        shape does not match ``X_selected``.

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.datasets import bayes_risk, decay_second_moment
    >>> Sigma = decay_second_moment(3)
    >>> round(bayes_risk(np.empty((0, 3)), Sigma), 4)  # the prior: tr(Sigma) / reg
    1.0
    >>> round(bayes_risk(np.eye(3)[[0, 0, 1]], Sigma), 4)  # e_1 twice, e_2 once
    0.4184
    """
    reg = _check_positive_real(reg, "reg")
    noise = _check_positive_real(noise, "noise")
    X_selected = check_array(X_selected, ensure_min_samples=0, dtype=np.float64)
    n_features = X_selected.shape[1]
    if (Sigma is None) == (X_pool is None):
        raise ValueError("Give exactly one of `Sigma` (a second moment) and `X_pool`.")
    if Sigma is None:
        X_pool = check_array(X_pool, dtype=np.float64)
        if X_pool.shape[1] != n_features:
            raise ValueError(
                f"X_pool has {X_pool.shape[1]} features but X_selected has {n_features}."
            )
        Sigma = X_pool.T @ X_pool / X_pool.shape[0]
    else:
        Sigma = check_array(Sigma, dtype=np.float64)
        if Sigma.shape != (n_features, n_features):
            raise ValueError(
                f"Sigma must have shape ({n_features}, {n_features}) to match X_selected, "
                f"got {Sigma.shape}."
            )
    shrink = reg * noise**2
    Lambda = X_selected.T @ X_selected + shrink * np.eye(n_features)
    return float(noise**2 * np.trace(linalg.solve(Lambda, Sigma, assume_a="pos")))
