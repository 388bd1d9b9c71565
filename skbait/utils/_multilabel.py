"""Multi-label targets in their usual forms, label probabilities, and multi-label scores.

A multi-label ``y`` gives each row a *set* of labels. scikit-learn's models
take it as an indicator matrix (one 0/1 column per label); users hold it in
one of these forms, all read by :func:`read_label_sets`:

- a 2-D array of 0/1 (a row of NaN: not labeled yet);
- a scipy sparse indicator matrix (every row labeled);
- a list (or pandas Series, or object array) of label sets, as
  :class:`~sklearn.preprocessing.MultiLabelBinarizer` takes them
  (``[{"sports"}, {"sports", "politics"}, None]``: ``None`` or NaN is a row
  not labeled yet, an empty set a row labeled with no label). Rows that are
  lists (or tuples, arrays) of numbers, all of one length, are indicator
  rows, as scikit-learn reads them: give label sets of numbers as Python
  sets (``[{0, 2}, {1}]``);
- a pandas DataFrame of 0/1 columns, one per label (the column names are the
  labels; a row of NaN is not labeled yet).

A row is labeled whole or not at all: a row with some outputs missing is
refused, since a partial label set would be read as a complete one.
"""

from collections.abc import Iterable
from numbers import Number

import numpy as np
import scipy.sparse as sp

__all__ = [
    "LabelSets",
    "format_label_sets",
    "is_multilabel_target",
    "label_probabilities",
    "multilabel_scores",
    "parse_label_sets",
    "read_label_sets",
]


class LabelSets:
    """A multi-label target read into an indicator matrix.

    What :func:`read_label_sets` returns; each parameter is kept as the
    attribute of its name.

    Parameters
    ----------
    indicator : ndarray of shape (n_samples, n_labels), dtype=int64
        1 where the row has the label; rows not labeled are all 0 (never read).
    labeled : ndarray of shape (n_samples,), dtype=bool
        The rows that carry a label set.
    classes : ndarray of shape (n_labels,)
        The labels, in column order.

    Examples
    --------
    >>> from skbait.utils import read_label_sets
    >>> sets = read_label_sets([{"b"}, None])
    >>> sets.classes.tolist(), sets.indicator.tolist(), sets.labeled.tolist()
    (['b'], [[1], [0]], [True, False])
    """

    def __init__(self, indicator, labeled, classes):
        self.indicator = indicator
        self.labeled = labeled
        self.classes = classes


def _is_set_row(value):
    if isinstance(value, np.ndarray):
        return value.ndim == 1
    return isinstance(value, (set, frozenset, tuple, list))


def _is_missing_row(value):
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return type(value).__name__ == "NAType"


def is_multilabel_target(y):
    """Whether ``y`` is a multi-label target in one of the forms above.

    A 2-D array counts when it has at least two columns and holds only 0, 1
    (and NaN rows); a DataFrame when all its columns do; a sequence when its
    rows are label sets (sets, tuples, lists) or missing, and not all of them
    lists of one length of 0/1 numbers (those are indicator rows, read as the
    2-D array they make).

    Parameters
    ----------
    y : object

    Returns
    -------
    bool

    Examples
    --------
    >>> from skbait.utils import is_multilabel_target
    >>> is_multilabel_target([{"a"}, {"a", "b"}, None])
    True
    >>> is_multilabel_target([[0, 1], [1, 1]]), is_multilabel_target([0, 1, 2])
    (True, False)
    """
    y = _as_array_like(y)
    if sp.issparse(y):
        return y.ndim == 2 and y.shape[1] >= 2 and _is_binary(y.data)
    if hasattr(y, "columns"):  # a DataFrame
        try:
            values = y.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):
            return False
        return values.ndim == 2 and values.shape[1] >= 2 and _is_binary(values)
    if isinstance(y, np.ndarray) and y.ndim == 2 and y.shape[1] == 1:
        # A column of labels (frame[["label"]].to_numpy(), an object array): one label a
        # row, as scikit-learn reads it, not rows of one-label sets.
        return False
    if isinstance(y, np.ndarray) and y.dtype != object:
        return y.ndim == 2 and y.shape[1] >= 2 and _is_binary(y)
    try:
        rows = list(y) if hasattr(y, "iloc") or not isinstance(y, np.ndarray) else y.tolist()
    except TypeError:  # not a sequence at all: not a multi-label target
        return False
    if not rows:
        return False
    if not all(_is_set_row(r) or _is_missing_row(r) for r in rows):
        return False
    if not any(_is_set_row(r) for r in rows):
        return False
    if _numeric_table(rows):
        # Rows of numbers of one length: an indicator when 0/1, else multi-output classes.
        return _as_indicator_rows(rows) is not None
    return True


