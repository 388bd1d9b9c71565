"""The error of an encoder that meets a category no labeled row has, with its fix."""

import contextlib

__all__ = ["unseen_categories_explained"]

# scikit-learn's OneHotEncoder and OrdinalEncoder with handle_unknown="error":
# "Found unknown categories ['c7'] in column 0 during transform".
_UNKNOWN_CATEGORIES = "found unknown categories"


@contextlib.contextmanager
def unseen_categories_explained():
    """Raise an encoder's refusal of unknown categories as a ``ValueError`` with the fix.

    The learner fits its model on the labeled rows only, and then has it
    read the whole pool (and ``eval_set``): a category that no labeled row has
    yet is the rule there, not a mistake in the data. scikit-learn's message
    says neither why nor what to change. Any other error passes unchanged.
    """
    try:
        yield
    except ValueError as exc:
        text = str(exc)
        if _UNKNOWN_CATEGORIES not in text.lower():
            raise
        shown = text if len(text) <= 200 else text[:200] + "..."
        raise ValueError(
            "The model is fitted on the labeled rows only, and its encoder refuses "
            f"categories that no labeled row has ({shown}). Rows of a category not labeled "
            "yet are rows a query must be able to read: let the encoder take them, "
            "OneHotEncoder(handle_unknown='ignore') (or 'infrequent_if_exist'), "
            "OrdinalEncoder(handle_unknown='use_encoded_value', unknown_value=-1)."
        ) from exc
