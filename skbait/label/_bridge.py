"""The labeling page's only door into the campaign (:mod:`skbait.campaign`).

Everything the page needs from a campaign goes through this module, so that a
change of the campaign's internals is adapted here and nowhere else. Every
read-modify-write of DATA and its campaign file holds DATA's file lock,
``DATA.campaign.json.lock`` (the project's convention, whichever campaign
file); :func:`query` and :func:`merge` take it inside the campaign's own
functions, so the page never holds it around them (a second lock on the same
file in one process would wait for the first).

The campaign's journal keeps label *values* (int, float or str, by the
campaign's label type); the page keeps labels as text. :func:`label_text`
turns one into the other, so that ``1``, ``1.0`` and a decimal comma's
``1,0`` in DATA are one class on the page, as they are in the campaign.

A multi-label campaign's label is a set: the page keeps it as the text a cell
holds (sorted labels joined by the separator, or the no-labels token), which
:func:`label_set_text` writes and :func:`read_label_set` reads.
"""

import os

from skbait.campaign import (
    CampaignError,
    campaign_path,
    merge_answers,
    query_batch,
    read_campaign,
)
from skbait.campaign._errors import columns_shown
from skbait.campaign._journal import page_answers_path

__all__ = [
    "CampaignError",
    "campaign_file",
    "campaign_lock",
    "campaign_task",
    "check_batch_file",
    "check_encodable",
    "check_label",
    "check_writable",
    "columns_shown",
    "criteria_rules",
    "csv_dialect",
    "data_labels",
    "decimal_label",
    "declared_classes",
    "feature_matrix",
    "joined_labels",
    "journal_labels",
    "label_set_spec",
    "label_set_text",
    "label_text",
    "label_values",
    "lock_wait_notice",
    "make_model",
    "merge",
    "misspelling",
    "nearest_label",
    "new_temporary",
    "page_answers_path",
    "page_message",
    "query",
    "read_label_set",
    "read_state",
    "read_table",
    "recorded_labels",
    "remove_stale_temporaries",
    "set_label",
    "shown_value",
    "spells_no_label",
]

# Query options the page passes through to query_batch (None keeps the campaign's).
OPTIONS = (
    "batch_size",
    "strategy",
    "estimator",
    "task",
    "device",
    "random_state",
    "id_column",
    "exclude",
    "na_values",
    "classes",
    "stop",
    "multi_label",
    "label_sep",
    "no_labels",
)


# The way on that a campaign error names for a terminal, and the page's own (its Retry
# button runs the merge and the query again).
PAGE_WAYS_ON = (
    (" and run the command again.", ", then press Retry."),
    ("then query again.", "then press Retry."),
    ("try again when it is done.", "press Retry when it is done."),
)


def campaign_file(data, campaign=None):
    """The campaign file of DATA (``DATA.campaign.json`` unless given)."""
    return os.path.abspath(campaign_path(data) if campaign is None else os.fspath(campaign))


def campaign_lock(data):
    """DATA's file lock, as the campaign's own commands take it (a context manager).

    Exclusive between threads and processes, and not reentrant: never hold it
    around :func:`query` or :func:`merge`, which take it themselves.
    """
    from skbait.campaign._journal import _locked

    return _locked(data)


def lock_wait_notice(notice):
    """In the block, ``notice(data, lock_path)`` is called when DATA's lock is held by
    another command and this thread starts waiting for it (a context manager)."""
    from skbait.campaign._journal import lock_wait_notice as notice_in

    return notice_in(notice)


def check_batch_file(path, protected):
    """Raise CampaignError when the batch file cannot be written as ``skbait query`` would
    (its folder missing or read-only, a parquet file without pyarrow) or is a file of
    ``protected`` (``{what: path}``: DATA, the campaign and answer files) it would overwrite."""
    from skbait.campaign._rounds import _check_output_folder, _refuse_overwrite

    _check_output_folder(path)
    _refuse_overwrite(path, protected)


def check_writable(*paths):
    """Raise CampaignError when a file of ``paths`` is read-only (``chmod a-w``), which
    the campaign's commands refuse to write; a missing file is fine."""
    from skbait.campaign._files import check_writable as campaign_check_writable

    campaign_check_writable(*paths)