def _numeric_table(rows):
    """Whether the labeled rows are lists or tuples of numbers, all of one length."""
    present = [r for r in rows if not _is_missing_row(r)]
    if not present or not all(isinstance(r, (list, tuple, np.ndarray)) for r in present):
        return False
    if len({len(r) for r in present}) != 1:
        return False
    return all(
        isinstance(v, (bool, int, float, np.integer, np.floating, np.bool_))
        for r in present
        for v in r
    )


def _as_array_like(y):
    """Objects that only expose ``__array__`` (not lists, frames or sparse) as arrays."""
    if sp.issparse(y) or hasattr(y, "iloc") or isinstance(y, (np.ndarray, list, tuple)):
        return y
    return np.asarray(y) if hasattr(y, "__array__") else y


def _is_binary(values):
    values = np.asarray(values)
    if values.dtype == object or values.dtype.kind not in "biuf":
        return False
    finite = values[~np.isnan(values)] if values.dtype.kind == "f" else values
    return bool(np.isin(finite, (0, 1)).all())


def _as_indicator_rows(rows):
    """Rows as a 2-D float array when they are lists of one length of 0/1 numbers, else None."""
    if any(isinstance(r, (set, frozenset)) for r in rows):
        return None
    present = [r for r in rows if not _is_missing_row(r)]
    if not all(isinstance(r, (list, tuple, np.ndarray)) for r in present):
        return None  # a row of one value: _read_sets says what a row should be
    lengths = {len(r) for r in present}
    if len(lengths) != 1 or lengths == {0}:
        return None
    width = lengths.pop()
    if width < 2:
        return None
    try:
        values = np.array(
            [[np.nan] * width if _is_missing_row(r) else list(r) for r in rows], dtype=np.float64
        )
    except (TypeError, ValueError):
        return None
    if not all(
        isinstance(v, (bool, int, float, np.integer, np.floating, np.bool_))
        for r in present
        for v in r
    ):
        return None
    return values if _is_binary(values) else None


def read_label_sets(y, *, classes=None):
    """Read a multi-label target (any of the forms above) into a :class:`LabelSets`.

    Parameters
    ----------
    y : array-like, sparse matrix, DataFrame or list of label sets
    classes : array-like, default=None
        The labels, in column order. For label sets they fix the columns (a
        label outside them is an error); for an indicator matrix they name its
        columns (as many as it has), and a DataFrame's columns, named by the
        same labels in any order, are put in their order. By default: the sorted labels seen (label
        sets), the DataFrame's column names, or ``0 .. K - 1``.

    Returns
    -------
    LabelSets

    Raises
    ------
    ValueError
        When a row is partly labeled, an entry is not 0/1, a label lies
        outside ``classes``, or ``classes`` does not match the columns (a
        DataFrame's: other labels than ``classes``, which the error lists).
    TypeError
        When ``y`` is one value rather than one label set per row, or a row is
        one value (a single-label column) rather than a set of labels.

    Examples
    --------
    >>> from skbait.utils import read_label_sets
    >>> sets = read_label_sets([{"sports"}, None, {"politics", "sports"}, set()])
    >>> sets.classes.tolist(), sets.labeled.tolist()
    (['politics', 'sports'], [True, False, True, True])
    >>> sets.indicator.tolist()
    [[0, 1], [0, 0], [1, 1], [0, 0]]
    """
    y = _as_array_like(y)
    if sp.issparse(y):
        values = y.toarray().astype(np.float64)
        names = None
    elif hasattr(y, "columns"):
        values = y.to_numpy(dtype=np.float64, na_value=np.nan)
        names = np.asarray(list(y.columns))
    elif isinstance(y, np.ndarray) and y.dtype != object:
        values = y.astype(np.float64)
        names = None
    else:
        if isinstance(y, (str, bytes)) or not isinstance(y, Iterable):
            raise TypeError(
                "y must hold one label set per row (a list of sets, an indicator matrix "
                f"or a DataFrame of 0/1 columns), got {y!r}."
            )
        rows = list(y)
        values = _as_indicator_rows(rows)
        names = None
        if values is None:
            if _numeric_table(rows):
                raise ValueError(
                    "y's rows are lists of numbers of one length, read as indicator rows, "
                    "which hold only 0 and 1 (None for a row not labeled yet). For label sets "
                    "of numbers, give Python sets: [{0, 2}, {1}]."
                )
            return _read_sets(rows, classes)
    return _read_indicator(values, names, classes)


