"""``skbait label DATA``: serve the labeling page of a campaign from the command line."""

import contextlib
import os
import signal
import sys
import threading

__all__ = ["COMMANDS", "add_label_command"]


_REDIRECT = (
    '<!DOCTYPE html><meta charset="utf-8"><meta http-equiv="refresh" content="0; url={url}">'
    '<title>skbait label</title><p><a href="{url}">Open the labeling page</a></p>\n'
)


def _open_in_browser(url, folder):
    """Open the page in a browser, its token kept out of the browser's command line.

    Every user of the machine can read a command line (``ps``), so the browser
    gets a file only this user can read, in ``folder``, that sends it on to
    ``url``. Returns that file, to remove when the page stops; where none can be
    written, opens ``url`` itself and returns None.
    """
    import html
    import tempfile
    import webbrowser
    from pathlib import Path

    try:
        handle, path = tempfile.mkstemp(prefix="skbait-label-", suffix=".html", dir=folder)
    except OSError:
        webbrowser.open(url)
        return None
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(_REDIRECT.format(url=html.escape(url, quote=True)))
    webbrowser.open(Path(path).as_uri())
    return path


def add_label_command(commands, formatter_class):
    """Register the ``label`` subcommand on ``commands`` (argparse subparsers)."""
    from skbait._presets import _positive_int

    label = commands.add_parser(
        "label",
        help="label the batch in a local web page (needs skbait[label])",
        description=(
            "Serve a web page on this machine where a person labels the rows the strategy "
            "chooses, one at a time, and print its URL (with the secret token every request "
            "needs). The page reads and writes the same campaign as `skbait query` and "
            "`skbait teach`: each label is saved as it is given, reaches DATA when the batch "
            "is done, and the next batch is then chosen in the background. Options left out "
            "keep the campaign's settings."
        ),
        formatter_class=formatter_class,
    )
    label.add_argument("data", metavar="DATA", help="the CSV or parquet file being labeled")
    label.add_argument(
        "--target", default=None, help="the label column (needed for a new campaign)"
    )
    label.add_argument(
        "-b", "--batch-size", type=_positive_int, default=None, help="rows per batch (first: 10)"
    )
    label.add_argument("-s", "--strategy", default=None, help="the query strategy (first: bait)")
    label.add_argument("-e", "--estimator", default=None, help="the estimator, as in `skbait run`")
    label.add_argument(
        "--task",
        choices=("auto", "classification", "regression"),
        default=None,
        help="as in `skbait query` (first: auto, regression for a continuous target)",
    )
    label.add_argument("--device", default=None, help="torch device of the strategy")
    label.add_argument("--random-state", type=int, default=None, help="seed of a new campaign")
    label.add_argument(
        "--features", default=None, help="comma-separated feature columns of a new campaign"
    )
    label.add_argument(
        "--id",
        dest="id_column",
        default=None,
        metavar="COLUMN",
        help="a column naming each row, as in `skbait query` (first query only)",
    )
    label.add_argument(
        "--exclude",
        default=None,
        metavar="COLUMNS",
        help="comma-separated columns left out of the features (first query only)",
    )
    label.add_argument(
        "--classes",
        default=None,
        help="comma-separated class names: labels outside them are refused",
    )
    label.add_argument(
        "--stop",
        default=None,
        metavar="CRITERIA",
        help="stopping criteria as NAME[=THRESHOLD],..., or none, as in `skbait query`",
    )
    label.add_argument(
        "--na-values",
        default=None,
        metavar="TOKENS",
        help="comma-separated cell texts read as blanks (kept by the campaign)",
    )
    label.add_argument(
        "--campaign", default=None, help="the campaign file (default: DATA.campaign.json)"
    )
    from skbait._campaign_cli import add_label_set_options

    add_label_set_options(label, first=True)
    label.add_argument(
        "-o",
        "--output",
        default=None,
        help="the batch file also written each round (default: DATA_batch.csv beside DATA)",
    )
    label.add_argument(
        "--show",
        default=None,
        metavar="COLUMNS",
        help="comma-separated columns the page shows of each row, in this order (default: "
        "every column but the target), such as the image path and a note, not hundreds of "
        "embedding columns",
    )
    label.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on; anything but this machine's loopback lets other "
        "machines reach the page (with the token), unencrypted",
    )
    label.add_argument("--port", type=int, default=0, help="port to listen on (0: a free one)")
    label.add_argument(
        "--no-browser", action="store_true", help="print the URL without opening a browser"
    )


