"""The labeled pool: rows in the form given, their labels, which are labeled and in what order."""

import sys
from collections.abc import Mapping
from numbers import Number

import numpy as np
import scipy.sparse as sp
from sklearn.utils import _safe_indexing
from sklearn.utils._missing import is_scalar_nan
from sklearn.utils.validation import _num_samples

__all__ = [
    "LabeledPool",
    "check_label_kind",
    "check_labels_of_one_kind",
    "check_rows",
    "label_repr",
    "missing_label_mask",
    "natural_labels",
]


def label_repr(values):
    """Labels as plain Python values for messages: ``[2, 'cat']``, not ``[np.int64(2)]``."""
    return np.asarray(values).tolist()


def _is_default_marker(missing_label):
    return missing_label is None or is_scalar_nan(missing_label)


def _is_missing_scalar(value):
    # None, float NaN and pandas.NA (without importing pandas).
    return value is None or is_scalar_nan(value) or type(value).__name__ == "NAType"


def missing_label_mask(y, missing_label):
    """Rows of ``y`` whose label is missing (any output missing for a 2-d ``y``).

    ``missing_label`` NaN or None (the default) marks missing labels by NaN,
    None or ``pandas.NA``; any other value marks them by equality, and then a
    NaN or None in ``y`` is ambiguous and raises a ``ValueError``.

    Parameters
    ----------
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
    missing_label : scalar or None

    Returns
    -------
    mask : ndarray of shape (n_samples,), dtype=bool
    """
    y = np.asarray(y)
    if np.issubdtype(y.dtype, np.floating):
        holes = np.isnan(y)
    elif y.dtype == object:
        holes = np.frompyfunc(_is_missing_scalar, 1, 1)(y).astype(bool)
    else:
        holes = np.zeros(y.shape, dtype=bool)
    if _is_default_marker(missing_label):
        missing = holes
    else:
        if holes.any():
            raise ValueError(
                f"y marks missing labels both by NaN/None and by missing_label="
                f"{missing_label!r}; the marker is ambiguous. Use one marker: set "
                "missing_label=np.nan (the default) or replace the NaN/None entries by "
                f"{missing_label!r}."
            )
        is_text_marker = isinstance(missing_label, str)
        is_text_y = y.dtype.kind in "US"
        if y.dtype != object and is_text_marker != is_text_y:
            raise ValueError(
                f"missing_label={missing_label!r} can never occur in y of dtype {y.dtype}: "
                "give a marker of the labels' type (such as -1 for integer labels, "
                "'unlabeled' for string labels) or leave missing_label=np.nan."
            )
        missing = np.frompyfunc(lambda v: v == missing_label, 1, 1)(y).astype(bool)
    return missing.any(axis=1) if missing.ndim > 1 else missing


def check_rows(X, name="X"):
    """Refuse a container the pool cannot hold as rows: a dict of inputs, a torch Dataset.

    skorch nets take both, but the pool indexes its rows, appends new ones and
    hands subsets to the model: a dict's length is its number of keys, and a
    Dataset cannot be appended to. Either failed far from the cause.
    """
    if sp.issparse(X):  # scipy's DOK format was a dict before scipy 1.11
        return
    if isinstance(X, Mapping):
        raise TypeError(
            f"{name} is a {type(X).__name__} of inputs ({label_repr(list(X))[:5]}), and the "
            "learner keeps a pool of rows: give one array, tensor, sparse matrix, DataFrame "
            "or list of rows. For a skorch module with several inputs, stack them into one "
            "array (or DataFrame columns) and split them in the module's forward."
        )
    data = sys.modules.get("torch.utils.data")  # no Dataset exists unless torch was imported
    if data is not None and isinstance(X, data.Dataset) and not hasattr(X, "__array__"):
        raise TypeError(
            f"{name} is a torch {type(X).__name__}, and the learner keeps a pool of rows and "
            "takes their labels as y: give the rows as one array or tensor (for a "
            "TensorDataset, its first tensor) and the labels as y."
        )


def _as_rows(X):
    """The pool's storage form: rows that scikit-learn's indexing utilities can take.

    Sparse matrices become CSR (COO and others cannot be indexed by row); other
    array-likes that are not lists, arrays or pandas objects (a tensor, an
    object exposing ``__array__``) become arrays; the rest stays as given.
    """
    check_rows(X)
    if sp.issparse(X):
        return X if X.format in ("csr", "csc") else X.tocsr()
    if isinstance(X, (list, tuple, np.ndarray)) or hasattr(X, "iloc"):
        return X
    if hasattr(X, "__array__"):
        return np.asarray(X)
    return X


