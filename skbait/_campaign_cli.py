"""A labeling campaign from the command line: ``skbait query``, ``teach``, ``correct``,
``status``, ``export`` and ``predict``.

The work is done by :mod:`skbait.campaign`; this module parses the options
and prints what happened.
"""

import contextlib
import os
import sys

__all__ = ["COMMANDS", "add_campaign_commands"]


def add_campaign_commands(commands, formatter_class):
    """Register the campaign's subcommands on ``commands``: query, teach, correct,
    status, export, predict."""
    from skbait._presets import _positive_int

    query = commands.add_parser(
        "query",
        help="write the next batch of rows to label from a table with blank labels",
        description=(
            "Train the estimator on the labeled rows of DATA (a CSV or parquet file whose "
            "target column is blank for unlabeled rows) and write the next batch to label: "
            "the chosen rows with all their columns, the target blank, and a 'row' column "
            "(the 0-based position among DATA's data rows). With no label yet the batch "
            "comes from a label-free design (BAIT with the pool's rank-one Fisher). A "
            "campaign file beside DATA keeps the settings, the labels and every round, so "
            "that the next query continues exactly; options left out keep the campaign's "
            "settings."
        ),
        formatter_class=formatter_class,
    )
    query.add_argument("data", metavar="DATA", help="the CSV or parquet file being labeled")
    query.add_argument(
        "--target", default=None, help="the label column (needed for the first query)"
    )
    query.add_argument(
        "-o",
        "--output",
        default=None,
        help="the batch file to write, .csv or .parquet (default: DATA_batch.csv beside DATA)",
    )
    query.add_argument(
        "-b", "--batch-size", type=_positive_int, default=None, help="rows per batch (first: 10)"
    )
    query.add_argument(
        "-s",
        "--strategy",
        default=None,
        help="the query strategy (see `skbait strategies`; first: bait)",
    )
    query.add_argument(
        "-e",
        "--estimator",
        default=None,
        help="the estimator, as in `skbait run` (first: the task's default)",
    )
    query.add_argument(
        "--task",
        choices=("auto", "classification", "regression"),
        default=None,
        help="first: auto (regression for a continuous target or more than 20 distinct whole "
        "numbers; whole-number ratings 1..10 are classes unless you pass regression)",
    )
    query.add_argument("--device", default=None, help="torch device of the strategy (first: auto)")
    query.add_argument(
        "--random-state", type=int, default=None, help="seed of the campaign (first: 0)"
    )
    query.add_argument(
        "--features",
        default=None,
        help="comma-separated feature columns (default: every column but the target); "
        "fixed by the first query",
    )
    query.add_argument(
        "--id",
        dest="id_column",
        default=None,
        metavar="COLUMN",
        help="a column naming each row (first query only): rows are matched by it, so "
        "sorting DATA or appending rows is harmless",
    )
    query.add_argument(
        "--exclude",
        default=None,
        metavar="COLUMNS",
        help="comma-separated columns left out of the features (first query only); columns "
        "unique in every row, like identifiers, and columns blank in most rows, like "
        "another campaign's labels, are left out by default (with a note)",
    )
    query.add_argument(
        "--classes",
        default=None,
        help="comma-separated class names: answers outside them are refused (without it, a "
        "new class is accepted with a note, a misspelt one refused)",
    )
    query.add_argument(
        "--stop",
        default=None,
        metavar="CRITERIA",
        help="stopping criteria as NAME[=THRESHOLD],... from stabilizing_predictions, "
        "overall_uncertainty, max_confidence, objective_plateau; or none (first: all that "
        "apply to the task, at their defaults)",
    )
    _add_shared(query)
    add_label_set_options(query, first=True)
    query.add_argument(
        "--answers",
        default=None,
        metavar="FILE",
        help="merge this filled batch file into DATA first (as `skbait teach`)",
    )
    query.add_argument(
        "--campaign", default=None, help="the campaign file (default: DATA.campaign.json)"
    )

    teach = commands.add_parser(
        "teach",
        help="merge a filled batch file into DATA",
        description=(
            "Merge the labels of a filled batch file (ANSWERS) into DATA and record them in "
            "the campaign file. Blank answers are skipped. Unknown rows, labels of the wrong "
            "type, a row answered twice with different labels, or an answer that would "
            "change an existing label are reported with their row numbers, and then nothing "
            "changes. Without ANSWERS, record the labels typed into DATA; with --restore, "
            "write back into DATA the labels the campaign recorded and DATA lost."
        ),
        formatter_class=formatter_class,
    )
    teach.add_argument("data", metavar="DATA", help="the CSV or parquet file being labeled")
    teach.add_argument(
        "answers", metavar="ANSWERS", nargs="?", default=None, help="the filled batch file"
    )
    teach.add_argument(
        "--restore",
        action="store_true",
        help="write the labels the campaign recorded back into DATA",
    )
    teach.add_argument(
        "--campaign", default=None, help="the campaign file (default: DATA.campaign.json)"
    )
    _add_shared(teach)
    add_label_set_options(teach)

    correct = commands.add_parser(
        "correct",
        help="correct or retract the label of one row",
        description=(
            "Correct the label of a row of DATA (--label) or retract it (--retract). The "
            "campaign's history keeps the old label and the new one; the next query fits on "
            "the corrected labels, and a retracted row joins the pool again."
        ),
        formatter_class=formatter_class,
    )
    correct.add_argument("data", metavar="DATA", help="the CSV or parquet file being labeled")
    correct.add_argument(
        "--row",
        required=True,
        help="the row number (as in batch files), or its identifier with a campaign keyed by --id",
    )
    change = correct.add_mutually_exclusive_group(required=True)
    change.add_argument("--label", default=None, help="the correct label")
    change.add_argument("--retract", action="store_true", help="remove the row's label")
    correct.add_argument(
        "--campaign", default=None, help="the campaign file (default: DATA.campaign.json)"
    )
    add_label_set_options(correct)

    status = commands.add_parser(
        "status",
        help="where a campaign stands: labels, rounds, stopping criteria, estimated quality",
        description=(
            "Print the labels per class, the rounds, the stopping criteria over the rounds "
            "and an estimate of the model's quality by cross-validation on the labeled rows "
            "(accuracy with its Wilson 95% interval, or R^2 with a bootstrap interval); draw "
            "the campaign's progress to a PNG file. The labeled rows were chosen by active "
            "learning, not at random: the estimate is a guide, not a test score."
        ),
        formatter_class=formatter_class,
    )
    status.add_argument("data", metavar="DATA", help="the CSV or parquet file being labeled")
    status.add_argument(
        "--plot",
        default=None,
        metavar="FILE",
        help="the progress figure to write (default: DATA_status.png beside DATA)",
    )
    status.add_argument("--no-plot", action="store_true", help="draw no figure")
    status.add_argument(
        "--campaign", default=None, help="the campaign file (default: DATA.campaign.json)"
    )
    add_label_set_options(status)

    export = commands.add_parser(
        "export",
        help="write the campaign's model, fitted on every label, with joblib",
        description=(
            "Fit the campaign's estimator on every label and write the whole pipeline (the "
            "table encoder the campaign uses, then the estimator) with joblib; "
            "joblib.load(FILE).predict(frame) takes a DataFrame with DATA's feature columns."
        ),
        formatter_class=formatter_class,
    )
    export.add_argument("data", metavar="DATA", help="the CSV or parquet file being labeled")
    export.add_argument(
        "-o", "--output", default=None, help="the file to write (default: DATA_model.joblib)"
    )
    export.add_argument(
        "--campaign", default=None, help="the campaign file (default: DATA.campaign.json)"
    )
    add_label_set_options(export)

    predict = commands.add_parser(
        "predict",
        help="write predictions for every row, with a score, a rank and probabilities",
        description=(
            "Fit the campaign's estimator on every label and write, for every row of DATA: "
            "row (and the --id column), prediction, labeled, score (1 - max p: how unsure "
            "the model is), rank (1 = the unlabeled row the model is least sure of) and one "
            "proba_CLASS column per class; sort by rank in Label Studio, Argilla or a "
            "spreadsheet to label the least sure rows first. Regressors get no score or rank."
        ),
        formatter_class=formatter_class,
    )
    predict.add_argument("data", metavar="DATA", help="the CSV or parquet file being labeled")
    predict.add_argument(
        "-o",
        "--output",
        default=None,
        help="the .csv or .parquet file to write (default: DATA_predictions.csv)",
    )
    predict.add_argument(
        "--campaign", default=None, help="the campaign file (default: DATA.campaign.json)"
    )
    add_label_set_options(predict)


