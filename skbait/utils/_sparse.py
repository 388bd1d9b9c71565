"""Sparse embeddings (a TF-IDF pipeline's last-step input) for the selection functions.

A pool of 50,000 documents over 20,000 terms is a few MB as a sparse matrix
and 8 GB dense. BADGE, CoreSet and the uncertainty strategies need the
embedding only through row norms and products with single rows, which scipy
computes on the sparse matrix in time proportional to its non-zeros, so the
pool is never densified. Sparse products run on the CPU (scipy); the results
are then moved to the strategy's device.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array

from skbait.utils._validation import check_embeddings

__all__ = [
    "check_pool_embeddings",
    "column_sizes",
    "drop_empty_columns",
    "row_norms_squared",
    "rows_dot",
]


def check_pool_embeddings(embeddings):
    """Dense embeddings as :func:`check_embeddings` returns them, or a CSR matrix.

    A sparse matrix keeps its float32 or float64 dtype (other types become
    float64) and must be 2-d, non-empty and finite.

    Parameters
    ----------
    embeddings : array-like or scipy sparse matrix of shape (n_samples, n_dims)

    Returns
    -------
    ndarray or scipy.sparse.csr_matrix

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from skbait.utils._sparse import check_pool_embeddings
    >>> check_pool_embeddings(sp.eye(3, format="coo")).format
    'csr'
    """
    if not sp.issparse(embeddings):
        return check_embeddings(embeddings)
    if embeddings.ndim != 2 or 0 in embeddings.shape:
        raise ValueError(
            f"`embeddings` must be a non-empty 2-d (n_samples, n_dims) matrix, got shape "
            f"{embeddings.shape}."
        )
    Z = check_array(
        embeddings,
        accept_sparse="csr",
        dtype=(np.float64, np.float32),
        ensure_all_finite=True,
        input_name="embeddings",
    )
    # scipy's sparse arrays and matrices behave alike for what follows; a
    # csr_matrix keeps ``@`` a matrix product on either.
    return sp.csr_matrix(Z)


def drop_empty_columns(Z):
    """A sparse embedding without the columns no row of the pool uses; dense ones as given.

    A HashingVectorizer's 2**20 columns, or a vocabulary fitted elsewhere,
    leave most columns empty in a pool. An empty column adds nothing to any
    row's Fisher information nor to the pool's, so BAIT's and log-det's
    objectives and selections are those of the pool without it, while the
    ``(k d)^2`` matrices, and any reduction of ``d``, shrink to the columns
    the pool holds.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from skbait.utils._sparse import drop_empty_columns
    >>> drop_empty_columns(sp.csr_matrix([[0.0, 1.0, 0.0], [0.0, 2.0, 3.0]])).toarray()
    array([[1., 0.],
           [2., 3.]])
    """
    if not sp.issparse(Z):
        return Z
    Z = sp.csr_matrix(Z)
    # Explicitly stored zeros do not make a column used.
    used = np.unique(Z.indices[Z.data != 0])
    if used.size == Z.shape[1]:
        return Z
    if used.size == 0:
        used = np.zeros(1, dtype=np.int64)  # keep one (all-zero) column: a 2-d pool
    return Z[:, used]


def row_norms_squared(Z):
    """Squared Euclidean norm of every row of a dense or CSR matrix, in float64.

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.utils._sparse import row_norms_squared
    >>> row_norms_squared(np.array([[3.0, 4.0]]))
    array([25.])
    """
    if sp.issparse(Z):
        return np.asarray(Z.multiply(Z).sum(axis=1), dtype=np.float64).ravel()
    Z = np.asarray(Z, dtype=np.float64)
    return np.einsum("ij,ij->i", Z, Z)


def column_sizes(Z):
    """Root mean square of every column's non-zero entries (0 for an all-zero column).

    The size of a column's values where it has any: a word of TF-IDF has about
    the size of any other word however rare it is, while a raw feature
    measured in hundreds is a hundred times the size of one measured in units.

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.utils._sparse import column_sizes
    >>> column_sizes(np.array([[3.0, 0.0, 0.0], [4.0, 0.0, 2.0]]))
    array([3.53553391, 0.        , 2.        ])
    """
    if sp.issparse(Z):
        Z = sp.csc_matrix(Z)
        squares = np.asarray(Z.multiply(Z).sum(axis=0), dtype=np.float64).ravel()
        # Explicitly stored zeros are not entries: count the non-zero values only.
        counts = np.asarray((Z != 0).sum(axis=0)).ravel()
    else:
        Z = np.asarray(Z, dtype=np.float64)
        squares = np.einsum("ij,ij->j", Z, Z)
        counts = np.count_nonzero(Z, axis=0)
    return np.sqrt(squares / np.maximum(counts, 1))


def rows_dot(Z, row):
    """``Z @ Z[row]``: the inner products of every row with one row, a dense vector.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from skbait.utils._sparse import rows_dot
    >>> rows_dot(sp.csr_matrix([[1.0, 0.0], [2.0, 1.0]]), 1)
    array([2., 5.])
    """
    if sp.issparse(Z):
        # Sparse times sparse: O(nnz) work, and no dense row of length n_dims.
        return (Z @ Z[row].T).toarray().ravel()
    return Z @ Z[row]
