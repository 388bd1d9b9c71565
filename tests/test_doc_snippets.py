"""The Python examples of README.md and the user guide run as a reader types them.

Each test runs a page's ``.. code-block:: python`` blocks (README's python blocks) in
order, in one namespace, as a reader pasting them into one session would. Where a page
leaves a name to the reader (``X_pool``, an annotator's answers), the test gives it;
where a block would take minutes (a 200-label budget over five seeds), it runs the same
calls at a smaller budget, named in ``smaller``: a renamed function or parameter, a
changed return value, still fails here.
"""

import re
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from skbait.strategies import _registry

ROOT = Path(__file__).resolve().parents[1]


def _rst_blocks(page):
    """The bodies of a reST page's ``.. code-block:: python`` directives, in order."""
    lines = (ROOT / "docs" / page).read_text(encoding="utf-8").splitlines()
    blocks = []
    for i, line in enumerate(lines):
        match = re.match(r"^(\s*)\.\. code-block:: python\s*$", line)
        if not match:
            continue
        indent, body = len(match.group(1)), []
        for following in lines[i + 1 :]:
            if following.strip() and len(following) - len(following.lstrip()) <= indent:
                break
            body.append(following)
        blocks.append(textwrap.dedent("\n".join(body)).strip("\n"))
    assert blocks, f"{page} has no python block"
    return blocks


def _markdown_blocks(name):
    text = (ROOT / name).read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, re.DOTALL)


def _run(blocks, namespace, smaller=()):
    # A reader's session is a module (__main__): classes the page defines there pickle.
    session = types.ModuleType("skbait_docs_session")
    session.__dict__.update(namespace)
    sys.modules[session.__name__] = session
    try:
        for number, block in enumerate(blocks):
            for old, new in smaller:
                block = block.replace(old, new)
            exec(compile(block, f"<block {number}>", "exec"), session.__dict__)
    finally:
        del sys.modules[session.__name__]
    return session.__dict__


@pytest.fixture
def digits_split():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    return {"X_pool": X[:300], "y_pool": y[:300], "X_test": X[1200:], "y_test": y[1200:]}


@pytest.fixture
def private_registry(monkeypatch):
    # A page that registers a strategy name must not leave it to the other tests.
    monkeypatch.setattr(_registry, "_FACTORIES", dict(_registry._FACTORIES))


@pytest.fixture(autouse=True)
def _no_figures_on_screen():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")


def test_readme_quick_start(capsys):
    ns = _run(_markdown_blocks("README.md"), {}, smaller=[("budget=200", "budget=60")])
    printed = capsys.readouterr().out.split()
    assert printed[::2] == ["20", "40", "60"]  # n_labeled of each round, then its score
    assert 0.0 < float(printed[-1]) <= 1.0
    # The real-labeling block: the taught rows are labeled, and the model refitted.
    assert set(ns["rows"]) <= set(ns["al"].labeled_indices_)
    assert len(ns["al"].labeled_indices_) == 20 + 10


def test_quickstart_page(capsys):
    smaller = [("budget=200", "budget=40"), ("seeds=5", "seeds=2"), ("budget=100", "budget=20")]
    ns = _run(_rst_blocks("quickstart.rst"), {}, smaller=smaller)
    assert capsys.readouterr().out.split()[:4:2] == ["20", "40"]
    assert set(ns["results"]["strategy"]) == {"bait", "badge", "coreset", "confidence", "random"}
    assert set(ns["search"].best_params_) == {"query_strategy", "batch_size"}
    assert len(ns["al"].labeled_indices_) == 20 + 10


def test_custom_strategy_page(private_registry):
    # The page says why its check names the task: the default would add regression.
    default_tasks = (
        "try:\n    check_query_strategy(EntropyWeighted())\n"
        "except TypeError as exc:\n    refused = str(exc)\n"
    )
    ns = _run([*_rst_blocks("user_guide/custom_strategy.rst"), default_tasks], {})
    assert ns["refused"] == "EntropyWeighted needs a classifier."
    # The page's two learners: by instance, then by the name it registered.
    assert ns["al"].query_strategy == "entropy_weighted"
    assert type(_registry.make_strategy("entropy_weighted")).__name__ == "EntropyWeighted"