def _read_indicator(values, names, classes):
    if values.ndim != 2:
        raise ValueError(f"A multi-label indicator must be 2-d, got shape {values.shape}.")
    holes = np.isnan(values)
    partial = holes.any(axis=1) & ~holes.all(axis=1)
    if partial.any():
        raise ValueError(
            f"{int(partial.sum())} row(s) of y are partly labeled (first at row "
            f"{int(np.flatnonzero(partial)[0])}): a multi-label row is labeled whole (every "
            "column 0 or 1) or not at all (every column NaN)."
        )
    if not _is_binary(values):
        raise ValueError(
            "A multi-label indicator holds only 0 and 1 (NaN for a row not labeled yet); "
            f"got values such as {np.unique(values[~holes])[:5].tolist()}."
        )
    K = values.shape[1]
    if classes is not None:
        classes = np.asarray(classes)
        if names is not None:
            values = _in_class_order(values, names, classes)
        elif classes.shape != (K,):
            raise ValueError(
                f"classes names {classes.size} labels but y has {K} columns: give one "
                "label per column."
            )
    else:
        classes = names if names is not None else np.arange(K)
    labeled = ~holes.all(axis=1)
    indicator = np.where(holes, 0, values).astype(np.int64)
    return LabelSets(indicator, labeled, classes)


def _in_class_order(values, names, classes):
    """A DataFrame's columns in the order of ``classes``, matched by name (as text).

    The same labels in another order are reordered; other columns are refused
    with the labels missing, extra or repeated.
    """
    wanted, given = classes.astype(str).tolist(), names.astype(str).tolist()
    if given == wanted:
        return values
    if sorted(given) == sorted(wanted) and len(set(given)) == len(given):
        return values[:, [given.index(label) for label in wanted]]
    problems = [
        f"{what} {labels}"
        for what, labels in (
            ("missing", [c for c in classes.tolist() if str(c) not in given]),
            ("extra", [n for n in names.tolist() if str(n) not in wanted]),
            ("repeated", sorted({n for n in given if given.count(n) > 1})),
        )
        if labels
    ]
    raise ValueError(
        f"y's columns {names.tolist()} are not the labels {classes.tolist()} "
        f"({'; '.join(problems)}). Name one column per label, in any order (or give "
        "label sets)."
    )


def _read_sets(rows, classes):
    from sklearn.preprocessing import MultiLabelBinarizer

    labeled = np.array([not _is_missing_row(r) for r in rows], dtype=bool)
    for i, r in enumerate(rows):
        if not labeled[i] and not _is_missing_row(r):
            raise TypeError(f"Row {i} of y is not a label set: {r!r}.")
        if labeled[i] and not _is_set_row(r):
            # "sports|politics": a campaign's cell, which parse_label_sets splits.
            hint = (
                " Split texts that join labels with skbait.utils.parse_label_sets(y, sep=...)."
                if isinstance(r, str) and any(mark in r for mark in "|/,;+&")
                else ""
            )
            raise TypeError(
                f"Row {i} of y is {r!r}; a multi-label y gives each row a set of labels "
                f"(a set, tuple or list; None for a row not labeled yet).{hint}"
            )
    sets = [set(r) for r, ok in zip(rows, labeled) if ok]
    bad = [v for s in sets for v in s if _is_missing_row(v)]
    if bad:
        raise ValueError("A label set holds None or NaN; drop it from the set.")
    if classes is None:
        seen = sorted({v for s in sets for v in s}, key=_label_order)
        classes = _label_array(seen) if seen else np.empty(0)
    else:
        classes = classes if isinstance(classes, np.ndarray) else _label_array(list(classes))
        outside = sorted({v for s in sets for v in s} - set(classes.tolist()), key=str)
        if outside:
            raise ValueError(
                f"y holds labels {outside[:5]} outside the declared labels "
                f"{classes.tolist()}. Add them to classes, or leave classes=None."
            )
    if classes.size < 1:
        raise ValueError("y names no label at all: a multi-label y needs at least one label.")
    binarizer = MultiLabelBinarizer(classes=classes.tolist())
    indicator = np.zeros((len(rows), classes.size), dtype=np.int64)
    if sets:
        indicator[labeled] = binarizer.fit_transform(sets)
    return LabelSets(indicator, labeled, classes)


def _label_order(label):
    """Sort key of the labels seen: numbers by value (whatever their type), then the rest."""
    if isinstance(label, Number):
        return (0, "", label)
    return (1, str(type(label)), label)


def _label_array(labels):
    """Labels as an array; numbers beside text as objects, which numpy would make text."""
    values = np.asarray(labels)
    if values.dtype.kind in "US" and not all(isinstance(v, str) for v in labels):
        values = np.empty(len(labels), dtype=object)
        values[:] = labels
    return values


