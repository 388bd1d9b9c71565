"""The API reference documents every public name as its code takes it.

Each public class, function and method of the modules that docs/api.rst lists
goes through numpydoc's own validator: every parameter it takes is documented,
with a type, in the signature's order, and none it does not take; it has a
Returns (or Yields) section, and the classes and functions an Examples
section. The codes left out below are the style this project does not follow
(its summaries may be a noun phrase or a question, a single return value is
named), not mismatches between the code and its page.

Two things numpydoc does not check are checked here too: the default that the
type line gives (``int, default=10``) is the signature's, and the examples of
a public name import it from where users do, never from a private module.
"""

import importlib
import inspect
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

# numpydoc comes with the docs extra; the minimum-versions run installs the tests only.
pytest.importorskip("numpydoc", reason="the docstring checks need numpydoc (the docs extra)")
from numpydoc.docscrape import NumpyDocString
from numpydoc.validate import validate

ROOT = Path(__file__).resolve().parents[1]

# Style, not mismatches: See Also and extended summaries are optional here, as
# are descriptions of self-explanatory parameters and return values; single
# return values are named (``self : ActiveLearner``); summaries may be a noun
# phrase, start with "k-means++", or be a question.
IGNORED = {"SA01", "ES01", "PR07", "RT02", "RT03", "RT04", "RT05", "SS02", "SS03", "SS05"}
# Methods show their use in their class's example (docs/conf.py requires one
# for classes and functions only).
IGNORED_FOR_METHODS = IGNORED | {"EX01"}
# scikit-learn's generated metadata-routing setters (hidden from the pages too).
_ROUTING = re.compile(r"^(set_\w+_request|get_metadata_routing)$")


def _api_modules():
    """The modules whose names docs/api.rst lists, and the names it lists in each."""
    text = (ROOT / "docs" / "api.rst").read_text(encoding="utf-8")
    listed, module = {}, None
    for line in text.splitlines():
        match = re.match(r"^\.\. currentmodule:: (\S+)", line)
        if match:
            module = match.group(1)
            listed.setdefault(module, set())
        elif module and re.match(r"^   [A-Za-z_]\w*$", line):
            listed[module].add(line.strip())
    return listed


def _public_objects():
    """``(dotted path, object, is_method)`` for every public callable of the API."""
    found = {}
    for module_name, listed in _api_modules().items():
        module = importlib.import_module(module_name)
        for name in sorted(set(module.__all__) | listed):
            obj = getattr(module, name)
            if not callable(obj):
                continue  # constants (COLUMNS, __version__)
            path = f"{module_name}.{name}"
            found[path] = (obj, False)
            if not inspect.isclass(obj):
                continue
            for attr in sorted(dir(obj)):
                if (attr.startswith("_") and attr != "__call__") or _ROUTING.match(attr):
                    continue
                owner = next((k for k in obj.__mro__ if attr in vars(k)), None)
                # Methods skbait defines; scikit-learn's (get_params) are its own to document.
                if owner is None or not owner.__module__.startswith("skbait"):
                    continue
                raw = vars(owner)[attr]
                if isinstance(raw, property) or not callable(getattr(obj, attr)):
                    continue
                found[f"{path}.{attr}"] = (getattr(obj, attr), True)
    return sorted((path, obj, is_method) for path, (obj, is_method) in found.items())


PUBLIC = _public_objects()
IDS = [path for path, _, _ in PUBLIC]


def test_the_walk_finds_the_api():
    paths = set(IDS)
    assert {"skbait.ActiveLearner", "skbait.ActiveLearner.teach"} <= paths
    assert {"skbait.strategies.BAIT.select", "skbait.utils.LabelSets"} <= paths
    assert not any("._" in path.replace(".__call__", "") for path in paths)
    assert "skbait.strategies.BAIT.get_params" not in paths  # scikit-learn's
    assert len(paths) > 150


@pytest.mark.parametrize(("path", "obj", "is_method"), PUBLIC, ids=IDS)
def test_numpydoc_validates(path, obj, is_method):
    ignored = IGNORED_FOR_METHODS if is_method else IGNORED
    errors = [f"{code} {message}" for code, message in validate(path)["errors"]]
    errors = [error for error in errors if error[:4] not in ignored]
    assert not errors, f"{path}:\n" + "\n".join(errors)


def _documented_parameters(obj):
    doc = NumpyDocString(inspect.getdoc(obj) or "")
    for entry in doc["Parameters"] + doc["Other Parameters"]:
        names = [name.strip().lstrip("*") for name in entry.name.split(",")]
        for position, name in enumerate(names):
            yield name, position, len(names), entry.type


def _same(documented, actual):
    if isinstance(actual, float) and isinstance(documented, float):
        return documented == actual or (math.isnan(documented) and math.isnan(actual))
    try:
        return bool(documented == actual)
    except Exception:  # an array or tensor compared element-wise
        return documented is actual


@pytest.mark.parametrize(("path", "obj", "is_method"), PUBLIC, ids=IDS)
def test_documented_defaults_are_the_signatures(path, obj, is_method):
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        pytest.skip(f"{path} has no signature")
    # A documented default may name a constant of the object's module.
    namespace = {**vars(sys.modules[obj.__module__]), "np": np, "torch": torch}
    problems = []
    for name, position, count, type_line in _documented_parameters(obj):
        parameter = signature.parameters.get(name)
        if parameter is None or parameter.kind in (
            parameter.VAR_POSITIONAL,
            parameter.VAR_KEYWORD,
        ):
            continue  # an unknown parameter is numpydoc's PR02
        match = re.search(r"default=(.+)$", type_line)
        if parameter.default is parameter.empty:
            if match:
                problems.append(f"{name} is required, but documented with {match.group(0)}")
            continue
        if not match:
            problems.append(f"{name}={parameter.default!r}: '{type_line}' gives no default")
            continue
        try:
            documented = eval(match.group(1), namespace)
        except Exception:
            problems.append(f"{name}: cannot read the documented {match.group(0)}")
            continue
        if count > 1 and isinstance(documented, tuple) and len(documented) == count:
            documented = documented[position]  # "a, b : int, default=1, 2"
        if not _same(documented, parameter.default):
            problems.append(
                f"{name} defaults to {parameter.default!r}, documented as {match.group(1)}"
            )
    assert not problems, f"{path}:\n" + "\n".join(problems)


@pytest.mark.parametrize(("path", "obj", "is_method"), PUBLIC, ids=IDS)
def test_examples_import_from_public_modules(path, obj, is_method):
    private = [
        line.strip()
        for line in (inspect.getdoc(obj) or "").splitlines()
        if re.search(r">>> (from|import) skbait\S*\._", line)
    ]
    assert not private, f"{path} imports from a private module: {private}"