def test_coming_from_page():
    blocks = _rst_blocks("user_guide/coming_from.rst")
    ns = _run(blocks[:1], {})
    # Three seed rows and three batches of five, taught into the pool kept from fit.
    assert len(ns["learner"].labeled_indices_) == 18
    ns = _run(blocks, {})
    assert len(ns["learner"].labeled_indices_) == 40  # the simulation's budget
    history = ns["learner"].history_
    assert [record["n_labeled"] for record in history] == list(range(10, 45, 5))


def test_bait_core_snippet():
    ns = _run(_rst_blocks("user_guide/bait.rst"), {})
    for batch in (ns["batch"], ns["batch_reg"]):
        assert len(set(batch)) == 20
        assert not set(batch) & set(ns["labeled"])


def test_campaign_python_snippet(digits_split):
    # The annotator answers the cold-start batch with the oracle's labels.
    smaller = [("labels_from_annotator", "y_pool[idx]")]
    ns = _run(_rst_blocks("user_guide/campaign.rst"), dict(digits_split), smaller=smaller)
    stops = [record.get("stop") for record in ns["al"].history_]
    assert stops[0] is None  # nothing to judge before the first label
    assert all(stop in (True, False) for stop in stops[1:])
    assert np.isnan(ns["al"].history_[0]["train_score"])


def test_distributed_bait_select_takes_what_its_page_says():
    # distributed.rst: the single-process keywords, plus group and return_utilities,
    # without the approximations (the sharded greedy is exact).
    import inspect

    from skbait import distributed, strategies

    def keywords(function):
        return set(inspect.signature(function).parameters)

    single, sharded = keywords(strategies.bait_select), keywords(distributed.bait_select)
    assert sharded == single - {"approximation", "memory_limit"} | {"group", "return_utilities"}


# The pages a reader of the command line follows, and what they show of it.
CLI_PAGES = (
    "README.md",
    "docs/install.rst",
    "docs/quickstart.rst",
    "docs/cli.rst",
    "docs/user_guide/campaign.rst",
    "docs/user_guide/label.rst",
)


def _subcommands():
    import argparse

    from skbait._cli import _build_parser

    parser = _build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return parser, commands.choices


def _options(subparser):
    return {option for action in subparser._actions for option in action.option_strings}


def _code_lines(page):
    """The lines of a page's code blocks: reST literal blocks (``::``, ``.. code-block::``)
    and Markdown fences."""
    text = (ROOT / page).read_text(encoding="utf-8")
    if page.endswith(".md"):
        blocks = re.findall(r"```\w*\n(.*?)```", text, re.DOTALL)
        return [line for block in blocks for line in block.splitlines()]
    lines, code = text.splitlines(), []
    for i, line in enumerate(lines):
        if not re.search(r"::$|^\s*\.\. code-block::", line.rstrip()):
            continue
        indent = len(line) - len(line.lstrip())
        for following in lines[i + 1 :]:
            if following.strip() and len(following) - len(following.lstrip()) <= indent:
                break
            code.append(following)
    return code


def _inline_literals(page):
    """A page's inline code, whitespace (a line break inside it) made one space."""
    text = (ROOT / page).read_text(encoding="utf-8")
    if page.endswith(".md"):
        text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
        found = re.findall(r"`([^`\n]+)`", text)
    else:
        found = re.findall(r"``(.+?)``", text, re.DOTALL)
    return [" ".join(literal.split()) for literal in found]


def _skbait_words(texts):
    """The arguments of each ``skbait ...`` command among ``texts``; a word in capitals
    after ``skbait`` (``skbait COMMAND``) is a placeholder, not a command."""
    import shlex

    commands = []
    for text in texts:
        if text.strip().startswith("skbait "):
            words = shlex.split(text, comments=True)
            if not words[1].isupper():
                commands.append(words[1:])
    return commands


@pytest.mark.parametrize("page", CLI_PAGES)
def test_every_command_line_of_the_docs_parses(page, capsys):
    """A command a page shows exists and takes the options it is shown with: a command
    line of a code block (each of a ``&&`` chain) as a whole; inline code (``skbait
    query -s random``) may leave out the positional arguments the prose implies."""
    parser, commands = _subcommands()
    lines = _skbait_words(part for line in _code_lines(page) for part in line.split("&&"))
    inline = _skbait_words(_inline_literals(page))
    if page != "docs/cli.rst":  # the reference is the commands' own --help
        assert lines or inline, f"{page} shows no skbait command"
    for argv in lines + inline:
        shown = f"{page}: skbait {' '.join(argv)}"
        assert argv[0] in commands, f"{shown}: no such command"
        try:
            parser.parse_args(argv)
        except SystemExit as exc:
            error = capsys.readouterr().err.strip().splitlines()[-1]
            if exc.code == 0:
                continue  # --help
            assert argv in inline and "arguments are required" in error, f"{shown}: {error}"
            options = _options(commands[argv[0]])
            for word in argv[1:]:
                assert not word.startswith("-") or word.split("=")[0] in options, (
                    f"{shown}: no option {word} of skbait {argv[0]}"
                )