def add_label_set_options(parser, first=False):
    """``--multi-label``, ``--label-sep`` and ``--no-labels``: fixed by the first query, and
    checked against the campaign when a later command repeats them."""
    # A later command only repeats them: one note says so, in place of the first query's
    # default, which would read as a second, different default.
    if first:
        fixed = " (first query only: the campaign remembers it)"
        sep_default, token_default = " (first: |)", " (first: (none))"
    else:
        fixed = " (as the first query set it; a different value is an error)"
        sep_default = token_default = fixed
    parser.add_argument(
        "--multi-label",
        action="store_true",
        default=None,
        help="each label cell is a set of labels joined by --label-sep, such as "
        "sports|politics" + fixed,
    )
    parser.add_argument(
        "--label-sep",
        default=None,
        metavar="SEP",
        help="the separator of the labels in a cell of a multi-label campaign" + sep_default,
    )
    parser.add_argument(
        "--no-labels",
        default=None,
        metavar="TOKEN",
        help="the cell text of a row where no label applies, in a multi-label campaign"
        + token_default
        + "; a blank cell is a row not labeled yet",
    )


def label_set_kwargs(args):
    """The label-set options as the campaign's functions take them."""
    return {
        "multi_label": args.multi_label,
        "label_sep": args.label_sep,
        "no_labels": args.no_labels,
    }


