"""Real labeling campaigns on a table with blank labels, kept in a campaign file.

A *campaign* labels the rows of one table (``DATA``, a CSV or parquet file)
whose target column is blank for the rows nobody has labeled yet. Each round,
:func:`query_batch` trains the estimator on the labeled rows and writes the
next batch of rows to label to a file; the annotators fill in the labels,
either in ``DATA`` itself or in the batch file, which :func:`merge_answers`
merges back into ``DATA``; :func:`correct_label` corrects or retracts one.
:func:`campaign_status`, :func:`export_model` and :func:`predict_table` show
where a campaign stands and keep its model. These are the ``skbait query``,
``teach``, ``correct``, ``status``, ``export`` and ``predict`` commands.

A **campaign file** beside ``DATA`` (``DATA.campaign.json``) keeps what a
later round needs to continue exactly as if no time had passed:

- ``data``: the target column, the feature columns, and the identifier
  column (``--id``) or a fingerprint of each row's feature values, so that a
  file that was edited or sorted is noticed;
- ``settings``: strategy, estimator, task, batch size, device, random seed,
  the type of the labels, declared classes, stopping criteria,
  missing-value tokens and, for a campaign of label sets
  (``--multi-label``), ``multi_label``: the separator and the no-labels token;
- ``labels``: every label the campaign has seen, in the order it learnt them,
  corrections included (a journal: ``DATA`` losing a label is an error, and
  :func:`restore_labels` writes the journal back);
- ``rounds``: per round, the labels known, the design used, the batch, and
  the value of each stopping criterion (:mod:`skbait.stopping`);
- ``stopping``: the criteria's state.

Every read-modify-write holds DATA's lock (``DATA.campaign.json.lock``,
``filelock``, whichever campaign file: two campaigns of one DATA take
turns). Files are written atomically (a temporary file in the same
folder, then ``os.replace``), in an order that keeps them consistent if the
process dies between any two writes; a command's files are all written to
their temporary files before the first takes its place, so that a write that
fails changes none. ``query`` puts the campaign file in place before the
batch file (a rerun rewrites the same batch), ``teach`` ``DATA`` before the
campaign file (a rerun finds the new labels in ``DATA`` and records them),
``correct`` the campaign file first (the next command finishes the
correction). A malformed answer file
changes nothing.

One concern per module: ``_errors`` (the error type), ``_files`` (dialects,
reading, atomic writes), ``_labels`` (label types and class checks),
``_features`` (feature columns, row fingerprints, :class:`TableEncoder`),
``_labelsets`` (a multi-label campaign's cells: label sets, the separator,
the no-labels token), ``_journal`` (the campaign file, the lock, keeping it
in step with DATA),
``_answers`` (merging, restoring, correcting), ``_model`` (the labeled set,
the task, the fitted model), ``_stopping`` (the criteria a campaign
updates), ``_rounds`` (choosing a batch) and ``_report`` (status, export,
predictions).
"""

from skbait.campaign._answers import (
    correct_label,
    merge_answers,
    record_labels,
    restore_labels,
)
from skbait.campaign._errors import CampaignError
from skbait.campaign._features import TableEncoder
from skbait.campaign._files import write_frame
from skbait.campaign._journal import campaign_path, read_campaign
from skbait.campaign._report import (
    LabelSetClassifier,
    campaign_status,
    export_model,
    plot_status,
    predict_table,
)
from skbait.campaign._rounds import query_batch

__all__ = [
    "CampaignError",
    "LabelSetClassifier",
    "TableEncoder",
    "campaign_path",
    "campaign_status",
    "correct_label",
    "export_model",
    "merge_answers",
    "plot_status",
    "predict_table",
    "query_batch",
    "read_campaign",
    "record_labels",
    "restore_labels",
    "write_frame",
]

# Documented and raised under the package's name.
CampaignError.__module__ = __name__
TableEncoder.__module__ = __name__
LabelSetClassifier.__module__ = __name__
