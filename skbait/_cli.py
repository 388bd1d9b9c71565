"""The ``skbait`` command (also ``python -m skbait``).

``skbait run`` compares query strategies on a dataset over several seeds and
writes, to an output folder, the tidy results table (``results.csv``), the
learning curves, the pairwise penalty matrix and the selection times as PNG
files, and a markdown summary (``summary.md``). ``skbait report`` redraws the
figures and the summary from a saved ``results.csv``; ``skbait strategies``
lists the strategy names.
"""

import argparse
import contextlib
import csv
import os
import shlex
import shutil
import sys
import time
import warnings

__all__ = ["main"]

from skbait._presets import (
    CLASSIFICATION_STRATEGIES,
    CLASSIFIERS,
    REGRESSION_STRATEGIES,
    REGRESSORS,
    UsageError,
    _make_estimator,
    _make_multilabel_estimator,
    _make_multilabel_strategy,
    _make_strategies,
    _positive_int,
    _task,
)

DATASETS = ("digits", "austin_weather")
# The embedded default run: digits, logistic regression on standardised pixels,
# the paper's five strategies, batch 10, five seeds, runs spread over all cores.
# Tuned to take a few minutes on two free CPU cores (BAIT's selections dominate).
DEFAULT_SEEDS = 5
DEFAULT_BATCH_SIZE = 10
DEFAULT_N_INITIAL = 10
DEFAULT_BUDGET = 200
DEFAULT_TEST_SIZE = 0.5
SPLIT_SEED = 0


def _n_jobs(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError("n-jobs cannot be 0 (use 1, a count, or -1)")
    return value


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}")
    return value


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show defaults, except the uninformative None and False."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="skbait",
        description="Batch active learning for scikit-learn, built around BAIT.",
    )
    from skbait import __version__

    parser.add_argument("--version", action="version", version=f"skbait {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    run = commands.add_parser(
        "run",
        help="compare query strategies over seeds; write results, plots and a summary",
        description=(
            "Simulate active learning with several query strategies and seeds on a pool, "
            "scoring every round on a held-out split; write results.csv, "
            "learning_curves.png, penalty_matrix.png (with 2 seeds or more and random "
            "among the strategies), selection_time.png, summary.md and run.json (the "
            "run's settings, which `skbait report` reads back) to the output "
            "folder. Without options: digits, standardised logistic "
            f"regression, {', '.join(CLASSIFICATION_STRATEGIES)}, {DEFAULT_SEEDS} seeds, "
            f"batch {DEFAULT_BATCH_SIZE}, budget {DEFAULT_BUDGET}."
        ),
        formatter_class=_HelpFormatter,
    )
    run.add_argument(
        "-d",
        "--dataset",
        default="digits",
        help=f"a built-in dataset ({', '.join(DATASETS)}) or the path of a CSV file "
        "(with --target; separated by commas, semicolons or tabs)",
    )
    run.add_argument(
        "--target",
        default=None,
        help="the label column of a CSV dataset; the other columns are the features "
        "(text columns are one-hot encoded, rows with missing values dropped; a column of "
        "numbers with text in a few cells, such as '?', is refused)",
    )
    run.add_argument(
        "--task",
        choices=("auto", "classification", "regression"),
        default="auto",
        help="classification or regression; auto: regression for a continuous target or more "
        "than 20 distinct whole numbers, classes otherwise (whole-number ratings 1..10 are "
        "classes: pass regression for them)",
    )
    run.add_argument(
        "--multi-label",
        action="store_true",
        help="the --target column holds label sets (sports|politics); one logistic "
        "regression per label, the strategies' multi-label forms, micro-F1 as the score",
    )
    run.add_argument(
        "--label-sep",
        default=None,
        help="with --multi-label: the character between the labels of a cell (default |)",
    )
    run.add_argument(
        "--no-labels",
        default=None,
        help="with --multi-label: the cell of a row where no label applies (default (none))",
    )
    run.add_argument(
        "-e",
        "--estimator",
        default=None,
        help=f"classifiers: {', '.join(CLASSIFIERS)} (default logistic); regressors: "
        f"{', '.join(REGRESSORS)} (default ridge); all after standardisation",
    )
    run.add_argument(
        "-s",
        "--strategies",
        default=None,
        help="comma-separated strategy names (see `skbait strategies`; 'uncertainty' is "
        "least-confident sampling, the same as 'confidence'); default "
        f"{','.join(CLASSIFICATION_STRATEGIES)} for classification, "
        f"{','.join(REGRESSION_STRATEGIES)} for regression",
    )
    run.add_argument(
        "--scoring",
        default=None,
        help="a scikit-learn scorer name for the learning curves (neg_root_mean_squared_error, "
        "f1_macro, balanced_accuracy, ...); default: the model's own score, accuracy or R^2 "
        "(micro-F1 with --multi-label)",
    )
    run.add_argument(
        "--seeds",
        type=_positive_int,
        default=DEFAULT_SEEDS,
        help="number of seeds (0, 1, ...): repetitions of every strategy",
    )
    run.add_argument(
        "-b",
        "--batch-size",
        type=_positive_int,
        default=DEFAULT_BATCH_SIZE,
        help="rows queried per round",
    )
    run.add_argument(
        "--budget",
        type=_positive_int,
        default=DEFAULT_BUDGET,
        help="labels used by the end of each run",
    )
    run.add_argument(
        "--n-initial",
        type=_positive_int,
        default=DEFAULT_N_INITIAL,
        help="rows labeled at random before the first query",
    )
    run.add_argument(
        "--test-size",
        type=_fraction,
        default=DEFAULT_TEST_SIZE,
        help=f"held-out fraction (split with seed {SPLIT_SEED}, stratified for classification)",
    )
    run.add_argument(
        "--device", default="auto", help="torch device of the strategies: auto, cpu, cuda, cuda:N"
    )
    run.add_argument("-o", "--output", default="skbait_results", help="output folder")
    run.add_argument(
        "-j",
        "--n-jobs",
        type=_n_jobs,
        default=-1,
        help="runs in parallel, one process each (-1: one per core)",
    )
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    report = commands.add_parser(
        "report",
        help="redraw the plots and summary.md from a saved results.csv",
        description="Read a results.csv written by `skbait run` (or save_results) and write "
        "the figures and summary.md next to it, or to --output.",
    )
    report.add_argument("results", help="path of a results.csv")
    report.add_argument(
        "-o", "--output", default=None, help="output folder (default: the folder of the CSV file)"
    )

    commands.add_parser(
        "strategies",
        help="list the query strategy names, each with the strategy it makes",
        description="List the names --strategies accepts. 'uncertainty' is "
        "UncertaintySampling with its default measure, least confident: the same as "
        "'confidence' (the paper's CONFIDENCE).",
    )

    from skbait._campaign_cli import add_campaign_commands

    add_campaign_commands(commands, _HelpFormatter)
    from skbait.label._cli import add_label_command

    add_label_command(commands, _HelpFormatter)
    return parser