def check_encodable(dialect, path, texts):
    """Raise CampaignError (a ValueError) for a text of ``texts`` that the CSV file at
    ``path``, of ``dialect``, cannot hold: a Windows-1252 file has no "日本"."""
    from skbait.campaign._files import check_encodable as campaign_check_encodable

    campaign_check_encodable(dialect, path, texts)


def new_temporary(path):
    """Create the temporary file a whole rewrite of ``path`` is written to, named as
    the campaign names its own (``.NAME.skbait-tmp-XXXXXXXX``), so that
    :func:`remove_stale_temporaries` finds one a killed page left."""
    from skbait.campaign._files import TMP_MARK
    from skbait.utils._files import new_temporary as new_file

    return new_file(path, TMP_MARK)


def remove_stale_temporaries(*paths):
    """Remove the temporaries a killed process left beside ``paths``; return their names.

    Only while holding the lock that guards ``paths``: no other process is then
    writing them.
    """
    from skbait.campaign._files import remove_stale_temporaries as remove

    return remove(*paths)


def csv_dialect(path):
    """How the CSV file at ``path`` is written, as the campaign sniffs it: ``sep``,
    ``bom``, ``lineterminator``, ``decimal`` and ``encoding`` (a file Excel re-saved:
    ``;``, a BOM, CRLF, ``,``; Windows-1252). Judged on its whole lines: the page's answer
    file is appended to line by line, and a crash may cut its last line short.

    Raises CampaignError (a ValueError) for a file that is no UTF-8 nor Windows-1252 text.
    """
    from skbait.campaign._files import sniff_dialect

    return sniff_dialect(path, whole_lines=True)


def decimal_label(text, mark, new_mark):
    """A number label's text with ``new_mark`` for its decimal ``mark`` (``2.5`` is
    ``2,5`` in a file of decimal commas); any other text as it is."""
    from skbait.campaign._files import _DECIMAL_COMMA, _DECIMAL_POINT

    number = _DECIMAL_POINT if mark == "." else _DECIMAL_COMMA
    return text.strip().replace(mark, new_mark) if number.match(text.strip()) else text


def page_message(message):
    """A campaign error as the page shows it: the way on it names is the page's."""
    for terminal, page in PAGE_WAYS_ON:
        if message.endswith(terminal):
            return message[: -len(terminal)] + page
    return message


def read_state(path):
    """The campaign as saved, or None when the file does not exist yet."""
    if not os.path.exists(path):
        return None
    return read_campaign(path)


def label_type(state):
    """The campaign's label type (``"int"``, ``"float"``, ``"str"``), None before any label."""
    return None if state is None else state["settings"].get("label_type")


def label_text(value, label_type, number=float):
    """A label (a journal value, or a text from DATA or the page) as the page shows it.

    Numbers read in ``label_type`` and are written as the campaign writes them
    (``1.0`` and ``1,0`` are ``1`` in an integer campaign); text stays as it is,
    and so does a text that is not a label of that type.
    """
    from skbait.campaign._labels import _format_label, _parse_label

    if value is None:
        return None
    if isinstance(value, str):
        if label_type not in ("int", "float"):
            return value
        parsed = _parse_label(value, label_type, number)
        return value if parsed is None else _format_label(parsed)
    if label_type == "int" and float(value).is_integer():
        value = int(value)
    return _format_label(value)


def journal_labels(state):
    """``{row: value}``: the current label of every row the campaign recorded, in the order
    it learnt them (corrections applied, retracted labels gone)."""
    from skbait.campaign._journal import _known_labels

    if state is None:
        return {}
    return _known_labels(state)


def recorded_labels(state):
    """``{row: label text}`` the campaign recorded (empty without a campaign)."""
    kind = label_type(state)
    spec = None if state is None else state["settings"].get("multi_label")
    if spec:
        return {row: label_set_text(v, spec) for row, v in journal_labels(state).items()}
    return {row: label_text(v, kind) for row, v in journal_labels(state).items()}