def _form(X):
    if sp.issparse(X):
        return "sparse matrix"
    if hasattr(X, "iloc"):
        return type(X).__name__
    if isinstance(X, np.ndarray):
        return "ndarray"
    return type(X).__name__


def check_not_one_row(pool_X, X_new):
    """Refuse one row given alone (``X[i]``, ``df.iloc[i]``) where rows of the pool belong.

    Read as rows, its values would be as many rows of one value each.
    """
    if hasattr(pool_X, "columns") and hasattr(X_new, "iloc") and not hasattr(X_new, "columns"):
        raise TypeError(
            f"New rows must be a {type(pool_X).__name__}, as the pool is; got a Series, one row "
            "as X.iloc[i] gives it: pass X.iloc[[i]] to keep it a row of the table."
        )
    if (
        isinstance(pool_X, np.ndarray)
        and isinstance(X_new, np.ndarray)
        and pool_X.ndim > 1
        and X_new.shape == pool_X.shape[1:]
    ):
        raise ValueError(
            f"New rows must be a {pool_X.ndim}-d array of rows, as the pool is; got one "
            f"row as a {X_new.ndim}-d array of shape {X_new.shape}: pass X[[i]] rather "
            "than X[i] (or x[np.newaxis]) to keep it a row."
        )


def concat_rows(top, bottom):
    """Rows of ``bottom`` appended to ``top``, in the form of ``top``.

    Lists stay lists, DataFrames stay DataFrames (columns matched by name,
    index labels kept), sparse matrices stay sparse; arrays stay arrays.
    """
    if hasattr(top, "iloc"):
        import pandas as pd

        if not isinstance(bottom, type(top)):
            raise TypeError(
                f"The pool is a pandas {type(top).__name__}; new rows must be one too, got "
                f"{_form(bottom)}."
            )
        if hasattr(top, "columns"):
            if set(bottom.columns) != set(top.columns):
                raise ValueError(
                    "New rows must have the pool's columns "
                    f"{label_repr(top.columns)[:10]}, got {label_repr(bottom.columns)[:10]}."
                )
            bottom = bottom[top.columns]
            top, bottom = _shared_categories(top, bottom)
        return pd.concat([top, bottom])
    if sp.issparse(top):
        bottom = bottom if sp.issparse(bottom) else sp.csr_matrix(np.asarray(bottom))
        return sp.vstack([top, bottom], format=top.format)
    if isinstance(top, np.ndarray):
        if sp.issparse(bottom):
            bottom = bottom.toarray()
        bottom = np.asarray(bottom)
        if bottom.shape[1:] != top.shape[1:]:
            raise ValueError(
                f"New rows have shape {bottom.shape[1:]} per row, the pool {top.shape[1:]}: "
                f"X has {bottom.shape[1] if bottom.ndim > 1 else 1} features, but the "
                f"pool has {top.shape[1] if top.ndim > 1 else 1} features."
            )
        return np.concatenate([top, bottom], axis=0)
    if isinstance(top, (list, tuple)):
        return type(top)(list(top) + list(bottom))
    raise TypeError(f"Cannot append rows to a pool of type {type(top).__name__}.")


def natural_labels(y):
    """Labels held in an object array as numpy would hold them alone: ``[0, 1]`` as int64.

    Labels given beside None (``[0, 1, None]``) come in an object array, and
    scikit-learn refuses an object array of numbers ("Unknown label type")
    even once the Nones are dropped: numbers and booleans get their own dtype
    back. Strings, mixed labels and arrays of other dtypes are returned as
    they are.

    Parameters
    ----------
    y : ndarray

    Returns
    -------
    labels : ndarray
    """
    if y.dtype != object or y.size == 0:
        return y
    if not all(isinstance(v, (Number, np.bool_)) for v in y.flat):
        return y
    return np.asarray(y.tolist())


