"""Real labeling campaigns on a table with blank labels, kept in a campaign file.

A *campaign* labels the rows of one table (``DATA``, a CSV or parquet file)
whose target column is blank for the rows nobody has labeled yet. Each round,
:func:`query_batch` trains the estimator on the labeled rows and writes the
next batch of rows to label to a file; the annotators fill in the labels,
either in ``DATA`` itself or in the batch file, which :func:`merge_answers`
merges back into ``DATA``. These are the ``skbait query`` and ``skbait teach``
commands.

A **campaign file** beside ``DATA`` (``DATA.campaign.json``) keeps what a
later round needs to continue exactly as if no time had passed:

- ``data``: the target column, the feature columns and a digest of the
  feature values, so that a file that was edited, sorted or replaced is
  noticed;
- ``settings``: strategy, estimator, task, batch size, device, random seed
  and the type of the labels;
- ``labels``: every label the campaign has seen, in the order it learnt them
  (a journal: ``DATA`` losing a label is an error, and
  :func:`restore_labels` writes the journal back);
- ``rounds``: per round, the labels known, the design used, the batch, and
  the value of each stopping criterion (:mod:`skbait.stopping`);
- ``stopping``: the criteria's state.

Files are written atomically (a temporary file in the same folder, then
``os.replace``), in an order that keeps them consistent if the process dies
between any two writes: ``query`` records the batch in the campaign file
before writing the batch file (a rerun rewrites the same batch), and
``teach`` writes ``DATA`` before the campaign file (a rerun finds the new
labels in ``DATA`` and records them). A malformed answer file changes nothing.

Labels are text: a blank cell is a missing label, anything else is a label
(``-1`` is a class like any other).
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
from skbait.campaign._report import campaign_status, export_model, plot_status, predict_table
from skbait.campaign._rounds import query_batch

__all__ = [
    "CampaignError",
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
