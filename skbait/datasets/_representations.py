"""Random and learned low-dimensional representations (the paper's Figure 2).

Section 5.1 of the paper studies linear classification on two 128-dimensional
views of MNIST:

- a *learned* representation: a one-hidden-layer MLP is fitted on half of the
  data and the other half is embedded with its first layer, so the features
  are shaped by the labels, much like a network's penultimate layer;
- a *random* representation: the rows are multiplied by a Gaussian matrix with
  mean-zero, unit-variance entries, the uninformed fixed features of the
  convex setting, where the largest directions need not be discriminative.

Both helpers work on any dataset, such as :func:`sklearn.datasets.load_digits`.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array, check_consistent_length

__all__ = ["learned_representation", "random_representation"]


def _check_n_components(n_components):
    if not isinstance(n_components, Integral) or isinstance(n_components, bool):
        raise ValueError(f"`n_components` must be a positive integer, got {n_components!r}.")
    if n_components < 1:
        raise ValueError(f"`n_components` must be a positive integer, got {n_components!r}.")
    return int(n_components)


def random_representation(X, n_components=128, *, random_state=None):
    """Project rows onto random Gaussian directions (the uninformed view of Figure 2).

    Returns ``X @ R`` where ``R`` has shape ``(n_features, n_components)`` and
    independent standard normal entries (mean zero, unit variance, as in the
    paper; unlike :class:`~sklearn.random_projection.GaussianRandomProjection`,
    whose entries have variance ``1 / n_components``). The projection ignores
    the labels, so the directions of largest variance need not be the
    discriminative ones. Scale the input first (pixels to [0, 1], say) if the
    projected values should stay moderate.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The rows to project.
    n_components : int, default=128
        Dimension of the representation (the paper uses 128).
    random_state : int, RandomState instance or None, default=None
        Seeds ``R``. The same seed projects two arrays with the same ``R``.

    Returns
    -------
    Z : ndarray of shape (n_samples, n_components)

    See Also
    --------
    learned_representation : The informed view, fitted on half of the labels.

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.datasets import random_representation
    >>> X = np.eye(3)
    >>> Z = random_representation(X, n_components=2, random_state=0)
    >>> Z.shape
    (3, 2)
    >>> Z.round(2)  # the rows of R itself
    array([[ 1.76,  0.4 ],
           [ 0.98,  2.24],
           [ 1.87, -0.98]])
    """
    X = check_array(X, dtype=(np.float64, np.float32))
    n_components = _check_n_components(n_components)
    rng = check_random_state(random_state)
    R = rng.standard_normal((X.shape[1], n_components)).astype(X.dtype, copy=False)
    return X @ R


def learned_representation(
    X,
    y,
    n_components=128,
    *,
    fit_fraction=0.5,
    max_iter=200,
    random_state=None,
):
    """Embed held-out rows with the first layer of an MLP fitted on the others.

    The informed view of the paper's Figure 2: a one-hidden-layer network with
    ``n_components`` ReLU units is fitted on a random ``fit_fraction`` of the
    rows (stratified by class for classification targets); the remaining rows
    are embedded as ``max(0, X W + b)`` with the fitted first layer. Active
    learning then runs on the embedded held-out rows only, which the network
    never saw.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The rows.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Class labels (an :class:`~sklearn.neural_network.MLPClassifier` is
        fitted) or continuous targets (an
        :class:`~sklearn.neural_network.MLPRegressor`).
    n_components : int, default=128
        Number of hidden ReLU units, the dimension of the representation (the
        paper uses 128).
    fit_fraction : float, default=0.5
        Share of the rows used to fit the network, in (0, 1).
    max_iter : int, default=200
        Passed to the MLP. A network that has not converged still gives a
        usable representation; its ``ConvergenceWarning`` is not silenced.
    random_state : int, RandomState instance or None, default=None
        Seeds the split and the network's initialisation and shuffling.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        data : ndarray of shape (n_held_out, n_components)
            The held-out rows, embedded.
        target : ndarray of shape (n_held_out,) or (n_held_out, n_outputs)
            Their labels, ``y[indices]``.
        indices : ndarray of shape (n_held_out,)
            Row indices of ``X`` of the held-out rows, in the order of ``data``.
        fit_indices : ndarray of shape (n_fit,)
            Row indices of ``X`` the network was fitted on.
        estimator : MLPClassifier or MLPRegressor
            The fitted network; ``transform``-like use:
            ``np.maximum(X @ estimator.coefs_[0] + estimator.intercepts_[0], 0)``.

    Raises
    ------
    ValueError
        When ``fit_fraction`` is not in (0, 1), ``max_iter`` is not a
        positive integer, or a class has fewer than two rows to split.

    See Also
    --------
    random_representation : The uninformed view.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skbait.datasets import learned_representation
    >>> X, y = load_digits(return_X_y=True)
    >>> rep = learned_representation(X[:300] / 16, y[:300], n_components=16,
    ...                              max_iter=300, random_state=0)
    >>> rep.data.shape, rep.target.shape
    ((150, 16), (150,))
    >>> bool(np.all(rep.data >= 0)), bool(np.array_equal(rep.target, y[rep.indices]))
    (True, True)
    """
    X = check_array(X, dtype=(np.float64, np.float32))
    y = np.asarray(y)
    check_consistent_length(X, y)
    n_components = _check_n_components(n_components)
    if not isinstance(fit_fraction, Real) or not 0 < fit_fraction < 1:
        raise ValueError(f"`fit_fraction` must be a number in (0, 1), got {fit_fraction!r}.")
    if not isinstance(max_iter, Integral) or isinstance(max_iter, bool) or max_iter < 1:
        raise ValueError(f"`max_iter` must be a positive integer, got {max_iter!r}.")
    rng = check_random_state(random_state)
    # Two independent seeds from one generator: the split, then the network.
    split_seed, net_seed = rng.randint(np.iinfo(np.int32).max, size=2)

    target_type = type_of_target(y)
    is_classification = target_type in ("binary", "multiclass")
    if is_classification:
        values, counts = np.unique(y, return_counts=True)
        lone = values[counts < 2].tolist()
        if lone:
            shown = ", ".join(map(repr, lone[:5])) + (", ..." if len(lone) > 5 else "")
            if len(lone) == 1:
                has, it = f"class {shown} has 1 row", "it"
            else:
                has, it = f"classes {shown} have 1 row each", "them"
            raise ValueError(
                f"{has}; the split of the rows (stratified by class) needs two rows of "
                f"each class, one to fit the network on and one to embed: drop {it} "
                f"or add more rows like {it}."
            )
    indices = np.arange(X.shape[0])
    try:
        fit_indices, held_out = train_test_split(
            indices,
            train_size=fit_fraction,
            stratify=y if is_classification else None,
            random_state=split_seed,
        )
    except ValueError as exc:
        # Too few rows on one side to hold every class.
        side = "train_size" if "train_size" in str(exc) else "test_size"
        change = "larger" if side == "train_size" else "smaller"
        raise ValueError(
            f"fit_fraction={fit_fraction} of {X.shape[0]} rows: {exc}; pass a {change} "
            "`fit_fraction` or more rows."
        ) from None
    fit_indices = np.sort(fit_indices)
    held_out = np.sort(held_out)
    network = (MLPClassifier if is_classification else MLPRegressor)(
        hidden_layer_sizes=(n_components,),
        activation="relu",
        max_iter=max_iter,
        random_state=net_seed,
    )
    network.fit(X[fit_indices], y[fit_indices])
    Z = np.maximum(X[held_out] @ network.coefs_[0] + network.intercepts_[0], 0.0)
    return Bunch(
        data=Z,
        target=y[held_out],
        indices=held_out,
        fit_indices=fit_indices,
        estimator=network,
    )
