"""README's promises that a file can check: two commands, and the first installs what it uses."""

import re
import shlex
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

ROOT = Path(__file__).resolve().parents[1]


def _commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", text, re.DOTALL)
    assert block is not None, "README opens with no bash block"
    assert text.index(block.group(0)) < text.index("\n## "), "the commands come first"
    return [line for line in block.group(1).splitlines() if line.strip()]


def _extras():
    """Every extra of pyproject.toml, its self-references (skbait[a,b]) resolved."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    raw = project["optional-dependencies"]
    name = project["name"]

    def resolve(extra, seen=()):
        out = []
        for requirement in raw[extra]:
            own = re.fullmatch(rf"{name}\[([^\]]+)\]", requirement.replace(" ", ""))
            if own:
                for sub in own.group(1).split(","):
                    if sub not in seen:
                        out += resolve(sub, (*seen, extra))
            else:
                out.append(requirement)
        return out

    return {extra: resolve(extra) for extra in raw}


def _installed_extras(command):
    """Extras of the project named by ``pip install`` in one shell command line."""
    extras = set()
    for part in command.split("&&"):
        words = shlex.split(part)
        if words[:2] != ["pip", "install"]:
            continue
        for word in words[2:]:
            local = re.fullmatch(r"\.(?:\[([^\]]*)\])?", word)
            if local:
                extras |= set(filter(None, (local.group(1) or "").split(",")))
    return extras


def _names(requirements):
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_readme_opens_with_exactly_two_commands():
    commands = _commands()
    assert len(commands) == 2, commands
    assert commands[0].rstrip().endswith("skbait run")
    assert "pytest" in commands[1]


def test_first_command_installs_matplotlib_for_the_figures_it_promises():
    extras = _extras()
    installed = _installed_extras(_commands()[0])
    assert installed, "the first command installs skbait without an extra"
    assert installed <= set(extras), installed - set(extras)
    names = set().union(*(_names(extras[extra]) for extra in installed))
    assert "matplotlib" in names
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for figure in ("learning_curves.png", "penalty_matrix.png"):
        assert figure in text


def test_the_parsers_see_what_they_should():
    # The helpers above would make the tests pass vacuously if they found nothing.
    assert _installed_extras('pip install torch && pip install ".[a,b]" && x') == {"a", "b"}
    assert _installed_extras("pip install . && skbait run") == set()
    assert _installed_extras("pip install -e '.[tests]'") == {"tests"}
    assert "matplotlib" in _names(_extras()["plotting"])
    assert "sphinx-mathjax-offline" in _names(_extras()["docs"])
