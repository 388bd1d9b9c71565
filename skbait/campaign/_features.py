"""Feature columns: which columns, their digest, and the matrix the model sees."""

import hashlib

import numpy as np

from skbait.campaign._errors import CampaignError, _problems

ROW = "row"  # the batch files' column of DATA row numbers
MAX_CATEGORIES = 1000  # distinct values of a one-hot encoded text column


def _feature_columns(table, target, features):
    if ROW in table.columns:
        raise CampaignError(
            f"{table.path!r} has a column named {ROW!r}, which batch files use for the row "
            "number; rename it."
        )
    if target not in table.columns:
        shown = ", ".join(table.columns[:20])
        raise CampaignError(f"no column {target!r} in {table.path!r}; its columns are: {shown}.")
    if features is None:
        columns = [c for c in table.columns if c != target]
    else:
        columns = list(features)
        unknown = [c for c in columns if c not in table.columns]
        if unknown:
            raise CampaignError(f"no feature column {', '.join(map(repr, unknown))} in DATA.")
        if target in columns:
            raise CampaignError(f"the target {target!r} cannot also be a feature.")
    if not columns:
        raise CampaignError(f"{table.path!r} has no feature column besides {target!r}.")
    return columns


def _digest(table, columns, n_rows):
    digest = hashlib.sha256()
    for column in columns:
        digest.update(column.encode("utf-8") + b"\x00")
        digest.update("\x1f".join(table.text(column)[:n_rows]).encode("utf-8") + b"\x1e")
    return digest.hexdigest()


def _feature_matrix(table, columns):
    """Numbers for the model: numeric columns as they are, text columns one-hot encoded."""
    import pandas as pd

    parts, problems = [], []
    for column in columns:
        text = table.text(column)
        blank = text == ""
        values = pd.to_numeric(pd.Series(np.where(blank, None, text)), errors="coerce")
        unparsed = values.isna().to_numpy() & ~blank
        if not unparsed.any():
            if blank.any():
                rows = np.flatnonzero(blank)
                problems.append(
                    f"numeric column {column!r} is blank in rows "
                    f"{', '.join(map(str, rows[:10]))}{' ...' if rows.size > 10 else ''}"
                )
                continue
            numbers = values.to_numpy(dtype=np.float64)
            if not np.isfinite(numbers).all():
                problems.append(f"numeric column {column!r} holds infinite values")
                continue
            parts.append(numbers[:, None])
        else:
            n_values = np.unique(text).size
            if n_values > MAX_CATEGORIES:
                problems.append(
                    f"text column {column!r} has {n_values} distinct values (more than "
                    f"{MAX_CATEGORIES}: an identifier or free text?); leave it out"
                )
                continue
            parts.append(pd.get_dummies(pd.Series(text), dtype=np.float64).to_numpy())
    if problems:
        raise _problems(
            "DATA's features need a value in every row (fill them, or choose the feature "
            "columns with --features):",
            problems,
        )
    return np.hstack(parts)