# --------------------------------------------------------------------------- data


def _load_dataset(args):
    """Return X (float ndarray), y (ndarray), a description dict."""
    import numpy as np

    name = args.dataset
    if name == "digits":
        if args.target is not None:
            raise UsageError("--target applies to CSV datasets only, not to 'digits'.")
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        return X.astype(float), y, {"name": "digits", "target": "digit"}
    if name == "austin_weather":
        if args.target is not None:
            raise UsageError("--target applies to CSV datasets only, not to 'austin_weather'.")
        try:
            from skbait.datasets import load_austin_weather
        except ImportError:
            raise UsageError(
                "the 'austin_weather' dataset is not available in this version of skbait."
            ) from None
        data = load_austin_weather()
        return (
            np.asarray(data.data, dtype=float),
            np.asarray(data.target, dtype=float),
            {"name": "austin_weather", "target": data.target_names[0]},
        )
    if not (name.lower().endswith(".csv") or os.path.sep in name or os.path.exists(name)):
        raise UsageError(
            f"unknown dataset {name!r}: use one of {', '.join(DATASETS)} or the path of a "
            "CSV file (with --target COLUMN)."
        )
    return _load_csv(name, args.target, label_sets=args.multi_label)


def _columns_named(columns):
    """``(shown, "column(s)", "holds/hold", "it/them")``: the words of a note on columns."""
    shown = ", ".join(repr(str(c)) for c in columns)
    one = len(columns) == 1
    return (shown, *(("column", "holds", "it") if one else ("columns", "hold", "them")))