def campaign_task(state):
    """The task the campaign works on now: the one requested, or, under ``auto``, the
    one its last round decided from the labels (None before that)."""
    if state is None:
        return None
    if state["settings"].get("multi_label"):
        # Label sets, whatever --task an older campaign file recorded.
        return next((r["task"] for r in reversed(state["rounds"]) if r.get("task")), None)
    task = state["settings"].get("task")
    if task not in (None, "auto"):
        return task
    return next((r["task"] for r in reversed(state["rounds"]) if r.get("task")), None)


def read_table(data, state=None, na_values=None):
    """DATA as the campaign reads it (its dialect, its missing-value tokens): an object
    with ``frame``, ``columns``, ``text(col)`` and ``number(text)``.

    ``na_values`` (the page's ``--na-values``) win over the campaign's, as they do
    in the query that saves them.
    """
    from skbait.campaign._files import _Table

    if na_values is None and state is not None:
        na_values = state["settings"].get("na_values")
    return _Table(data, na_values=na_values)


def data_labels(table, target, state, spec=None):
    """``{row: label text}`` of the labels DATA holds, as :func:`label_text` shows them
    (label sets, under ``spec``, in their sorted cell text)."""
    kind = label_type(state)
    texts = table.labels(target)
    if spec:
        out = {}
        for r in (texts != "").nonzero()[0]:
            labels, _ = read_label_set(texts[r], spec)
            out[int(r)] = texts[r] if labels is None else label_set_text(labels, spec)
        return out
    return {int(r): label_text(texts[r], kind, table.number) for r in (texts != "").nonzero()[0]}


def merge(data, answers, campaign):
    """Merge an answer file into DATA, as ``skbait teach DATA ANSWERS`` does."""
    return merge_answers(data, answers, campaign=campaign)


def query(data, batch_file, campaign, *, target=None, features=None, options=None):
    """Choose (or rewrite) the current batch, as ``skbait query`` does."""
    options = {k: v for k, v in (options or {}).items() if k in OPTIONS and v is not None}
    return query_batch(
        data, batch_file, target=target, campaign=campaign, features=features, **options
    )


def declared_classes(state):
    """The texts of the classes declared with ``--classes`` (None when none were)."""
    declared = None if state is None else state["settings"].get("classes")
    if declared is None:
        return None
    return [label_text(v, label_type(state)) for v in declared]


def check_label(text, label_type, na_values=(), declared=None, number=float, known=()):
    """The label's text as the page keeps it; ValueError saying why when it is not a label.

    ``na_values`` are the cell texts DATA reads as blank: such a label would be
    merged as no label at all, so it is refused. ``declared`` are the texts of
    the classes declared with ``--classes``, which the campaign's merge would
    refuse anything outside of. ``number`` reads a number as DATA writes them
    (``2,5`` in a file of decimal commas); the text kept is the campaign's
    (``2.5``). A text that is one of the ``known`` or declared classes written
    otherwise, as the merge reads it (``1.0`` for ``1`` in a text campaign,
    ``true`` for ``TRUE``), is kept in the class's spelling.
    """
    from skbait.campaign._labels import _parse_label, known_spelling, thousands_advice

    text = str(text).strip()
    if not text:
        raise ValueError("a label cannot be blank (skip the row instead).")
    if any(ord(c) < 32 for c in text):
        raise ValueError("a label is one line of text, without control characters.")
    if text in na_values:
        raise ValueError(
            f"{text!r} reads as a missing value in DATA, not as a label (the campaign's "
            "--na-values say which texts are blanks)."
        )
    if label_type is None:
        return text
    if _parse_label(text, label_type, number) is None:
        word = {"int": "an integer", "float": "a number", "str": "text"}[label_type]
        advice = thousands_advice(text, label_type)
        if advice is not None:
            raise ValueError(f"{text!r} is not {word}: {advice}.")
        pointed = decimal_label(text, ",", ".")
        if pointed != text and _parse_label(pointed, label_type, number) is not None:
            # DATA's numbers are written with a point: its comma is no decimal mark.
            raise ValueError(
                f"{text!r} is not {word}: DATA writes decimals with a point ({pointed!r})."
            )
        raise ValueError(f"{text!r} is not {word}, as the campaign's labels are.")
    # The campaign compares values and writes numbers its own way: so does the page.
    text = label_text(text, label_type, number)
    text = known_spelling(text, set(known) | set(declared or ()))
    if declared is not None and text not in declared:
        raise ValueError(
            f"{text!r} is not one of the campaign's declared classes ({', '.join(declared)})."
        )
    return text