@pytest.mark.parametrize("page", CLI_PAGES)
def test_every_option_the_docs_name_exists(page):
    """``--target``, ``-b/--batch-size``: each option a page names is one of a command's."""
    _, commands = _subcommands()
    known = set().union(*map(_options, commands.values()))
    for literal in _inline_literals(page):
        if literal.split()[0] in ("pip", "python"):
            continue  # pip's and Python's own options
        for option in re.findall(r"(?:^|[\s/(])(--?[A-Za-z][\w-]*)", literal):
            assert option in known, f"{page}: {literal!r} names no option of skbait"


def test_the_reference_page_names_every_command():
    """docs/cli.rst's overview lists every subcommand, and no other, and includes the
    help of each, generated from the parser when the site is built."""
    _, commands = _subcommands()
    text = (ROOT / "docs" / "cli.rst").read_text(encoding="utf-8")
    overview = text.split(".. include::")[0]
    named = set(re.findall(r"``([a-z]+)``", overview)) - {"skbait"}
    assert named == set(commands)
    assert ".. include:: generated/cli_reference.inc" in text


@pytest.mark.parametrize(
    ("page", "names"),
    [
        ("docs/user_guide/label.rst", ["label"]),
        (
            "docs/user_guide/campaign.rst",
            ["query", "teach", "correct", "status", "export", "predict"],
        ),
    ],
)
def test_the_guide_of_a_command_names_each_of_its_options(page, names):
    """The guide that describes a command's options leaves none of them out."""
    _, commands = _subcommands()
    literals = " ".join(_inline_literals(page) + _code_lines(page))
    named = set(re.findall(r"(?:^|[\s/(])(--?[A-Za-z][\w-]*)", literals))
    for name in names:
        for action in commands[name]._actions:
            if action.option_strings and "--help" not in action.option_strings:
                assert named & set(action.option_strings), (
                    f"{page} does not name {'/'.join(action.option_strings)} of skbait {name}"
                )


def test_readme_campaign_commands_do_what_their_comments_say(tmp_path, monkeypatch, capsys):
    """README's console block, run as shown in the folder of a table with blank labels:
    query writes pool_batch.csv, teach merges its filled labels into pool.csv, status
    prints the labels and an accuracy estimate and draws a figure."""
    import shlex

    import pandas as pd
    from sklearn.datasets import load_iris

    from skbait._cli import main

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```console\n(.*?)```", text, re.DOTALL)
    commands = [shlex.split(line, comments=True) for line in block.splitlines()]
    commands = [words for words in commands if words]
    assert [words[:2] for words in commands] == [
        ["skbait", "query"],
        ["skbait", "teach"],
        ["skbait", "status"],
    ]
    iris = load_iris(as_frame=True)
    pool = iris.data.copy()
    truth = iris.target_names[iris.target]
    pool["label"] = [name if i % 10 == 0 else "" for i, name in enumerate(truth)]
    monkeypatch.chdir(tmp_path)
    pool.to_csv("pool.csv", index=False)

    query, teach, status = commands
    assert main(query[1:]) == 0
    batch = pd.read_csv("pool_batch.csv", dtype=str, keep_default_na=False)
    assert batch.columns[0] == "row" and (batch["label"] == "").all()
    rows = batch["row"].astype(int)
    batch["label"] = truth[rows]  # filled in a spreadsheet
    batch.to_csv("pool_batch.csv", index=False)

    assert main(teach[1:]) == 0
    merged = pd.read_csv("pool.csv", dtype=str, keep_default_na=False)["label"]
    assert merged[rows].tolist() == truth[rows].tolist()

    capsys.readouterr()
    assert main(status[1:]) == 0
    out = capsys.readouterr().out
    assert "labels per class" in out and "estimated accuracy" in out
    assert Path("pool_status.png").stat().st_size > 0