def _load_csv(path, target, label_sets=False):
    import numpy as np
    import pandas as pd

    if not os.path.isfile(path):
        raise UsageError(f"no such CSV file: {path!r}.")
    if target is None:
        raise UsageError(f"a CSV dataset needs --target COLUMN (the label column of {path!r}).")
    from skbait.campaign._errors import CampaignError, columns_shown
    from skbait.campaign._files import _DECIMAL_COMMA, sniff_dialect

    try:
        # The separator and encoding as the campaign commands find them: a spreadsheet
        # writes ';' or tabs, and Windows-1252 text.
        dialect = sniff_dialect(path)
        frame = pd.read_csv(path, sep=dialect.sep, encoding=dialect.codec)
    except CampaignError as exc:  # no UTF-8 nor Windows-1252 text: says which byte
        raise UsageError(str(exc)) from None
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path!r} as CSV: {exc}") from None
    if dialect.decimal == ",":
        # Decimal commas (1,5): a column of numbers in either notation is numeric.
        for column in frame.columns:
            if pd.api.types.is_numeric_dtype(frame[column]):
                continue
            text = frame[column].astype("string").str.strip()
            comma = text.str.match(_DECIMAL_COMMA.pattern).fillna(False).astype(bool)
            numbers = pd.to_numeric(
                text.where(~comma, text.str.replace(",", ".")), errors="coerce"
            )
            if comma.any() and numbers.notna().sum() == frame[column].notna().sum():
                frame[column] = numbers.astype(float)
    column = target
    if column not in frame.columns:
        # A header written with spaces (a, b, label): --target label finds its column, as
        # the campaign commands find it.
        matches = [c for c in frame.columns if str(c).strip() == target.strip()]
        column = matches[0] if len(matches) == 1 else target
    if column not in frame.columns:
        raise UsageError(
            f"no column {target!r} in {path!r}; {columns_shown(frame.columns, [target])}."
        )
    # pandas calls a second column of the name y.1: a copy of the labels among the features.
    with open(path, encoding=dialect.codec, newline="") as handle:
        header = next(csv.reader(handle, delimiter=dialect.sep), [])
    twice = [i + 1 for i, name in enumerate(header) if name.strip() == str(column).strip()]
    if len(twice) > 1:
        times = "twice" if len(twice) == 2 else f"{len(twice)} times"
        shown = ", ".join(map(str, twice[:-1])) + f" and {twice[-1]}"
        raise UsageError(
            f"the header of {path!r} names {target!r} {times} (columns {shown}): a copy "
            "would be a feature that gives the labels away; rename or remove it."
        )
    n_rows = len(frame)
    if n_rows == 0:
        raise UsageError(f"{path!r} has no row of data below its header.")
    for name in frame.columns:
        # Label sets ("1|2") among single labels are no stray text.
        if not (label_sets and name == column):
            _refuse_stray_text(frame[name], path, dialect.decimal)
    missing = frame.isna().sum()
    # A column of True/False with a blank cell is read as objects: once the blank rows are
    # dropped it is booleans again (an object target is of "unknown" type to scikit-learn).
    frame = frame.dropna().infer_objects()
    if frame.empty:
        # Often one blank column (notes, comments): name the columns to fill in or remove.
        worst = missing[missing > 0].sort_values(ascending=False, kind="stable")[:3]
        shown = ", ".join(f"{name!r} ({count} of {n_rows})" for name, count in worst.items())
        raise UsageError(
            f"every row of {path!r} has a missing value, and such rows are dropped; "
            f"blank cells by column: {shown}. Fill them in or remove those columns."
        )
    # Printed once the run's settings are checked: an error comes alone, on one line.
    notes = []
    dropped = n_rows - len(frame)
    if dropped:
        notes.append(f"dropped {dropped} row(s) with missing values from {path}")
    y = frame[column].to_numpy()
    features = frame.drop(columns=[column])
    if features.shape[1] == 0:
        raise UsageError(f"{path!r} has no feature column besides {target!r}.")
    text = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    # Dates or IDs: one feature per row, each true of that row alone.
    unique = [c for c in text if len(features) > 1 and features[c].nunique() == len(features)]
    if unique:
        shown, column, holds, them = _columns_named(unique)
        notes.append(
            f"the text {column} {shown} of {path} {holds} a different value "
            f"in each of the {len(features)} rows, one-hot encoded into one feature per row "
            f"that matches no other row; remove {them} from the file if not meant as a "
            "feature (skbait run uses every column but --target)."
        )
    numbering = [
        c for c in features.columns if c not in text and _numbers_rows(features[c], n_rows)
    ]
    if numbering:
        shown, column, holds, them = _columns_named(numbering)
        notes.append(
            f"the {column} {shown} of {path} {holds} a different whole number "
            f"in each row, numbering the rows like a row number or an identifier (a saved "
            "pandas index, say); as a feature it says where a row is in the file, which may "
            f"give its label away; remove {them} from the file if not meant as a feature "
            "(skbait run uses every column but --target)."
        )
    if text:
        features = pd.get_dummies(features, columns=text, dtype=float)
    X = features.to_numpy(dtype=float)
    if not np.isfinite(X).all():
        raise UsageError(f"the features of {path!r} hold infinite values.")
    # The file's line of each row kept (the header is line 1), for messages.
    lines = [int(i) + 2 for i in frame.index]
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        row = int(np.flatnonzero(~np.isfinite(y))[0])
        raise UsageError(
            f"the target {target!r} holds an infinite value ({y[row]}) on line {lines[row]} "
            f"of {path!r}: correct or remove that row."
        )
    data = {"name": os.path.basename(path), "target": target, "lines": lines, "notes": notes}
    return X, y, data