def _add_shared(parser):
    parser.add_argument(
        "--na-values",
        default=None,
        metavar="TOKENS",
        help="comma-separated cell texts read as blanks, replacing the default NA, N/A, n/a, "
        "#N/A, nan, NaN, NAN, null, NULL (an empty cell is always blank); kept by the "
        "campaign",
    )
    parser.add_argument(
        "--accept-changes",
        action="store_true",
        help="accept edited feature values in DATA (a corrected value, a re-save) when its "
        "rows have no --id",
    )


def _split(text):
    return None if text is None else [part.strip() for part in text.split(",") if part.strip()]


def _na_values(text):
    return None if text is None else [part.strip() for part in text.split(",")]


def _usage(exc):
    from skbait._presets import UsageError

    return UsageError(str(exc))


def _print_notes(notes):
    for note in notes:
        print(f"skbait: note: {note}", file=sys.stderr)


def _print_merge(result, answers):
    _print_notes(result.get("notes", ()))
    merged = result["merged"]
    if result["from_data"]:
        print(f"skbait: recorded {len(result['from_data'])} label(s) typed into DATA")
    if answers is not None:
        print(f"skbait: merged {len(merged)} label(s) from {answers}", end="")
        extra = []
        if result["already"]:
            extra.append(f"{len(result['already'])} already labeled alike")
        if result["unanswered"]:
            extra.append(f"{len(result['unanswered'])} still blank")
        print(f" ({'; '.join(extra)})" if extra else "")


@contextlib.contextmanager
def saying_when_waiting():
    """In the block, a campaign command that finds DATA held by another says so at once
    (a query refitting for minutes, the page merging a batch), rather than wait quietly."""
    from skbait.campaign._journal import LOCK_TIMEOUT, lock_wait_notice

    def notice(data, lock_path):
        print(
            f"skbait: waiting for another skbait command working on {data} (up to "
            f"{LOCK_TIMEOUT} s; lock file {lock_path})",
            file=sys.stderr,
            flush=True,
        )

    with lock_wait_notice(notice):
        yield


def _progress(stages=3):
    """A bar on stderr through a command's ``stages`` when stderr is a terminal.

    On a large DATA, reading it and checking its rows take tens of seconds
    before a command says anything else: each stage is named as it starts.
    """
    if not sys.stderr.isatty():
        return None
    from tqdm.auto import tqdm

    bar = tqdm(
        total=stages, file=sys.stderr, leave=False, bar_format="skbait: {desc} {bar} {elapsed}"
    )

    def show(line):
        bar.set_description_str(line)
        bar.update(min(1, bar.total - bar.n))

    return show