def label_probabilities(raw, n_samples, n_labels=None, *, output_classes=None):
    """Each label's probability from a multi-label ``predict_proba``: an ``(n, K)`` array.

    Reads the forms scikit-learn's multi-label models return: an ``(n, K)``
    array (:class:`~sklearn.multiclass.OneVsRestClassifier`,
    :class:`~sklearn.multioutput.ClassifierChain`,
    :class:`~sklearn.neural_network.MLPClassifier`, a sigmoid network), or a
    list of ``K`` arrays of shape ``(n, 2)`` (or ``(n, 1)`` for an output that
    saw one value), one per label
    (:class:`~sklearn.multioutput.MultiOutputClassifier`, forests).

    Parameters
    ----------
    raw : ndarray or list of ndarray
    n_samples : int
    n_labels : int, default=None
        The expected number of labels, checked when given.
    output_classes : list of array-like, default=None
        The classes of each output of the list form (the model's
        ``classes_``): an ``(n, 1)`` output whose one value is 1 gives the
        label probability 1. Without them it gives 0.

    Returns
    -------
    P : ndarray of shape (n_samples, n_labels), dtype=float64
        Values in [0, 1].

    Raises
    ------
    ValueError
        When ``raw`` is not probabilities of ``n_samples`` rows and
        ``n_labels`` labels in one of the forms above, or holds values outside
        [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.utils import label_probabilities
    >>> raw = [np.array([[0.9, 0.1], [0.2, 0.8]]), np.array([[0.5, 0.5], [1.0, 0.0]])]
    >>> label_probabilities(raw, 2)
    array([[0.1, 0.5],
           [0.8, 0. ]])
    """
    if isinstance(raw, (list, tuple)):
        columns = []
        for j, P in enumerate(raw):
            P = np.asarray(P, dtype=np.float64)
            if P.ndim != 2 or P.shape[0] != n_samples or P.shape[1] not in (1, 2):
                raise ValueError(
                    f"predict_proba's output {j} has shape {P.shape}; a multi-label model "
                    f"gives each label an (n_samples={n_samples}, 2) array."
                )
            # One column: the output saw a single value, whose probability is 1; the
            # label's probability is 1 if that value is 1 (a label every labeled row has).
            columns.append(P[:, 1] if P.shape[1] == 2 else _single_value(output_classes, j, P))
        P = np.column_stack(columns) if columns else np.empty((n_samples, 0))
    else:
        P = np.asarray(raw, dtype=np.float64)
        if P.ndim != 2 or P.shape[0] != n_samples:
            raise ValueError(
                f"predict_proba gave shape {P.shape}; a multi-label model gives "
                f"(n_samples={n_samples}, n_labels) probabilities."
            )
    if n_labels is not None and P.shape[1] != n_labels:
        raise ValueError(
            f"The model gives probabilities for {P.shape[1]} labels, {n_labels} expected."
        )
    if not np.isfinite(P).all() or (P < -1e-6).any() or (P > 1 + 1e-6).any():
        raise ValueError("The model's label probabilities hold NaN, inf or values outside [0, 1].")
    return np.clip(P, 0.0, 1.0)


def _single_value(output_classes, j, P):
    """The label probability of an output that saw one value: that value, 0 or 1."""
    n_samples = P.shape[0]
    if not isinstance(output_classes, (list, tuple)) or j >= len(output_classes):
        return np.zeros(n_samples)  # no classes per output: the value is unknown
    value = np.asarray(output_classes[j]).ravel()
    present = value.size == 1 and value.dtype.kind in "biuf" and value[0] == 1
    return P[:, 0] if present else np.zeros(n_samples)