def _numbers_rows(values, n_rows):
    """Whether a numeric column gives each row its own whole number, no more of them
    than the file has rows (0..n-1, 1..n, consecutive identifiers; some rows dropped)."""
    import numpy as np

    values = values.to_numpy(dtype=float)
    if len(values) < 3 or not np.isfinite(values).all() or (values != np.round(values)).any():
        return False
    return len(np.unique(values)) == len(values) and values.max() - values.min() < n_rows


def _cells_as_numbers(cells, decimal):
    """The cells of a column read as numbers (decimal commas too where the file has them);
    NaN where a cell is blank or not a number."""
    import pandas as pd

    from skbait.campaign._files import _DECIMAL_COMMA

    text = cells.astype("string").str.strip()
    if decimal == ",":
        comma = text.str.match(_DECIMAL_COMMA.pattern).fillna(False).astype(bool)
        text = text.where(~comma, text.str.replace(",", "."))
    return pd.to_numeric(text, errors="coerce")


def _refuse_stray_text(cells, path, decimal):
    """A column of numbers with a few cells of text ('?', '-', 'n.a.', a typo) is refused.

    pandas reads it as text, and one-hot encoding then makes each of its numbers a feature
    of its own (a target, a class of its own): the column's meaning is lost without a word.
    """
    import pandas as pd

    if pd.api.types.is_numeric_dtype(cells) or pd.api.types.is_bool_dtype(cells):
        return
    filled = cells.notna()
    numbers = _cells_as_numbers(cells, decimal)
    stray = filled & numbers.isna()
    if not stray.any() or numbers.notna().sum() <= filled.sum() / 2:
        return
    # The file's line of each cell (the header is line 1).
    lines = [int(i) + 2 for i in cells.index[stray.to_numpy()]]
    values = list(dict.fromkeys(str(value) for value in cells[stray]))
    shown = ", ".join(repr(value) for value in values[:3]) + (", ..." if len(values) > 3 else "")
    where = ", ".join(map(str, lines[:5])) + (", ..." if len(lines) > 5 else "")
    raise UsageError(
        f"the column {str(cells.name)!r} of {path!r} holds numbers, but also text ({shown} "
        f"on line(s) {where}), so it would be read as text, each number a category of its "
        "own. Leave those cells blank if they mark a missing value (rows with missing "
        "values are dropped), or correct them."
    )