def _interrupt(signum, frame):
    raise KeyboardInterrupt


@contextlib.contextmanager
def _terminate_as_ctrl_c():
    """Make SIGTERM (``kill``, a service manager) stop the command as Ctrl-C does.

    uvicorn stops on SIGTERM, then raises it again with its default action, which
    killed the process before the round in progress finished and the saved labels
    were named. Signal handlers can be set in the main thread only.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _label(args):
    from skbait._campaign_cli import _na_values, _split
    from skbait._presets import UsageError

    try:
        import filelock  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise UsageError(
            f"the labeling page needs {exc.name}: pip install 'skbait[label]'."
        ) from None
    from skbait.label._bridge import CampaignError
    from skbait.label._server import LabelServer
    from skbait.label._session import LabelSession

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be 0 to 65535, got {args.port}.")
    if not args.host.strip():
        # The socket would listen everywhere, and the address printed would be "http://:PORT".
        raise UsageError(
            "--host is empty: give an address, such as 127.0.0.1 (this machine only) or "
            "0.0.0.0 (every interface)."
        )
    features = None
    if args.features is not None:
        features = [c.strip() for c in args.features.split(",") if c.strip()]
    options = {
        "batch_size": args.batch_size,
        "strategy": args.strategy,
        "estimator": args.estimator,
        "task": args.task,
        "device": args.device,
        "random_state": args.random_state,
        "id_column": args.id_column,
        "exclude": _split(args.exclude),
        "na_values": _na_values(args.na_values),
        "classes": _split(args.classes),
        "stop": args.stop,
        "multi_label": args.multi_label,
        "label_sep": args.label_sep,
        "no_labels": args.no_labels,
    }
    session = LabelSession(
        args.data,
        campaign=args.campaign,
        target=args.target,
        features=features,
        options=options,
        batch_file=args.output,
        show=None if args.show is None else _split(args.show) or [],
    )
    if sys.stderr.isatty():
        # On a large DATA, reading it is tens of seconds before the page's address shows.
        print(f"skbait: reading {os.path.basename(args.data)}", file=sys.stderr)
    try:
        session.check()
    except CampaignError as exc:
        raise UsageError(str(exc).replace("\n", " ")) from None
    from filelock import FileLock, Timeout

    # One page per campaign: its leases and its answer file are this process's.
    # The port first: a refused one leaves no lock file beside the campaign.
    try:
        server = LabelServer(session, host=args.host, port=args.port)
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}.") from None
    serving = FileLock(session.campaign + ".label.lock")
    try:
        serving.acquire(timeout=0)
    except Timeout:
        server.socket.close()
        raise UsageError(
            f"another skbait label already serves {session.campaign!r}; open its URL instead."
        ) from None
    opener = None
    try:
        if not server.local:
            print(
                f"skbait: warning: listening on {args.host}: anyone who can reach this machine "
                "and has the URL (token included) can label, and nothing is encrypted.",
                file=sys.stderr,
            )
        session.start()
        print(f"skbait: labeling {os.path.basename(session.data)} at\n  {server.url}")
        print("skbait: press Ctrl-C to stop; every label is saved as it is given.")
        sys.stdout.flush()
        if not args.no_browser:
            opener = _open_in_browser(
                server.url, os.path.dirname(os.path.abspath(session.campaign))
            )
        with _terminate_as_ctrl_c():
            # uvicorn raises Ctrl-C again once it has stopped: that is how one stops.
            with contextlib.suppress(KeyboardInterrupt):
                server.serve()
            if not session.wait(timeout=0.1):
                # A merge or query under way finishes, rather than stop mid-round.
                print("skbait: finishing the round in progress (Ctrl-C again to leave it)")
                session.wait()
    finally:
        serving.release()
        if opener is not None:
            with contextlib.suppress(OSError):
                os.remove(opener)
    pending = session.journal.read()
    if pending:
        print(
            f"skbait: {len(pending)} label(s) of the unfinished batch are saved in "
            f"{session.answers_path}; they reach DATA when the batch is done (skbait label "
            f"again), or now with: skbait teach {args.data} {session.answers_path}"
        )
    return 0


COMMANDS = {"label": _label}
