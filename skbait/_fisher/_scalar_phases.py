"""The forward and backward phases of the greedies whose rows keep a few numbers each.

:class:`~skbait._fisher.RankOneGreedy` (one output: ``P_x``, ``Qh_x`` per row,
on NumPy) and :class:`~skbait._fisher.MultiLabelGreedy` (``K`` labels: ``a_x``,
``b_x`` per row and label, on torch) differ in how a row's state moves and
is scored. The phases around a move are one rule, written here once: which
row wins a step (the highest score, ties to the lowest position), when
undefined rows call for a rebuild of the design, which rows are tracked
once the backward phase begins, and what is recorded.
:class:`~skbait._fisher.KroneckerGreedy` has phases of its own (bounds, a
choice that a distributed greedy reduces across processes).
"""

import contextlib
import math

from skbait._fisher._design import IllConditionedError

__all__ = ["ScalarStatePhases"]


class ScalarStatePhases:
    """Forward and backward phases over a subclass's state of the rows.

    The subclass keeps ``picked``, ``gains``, ``_rows`` (the tracked rows'
    positions; ``None`` or every candidate in the forward phase),
    ``_tracking_picked`` and ``_bad_after_refresh``, and provides:

    - ``_scores(sign)``: the tracked rows' scores (gains for ``+1``, removal
      costs for ``-1``; ``_gain_scale`` times smaller when that is cheaper)
      and the rows whose score is undefined (``None`` when there are none);
    - ``_update(position, sign)``: the move of the design and of the rows,
      ``False`` when the design was rebuilt instead (the rows are fresh);
    - ``_refresh()``, ``_restrict(keep)``, ``_lowest_tied(scores)``;
    - ``_flags(n, value)``: a boolean array; ``_excluded(scores, mask,
      fill)``: the scores with ``fill`` where ``mask`` holds; ``_index(list)``:
      an index array;
    - optionally ``_fallback_costs(costs)``: the removal costs to use, for
      instance recomputed in float64 when none is finite in float32.
    """

    _gain_scale = 1.0

    def _numerics(self):
        """The context the phases run in (NumPy's silenced warnings, for one)."""
        return contextlib.nullcontext()

    def _fallback_costs(self, costs):
        return costs

    def _record(self, position, sign):
        if sign > 0:
            self.picked.append(position)
        else:
            self.picked.remove(position)

    def _step(self, position, sign):
        """Update the design and the rows; the next scores (after a rebuild if rows went bad).

        As :meth:`KroneckerGreedy._step`: rows still bad right after a rebuild
        are the working precision's limit, not drift, and call for no other.
        """
        fresh = not self._update(position, sign)
        scores, bad = self._scores(sign)
        n_bad = 0 if bad is None else int(bad.sum())
        if n_bad and not fresh and n_bad > self._bad_after_refresh:
            self._refresh()
            scores, bad = self._scores(sign)
            self._bad_after_refresh = 0 if bad is None else int(bad.sum())
        return scores, bad

    def forward(self, n_steps, *, final_keep_picked=False):
        """Add ``n_steps`` rows greedily, each with the largest gain.

        Parameters
        ----------
        n_steps : int
        final_keep_picked : bool, default=False
            After the last step, keep tracking only the chosen rows (for a
            backward phase).
        """
        with self._numerics():
            taken = self._flags(self.m, False)
            scores, bad = self._scores(+1)
            for step in range(n_steps):
                scores = self._excluded(scores, taken if bad is None else taken | bad, -math.inf)
                j = self._lowest_tied(scores) if len(scores) else None
                if j is None:
                    raise IllConditionedError(
                        "No candidate has a finite score: the design is numerically singular. "
                        "Increase `reg`, rescale the embeddings, or use dtype='float64'."
                    )
                self.gains.append(self._gain_scale * float(scores[j]))
                taken[j] = True
                if step < n_steps - 1:
                    scores, bad = self._step(j, +1)
                elif final_keep_picked:
                    # A backward phase follows: only the design's rows need their state.
                    self._restrict(self._index(self.picked + [j]))
                    self._update(j, +1)
                    self._tracking_picked = True
                else:
                    self.picked.append(j)  # the design is complete: nothing left to update

    def backward(self, n_keep):
        """Remove picked rows, cheapest first, until ``n_keep`` remain."""
        if not self._tracking_picked:
            raise RuntimeError("backward() needs forward(..., final_keep_picked=True) first.")
        with self._numerics():
            costs, bad = self._scores(-1)
            self._bad_after_refresh = 0  # other rows than the forward phase's
            while len(self.picked) > n_keep:
                if bad is not None:
                    costs = self._excluded(costs, bad, math.inf)
                costs = self._fallback_costs(costs)
                j = self._lowest_tied(-costs)
                if j is None:
                    raise IllConditionedError(
                        "Every chosen row's removal leaves a singular design. Increase `reg`, "
                        "rescale the embeddings, or use dtype='float64'."
                    )
                position = int(self._rows[j])
                self.gains.pop(self.picked.index(position))
                if len(self.picked) - 1 > n_keep:
                    keep = self._flags(len(self._rows), True)
                    keep[j] = False
                    self._restrict(keep)
                    costs, bad = self._step(position, -1)
                else:
                    self.picked.remove(position)  # the last removal: nothing left to update
