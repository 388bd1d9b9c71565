"""``skbait query`` and ``skbait teach``: a labeling campaign from the command line.

The work is done by :mod:`skbait.campaign`; this module parses the options
and prints what happened.
"""

import os
import sys

__all__ = ["COMMANDS", "add_campaign_commands"]


def add_campaign_commands(commands, formatter_class):
    """Register the ``query`` and ``teach`` subcommands on ``commands``."""
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
        help="first: auto (regression for a continuous target)",
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


def _usage(exc):
    from skbait._presets import UsageError

    return UsageError(str(exc))


def _print_merge(result, answers):
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


def _query(args):
    from skbait.campaign import CampaignError, merge_answers, query_batch

    output = args.output
    if output is None:
        stem = os.path.splitext(args.data)[0]
        output = f"{stem}_batch.csv"
    features = None
    if args.features is not None:
        features = [c.strip() for c in args.features.split(",") if c.strip()]
    try:
        if args.answers is not None:
            _print_merge(
                merge_answers(args.data, args.answers, campaign=args.campaign), args.answers
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
        )
    except CampaignError as exc:
        raise _usage(exc) from None
    for note in result["notes"]:
        print(f"skbait: note: {note}", file=sys.stderr)
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
    stopping = record.get("stopping") or {}
    for name in [k for k in stopping if not k.endswith(("_stop", "_note"))]:
        value = stopping[name]
        if value is None:
            shown = stopping.get(f"{name}_note", "not defined yet")
        else:
            shown = f"{value:.4g}"
        flag = "  -> stop" if stopping.get(f"{name}_stop") else ""
        print(f"  {name.replace('_', ' ')}: {shown}{flag}")
    return 0


def _teach(args):
    from skbait._presets import UsageError
    from skbait.campaign import CampaignError, merge_answers, record_labels, restore_labels

    try:
        if args.restore:
            if args.answers is not None:
                raise UsageError("--restore takes no ANSWERS file; merge them separately.")
            restored = restore_labels(args.data, campaign=args.campaign)
            print(f"skbait: restored {len(restored)} label(s) into {args.data}")
            return 0
        if args.answers is None:
            new = record_labels(args.data, campaign=args.campaign)
            print(f"skbait: recorded {len(new)} label(s) typed into DATA")
            return 0
        _print_merge(merge_answers(args.data, args.answers, campaign=args.campaign), args.answers)
    except CampaignError as exc:
        raise _usage(exc) from None
    return 0


COMMANDS = {"query": _query, "teach": _teach}
