"""Figures of a strategy comparison: learning curves, penalty matrix, selection time.

Needs matplotlib, an optional dependency: ``pip install "skbait[plotting]"``.
Every function draws on the given ``ax`` (or on a new figure's axes) and
returns the axes; nothing is shown or saved, and no backend is chosen.
"""

try:
    import matplotlib  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised by a test that hides matplotlib
    raise ImportError(
        "skbait.plotting needs matplotlib, an optional dependency of skbait. Install it with "
        "pip install 'skbait[plotting]' (or pip install matplotlib)."
    ) from exc

# The figures live beside the tables they draw, inside skbait.evaluation, whose report
# draws them too; this module is their public name.
from skbait.evaluation._plots import plot_learning_curves, plot_penalty_matrix, plot_selection_time

__all__ = ["plot_learning_curves", "plot_penalty_matrix", "plot_selection_time"]
