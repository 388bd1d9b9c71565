"""Embeddings brought to a safe scale by a power of two, for selections on distances.

BADGE and CoreSet rank rows by squared Euclidean distances, which every scale
of the embedding multiplies alike; but the squares of entries above about
``1e154`` overflow float64 (``1e19`` float32), and those below about
``1e-154`` vanish. Multiplying every entry by one power of two is exact, so the
selection on the rescaled rows is the selection on the rows as given.
"""

import math

import numpy as np
import scipy.sparse as sp
import torch

__all__ = ["largest_magnitude", "scale_exponent", "times_power_of_two"]


def largest_magnitude(Z):
    """The largest absolute entry of a dense or sparse matrix (0.0 when it has none).

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.utils._scale import largest_magnitude
    >>> largest_magnitude(np.array([[1.0, -3.0]]))
    3.0
    """
    values = Z.data if sp.issparse(Z) else np.asarray(Z)
    return float(np.abs(values).max()) if values.size else 0.0


def scale_exponent(largest, dtype):
    """The ``e`` that brings ``largest * 2**-e`` into [0.5, 1); 0 where no rescaling is needed.

    Entries whose largest is within ``2**(+-m/4)`` of one, with ``2**m`` the
    largest number ``dtype`` holds, have squared norms far from its overflow
    and underflow: they are left as they are (``e = 0``), with no copy.

    Examples
    --------
    >>> import torch
    >>> from skbait.utils._scale import scale_exponent
    >>> scale_exponent(1e200, torch.float64), scale_exponent(1e3, torch.float64)
    (665, 0)
    """
    if not 0.0 < largest < math.inf:
        return 0
    exponent = math.frexp(largest)[1]
    limit = math.frexp(torch.finfo(dtype).max)[1] // 4
    return exponent if abs(exponent) > limit else 0


def times_power_of_two(Z, exponent):
    """``Z * 2**exponent``, exactly; a sparse matrix keeps its pattern.

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.utils._scale import times_power_of_two
    >>> times_power_of_two(np.array([[3.0, 0.5]]), -1)
    array([[1.5 , 0.25]])
    """
    if exponent == 0:
        return Z
    with np.errstate(under="ignore"):  # entries 2**1000 below the largest count for nothing
        if sp.issparse(Z):
            Z = Z.copy()
            Z.data = np.ldexp(Z.data, exponent)
            return Z
        return np.ldexp(Z, exponent)
