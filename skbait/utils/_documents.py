"""The error of a text pipeline that meets a missing document, with its fix."""

import contextlib

import numpy as np
from sklearn.utils._missing import is_scalar_nan

__all__ = ["missing_documents_explained"]


def _missing_documents(X):
    """Positions of the missing documents (None, NaN) of a 1-d pool of texts, or []."""
    if hasattr(X, "iloc") and getattr(X, "ndim", 2) == 1:
        values = X.to_numpy(dtype=object)
    elif isinstance(X, (list, tuple)) or (isinstance(X, np.ndarray) and X.ndim == 1):
        values = X
    else:
        return []
    if not any(isinstance(value, (str, bytes)) for value in values):
        return []
    return [i for i, value in enumerate(values) if value is None or is_scalar_nan(value)]


@contextlib.contextmanager
def missing_documents_explained(X):
    """Raise a vectorizer's failure on a missing document as a ``ValueError`` with the fix.

    A text pipeline is fitted on the labeled rows only, so a missing document
    (None, NaN) among the unlabeled ones passes ``fit`` and fails the first
    query inside the vectorizer ("'NoneType' object has no attribute
    'lower'", "np.nan is an invalid document"). The pool is scanned only once
    something failed; any other error passes unchanged, and so does this one
    where ``X`` holds no missing document (a pipeline that reads them itself).
    """
    try:
        yield
    except (AttributeError, TypeError, ValueError) as exc:
        missing = _missing_documents(X)
        if not missing:
            raise
        shown = ", ".join(map(str, missing[:5])) + (", ..." if len(missing) > 5 else "")
        raise ValueError(
            f"The pool holds {len(missing)} missing document(s) (None or NaN, at "
            f"position(s) {shown}), and the model cannot read them ({exc}). Give them as "
            "empty texts (series.fillna('')), or leave those rows out."
        ) from exc