def label_values(texts, label_type):
    """The labels as the model learns them (numbers for numeric campaigns)."""
    import numpy as np

    from skbait.campaign._labels import _as_value

    # The journal keeps values (older journals kept text): both read as values.
    values = [_as_value(t, label_type) for t in texts]
    if label_type == "int":
        return np.asarray(values, dtype=np.int64)
    if label_type == "float":
        return np.asarray(values, dtype=np.float64)
    return np.asarray(values, dtype=object)


def feature_matrix(table, features):
    """The model's inputs for every row of DATA, as the campaign builds them."""
    from skbait.campaign._features import _feature_matrix

    return _feature_matrix(table, features)


def make_model(state, task):
    """The campaign's estimator for ``task`` (unfitted): its name and the estimator."""
    from skbait.campaign._model import make_model as campaign_make_model

    return campaign_make_model(state, task)


def criteria_rules(task, stop=None):
    """``{name: rule}`` of the campaign's stopping criteria, each rule with its threshold.

    ``stop`` is the campaign's ``--stop`` setting (None: the defaults for ``task``).
    """
    from skbait.campaign._stopping import describe, make_criteria

    rules = {}
    for criterion in make_criteria(task, stop):
        name, _, rule, _ = describe(criterion)
        rules[name] = rule
    return rules


def shown_value(name, value):
    """A criterion's recorded value as the command line shows it (max confidence rising)."""
    from skbait.campaign._stopping import shown_value as campaign_shown_value

    return campaign_shown_value(name, value)


def label_set_spec(state, options, na_values=(), path="DATA.campaign.json"):
    """The campaign's label-set setting (``sep``, ``no_labels``), or None for one label
    per row: the campaign's, checked against the page's options, or for a new campaign
    the options' (CampaignError when they contradict or are not usable)."""
    from skbait.campaign._journal import _check_label_sets, _new_label_sets

    given = (options.get("multi_label"), options.get("label_sep"), options.get("no_labels"))
    if state is None:
        return _new_label_sets(given, na_values)
    _check_label_sets(state, path, given)
    return state["settings"].get("multi_label")


def read_label_set(text, spec):
    """``(labels, problem)``: a cell's label set (a sorted tuple), or None and why not."""
    from skbait.campaign._labelsets import read_set

    return read_set(text, spec)


def set_label(text):
    """A label of a set as the campaign keeps it (a number in its shortest form: ``1.0``
    is ``1``)."""
    from skbait.campaign._labelsets import canonical_label

    return canonical_label(text)


def label_set_text(labels, spec):
    """The cell text of a label set (sorted, joined by the separator; the token if empty)."""
    from skbait.campaign._labelsets import as_set, write_set

    return write_set(as_set(labels), spec)


def joined_labels(label, labels, sep):
    """``(mark, parts)`` when ``label`` joins labels of ``labels`` by another mark than
    ``sep`` (``high, wide``), as the campaign's merge refuses it, else None."""
    from skbait.campaign._labelsets import joined_labels as campaign_joined_labels

    return campaign_joined_labels(label, labels, sep)


def spells_no_label(label):
    """Whether a label is "none" written out, which the merge refuses as a new label."""
    from skbait.campaign._labelsets import spells_no_label as campaign_spells_no_label

    return campaign_spells_no_label(label)


def misspelling(label, known):
    """The known label that ``label`` misspells, as the campaign's merge judges it, or None."""
    from skbait.campaign._labels import near_duplicate

    return near_duplicate(label, set(known))


def numbers_in(text):
    """The runs of digits of ``text``, as the campaign compares numbered classes."""
    from skbait.campaign._labels import numbers_in

    return numbers_in(text)


def nearest_label(label, declared):
    """The declared label nearest to ``label``."""
    from skbait.campaign._labels import nearest_class

    return nearest_class(label, declared)
