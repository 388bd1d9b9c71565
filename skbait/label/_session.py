"""The state behind the labeling page: the batch, who labels which row, and the rounds.

One :class:`LabelSession` serves one campaign to any number of tabs. Each tab
(a random id its page keeps for its lifetime, across reloads) is served the
rows of the current batch one at a time; a row served to a tab is *leased* to
it, and no other tab is served it until the lease lapses (``lease_seconds``
without a request from that tab). A label is written to the page's answer file
(:mod:`skbait.label._journal`) before the request returns. When every row of
the batch is labeled or skipped, a background thread merges the answer file
into DATA through the campaign (as ``skbait teach`` does), chooses the next
batch (as ``skbait query`` does) and refits the model the page shows; requests
never wait for it, and labels given meanwhile are kept for the next merge.

In a multi-label campaign a label is a set of labels, given as a list (an
empty list: no label applies); the session keeps it as the text a cell of
DATA holds (``"arts|sports"``, or the no-labels token).
"""

import difflib
import math
import os
import shlex
import threading
import time
import unicodedata
from collections import Counter
from pathlib import Path

from skbait.campaign._features import FILE_SUFFIXES
from skbait.label import _bridge
from skbait.label._journal import AnswerJournal
from skbait.label._model import analyse

__all__ = ["MAX_LABEL_LENGTH", "LabelSession", "Refused"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp")
# What the page says of a file it does not show as an image (the formats of
# FILE_SUFFIXES that browsers cannot draw, or that the page will not serve).
_PREVIEWS = "add a column of PNG or JPEG copies to DATA to see them on this page."
_UNSHOWN = (
    (
        (".dcm", ".dicom", ".ima"),
        f"a DICOM file, which browsers cannot show: open it in a DICOM viewer; {_PREVIEWS}",
    ),
    ((".tif", ".tiff"), f"a TIFF image, which browsers cannot show; {_PREVIEWS}"),
    # An SVG is a document that may run scripts: never served, even from DATA's folder.
    ((".svg",), f"an SVG image, which the page does not serve (it can hold scripts); {_PREVIEWS}"),
)
NEAR_RATIO = 0.8  # difflib ratio above which a new class looks like a known one
# The longest label the page takes, in characters (the page's input has it as its
# maxlength): a class name, not a document pasted by mistake.
MAX_LABEL_LENGTH = 200


class Refused(Exception):
    """A request the session declines, with the HTTP status to answer."""

    def __init__(self, status, message, **extra):
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def _check_length(answer):
    """Refuse a label (or a label of a set) longer than :data:`MAX_LABEL_LENGTH`."""
    labels = answer if isinstance(answer, list) else [answer]
    for label in labels:
        if isinstance(label, str) and len(label.strip()) > MAX_LABEL_LENGTH:
            raise Refused(
                422,  # as every other label the page refuses
                f"a label is at most {MAX_LABEL_LENGTH} characters; this one has "
                f"{len(label.strip())}. Give a short class name.",
            )


class _Tab:
    def __init__(self):
        self.history = []  # rows served, in order
        self.pos = -1  # the row shown: history[pos]
        self.undo = []  # (row, its label before) of each label this tab gave, last on top


def _normal(text):
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in text if c.isalnum())


def near_duplicates(text, known):
    """Known classes that ``text`` (not one of them) is probably a misspelling of, or
    the same number written otherwise (``1.0`` for ``1``)."""
    if text in known:
        return []
    mine = _normal(text)
    value = _number(text)
    near = []
    for other in known:
        theirs = _normal(other)
        # Labels of symbols only (emoji, "+" and "-") leave nothing to compare, and
        # numbered classes (topic_20, topic_30) differ by their numbers.
        if (value is not None and value == _number(other)) or (
            mine
            and theirs
            and (
                mine == theirs
                or (
                    _bridge.numbers_in(mine) == _bridge.numbers_in(theirs)
                    and difflib.SequenceMatcher(None, mine, theirs).ratio() >= NEAR_RATIO
                )
            )
        ):
            near.append(other)
    return near