def _query(args):
    from skbait.campaign import CampaignError, merge_answers, query_batch

    output = args.output
    if output is None:
        stem = os.path.splitext(args.data)[0]
        output = f"{stem}_batch.csv"
    features = None
    if args.features is not None:
        features = [c.strip() for c in args.features.split(",") if c.strip()]
    # Reading DATA, checking its rows, the feature matrix, fitting, choosing.
    progress = _progress(stages=5)
    try:
        if args.answers is not None:
            from skbait.campaign._rounds import _check_output_folder

            # Before the merge: a batch that cannot be written leaves the answers unmerged.
            _check_output_folder(output)
            _print_merge(
                merge_answers(
                    args.data,
                    args.answers,
                    campaign=args.campaign,
                    accept_changes=args.accept_changes,
                    progress=progress,
                    **label_set_kwargs(args),
                ),
                args.answers,
            )
        result = query_batch(
            args.data,
            output,
            target=args.target,
            campaign=args.campaign,
            features=features,
            batch_size=args.batch_size,
            strategy=args.strategy,
            estimator=args.estimator,
            task=args.task,
            device=args.device,
            random_state=args.random_state,
            id_column=args.id_column,
            exclude=_split(args.exclude) or (),
            na_values=_na_values(args.na_values),
            classes=_split(args.classes),
            stop=args.stop,
            accept_changes=args.accept_changes,
            progress=progress,
            **label_set_kwargs(args),
        )
    except CampaignError as exc:
        raise _usage(exc) from None
    _print_notes(result["notes"])
    if result["from_data"]:
        print(f"skbait: recorded {len(result['from_data'])} label(s) typed into DATA")
    record = result["round"]
    if record is None:
        print("skbait: every row of DATA is labeled: nothing left to query.")
        return 0
    if result["rewritten"]:
        print(
            f"skbait: round {record['round']}: no label since this batch was chosen; wrote the "
            f"same {len(record['batch'])} row(s) again to {output}"
        )
        return 0
    design = record["design"]
    if design == "cold_start":
        design = "the label-free cold-start design"
    what = record["task"] or "no label yet"
    print(
        f"skbait: round {record['round']}: {record['n_labeled']} labeled row(s) ({what}); "
        f"{design} chose {len(record['batch'])} row(s); wrote {output}"
    )
    _print_stopping(record, result.get("stop"))
    return 0


def _print_stopping(record, stop):
    """Each criterion: its value, its rule and what stopping would mean."""
    from skbait.campaign._stopping import describe, make_criteria, shown_value

    stopping = record.get("stopping")
    if not stopping:
        return
    if record.get("stopping_unchanged"):
        print("  stopping criteria: unchanged (no new label since they were last updated)")
    for criterion in make_criteria(record["task"], stop):
        name, what, rule, meaning = describe(criterion)
        if name not in stopping:
            continue
        value = shown_value(name, stopping[name])
        shown = (
            f"{value:.4g}"
            if value is not None
            else stopping.get(f"{name}_note", "not defined yet (needs another round)")
        )
        verdict = "STOP: " + meaning if stopping.get(f"{name}_stop") else "go on"
        print(f"  {name.replace('_', ' ')}: {shown} ({what}; {rule}) -> {verdict}")


def _teach(args):
    from skbait._presets import UsageError
    from skbait.campaign import CampaignError, merge_answers, record_labels, restore_labels

    shared = {
        "campaign": args.campaign,
        "na_values": _na_values(args.na_values),
        **label_set_kwargs(args),
    }
    shared["accept_changes"] = args.accept_changes
    shared["progress"] = _progress(stages=2)  # reading DATA, checking its rows
    try:
        if args.restore:
            if args.answers is not None:
                raise UsageError("--restore takes no ANSWERS file; merge them separately.")
            notes = []
            restored = restore_labels(args.data, notes=notes, **shared)
            _print_notes(notes)
            print(f"skbait: restored {len(restored)} label(s) into {args.data}")
            return 0
        if args.answers is None:
            notes = []
            new = record_labels(args.data, notes=notes, **shared)
            _print_notes(notes)
            print(f"skbait: recorded {len(new)} label(s) typed into DATA")
            return 0
        _print_merge(merge_answers(args.data, args.answers, **shared), args.answers)
    except CampaignError as exc:
        raise _usage(exc) from None
    return 0


