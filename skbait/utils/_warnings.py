"""Warnings that name the user's line, however deep in skbait they are raised."""

import sys

__all__ = ["caller_stacklevel"]


def caller_stacklevel():
    """The ``stacklevel`` that makes :func:`warnings.warn` name the first caller outside skbait.

    A fixed ``stacklevel`` names the user's line from one call path only: the
    learner reaches the same warning from ``fit``, ``teach`` and a simulation's
    rounds at different depths. Call it from the function that warns.

    Returns
    -------
    int
    """
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] == "skbait":
        frame, level = frame.f_back, level + 1
    return level