def _shared_categories(top, bottom):
    """The two frames with each categorical column of ``top`` on one set of categories.

    pandas concatenates a categorical column whose categories differ (a row
    built alone has only its own) as plain values, and a model that reads
    categories from the dtype (HistGradientBoosting, a column selector by
    dtype) would no longer see the column as categorical. The pool's
    categories come first, then the new rows' others.
    """
    import pandas as pd

    for name in top.columns:
        dtype = top[name].dtype
        if not isinstance(dtype, pd.CategoricalDtype) or bottom[name].dtype == dtype:
            continue
        values = pd.Index(bottom[name].dropna().unique())
        extra = values[~values.isin(dtype.categories)]
        dtype = pd.CategoricalDtype(dtype.categories.append(extra), ordered=dtype.ordered)
        top = top.astype({name: dtype})
        bottom = bottom.astype({name: dtype})
    return top, bottom


# How messages name each kind of labels.
_KIND_NAMES = {"bool": "booleans (True/False)", "number": "numbers", "text": "text"}


def _label_kind(labels):
    """``"bool"``, ``"text"``, ``"number"`` or ``"object"`` (mixed), read from the labels.

    Labels given beside None come in an object array: its booleans are booleans
    (not the numbers numpy would merge them into), its strings text.
    """
    labels = np.asarray(labels)
    if labels.dtype == bool:
        return "bool"
    if labels.dtype.kind in "US":
        return "text"
    if labels.dtype.kind != "O":
        return "number"
    if labels.size == 0:
        return "object"
    kinds = {_type_kind(cls) for cls in set(map(type, labels.ravel()))}
    return kinds.pop() if len(kinds) == 1 and None not in kinds else "object"


def _type_kind(cls):
    """``"bool"``, ``"text"`` or ``"number"`` for the type of a Python label, or None."""
    if issubclass(cls, (bool, np.bool_)):  # np.bool_ is no Number, unlike np.int64
        return "bool"
    if issubclass(cls, str):
        return "text"
    if issubclass(cls, Number):
        return "number"
    return None


def check_labels_of_one_kind(labels):
    """Refuse labels that mix kinds: numbers, text and booleans side by side.

    A column typed by hand or read from a spreadsheet (1, 2 and the text
    ``"3"``) is an object array: scikit-learn calls its type unknown and
    suggests continuous values, and numpy takes ``True`` for ``1``, so that two
    classes become one without a word.

    Parameters
    ----------
    labels : ndarray
        The known labels (no missing ones).

    Raises
    ------
    TypeError
        Naming the kinds found, an example of each, and how to convert them.
    """
    labels = np.asarray(labels)
    if labels.dtype != object or labels.size == 0:
        return
    values = labels.ravel().tolist()
    kinds = {_type_kind(cls) for cls in set(map(type, values))} - {None}
    if len(kinds) < 2:
        return
    examples = {kind: [] for kind in kinds}
    for value in values:
        shown = examples.get(_type_kind(type(value)))
        value = value.item() if isinstance(value, np.generic) else value  # True, not np.True_
        if shown is not None and len(shown) < 2 and value not in shown:
            shown.append(value)  # two examples of each kind
    found = " and ".join(
        f"{_KIND_NAMES[kind].split(' (')[0]} ({', '.join(map(repr, values))})"
        for kind, values in sorted(examples.items())
    )
    raise TypeError(
        f"The labels mix {found}; a classifier needs labels of one kind (1 and '1' would "
        "be two classes, True and 1 the same one). Convert them: y.astype(str) for text, "
        "pandas.to_numeric(y) for numbers."
    )


def check_label_kind(values, reference, what):
    """Refuse labels ``values`` of another kind than ``reference`` (``what`` names them).

    numpy merges such labels without a word: a number among text turns every
    label into a string, a number among booleans turns True and False into 1
    and 0. Either way the labels would be read back as something else.
    """
    if np.size(values) == 0 or np.size(reference) == 0:
        return
    kinds = (_label_kind(values), _label_kind(reference))
    if "object" in kinds or kinds[0] == kinds[1]:
        return
    given = label_repr(np.asarray(values).ravel()[:3])
    examples = label_repr(np.unique(np.asarray(reference).ravel()[:100])[:3])
    expected = _KIND_NAMES[kinds[1]]
    raise TypeError(
        f"Labels {given} are {_KIND_NAMES[kinds[0]]} and cannot join labels that are "
        f"{expected}, as {what} are ({examples}): give {expected}."
    )