def multilabel_scores(y_true, y_pred, y_score=None):
    """Micro and macro F1, subset accuracy, Hamming loss and average precision of label sets.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples, n_labels)
        0/1 indicator matrices (dense or sparse).
    y_score : array-like of shape (n_samples, n_labels), default=None
        Each label's probability (or any score that ranks its rows). Given,
        the result adds ``average_precision``.

    Returns
    -------
    dict
        ``f1_micro``, ``f1_macro`` (labels with neither a true nor a predicted
        positive count as 0), ``subset_accuracy`` (the fraction of rows whose
        whole label set is right) and ``hamming_loss`` (the fraction of wrong
        entries; lower is better). With ``y_score``, also ``average_precision``:
        the mean over labels of the area under each label's precision-recall
        curve (:func:`~sklearn.metrics.average_precision_score`), over the
        labels with both a positive and a negative row in ``y_true`` (NaN if
        none has). It ranks rows by score and so does not depend on the 0.5
        threshold that decides the label sets.

    Examples
    --------
    >>> import numpy as np
    >>> from skbait.utils import multilabel_scores
    >>> scores = multilabel_scores(np.array([[1, 0], [1, 1]]), np.array([[1, 0], [0, 1]]))
    >>> {k: round(v, 3) for k, v in scores.items()}
    {'f1_micro': 0.8, 'f1_macro': 0.833, 'subset_accuracy': 0.5, 'hamming_loss': 0.25}
    >>> truth, sets = np.array([[1, 0], [0, 1]]), np.array([[1, 0], [1, 1]])
    >>> scores = multilabel_scores(truth, sets, np.array([[0.9, 0.2], [0.6, 0.7]]))
    >>> scores["average_precision"]
    1.0
    """
    from sklearn.metrics import accuracy_score, f1_score, hamming_loss

    if sp.issparse(y_true):
        y_true = y_true.toarray()
    if sp.issparse(y_pred):
        y_pred = y_pred.toarray()
    y_true = np.asarray(y_true).astype(np.int64)
    y_pred = np.asarray(y_pred).astype(np.int64)
    scores = {
        "f1_micro": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "f1_macro": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "subset_accuracy": float(accuracy_score(y_true, y_pred)),
        "hamming_loss": float(hamming_loss(y_true, y_pred)),
    }
    if y_score is not None:
        scores["average_precision"] = _mean_average_precision(y_true, y_score)
    return scores


def _mean_average_precision(y_true, y_score):
    """Macro average precision over the labels where it is defined (a positive and a negative)."""
    from sklearn.metrics import average_precision_score

    y_score = np.asarray(y_score.toarray() if sp.issparse(y_score) else y_score, dtype=np.float64)
    if y_score.shape != y_true.shape:
        raise ValueError(
            f"y_score has shape {y_score.shape}; it must match the label matrix, {y_true.shape}."
        )
    positives = y_true.sum(axis=0)
    defined = np.flatnonzero((positives > 0) & (positives < y_true.shape[0]))
    if defined.size == 0:
        return float("nan")
    return float(average_precision_score(y_true[:, defined], y_score[:, defined], average="macro"))


def parse_label_sets(values, sep="|"):
    """Label sets from strings such as ``"sports|politics"`` (a campaign's label column).

    Parameters
    ----------
    values : sequence of str or None
        One string per row; an empty string is a row labeled with no label,
        ``None`` or NaN a row not labeled yet. Labels are stripped of
        surrounding spaces.
    sep : str, default="|"
        The separator, one or more characters.

    Returns
    -------
    list of (frozenset or None)

    Raises
    ------
    ValueError
        When ``sep`` is empty or not a string.
    TypeError
        When a value is neither a string nor missing.

    Examples
    --------
    >>> from skbait.utils import parse_label_sets
    >>> sets = parse_label_sets(["sports|politics", "", None, " arts "])
    >>> [None if s is None else sorted(s) for s in sets]
    [['politics', 'sports'], [], None, ['arts']]
    """
    if not isinstance(sep, str) or not sep:
        raise ValueError(f"sep must be a non-empty string, got {sep!r}.")
    out = []
    for value in values:
        if _is_missing_row(value):
            out.append(None)
            continue
        if not isinstance(value, str):
            raise TypeError(f"Label sets are read from strings, got {value!r}.")
        out.append(frozenset(part.strip() for part in value.split(sep) if part.strip()))
    return out


def format_label_sets(sets, sep="|"):
    """Strings such as ``"politics|sports"`` from label sets (:func:`parse_label_sets` inverted).

    Parameters
    ----------
    sets : sequence of (iterable of str, or None)
    sep : str, default="|"

    Returns
    -------
    list of (str or None)
        Labels sorted within a row; ``None`` stays ``None``.

    Raises
    ------
    ValueError
        When ``sep`` is empty or not a string, or a label contains it.

    Examples
    --------
    >>> from skbait.utils import format_label_sets
    >>> format_label_sets([{"sports", "politics"}, set(), None])
    ['politics|sports', '', None]
    """
    if not isinstance(sep, str) or not sep:
        raise ValueError(f"sep must be a non-empty string, got {sep!r}.")
    out = []
    for labels in sets:
        if labels is None:
            out.append(None)
            continue
        labels = sorted(str(v) for v in labels)
        clash = [v for v in labels if sep in v]
        if clash:
            raise ValueError(f"The label {clash[0]!r} contains the separator {sep!r}.")
        out.append(sep.join(labels))
    return out