def _correct(args):
    from skbait.campaign import CampaignError, correct_label

    notes = []
    try:
        result = correct_label(
            args.data,
            args.row,
            args.label,
            retract=args.retract,
            campaign=args.campaign,
            notes=notes,
            **label_set_kwargs(args),
        )
    except CampaignError as exc:
        raise _usage(exc) from None
    _print_notes(notes)
    # The row as the user named it: in a campaign keyed by --id, its identifier, not
    # its position, which sorting DATA changes.
    row = args.row.strip()
    if result["label"] is None and result["previous"] is None:
        print(f"skbait: row {row}: its label was already retracted")
    elif result["label"] is None:
        print(f"skbait: row {row}: retracted the label {result['previous']!r}")
    elif result["previous"] == result["label"]:
        print(f"skbait: row {row} is already labeled {result['label']!r}")
    elif result["previous"] is None:
        # Not "None corrected to ...": None would read as a class of that name.
        print(
            f"skbait: row {row}: labeled {result['label']!r} (it had no label); "
            "the next query fits on it"
        )
    else:
        print(
            f"skbait: row {row}: {result['previous']!r} corrected to "
            f"{result['label']!r}; the next query fits on the corrected labels"
        )
    return 0


def _beside(data, suffix):
    return f"{os.path.splitext(data)[0]}{suffix}"


def _status(args):
    from skbait.campaign import CampaignError, campaign_status, plot_status

    try:
        status = campaign_status(
            args.data,
            campaign=args.campaign,
            # Reading DATA, checking its rows, the feature matrix, the estimate.
            progress=_progress(stages=4),
            **label_set_kwargs(args),
        )
        figure = None
        if not args.no_plot:
            figure = plot_status(status, args.plot or _beside(args.data, "_status.png"))
    except CampaignError as exc:
        raise _usage(exc) from None
    _print_notes(status["notes"])
    task = status["task"] or "no label yet"
    print(
        f"skbait: {args.data}: {status['n_labeled']} of {status['n_rows']} rows labeled "
        f"({task}), {len(status['rounds'])} round(s)"
    )
    if status["counts"]:
        shown = ", ".join(f"{k}: {v}" for k, v in status["counts"].items())
        what = "rows per label" if status["task"] == "multi-label" else "labels per class"
        print(f"  {what}: {shown}")
    estimate = status["estimate"]
    if estimate is None:
        print(f"  estimated quality: not yet ({status['estimate_note']})")
    else:
        low, high = estimate["interval"]
        print(
            f"  estimated {estimate['metric']}: {estimate['value']:.3f} (95% interval "
            f"{low:.3f} to {high:.3f}; {estimate['folds']}-fold cross-validation on the "
            "labeled rows, which active learning chose: a guide, not a test score)"
        )
    names = [name for name, *_ in status["criteria"]]
    if status["rounds"] and names:
        print("  stopping criteria over the rounds:")
        for name, what, rule, meaning in status["criteria"]:
            print(f"    {name}: {what}; {rule} ({meaning})")
        header = ["round", "labeled", *names]
        widths = [len(h) + 2 for h in header]
        print("    " + "".join(f"{h:>{w}}" for h, w in zip(header, widths)))
        for record in status["rounds"]:
            cells = [record["round"], record["n_labeled"], *(record.get(n) for n in names)]
            shown = ["-" if v is None else format(v, ".4g") for v in cells]
            print("    " + "".join(f"{c:>{w}}" for c, w in zip(shown, widths)))
    if figure is not None:
        print(f"skbait: wrote {figure}")
    return 0


def _export(args):
    from skbait.campaign import CampaignError, LabelSetClassifier, export_model

    output = args.output or _beside(args.data, "_model.joblib")
    try:
        pipeline = export_model(
            args.data, output, campaign=args.campaign, **label_set_kwargs(args)
        )
    except CampaignError as exc:
        raise _usage(exc) from None
    steps = [pipeline[0], *pipeline[-1]] if hasattr(pipeline[-1], "steps") else pipeline
    line = " -> ".join(type(step).__name__ for step in steps)
    if isinstance(pipeline, LabelSetClassifier):  # predict gives label sets as cells hold them
        line = f"{type(pipeline).__name__}({line}) over labels {', '.join(pipeline.classes_)}"
    print(f"skbait: wrote {output}: {line}")
    return 0


def _predict(args):
    from skbait.campaign import CampaignError, predict_table

    output = args.output or _beside(args.data, "_predictions.csv")
    try:
        frame = predict_table(args.data, output, campaign=args.campaign, **label_set_kwargs(args))
    except CampaignError as exc:
        raise _usage(exc) from None
    print(f"skbait: wrote predictions for {len(frame)} rows to {output}")
    return 0


COMMANDS = {
    "query": _query,
    "teach": _teach,
    "correct": _correct,
    "status": _status,
    "export": _export,
    "predict": _predict,
}
