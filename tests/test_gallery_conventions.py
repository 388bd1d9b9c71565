"""What every figure of the gallery shares: strategies named as the library names them.

The figures drawn by skbait (learning curves, the report's figures) label strategies by
their registered names, lower-case (``bait``, ``coreset``, ``random``...); a gallery
figure that wrote ``BAIT`` or ``RANDOM`` beside them named one strategy two ways. The
examples are not run here (the docs build runs them): their source is read.
"""

import ast
import re
from pathlib import Path

import pytest

from skbait.strategies import available_strategies

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "examples").rglob("*.py")) + sorted((ROOT / "docs").rglob("*.py"))
NAMES = set(available_strategies())


def _docstrings(tree):
    nodes = [tree, *ast.walk(tree)]
    for node in nodes:
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                yield first.value


def _printed(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
            yield from ast.walk(node)


def _misnamed(source):
    """String literals (not docstrings, not printed) that name a strategy in another case."""
    tree = ast.parse(source)
    skip = {id(node) for node in _docstrings(tree)} | {id(node) for node in _printed(tree)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in ("upper", "title"):
            found.append(f"line {node.lineno}: .{node.func.attr}() on a label")
        if id(node) in skip or not isinstance(node, ast.Constant):
            continue
        if not isinstance(node.value, str):
            continue
        word = re.match(r"\s*([A-Za-z][A-Za-z_-]*)", node.value)
        if word is None:
            continue
        token = word.group(1).replace("-", "")
        if token.lower() in NAMES and token != token.lower():
            found.append(f"line {node.lineno}: {node.value!r}")
    return found


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_figures_name_strategies_as_the_library_does(script):
    assert _misnamed(script.read_text(encoding="utf-8")) == []


def test_the_check_sees_a_misnamed_label():
    bad = 'ax.plot(x, y, label="BAIT")\nlabels = {"Log-det": 1, "random": 2}\nname.upper()\n'
    assert len(_misnamed(bad)) == 3
    assert _misnamed('"""BAIT, the method."""\nprint("BAIT ahead")\n') == []