def _class_order(label):
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label.casefold())


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _number(text):
    """The finite number ``text`` reads as, or None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class LabelSession:
    """The labeling page's campaign state, safe to use from many threads.

    Parameters
    ----------
    data : str
        DATA, the CSV or parquet file being labeled.
    campaign : str, default=None
        The campaign file (``DATA.campaign.json`` by default).
    target : str, default=None
        The label column; needed when the campaign does not exist yet.
    features : list of str, default=None
        Feature columns for a new campaign.
    options : dict, default=None
        Query options (``batch_size``, ``strategy``, ``estimator``, ``task``,
        ``device``, ``random_state``, ``id_column``, ``exclude``, ``na_values``,
        ``classes``, ``stop``), as :func:`skbait.campaign.query_batch` takes them.
    batch_file : str, default=None
        Where each batch is also written for a spreadsheet
        (``DATA_batch.csv`` by default, as ``skbait query``).
    lease_seconds : float, default=120
        How long a row stays reserved for a tab that sends no request.
    refit_delay : float, default=2
        Seconds between the batch's last label and the merge, so that an undo
        of that label still can be made.
    show : list of str, default=None
        The columns of DATA the page shows, in this order (every column but the
        target when None): the image and a few notes, not 512 embedding values.
    """

    def __init__(
        self,
        data,
        *,
        campaign=None,
        target=None,
        features=None,
        options=None,
        batch_file=None,
        lease_seconds=120.0,
        refit_delay=2.0,
        clock=time.monotonic,
        show=None,
    ):
        self.data = os.path.abspath(os.fspath(data))
        self.folder = Path(self.data).parent.resolve()
        self.campaign = _bridge.campaign_file(self.data, campaign)
        self.answers_path = _bridge.page_answers_path(self.campaign)
        if batch_file is None:
            batch_file = os.path.splitext(self.data)[0] + "_batch.csv"
        self.batch_file = os.path.abspath(os.fspath(batch_file))
        self.target = target
        self.features = features
        self.options = dict(options or {})
        self.lease_seconds = float(lease_seconds)
        self.refit_delay = float(refit_delay)
        self.clock = clock
        self.show = None if show is None else list(dict.fromkeys(show))

        self._lock = threading.RLock()
        self._table = None
        self._state = None
        self._data_labels = {}  # labels DATA holds
        self._recorded = {}  # labels the campaign recorded
        self._pending = {}  # labels in the answer file, not merged yet
        self._merging = set()
        self._batch = []
        self._why = {}
        self._round = None
        self._design = None
        self._labels_at_round = 0
        self._skipped = set()
        self._leases = {}  # row -> (tab, expiry)
        self._tabs = {}
        self._analysis = {"predictions": {}, "accuracy": None, "curve": [], "estimator": None}
        self._curve_cache = {}
        self._finished = False  # every row of DATA is labeled
        self._job = {"running": False, "stage": "", "step": 0, "steps": 0, "error": None}
        self._job_started = None
        self._thread = None
        self._spec = None  # the campaign's label-set setting; None: one label per row
        self.journal = None

    # ------------------------------------------------------------------ start

    def check(self):
        """Read DATA, the campaign and the answer file now, raising CampaignError for what
        cannot be served; nothing is written (:meth:`start` tidies the answer file)."""
        state = _bridge.read_state(self.campaign)
        table = _bridge.read_table(self.data, state, self.options.get("na_values"))
        if state is None:
            if self.target is None:
                raise _bridge.CampaignError(
                    f"no campaign file {self.campaign!r} yet: give --target COLUMN, the label "
                    "column."
                )
            if self.target not in table.columns:
                raise _bridge.CampaignError(
                    f"no column {self.target!r} in {self.data!r}; "
                    f"{_bridge.columns_shown(table.columns, [self.target])}."
                )
        else:
            recorded_target = state["data"]["target"]
            if self.target is not None and self.target != recorded_target:
                raise _bridge.CampaignError(
                    f"the campaign {self.campaign!r} labels column {recorded_target!r}, not "
                    f"{self.target!r}."
                )
            self.target = recorded_target
        self._check_show(table)
        # Now, not at the first round: the page served an error (and nothing to label).
        _bridge.check_batch_file(
            self.batch_file,
            {
                "DATA": self.data,
                "the campaign file": self.campaign,
                "the page's answer file": self.answers_path,
            },
        )
        # Now, not at the batch's merge: a whole batch labeled, then refused.
        _bridge.check_writable(self.data, self.campaign)
        spec = _bridge.label_set_spec(state, self.options, table.na_values, self.campaign)
        self.journal = AnswerJournal(self.answers_path, self.target, self._numeric_labels)
        with self._lock:
            self._spec = spec
            self._set_state(state)
            self._set_table(table)
        try:
            pending = self.journal.read()  # read as the campaign's labels are: after its state
        except ValueError as exc:
            raise _bridge.CampaignError(str(exc)) from None
        with self._lock:
            self._pending = self._unrecorded(pending)
        return self

    def _check_show(self, table):
        """Refuse a ``show`` column that DATA lacks, or the target (the buttons label it)."""
        if self.show is None:
            return
        if not self.show:
            raise _bridge.CampaignError("--show names no column: give the columns to show.")
        missing = [c for c in self.show if c not in table.columns]
        if missing:
            raise _bridge.CampaignError(
                f"no column {', '.join(map(repr, missing))} to show in {self.data!r}; "
                f"{_bridge.columns_shown(table.columns, missing)}."
            )
        if self.target in self.show:
            raise _bridge.CampaignError(
                f"--show lists the label column {self.target!r}: the page labels it, and shows "
                "the other columns."
            )

    def _shown_columns(self):
        """The columns the page shows of a row, in order (those still in DATA)."""
        columns = self._table.columns
        if self.show is None:
            return [c for c in columns if c != self.target]
        return [c for c in self.show if c in columns and c != self.target]

    def _unrecorded(self, labels):
        """``labels`` but those the campaign recorded (compared as it compares them:
        "1.0" was recorded as 1)."""
        kind = _bridge.label_type(self._state)
        return {
            r: label
            for r, label in labels.items()
            if self._recorded.get(r) != self._canonical(label, kind)
        }

    def _tidy_answers(self):
        """Drop the answer file's labels the campaign recorded, and a merge file and the
        temporaries a stopped run left (the batch file's too). Only the page that serves
        the campaign may: :meth:`check` runs before a second ``skbait label`` is refused,
        and must not touch the first one's files (its merge file in use, the lines it
        appends)."""
        try:
            pending = self.journal.read()  # the lines given since check() included
        except ValueError as exc:
            raise _bridge.CampaignError(str(exc)) from None
        with self._lock:
            self._pending = self._unrecorded(pending)
            kept = dict(self._pending)
        if kept != pending:
            self.journal.rewrite(kept)
        stale = self.answers_path + ".merging.csv"
        if os.path.exists(stale):
            os.unlink(stale)  # a merge cut short: its labels are still in the answer file
        # The page's lock is held (see skbait label): no other page writes these now.
        _bridge.remove_stale_temporaries(self.answers_path, stale)
        # The batch file is written under DATA's lock, by the page or skbait query; a
        # page that reopens its open batch does not write it, nor remove its temporaries.
        with _bridge.campaign_lock(self.data):
            _bridge.remove_stale_temporaries(self.batch_file)

    def start(self):
        """Check, tidy the answer file, then open the campaign's batch in the background."""
        if self.journal is None:
            self.check()
        self._tidy_answers()
        self._launch(initial=True, delay=0.0)
        return self

    def wait(self, timeout=None):
        """Wait for the background work in progress (for tests and shutdown)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                thread = self._thread
            if thread is None:
                return True
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            thread.join(left)
            if thread.is_alive():
                return False
            with self._lock:
                if self._thread is thread:
                    self._thread = None

    # ---------------------------------------------------------------- state

    def _canonical(self, label, kind):
        if self._spec:
            labels, _ = _bridge.read_label_set(label, self._spec)
            return label if labels is None else _bridge.label_set_text(labels, self._spec)
        return _bridge.label_text(label, kind)

    def _set_table(self, table):
        """DATA as read now (after :meth:`_set_state`: its labels read in the campaign's type)."""
        self._table = table
        self._data_labels = _bridge.data_labels(table, self.target, self._state, self._spec)

    def _set_state(self, state):
        self._state = state
        self._recorded = _bridge.recorded_labels(state)

    def _label_of(self, row):
        if row in self._pending:
            return self._pending[row]
        if row in self._recorded:
            return self._recorded[row]
        return self._data_labels.get(row)

    def _is_labeled(self, row):
        return row in self._pending or row in self._recorded or row in self._data_labels

    def _label_type(self):
        return _bridge.label_type(self._state)

    def _numeric_labels(self):
        """Whether the page's labels are numbers (the answer file writes them with its
        decimal mark): a campaign of numbers, or a regression before its first label."""
        if self._spec:
            return False
        kind = self._label_type()
        return kind in ("int", "float") or (kind is None and self._task() == "regression")

    def _task(self):
        task = _bridge.campaign_task(self._state)
        if task is None:
            task = self.options.get("task")
        return task

    def _sets(self, text):
        """The labels of a label-set text (empty for the token or a text that is no set)."""
        labels, _ = _bridge.read_label_set(text, self._spec)
        return () if labels is None else labels

    def _classes(self):
        if self._spec:
            names = set(_bridge.declared_classes(self._state) or ())
            for source in (self._data_labels, self._recorded, self._pending):
                for text in source.values():
                    names.update(self._sets(text))
            return sorted(names, key=_class_order)
        if self._task() == "regression" or self._label_type() == "float":
            return []
        declared = _bridge.declared_classes(self._state) or []
        labels = set(self._data_labels.values())
        labels.update(self._recorded.values())
        labels.update(self._pending.values())
        # --classes in the user's order, so that they choose which nine get the keys 1
        # to 9 (a label outside them, which DATA may hold unmerged, comes after).
        return declared + sorted(labels.difference(declared), key=_class_order)

    def _holder(self, row, now):
        lease = self._leases.get(row)
        if lease is None or lease[1] < now:
            return None
        return lease[0]

    def _free(self, row, tab, now):
        holder = self._holder(row, now)
        return (
            not self._is_labeled(row)
            and row not in self._skipped
            and (holder is None or holder == tab)
        )

    def _new_labels_since_round(self):
        return bool(self._pending) or len(self._recorded) > self._labels_at_round

    # ----------------------------------------------------------------- tabs

    def _tab(self, tab):
        if not isinstance(tab, str) or not 8 <= len(tab) <= 64 or not tab.isascii():
            raise Refused(400, "a tab id is 8 to 64 ASCII characters.")
        state = self._tabs.get(tab)
        if state is None:
            state = self._tabs[tab] = _Tab()
        return state

    def _current(self, state):
        return state.history[state.pos] if 0 <= state.pos < len(state.history) else None

    def _lease(self, row, tab, now):
        self._leases[row] = (tab, now + self.lease_seconds)

    def _release(self, row, tab):
        if self._leases.get(row, (None,))[0] == tab:
            del self._leases[row]

    def _serve_next(self, tab, state, now):
        """Lease the next free row of the batch to ``tab`` and show it; None if none is free."""
        current = self._current(state)
        if current is not None:
            self._release(current, tab)
        busy = self._job["running"]
        # The row this tab left last (skipped, or shown before nothing was): not offered
        # straight back while the next batch is chosen, where Skip would seem to do nothing.
        left = current if current is not None else (state.history or [None])[-1]
        rows = self._batch
        if current in rows:
            # Skipped rows come round in turn: first those after the row left now.
            at = rows.index(current) + 1
            rows = rows[at:] + rows[:at]
        for again in (False, True):
            for row in rows if again else self._batch:
                # While the next batch is chosen, the skipped rows are offered again.
                if self._free(row, tab, now) or (
                    again
                    and busy
                    and row != left
                    and row in self._skipped
                    and not self._is_labeled(row)
                    and self._holder(row, now) in (None, tab)
                ):
                    self._lease(row, tab, now)
                    state.history.append(row)
                    state.pos = len(state.history) - 1
                    return row
            if again:
                break
            if not busy and not self._new_labels_since_round():
                # Every row was skipped and none labeled: offer them again.
                self._skipped.clear()
        state.pos = len(state.history)  # past the end: nothing shown
        return None

    def _settle(self, tab, state, now):
        """Keep showing the tab's row when it still may; otherwise serve the next one."""
        row = self._current(state)
        if row is not None:
            holder = self._holder(row, now)
            if self._is_labeled(row) or row in self._skipped:
                if holder == tab:
                    self._lease(row, tab, now)
                return row  # looking back: no lease needed
            if holder in (None, tab) and (row in self._batch or holder == tab):
                self._lease(row, tab, now)
                return row
        return self._serve_next(tab, state, now)

    # ------------------------------------------------------------- requests

    def view(self, tab):
        """What ``tab`` shows now (and a heartbeat: its lease is renewed)."""
        now = self.clock()
        with self._lock:
            state = self._tab(tab)
            self._settle(tab, state, now)
            return self._payload(tab, state, now)

    def label(self, tab, row, text, *, confirm=False):
        """Give ``row`` the label ``text`` (a list of labels in a multi-label campaign);
        returns the tab's next view."""
        now = self.clock()
        with self._lock:
            state = self._tab(tab)
            row = self._check_row(row)
            _check_length(text)
            try:
                if self._spec:
                    text = self._check_label_set(text)
                elif isinstance(text, list):
                    raise ValueError("this campaign takes one label per row, not a list.")
                elif isinstance(text, bool) or not isinstance(text, (str, int, float)):
                    # JSON's null or true would otherwise be saved as "None" or "True".
                    raise ValueError("a label is a text (or a number).")
                else:
                    kind = self._label_type()
                    if kind is None and self._task() == "regression":
                        kind = "float"  # before the first value: a number, as the merge asks
                    text = _bridge.check_label(
                        text,
                        kind,
                        self._table.na_values,
                        _bridge.declared_classes(self._state),
                        self._table.number,
                        self._classes(),
                    )
                # A Windows-1252 DATA has no bytes for "日本": refused now, not by the merge.
                _bridge.check_encodable(self._table.dialect, self.data, [str(text)])
            except ValueError as exc:
                raise Refused(422, str(exc)) from None
            if row in self._merging or (row in self._recorded or row in self._data_labels):
                raise Refused(409, f"row {row} is already labeled in DATA.")
            holder = self._holder(row, now)
            if holder is not None and holder != tab:
                raise Refused(409, f"row {row} is being labeled in another tab.")
            if row not in state.history and row not in self._batch:
                raise Refused(409, f"row {row} is not in this batch.")
            classes = self._classes()
            typo = self._misspelling(text, classes)
            if typo is not None:
                # The campaign's merge would refuse it, and the whole batch with it.
                raise Refused(
                    409,
                    f"{text!r} looks like a misspelling of the class {typo!r}, which the "
                    f"campaign refuses: choose {typo!r}, or declare every class with "
                    "--classes if it is a class of its own.",
                    near=[typo],
                    keep=False,
                )
            # A label set's labels were checked as the campaign's merge checks them.
            near = near_duplicates(text, classes) if classes and not self._spec else []
            if near and not confirm:
                raise Refused(
                    409,
                    f"{text!r} is a new class, close to {', '.join(map(repr, near))}.",
                    near=near,
                    keep=True,
                )
            previous = self._pending.get(row)  # what an undo gives back
            # On disk first: a label the disk refuses is an error, not shown as saved.
            try:
                if row in self._pending:
                    self.journal.rewrite({**self._pending, row: text})
                else:
                    self.journal.append(row, text)
            except OSError as exc:
                raise self._unsaved(exc) from None
            except ValueError as exc:  # an answer file re-saved as Windows-1252
                raise Refused(422, str(exc)) from None
            self._pending[row] = text
            state.undo.append((row, previous))
            self._skipped.discard(row)
            self._release(row, tab)
            if row not in state.history:
                state.history.append(row)
                state.pos = len(state.history) - 1
            # The round first: while it runs, the skipped rows are offered in this answer.
            self._maybe_refit()
            self._advance(tab, state, row, now)
            return self._payload(tab, state, now)

    def _unsaved(self, exc):
        """The error of an answer file the disk refused to write (full, read-only)."""
        return Refused(
            500,
            f"the answer file {os.path.basename(self.answers_path)!r} could not be written "
            f"({exc.strerror or exc}): nothing changed.",
        )

    def _misspelling(self, text, classes):
        """The known class the campaign's merge would take the new class ``text`` for a
        misspelling of (same up to case and spacing, or one edit away), or None."""
        if self._spec or text in classes:
            return None
        kind = self._label_type()
        # Numbers are compared by value, not spelling (nor are they in a campaign whose
        # labels all read as numbers, whose type the first merge decides).
        if kind in ("int", "float") or (kind is None and _is_number(text)):
            return None
        return _bridge.misspelling(text, classes)

    def _check_label_set(self, labels):
        """The cell text of a list of labels; ValueError saying why it cannot be merged.

        Each label is checked as the campaign's merge will check it: not blank,
        one line, without the separator, not the no-labels token nor a text
        DATA reads as blank, among ``--classes`` when declared, and not a
        misspelling of a known label (a typo would be refused by the merge).
        """
        spec = self._spec
        if not isinstance(labels, list):
            raise ValueError(
                "this campaign labels each row with a set of labels: send 'labels', a list "
                "(empty when none applies)."
            )
        if len(labels) > 200:
            raise ValueError("too many labels for one row.")
        declared = _bridge.declared_classes(self._state)
        known = set(self._classes())
        # The labels a new one may join by mistake, as the merge counts them.
        row_labels = {_bridge.set_label(v) for v in labels if isinstance(v, str)}
        joinable = set(declared) if declared is not None else known | row_labels
        clean = []
        for label in labels:
            if not isinstance(label, str):
                raise ValueError("each label is a text.")
            label = label.strip()
            if not label or any(ord(c) < 32 for c in label):
                raise ValueError("a label is one line of text, not blank.")
            if spec["sep"] in label:
                raise ValueError(
                    f"{label!r} contains the separator {spec['sep']!r}, which joins the labels "
                    "of a row; give each label apart."
                )
            label = _bridge.set_label(label)  # 1.0 is the label 1, as the merge reads it
            if label.casefold() == spec["no_labels"].casefold():
                raise ValueError(
                    f"{label!r} means that no label applies: use 'None of these' instead."
                )
            if label in self._table.na_values:
                raise ValueError(f"{label!r} reads as a missing value in DATA, not as a label.")
            new = label not in known and (declared is None or label not in declared)
            if new and declared is None and _bridge.spells_no_label(label):
                raise ValueError(
                    f"{label!r} would be a new label: use 'None of these' where no label "
                    "applies, or declare every label with --classes if it is one."
                )
            joined = _bridge.joined_labels(label, joinable, spec["sep"]) if new else None
            if joined is not None:
                mark, parts = joined
                raise ValueError(
                    f"{label!r} joins the labels {', '.join(map(repr, parts))} with {mark!r}: "
                    "tick each of them instead."
                )
            if declared is not None and label not in declared:
                raise ValueError(
                    f"{label!r} is not one of the campaign's declared labels; did you mean "
                    f"{_bridge.nearest_label(label, declared)!r}?"
                )
            typo = None if label in known else _bridge.misspelling(label, known | set(clean))
            if typo is not None:
                raise ValueError(
                    f"{label!r} looks like a misspelling of the label {typo!r}; choose {typo!r}."
                )
            clean.append(label)
        return _bridge.label_set_text(clean, spec)

    def skip(self, tab, row):
        """Leave ``row`` unlabeled for this batch; returns the tab's next view."""
        now = self.clock()
        with self._lock:
            state = self._tab(tab)
            row = self._check_row(row)
            if self._current(state) == row and not self._is_labeled(row):
                self._skipped.add(row)
                self._release(row, tab)
            # The round first: while it runs, the skipped rows are offered in this answer.
            self._maybe_refit()
            self._advance(tab, state, row, now)
            return self._payload(tab, state, now)

    def _advance(self, tab, state, row, now):
        if state.pos < len(state.history) - 1 and state.history[state.pos] == row:
            state.pos += 1  # back in the history: on to the row that came after
            self._settle(tab, state, now)
        else:
            self._serve_next(tab, state, now)

    def undo(self, tab):
        """Take back this tab's last label (while it is not in DATA): the row gets back the
        label it had before (a correction undone), or none; show that row again."""
        now = self.clock()
        with self._lock:
            state = self._tab(tab)
            if not state.undo:
                raise Refused(409, "nothing to undo.")
            row, previous = state.undo[-1]
            if row in self._merging or row not in self._pending:
                raise Refused(409, f"row {row}'s label is already in DATA: it cannot be undone.")
            kept = dict(self._pending)
            if previous is None:
                del kept[row]
            else:
                kept[row] = previous
            try:
                self.journal.rewrite(kept)
            except OSError as exc:
                raise self._unsaved(exc) from None
            state.undo.pop()
            self._pending = kept
            current = self._current(state)
            if current is not None and current != row:
                self._release(current, tab)
            self._lease(row, tab, now)
            state.history.append(row)
            state.pos = len(state.history) - 1
            return self._payload(tab, state, now)

    def move(self, tab, step):
        """Previous (-1) or next (+1) row of this tab's history; next past the end skips."""
        now = self.clock()
        with self._lock:
            state = self._tab(tab)
            if isinstance(step, bool) or step not in (-1, 1):
                raise Refused(400, "move by -1 or +1.")
            current = self._current(state)
            target = state.pos + step
            if step < 0 and target < 0:
                raise Refused(409, "this is the first row this tab was shown.")
            if step > 0 and target >= len(state.history):
                if current is not None and not self._is_labeled(current):
                    self._skipped.add(current)
                self._maybe_refit()
                self._serve_next(tab, state, now)
            else:
                if current is not None:
                    self._release(current, tab)
                state.pos = target
                self._settle_view(tab, state, now)
            return self._payload(tab, state, now)

    def _settle_view(self, tab, state, now):
        row = self._current(state)
        if row is not None and not self._is_labeled(row):
            holder = self._holder(row, now)
            if holder in (None, tab):
                self._lease(row, tab, now)
                self._skipped.discard(row)

    def retry(self):
        """Run the merge and the next query again after an error."""
        with self._lock:
            if self._job["running"]:
                raise Refused(409, "the next batch is already being chosen.")
            self._job["error"] = None
        self._launch(initial=self._round is None, delay=0.0)

    def _check_row(self, row):
        if isinstance(row, bool) or not isinstance(row, int):
            raise Refused(400, "row must be an integer.")
        if self._table is None or not 0 <= row < len(self._table):
            raise Refused(404, f"no row {row} in DATA.")
        return row

    # ----------------------------------------------------------- the view

    def _row_view(self, row, tab, now):
        table = self._table
        fields = []
        for column in self._shown_columns():
            value = table.text(column)[row]
            field = {"column": column, "value": value, "kind": "text"}
            # With DATA's decimal mark: "1,5" of a European spreadsheet is a number too.
            if value and table.number(value) is not None:
                field["kind"] = "number"
            elif value.lower().endswith(FILE_SUFFIXES):
                note = self._file_note(value)
                if note is not None:
                    field["kind"] = "file"
                    field["note"] = note
                elif value.startswith(("http://", "https://")):
                    field["kind"] = "image"
                    field["src"] = value
                else:
                    field["kind"] = "image"
                    field["src"] = f"api/image?row={row}&column="
            fields.append(field)
        label = self._label_of(row)
        if row in self._recorded or (row in self._data_labels and row not in self._pending):
            status = "in DATA"
        elif row in self._pending:
            status = "labeled"
        elif row in self._skipped:
            status = "skipped"
        else:
            status = "to label"
        why = self._why.get(row)
        return {
            "row": row,
            "fields": fields,
            "label": label,
            "labels": None if label is None or not self._spec else list(self._sets(label)),
            "status": status,
            "prediction": self._analysis["predictions"].get(row),
            "why": None if why is None else dict(why, design=self._design, of=len(self._why)),
        }

    def _file_note(self, value):
        """Why the page shows no image for a cell naming a file, or None when it shows one.

        The reasons come in the order a user fixes them: a path leading out of
        DATA's folder (not served, whatever is there), a file not found, a format
        no browser shows (DICOM, TIFF) or that the page does not serve (SVG).
        """
        suffix = value.lower()
        web = value.startswith(("http://", "https://"))
        if not web:
            try:
                path = self._cell_path(value)
            except (OSError, ValueError, RuntimeError):
                return "not a path the page can read."
            if not path.is_relative_to(self.folder):
                return (
                    "outside DATA's folder, from where the page serves no file: copy the "
                    "images into DATA's folder (or below it)."
                )
            if not path.is_file():
                return "no such file (a relative path starts from DATA's folder)."
        if suffix.endswith(IMAGE_SUFFIXES):
            return None
        for suffixes, note in _UNSHOWN:
            if suffix.endswith(suffixes):
                return note
        ending = next(s for s in FILE_SUFFIXES if suffix.endswith(s))
        return f"the page cannot show {ending} files; {_PREVIEWS}"

    def _cell_path(self, value):
        """The path a cell names, from DATA's folder (resolved, links followed).

        A table made on Windows writes ``scans\\0001.png``: where the cell names no
        file as written, its backslashes are read as the separators they were.
        """
        path = (self.folder / value).resolve()
        if "\\" in value and not path.exists():
            path = (self.folder / value.replace("\\", "/")).resolve()
        return path

    def _image_file(self, value):
        """The image file a cell names, inside DATA's folder; None otherwise."""
        try:
            path = self._cell_path(value)
        except (OSError, ValueError, RuntimeError):
            return None
        if not path.is_relative_to(self.folder) or path.suffix.lower() not in IMAGE_SUFFIXES:
            return None
        return path if path.is_file() else None

    def image_path(self, row, column):
        """The image of a cell of DATA, for the page; Refused when there is none."""
        with self._lock:
            row = self._check_row(row)
            if column not in self._shown_columns():
                raise Refused(404, f"no column {column!r} to show.")
            value = self._table.text(column)[row]
        path = self._image_file(value)
        if path is None:
            raise Refused(404, "that cell holds no image inside DATA's folder.")
        return path

    def _payload(self, tab, state, now):
        row = self._current(state)
        counts = Counter(self._data_labels.values())
        counts.update(self._recorded[r] for r in self._recorded if r not in self._data_labels)
        counts.update(self._pending.values())
        if self._spec:
            # Rows per label, and the rows where none applies under the token's name.
            per_label = Counter()
            for text, n in counts.items():
                for label in self._sets(text) or (self._spec["no_labels"],):
                    per_label[label] += n
            counts = per_label
        classes = self._classes()
        batch_done = sum(1 for r in self._batch if self._is_labeled(r))
        skipped = sum(1 for r in self._batch if r in self._skipped and not self._is_labeled(r))
        rounds = [] if self._state is None else self._state["rounds"]
        stopping = []
        if rounds and rounds[-1].get("stopping"):
            values = rounds[-1]["stopping"]
            rules = _bridge.criteria_rules(
                rounds[-1].get("task"), self._state["settings"].get("stop")
            )
            for name, rule in rules.items():
                stopping.append(
                    {
                        "name": name.replace("_", " "),
                        "value": _bridge.shown_value(name, values.get(name)),
                        "stop": bool(values.get(f"{name}_stop")),
                        "rule": rule,
                        "note": values.get(f"{name}_note"),
                    }
                )
        job = dict(self._job)
        if job["running"] and self._job_started is not None:
            job["elapsed"] = round(time.monotonic() - self._job_started, 1)
        return {
            "tab": tab,
            "row": None if row is None else self._row_view(row, tab, now),
            "position": {"index": state.pos, "length": len(state.history)},
            "can_undo": bool(state.undo) and state.undo[-1][0] in self._pending,
            "classes": [{"label": c, "count": counts.get(c, 0)} for c in classes],
            "counts": dict(counts),
            "task": self._task(),
            "label_type": self._label_type(),
            "multi_label": self._spec,
            "declared": _bridge.declared_classes(self._state) is not None,
            "target": self.target,
            "n_rows": 0 if self._table is None else len(self._table),
            "n_labeled": len(
                self._data_labels.keys() | self._recorded.keys() | self._pending.keys()
            ),
            "pending": len(self._pending),
            "round": self._round,
            "rounds": len(rounds),
            "batch": {"size": len(self._batch), "labeled": batch_done, "skipped": skipped},
            "stopping": stopping,
            "accuracy": self._analysis["accuracy"],
            "curve": self._analysis["curve"],
            "estimator": self._analysis["estimator"],
            "job": job,
            "finished": self._finished,
            "data": os.path.basename(self.data),
            "answers": os.path.basename(self.answers_path),
        }

    # ------------------------------------------------------ background work

    def _batch_done(self):
        """No row of the batch is left to label, and some label arrived since it was chosen."""
        if self._finished or not self._new_labels_since_round():
            return False
        now = self.clock()
        for row in self._batch:
            if not self._is_labeled(row) and row not in self._skipped:
                return False  # still to label (perhaps leased to a tab)
        for row, (_, expiry) in self._leases.items():
            if expiry >= now and not self._is_labeled(row) and row not in self._skipped:
                return False  # a tab is labeling a row of an earlier batch
        return True

    def _maybe_refit(self):
        """Start the next round when the batch is done."""
        if not self._job["running"] and self._batch_done():
            self._launch(initial=False, delay=self.refit_delay)

    def _launch(self, initial, delay):
        with self._lock:
            if self._job["running"]:
                return
            self._job = {
                "running": True,
                "stage": "waiting" if delay else "starting",
                "step": 0,
                "steps": 4,
                "error": None,
                "note": None,
            }
            self._job_started = time.monotonic()
            thread = threading.Thread(
                target=self._work, args=(initial, delay), name="skbait-label-round", daemon=True
            )
            self._thread = thread
        thread.start()

    def _waiting(self, data, lock_path):
        """The stage says why it does not move: another command holds DATA (a query
        refitting, skbait teach), for up to two minutes."""
        with self._lock:
            self._job["stage"] += (
                f" (waiting for another skbait command working on {os.path.basename(data)})"
            )

    def _stage(self, step, stage):
        with self._lock:
            self._job.update(step=step, stage=stage)

    def _work(self, initial, delay):
        try:
            if delay:
                time.sleep(delay)
                with self._lock:
                    if not self._batch_done():  # an undo reopened the batch
                        self._job.update(running=False, stage="")
                        return
            with _bridge.lock_wait_notice(self._waiting):
                self._next_round(initial)
            with self._lock:
                self._job.update(running=False, stage="", step=self._job["steps"])
                # A batch finished while the model was being fitted starts its round now.
                self._maybe_refit()
        except _bridge.CampaignError as exc:
            self._fail(_bridge.page_message(str(exc)))
        except Exception as exc:  # shown in the page; the labels are safe in the answer file
            self._fail(f"{type(exc).__name__}: {exc}")

    def _fail(self, message):
        with self._lock:
            self._merging.clear()
            self._job.update(running=False, error=message)

    def _next_round(self, initial):
        if initial and self._state is not None and os.path.exists(self.batch_file):
            # Answers typed into the batch file before the page opened: not asked again.
            self._stage(1, "writing the labels to DATA")
            _bridge.merge(self.data, self.batch_file, self.campaign)
            state = _bridge.read_state(self.campaign)
            table = _bridge.read_table(self.data, state, self.options.get("na_values"))
            with self._lock:
                self._set_state(state)
                self._set_table(table)
        with self._lock:
            state = self._state
            resume = None
            if initial and state is not None and state["rounds"]:
                last = state["rounds"][-1]
                if any(not self._is_labeled(r) for r in last["batch"]):
                    resume = last
        if resume is None:
            self._stage(1, "writing the labels to DATA")
            self._merge_labels()
            self._stage(2, "choosing the next batch")
            result = _bridge.query(
                self.data,
                self.batch_file,
                self.campaign,
                target=self.target,
                features=self.features,
                options=self.options,
            )
            record = result["round"]
        else:
            record = resume
        self._stage(3, "reading DATA")
        state = _bridge.read_state(self.campaign)
        table = _bridge.read_table(self.data, state)  # the query saved --na-values
        with self._lock:
            self._set_state(state)
            self._set_table(table)
            self._install(record)
        self._stage(4, "fitting the model")
        analysis = analyse(
            table,
            state,
            [] if record is None else list(record["batch"]),
            self._curve_cache,
            random_state=state["settings"].get("random_state") or 0,
        )
        with self._lock:
            self._analysis = analysis

    def _merge_labels(self):
        """The answer file's labels into DATA, through the campaign (as skbait teach)."""
        state = _bridge.read_state(self.campaign)  # with labels recorded meanwhile
        with self._lock:
            self._set_state(state)
            self._drop_labeled_elsewhere()
            snapshot = dict(self._pending)
            self._merging = set(snapshot)
        if snapshot:
            path = self.answers_path + ".merging.csv"
            self.journal.snapshot(snapshot, path)
            try:
                _bridge.merge(self.data, path, self.campaign)
            finally:
                if os.path.exists(path):
                    os.unlink(path)
            with self._lock:
                for row, label in snapshot.items():
                    if self._pending.get(row) == label:
                        del self._pending[row]
                    self._recorded[row] = label
                self._merging = set()
                self.journal.rewrite(self._pending)
        if os.path.exists(self.batch_file):
            # Answers typed into the batch file in a spreadsheet join too.
            _bridge.merge(self.data, self.batch_file, self.campaign)

    def _drop_labeled_elsewhere(self):
        """Leave out of the merge the rows another command (``skbait teach``) labeled
        since the page was given their label: the label in DATA stays, and the job's
        note says which rows, with the command that gives them the page's label."""
        kind = _bridge.label_type(self._state)
        kept, notes = {}, []
        for row, label in self._pending.items():
            theirs = self._recorded.get(row)
            if theirs is None:
                kept[row] = label
            elif theirs != self._canonical(label, kind):
                command = shlex.join(
                    ["skbait", "correct", os.path.basename(self.data), "--row", str(row)]
                    + ["--label", label]
                )
                notes.append(
                    f"row {row} was labeled {theirs!r} meanwhile (skbait teach?): that label "
                    f"stays, not {label!r} given here ({command} gives it {label!r})"
                )
        if kept != self._pending:
            self.journal.rewrite(kept)
            self._pending = kept
        if notes:
            self._job["note"] = "; ".join(notes) + "."

    def _install(self, record):
        if record is None:
            self._finished = True
            self._batch, self._why = [], {}
            return
        self._finished = False
        self._round = int(record["round"])
        self._design = record.get("design")
        self._labels_at_round = len(self._recorded)
        utilities = record.get("utilities") or [None] * len(record["batch"])
        self._why = {
            int(r): {"utility": u, "rank": i + 1}
            for i, (r, u) in enumerate(zip(record["batch"], utilities))
        }
        # A row labeled in the page while this batch was chosen counts as labeled.
        self._batch = [int(r) for r in record["batch"]]
        self._skipped.clear()