def _check_output(path, names=()):
    """Refuse an output folder that cannot be made or written to, before any work.

    ``names`` are the files to be written in it: none may be a folder. The
    folder itself is made only once there is something to write to it.
    """
    path = os.path.abspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"the output folder {path!r} is a file: give --output a folder.")
    from skbait.campaign import CampaignError
    from skbait.campaign._files import check_writable

    for name in names:
        taken = os.path.join(path, name)
        if os.path.isdir(taken):
            raise UsageError(
                f"{taken!r} is a folder, where the output file {name} goes: move it away "
                "or give --output another folder."
            )
        try:
            if os.path.isfile(taken):
                check_writable(taken)
        except CampaignError as exc:
            raise UsageError(str(exc)) from None
    # The nearest existing folder above it must be a folder we may write in.
    parent = path
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise UsageError(
            f"cannot make the output folder {path!r}: {parent!r} is a file; "
            "give --output a folder."
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(
            f"cannot write to {parent!r} (permission denied): give --output another folder."
        )
    # os.access lets root write anywhere, and knows no folder that takes no new entry
    # (/proc, a full or read-only mount): try, with a folder removed at once.
    import tempfile

    try:
        os.rmdir(tempfile.mkdtemp(prefix=".skbait-", dir=parent))
    except OSError as exc:
        raise UsageError(
            f"cannot make the output folder {path!r}: {parent!r} takes no new folder "
            f"({exc.strerror or exc}); give --output another folder."
        ) from None


@contextlib.contextmanager
def _writing_to(output, what):
    """Make the folder ``output`` for the writes in the block; a write that fails is one
    :class:`UsageError` line, and the folders made for it are removed (as on an interrupt).
    """
    made = _first_missing(output)
    try:
        os.makedirs(output, exist_ok=True)
        yield
    except BaseException as exc:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
        if not isinstance(exc, OSError):
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        raise UsageError(
            f"{what} to {output!r} failed, and changed nothing there: {where}"
            f"{exc.strerror or exc}. Free some space, allow writing there or give "
            "--output another folder, and run again."
        ) from None


def _first_missing(path):
    """The topmost folder of ``path`` that does not exist yet (``makedirs`` would make it)."""
    path = os.path.abspath(path)
    if os.path.exists(path):
        return None
    while not os.path.exists(os.path.dirname(path)):
        path = os.path.dirname(path)
    return path


def _label_set_target(cells, args, data):
    """The indicator matrix of a label-set column (``sports|politics``) and the label names.

    Cells are read as a multi-label campaign reads them (``skbait query
    --multi-label``): labels stripped, repeats counted once, the order free,
    ``--no-labels`` (``(none)``) for a row where no label applies.
    """
    import numpy as np
    from sklearn.preprocessing import MultiLabelBinarizer

    from skbait.campaign._errors import CampaignError
    from skbait.campaign._labelsets import joined_labels, label_set_settings, read_set

    if "lines" not in data:
        raise UsageError(
            f"--multi-label needs a CSV dataset whose --target column holds label sets; "
            f"{data['name']!r} has one class per row."
        )
    if args.task != "auto":
        raise UsageError("--multi-label sets the task; leave out --task.")
    try:
        spec = label_set_settings(args.label_sep, args.no_labels)
    except CampaignError as exc:
        raise UsageError(str(exc)) from None
    sets = []
    for line, cell in zip(data["lines"], cells):
        labels, problem = read_set(str(cell), spec)
        if problem is not None:
            raise UsageError(f"line {line} of {data['name']}: {problem}.")
        sets.append(labels)
    names = {label for labels in sets for label in labels}
    for label in sorted(names):
        # "arts/sports" beside "arts" and "sports": the cells join labels by another mark.
        found = joined_labels(label, names, spec["sep"])
        if found is not None:
            mark, parts = found
            raise UsageError(
                f"the label {label!r} of {data['name']} joins the labels "
                f"{', '.join(map(repr, parts))} with {mark!r}, not with --label-sep "
                f"{spec['sep']!r}; pass --label-sep {mark!r} if {mark!r} separates the labels."
            )
    binarizer = MultiLabelBinarizer()
    Y = binarizer.fit_transform(sets)
    if Y.shape[1] < 2:
        raise UsageError(
            f"--target {data['target']!r} holds {Y.shape[1]} label(s) separated by "
            f"{spec['sep']!r}; a multi-label run needs two or more (is --label-sep right?)."
        )
    if (Y[:1] == Y).all():
        # Each label on every row or on none, as a single-label target of one value.
        shown = spec["sep"].join(str(c) for c, on in zip(binarizer.classes_, Y[0]) if on)
        raise UsageError(
            f"the target {data['target']!r} holds the same labels ({shown!r}) in all "
            f"{len(Y)} rows of {data['name']}: nothing to learn; is --target the right column?"
        )
    return Y.astype(np.int64), [str(c) for c in binarizer.classes_]


def _label_set_notes(y, data):
    """A note when the classes look like label sets (``arts|sports`` beside ``arts`` and
    ``sports``): without --multi-label each combination is a class of its own."""
    from skbait.campaign._labelsets import joined_labels

    classes = {str(value).strip() for value in set(y.tolist())}
    for name in sorted(classes):
        found = joined_labels(name, classes, None)
        if found is not None:
            mark, parts = found
            option = "--multi-label" + ("" if mark == "|" else f" --label-sep {mark!r}")
            return [
                f"the classes of {data['target']!r} include {name!r}, the "
                f"classes {' and '.join(map(repr, parts))} joined by {mark!r}; each "
                "combination is learned as a class of its own. If a row carries several "
                f"labels, pass {option}."
            ]
    return []


def _split_hint(y, task, reason):
    """What to change when the pool/test split fails: `` (...)`` or ``""``."""
    import numpy as np

    if "test_size" in reason:  # fewer held-out rows than classes
        return " (pass a larger --test-size)"
    if "train_size" in reason:
        return " (pass a smaller --test-size)"
    if task != "classification":
        return ""
    values, counts = np.unique(y, return_counts=True)
    lone = values[counts < 2]
    hints = []
    if len(lone) and len(lone) <= 3:
        shown = ", ".join(repr(v) for v in lone.tolist())
        has, it = ("has one row", "it") if len(lone) == 1 else ("have one row each", "them")
        hints.append(
            f"the stratified split needs two rows of each class, and {shown} {has}: "
            f"drop {it} or label more like {it}"
        )
    # Only numbers can be amounts: a text target cannot be a regression.
    if np.asarray(y).dtype.kind in "iuf":
        hints.append(
            f"{len(values)} classes; if the target is an amount rather than a class, "
            "pass --task regression"
        )
    return f" ({'; '.join(hints)})" if hints else ""


# ----------------------------------------------------------------------- commands


def _check_scoring(name):
    """A scikit-learn scorer name, or a usage error offering the closest ones."""
    if name is None:
        return
    import difflib

    from sklearn.metrics import get_scorer_names

    names = get_scorer_names()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else "."
        raise UsageError(
            f"unknown scorer {name!r} for --scoring{hint} The names are those of "
            "sklearn.metrics.get_scorer_names()."
        )


def _run(args):
    import numpy as np

    _check_scoring(args.scoring)
    X, y, data = _load_dataset(args)
    notes = data.pop("notes", [])
    # Imported once the data has loaded, so that a wrong path is reported at once.
    from sklearn.model_selection import train_test_split

    from skbait.evaluation import compare_strategies, save_results, write_report

    if not args.multi_label and len(y) and (y[:1] == y).all():
        # Nothing to learn, nor a class to tell apart: a wrong --target, most often.
        raise UsageError(
            f"the target {data['target']!r} holds one value ({y[:1].tolist()[0]!r}) in all "
            f"{len(y)} rows of {data['name']}: nothing to learn; is --target the right column?"
        )
    if args.multi_label:
        y, label_names = _label_set_target(y, args, data)
        task = "multi-label"
    else:
        if args.label_sep is not None or args.no_labels is not None:
            raise UsageError("--label-sep and --no-labels apply with --multi-label only.")
        task = _task(y, args.task, notes=notes)
        if task == "classification":
            notes.extend(_label_set_notes(y, data))
    if task == "regression":
        try:
            y = np.asarray(y, dtype=float)
        except ValueError:
            raise UsageError("--task regression needs a numeric target.") from None
    elif task == "classification" and y.dtype.kind == "f" and (y == np.round(y)).all():
        # A column of whole numbers with a blank cell is read as floats: its classes are
        # 1 and 2, as written, not 1.0 and 2.0.
        y = y.astype(np.int64)
    if task == "multi-label":
        estimator_name, estimator = _make_multilabel_estimator(args.estimator)
        names = _make_strategies(args.strategies, "classification", args.device)
        # Each name stands for its multi-label form ("bait": multi-label BAIT).
        strategies = {name: _make_multilabel_strategy(name, args.device)[1] for name in names}
    else:
        estimator_name, estimator = _make_estimator(args.estimator, task)
        strategies = _make_strategies(args.strategies, task, args.device)
    if task == "regression":
        from skbait.base import get_strategy_tags
        from skbait.strategies._registry import regression_strategies

        needs_classes = [
            n for n, strategy in strategies.items() if get_strategy_tags(strategy).classifier_only
        ]
        if needs_classes:
            raise UsageError(
                f"{', '.join(needs_classes)} need(s) class probabilities and cannot serve a "
                f"regression target; use {regression_strategies()}"
                + (
                    " (or --task classification if the target holds classes)."
                    if args.task == "auto"
                    else "."
                )
            )

    stratify = y if task == "classification" else None
    try:
        X_pool, X_test, y_pool, y_test = train_test_split(
            X, y, test_size=args.test_size, random_state=SPLIT_SEED, stratify=stratify
        )
    except ValueError as exc:
        reason = str(exc).split(". ")[0]
        raise UsageError(
            f"cannot split the dataset into pool and test set: {reason}"
            f"{_split_hint(y, task, reason)}."
        ) from None
    n_pool = len(y_pool)
    if args.n_initial >= args.budget:
        raise UsageError(f"--budget ({args.budget}) must exceed --n-initial ({args.n_initial}).")
    to_query = args.budget - args.n_initial
    if args.batch_size > to_query:
        raise UsageError(
            f"--batch-size ({args.batch_size}) exceeds the {to_query} labels a run queries "
            f"(--budget {args.budget} minus --n-initial {args.n_initial}): pass "
            f"--batch-size {to_query} or less, or a larger --budget."
        )
    if args.budget > n_pool:
        raise UsageError(
            f"--budget ({args.budget}) exceeds the pool: {data['name']} has {n_pool} pool "
            f"rows after holding out {len(y_test)} for testing."
        )

    from skbait.evaluation._report import _FIGURES, RUN_INFO

    _check_output(args.output, ["results.csv", "summary.md", RUN_INFO, *_FIGURES])
    for note in notes:
        print(f"skbait: note: {note}", file=sys.stderr)
    n_runs = len(strategies) * args.seeds
    if task == "classification":
        shape = f"{len(np.unique(y))} classes"
    elif task == "multi-label":
        shown = ", ".join(label_names[:8]) + (", ..." if len(label_names) > 8 else "")
        shape = f"{len(label_names)} labels ({shown}), {y.sum(axis=1).mean():.2f} labels a row"
    else:
        shape = f"regression on {data['target']}"
    print(
        f"skbait: {data['name']} ({n_pool} pool rows, {len(y_test)} test rows, "
        f"{X.shape[1]} features, {shape}); {estimator_name}; "
        f"{', '.join(strategies)}; {args.seeds} seeds x {len(strategies)} strategies = "
        f"{n_runs} runs to {args.budget} labels",
        file=sys.stderr,
    )
    start = time.perf_counter()
    caught = []
    try:
        # The runs' warnings, each once, as skbait's lines; the user's filters still apply.
        with warnings.catch_warnings(record=True) as caught:
            results = compare_strategies(
                estimator,
                X_pool,
                y_pool,
                X_test,
                y_test,
                strategies=strategies,
                seeds=args.seeds,
                n_initial=args.n_initial,
                batch_size=args.batch_size,
                budget=args.budget,
                n_jobs=args.n_jobs,
                verbose=0 if args.quiet else 1,
                scoring=args.scoring,
            )
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    finally:
        # Also when a run fails or is interrupted: the warnings so far may say why.
        _print_warnings(caught)
    wall = time.perf_counter() - start

    csv_path = os.path.join(args.output, "results.csv")
    last = to_query % args.batch_size  # the last batch is cut to reach the budget
    batches = f"batches of {args.batch_size}" + (f" (the last of {last})" if last else "")
    score = args.scoring or {"classification": "accuracy", "multi-label": "micro-F1"}.get(
        task, "R^2"
    )
    info = {
        "title": f"{data['name']}, {estimator_name}",
        "details": [
            (
                "dataset",
                f"{data['name']}: {n_pool} pool rows, {len(y_test)} test rows "
                f"(split seed {SPLIT_SEED}), {X.shape[1]} features, {shape}",
            ),
            ("estimator", f"{estimator_name} after standardisation (`{_one_line(estimator)}`)"),
            ("score", f"{score} on the test rows"),
            ("strategies", ", ".join(strategies)),
            (
                "protocol",
                f"{args.n_initial} initial labels at random, {batches}, up to "
                f"{args.budget} labels; seeds 0..{args.seeds - 1}",
            ),
            ("wall time", f"{wall:.1f} s for {n_runs} runs (n_jobs={args.n_jobs})"),
        ],
        # The task as detected, so that the command repeats the run whatever auto decides.
        "command": _command_line(
            argparse.Namespace(**{**vars(args), "task": args.task if args.multi_label else task})
        ),
    }
    # Made only now: a run that fails or is interrupted leaves no empty folder behind,
    # nor one half written.
    with _writing_to(args.output, "the run ended, but writing its results"):
        from skbait.evaluation._files import staged_files

        # results.csv last, once its report is in place: a failed write changes neither.
        with staged_files(args.output) as stage:
            save_results(results, stage("results.csv"))
            written = write_report(results, args.output, info=info)
    _print_done(results, [csv_path] + written, wall)
    return 0


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """A warning as a ``skbait: warning:`` line on stderr (:func:`warnings.showwarning`)."""
    kind = "" if category is UserWarning else f"{category.__name__}: "
    print(f"skbait: warning: {kind}{message}", file=sys.stderr)


def _print_warnings(caught):
    """Each recorded warning as a ``skbait: warning:`` line on stderr."""
    for caught_warning in caught:
        _show_warning(caught_warning.message, caught_warning.category, None, None)


def _one_line(estimator):
    return " ".join(repr(estimator).split())


def _command_line(args):
    """The shell command that repeats a run: every parsed option, quoted for the shell.

    Each option's long name is its destination with dashes (``n_initial`` is
    ``--n-initial``), so the namespace says everything.
    """
    words = ["skbait", args.command]
    for dest, value in vars(args).items():
        if dest == "command" or value is None or value is False:
            continue
        words.append("--" + dest.replace("_", "-"))
        if value is not True:
            words.append(str(value))
    return shlex.join(words)


def _print_done(results, paths, wall=None):
    from skbait.evaluation._report import report_tables

    scores, times = report_tables(results)
    print(scores.to_string())
    print()
    if len(times.columns):
        print(times.to_string())
        print()
    if wall is not None:
        print(f"skbait: done in {wall:.1f} s; wrote:")
    else:
        print("skbait: wrote:")
    for path in paths:
        print(f"  {path}")


def _report(args):
    from skbait.evaluation import load_results, write_report
    from skbait.evaluation._report import _FIGURES, RUN_INFO, read_run_info

    if not os.path.isfile(args.results):
        raise UsageError(f"no such results file: {args.results!r}.")
    try:
        results = load_results(args.results)
    except (ValueError, TypeError, KeyError) as exc:
        raise UsageError(f"cannot read {args.results!r} as a results table: {exc}") from None
    folder = os.path.dirname(os.path.abspath(args.results))
    output = args.output or folder
    _check_output(output, ["summary.md", RUN_INFO, *_FIGURES])
    try:
        # The run's details, kept beside its results.csv by `skbait run`.
        info = read_run_info(folder)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if info is None:
        info = {"title": os.path.basename(args.results), "details": [("results", args.results)]}
    with _writing_to(output, "writing the report"):
        written = write_report(results, output, info=info)
    _print_done(results, written)
    return 0


def _strategies(args):
    """Each name, the strategy it makes, and the first line of that class's docstring."""
    from skbait.strategies import available_strategies, make_strategy

    names = available_strategies()
    width = max(map(len, names)) + 2
    first = {}
    for name in names:
        try:
            strategy = make_strategy(name)
        except Exception as exc:  # a user's factory: list it all the same
            print(f"{name:<{width}}(its factory fails: {type(exc).__name__}: {exc})")
            continue
        made = repr(strategy)
        doc = (type(strategy).__doc__ or "").strip().splitlines()
        line = f"{name:<{width}}{made}"
        if made in first:
            line += f", the same as {first[made]!r}"
        first.setdefault(made, name)
        print(f"{line}: {doc[0]}" if doc else line)
    return 0


class _StdoutUntilReaderLeaves:
    """``sys.stdout`` that goes quiet, without an error, once the reader of a pipe leaves
    (``skbait status pool.csv | head``): the command still finishes what it was doing,
    its files and journal included, instead of stopping at the next print."""

    def __init__(self, stream):
        self._stream = stream
        self._reader_left = False

    def _leave(self):
        self._reader_left = True
        # What is still buffered would fail again at exit: send the descriptor nowhere.
        with contextlib.suppress(AttributeError, OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)

    def write(self, text):
        if not self._reader_left:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._leave()
        return len(text)

    def flush(self):
        if not self._reader_left:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._leave()

    def __getattr__(self, name):
        return getattr(self._stream, name)


def main(argv=None):
    """Entry point of the ``skbait`` command; returns the exit status.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments after the program name; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        0 on success, 2 for a bad option or input or any other error (with a
        one-line ``skbait: error: ...`` message on stderr; ``SKBAIT_DEBUG=1``
        shows the traceback of an unforeseen one), 130 when interrupted.

    Examples
    --------
    >>> import contextlib, io
    >>> from skbait._cli import main
    >>> out = io.StringIO()
    >>> with contextlib.redirect_stdout(out):
    ...     status = main(["strategies"])
    >>> status, "random" in out.getvalue().split()
    (0, True)
    """
    stdout, sys.stdout = sys.stdout, _StdoutUntilReaderLeaves(sys.stdout)
    try:
        return _dispatch(argv)
    finally:
        sys.stdout.flush()
        sys.stdout = stdout


def _check_device_option(device):
    """``--device``, refused in the command line's words (the library's name ``device=``)."""
    if device is None or device == "auto":
        return
    import torch

    try:
        torch_device = torch.device(device)
    except (RuntimeError, TypeError):
        raise UsageError(f"unknown --device {device!r}: use auto, cpu, cuda or cuda:N.") from None
    if torch_device.type == "cuda" and not torch.cuda.is_available():
        raise UsageError(
            f"--device {device} was asked for, but CUDA is not available here: use --device "
            "auto (CUDA where there is one, the CPU otherwise) or --device cpu."
        )


def _dispatch(argv):
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or an argparse error (already printed)
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    from skbait._campaign_cli import COMMANDS, saying_when_waiting
    from skbait.label._cli import COMMANDS as LABEL_COMMANDS

    handlers = {
        "run": _run,
        "report": _report,
        "strategies": _strategies,
        **COMMANDS,
        **LABEL_COMMANDS,
    }
    try:
        with warnings.catch_warnings(), contextlib.ExitStack() as stack:
            # A warning (BAIT's approximation, a model that did not converge) as one of
            # skbait's lines, not Python's file:line and source; the user's filters apply.
            warnings.showwarning = _show_warning
            if args.command in COMMANDS or args.command in LABEL_COMMANDS:
                stack.enter_context(saying_when_waiting())
            _check_device_option(getattr(args, "device", None))
            return handlers[args.command](args)
    except UsageError as exc:
        print(f"skbait: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("skbait: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        # Not foreseen, so most likely a defect: still one line, not a traceback,
        # unless whoever reports it asks for the traceback.
        if os.environ.get("SKBAIT_DEBUG"):
            raise
        message = " ".join(str(exc).split()) or "(no message)"
        print(
            f"skbait: error: unexpected {type(exc).__name__}: {message} (this may be a "
            "defect of skbait: run again with SKBAIT_DEBUG=1 for the traceback, and report it)",
            file=sys.stderr,
        )
        return 2