def _store_labels(y, indices, values, held):
    """``y`` with ``values`` at ``indices``, promoted so that no value is truncated.

    ``held`` are the labels the pool holds (its labeled rows'): new labels must
    be of their kind. With none held, the first labels set the dtype.
    """
    values = np.asarray(values)
    if held.size == 0 and (_label_kind(held) != _label_kind(values) or y.dtype == object):
        # No label yet: y's dtype (NaN's float, None's object) says nothing of the
        # labels to come, as in a cold start from np.full(n, np.nan).
        y = np.zeros(y.shape, dtype=values.dtype)
    else:
        check_label_kind(values, held, "the labels given so far")
    dtype = np.result_type(y.dtype, values.dtype)
    y = y.astype(dtype, copy=True)
    y[indices] = values
    return y


class LabeledPool:
    """Rows in the form given, their labels, and the labeling order.

    The learner's whole state about the data. Rows are kept as given (list of
    strings, DataFrame, sparse matrix, array) and indexed with
    :func:`sklearn.utils._safe_indexing`; labels are one numpy array. Methods
    that change the pool return a new pool, so that a learner commits a change
    with a single assignment and never holds half of one.

    Parameters
    ----------
    X : array-like, sparse matrix, DataFrame or list of shape (n_samples, ...)
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Labels; entries of unlabeled rows are kept but never read.
    order : array-like of int
        Labeled rows in the order they were labeled.
    changes : tuple of dict, default=()
        The corrections and retractions so far, oldest first (see
        :meth:`relabel` and :meth:`unlabel`): the labels they replaced are
        kept here.
    """

    # Pools pickled before corrections existed have none.
    changes = ()

    def __init__(self, X, y, order, changes=()):
        self.X = _as_rows(X)
        self.y = y
        self.order = np.asarray(order, dtype=np.int64).reshape(-1)
        self.changes = tuple(changes)

    @property
    def n_rows(self):
        return _num_samples(self.X)

    @property
    def mask(self):
        """Boolean mask of the labeled rows."""
        mask = np.zeros(self.n_rows, dtype=bool)
        mask[self.order] = True
        return mask

    @property
    def unlabeled(self):
        return np.flatnonzero(~self.mask)

    def rows(self, indices):
        """Rows of ``X`` at ``indices``, in the form of ``X``."""
        return _safe_indexing(self.X, indices)

    def nonfinite_rows(self, indices):
        """The rows among ``indices`` that hold NaN (None, NA) or an infinity.

        Looked for in arrays, sparse matrices, lists of numbers and pandas
        objects; rows of other forms (documents, images as objects) are not
        searched, and none is returned for them.
        """
        indices = np.asarray(indices, dtype=np.int64)
        rows = self.rows(indices)
        if sp.issparse(rows):
            rows = rows.tocsr()
            hit = np.zeros(rows.shape[0], dtype=bool)
            if rows.dtype.kind in "fc":
                owners = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
                hit[owners[~np.isfinite(rows.data)]] = True
        elif hasattr(rows, "iloc"):
            frame = rows if hasattr(rows, "columns") else rows.to_frame()
            hit = frame.isna().to_numpy().any(axis=1)
            numbers = frame.select_dtypes("number").to_numpy(dtype=float, na_value=np.nan)
            hit |= np.isinf(numbers).any(axis=1)
        else:
            try:
                values = np.asarray(rows, dtype=float)
            except (TypeError, ValueError):  # not numbers: nothing to point at
                return indices[:0]
            hit = ~np.isfinite(values.reshape(len(indices), -1)).all(axis=1)
        return indices[hit]

    def labeled(self):
        """The labeled rows and their labels, in labeling order."""
        return self.rows(self.order), natural_labels(self.y[self.order])

    def reveal(self, indices):
        """A pool in which the rows at ``indices`` (labels already in ``y``) are labeled."""
        return LabeledPool(self.X, self.y, np.concatenate([self.order, indices]), self.changes)

    def label(self, indices, values):
        """A pool in which unlabeled rows at ``indices`` carry the labels ``values``."""
        indices = np.asarray(indices)
        if indices.dtype == bool:
            raise TypeError(
                "indices must be row positions, got a boolean mask: pass np.flatnonzero(mask)."
            )
        if indices.ndim == 0 and np.issubdtype(indices.dtype, np.integer):
            raise TypeError(
                f"indices must be a 1-d array of row positions, got the single position "
                f"{indices.item()}: pass [{indices.item()}] for one row."
            )
        if indices.ndim != 1 or (indices.size and not np.issubdtype(indices.dtype, np.integer)):
            raise TypeError("indices must be a 1-d array of integer row positions.")
        if indices.size and (indices.min() < 0 or indices.max() >= self.n_rows):
            raise ValueError(f"indices must lie in 0..{self.n_rows - 1}, the rows of the pool.")
        if np.unique(indices).size != indices.size:
            raise ValueError("indices holds the same row twice.")
        again = np.intersect1d(indices, self.order)
        if again.size:
            more = f" and {again.size - 10} more" if again.size > 10 else ""
            raise ValueError(
                f"Rows {again[:10].tolist()}{more} in indices are labeled already: teach() "
                "labels unlabeled rows. To change their labels, use correct(indices, y); if "
                "they were taught before (a cell run twice), leave them out of indices."
            )
        if len(values) != len(indices):
            raise ValueError(f"Got {len(values)} labels for {len(indices)} indices.")
        y = _store_labels(self.y, indices, values, self.y[self.order])
        return LabeledPool(self.X, y, np.concatenate([self.order, indices]), self.changes)

    def add(self, X_new, values):
        """A pool with the labeled rows ``X_new`` appended."""
        n_new = _num_samples(X_new)
        if len(values) != n_new:
            raise ValueError(f"Got {len(values)} labels for {n_new} rows.")
        X = concat_rows(self.X, _as_rows(X_new))
        rows = np.arange(self.n_rows, self.n_rows + n_new)
        y = np.concatenate([self.y, np.zeros((n_new,) + self.y.shape[1:], self.y.dtype)])
        y = _store_labels(y, rows, values, self.y[self.order])
        return LabeledPool(X, y, np.concatenate([self.order, rows]), self.changes)

    def _labeled_rows(self, indices):
        """``indices`` checked to be distinct labeled rows of the pool."""
        indices = np.asarray(indices)
        if indices.size == 0:
            raise ValueError("indices holds no rows: name the labeled rows to change.")
        if indices.ndim != 1 or not np.issubdtype(indices.dtype, np.integer):
            raise TypeError("indices must be a 1-d array of integer row positions.")
        if indices.min() < 0 or indices.max() >= self.n_rows:
            raise ValueError(f"indices must lie in 0..{self.n_rows - 1}, the rows of the pool.")
        if np.unique(indices).size != indices.size:
            raise ValueError("indices holds the same row twice.")
        fresh = np.setdiff1d(indices, self.order)
        if fresh.size:
            raise ValueError(
                f"Some rows in indices are not labeled: {fresh[:10].tolist()}. Only labeled "
                "rows can be corrected or retracted; label new rows with teach()."
            )
        return indices.astype(np.int64)

    def relabel(self, indices, values, round_):
        """A pool in which the labeled rows at ``indices`` carry the labels ``values``.

        The rows keep their place in the labeling order; the labels they had
        are kept in ``changes``.
        """
        indices = self._labeled_rows(indices)
        if len(values) != len(indices):
            raise ValueError(f"Got {len(values)} labels for {len(indices)} indices.")
        y = _store_labels(self.y, indices, values, self.y[self.order])
        change = dict(
            action="correct",
            round=round_,
            indices=indices,
            previous_labels=self.y[indices].copy(),
            labels=np.asarray(values).copy(),
        )
        return LabeledPool(self.X, y, self.order, self.changes + (change,))

    def unlabel(self, indices, round_):
        """A pool in which the rows at ``indices`` are unlabeled again.

        Their labels are kept in ``changes`` (and in ``y``, unread).
        """
        indices = self._labeled_rows(indices)
        change = dict(
            action="retract",
            round=round_,
            indices=indices,
            previous_labels=self.y[indices].copy(),
            labels=None,
        )
        order = self.order[~np.isin(self.order, indices)]
        return LabeledPool(self.X, self.y, order, self.changes + (change,))

    def with_candidates(self, X_new):
        """The labeled rows followed by the rows ``X_new``, and the labeled mask of that pool.

        What a strategy sees when asked about new rows: what is known, then the
        candidates.
        """
        known = self.rows(self.order)
        X = concat_rows(_as_rows(known), _as_rows(X_new))
        mask = np.zeros(_num_samples(X), dtype=bool)
        mask[: len(self.order)] = True
        return X, mask
