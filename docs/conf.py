"""Sphinx configuration of the skbait documentation.

Build (from the repository root)::

    python -m sphinx -W -b html docs docs/_build/html

Environment variables:

``SKBAIT_DOCS_QUICK``
    ``0`` (default): run every example of the gallery, as CI does; each is
    sized to run in under a minute on two CPU cores, and the whole build in
    under ten. ``1``: a quicker local build that runs only the examples listed
    in ``QUICK_EXAMPLES`` (a few seconds each); the others are rendered with
    their code and text but no output or figures. ``none``: run no example.
``SKBAIT_DOCS_MATH``
    ``mathjax`` (default): formulas are typeset in the reader's browser by the
    copy of MathJax that the ``sphinx-mathjax-offline`` package (in the docs
    extra) puts in ``_static/mathjax``: the pages load no script from the
    network when they are read. ``imgmath``: formulas are rendered to PNG
    images at build time, which needs ``latex`` and ``dvipng`` installed.

The build never touches the network: intersphinx reads the inventories
shipped in ``_inventories/`` (regenerate them with
``python docs/_inventories/make_inventories.py``).
"""

import importlib.util
import os
import re
import sys
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# Document the checkout next to this file, installed or not.
sys.path.insert(0, str(ROOT))

import torch
from sphinx.util import logging as sphinx_logging
from threadpoolctl import threadpool_limits

import skbait

# The gallery runs in this process, on CI's two cores beside other work. Its models
# are small: BLAS and torch with two threads only spin, waiting for a core. At a
# load of 20 a logistic regression on 100 rows took 0.2 to 1.1 s of CPU against
# 0.01 to 0.03 s on one BLAS thread, and the skorch example 124 s of CPU against
# 12 s on one thread of each (with its budget cut from 120 labels to 80). So the
# build runs one thread of each; set after skbait has loaded numpy's, scipy's and
# torch's libraries, which the limits apply to.
_ONE_THREAD = threadpool_limits(limits=1)
torch.set_num_threads(1)

_logger = sphinx_logging.getLogger("skbait.docs")

# -- Project ------------------------------------------------------------------

project = "skbait"
author = "The skbait developers"
copyright = "2026, The skbait developers"
version = release = skbait.__version__

# -- General ------------------------------------------------------------------


def _write_cli_reference():
    """Every subcommand's help, as ``skbait COMMAND --help`` prints it, for cli.rst.

    Rendered from the parser itself at each build, so that the page lists
    every option the command accepts and never goes stale.
    """
    import argparse

    from skbait._cli import _build_parser

    parser = _build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    lines = []

    def block(title, text, mark):
        lines.extend([title, mark * len(title), "", ".. code-block:: text", ""])
        lines.extend(("   " + line).rstrip() for line in text.splitlines())
        lines.append("")

    os.environ["COLUMNS"] = "88"  # argparse wraps to the terminal's width
    block("skbait", parser.format_help(), "-")
    for name, sub in commands.choices.items():
        block(f"skbait {name}", sub.format_help(), "-")
    target = DOCS / "generated" / "cli_reference.inc"
    target.parent.mkdir(exist_ok=True)
    text = "\n".join(lines) + "\n"
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")


_write_cli_reference()


MATH = os.environ.get("SKBAIT_DOCS_MATH", "mathjax").strip().lower()
if MATH not in ("mathjax", "imgmath"):
    raise ValueError(f"SKBAIT_DOCS_MATH must be 'mathjax' or 'imgmath', got {MATH!r}.")

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    f"sphinx.ext.{MATH}",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    # The user guide's figures: small scripts beside the pages (user_guide/figures/),
    # run at build time so that a figure always shows what the code does now.
    "matplotlib.sphinxext.plot_directive",
]
if MATH == "mathjax":
    # MathJax served from the site itself, never from a CDN (see the module docstring).
    if importlib.util.find_spec("sphinx-mathjax-offline") is None:
        raise ImportError(
            "The docs typeset maths with a local copy of MathJax: pip install "
            "sphinx-mathjax-offline (or pip install -e '.[docs]'), or build with "
            "SKBAIT_DOCS_MATH=imgmath."
        )
    extensions.append("sphinx-mathjax-offline")

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_inventories",
    "_latex",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.codeobj.json",
    "auto_examples/*.zip",
    "sg_execution_times.rst",
]
root_doc = "index"
default_role = "literal"
pygments_style = "sphinx"
# Every warning fails the build (-W), broken cross-references included.
suppress_warnings = []
nitpicky = True
nitpick_ignore = []

# -- Math ---------------------------------------------------------------------

html_math_renderer = MATH
if MATH == "mathjax":
    # Relative to _static/, where sphinx-mathjax-offline copies MathJax 3.
    mathjax_path = "mathjax/tex-chtml.js"
if MATH == "imgmath":
    # dvipng is in TeX Live's base; dvisvgm and preview.sty are not always there.
    imgmath_image_format = "png"
    imgmath_use_preview = False
    imgmath_dvipng_args = ["-gamma", "1.5", "-D", "130", "-bg", "Transparent"]
    # The 12pt class's own size: no arbitrary font scaling (anyfontsize) needed.
    imgmath_font_size = 12
    # Sphinx's LaTeX template loads anyfontsize.sty, which texlive-latex-base
    # lacks: _latex/ holds a stand-in, searched after the installed packages.
    os.environ["TEXINPUTS"] = os.environ.get("TEXINPUTS", "") + os.pathsep + str(DOCS / "_latex")

# -- autodoc / autosummary / numpydoc ----------------------------------------

autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"
autodoc_member_order = "groupwise"
autodoc_default_options = {}
add_module_names = False

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
# Every public class and function of skbait documented here must have a
# docstring with an Examples section: ``_require_examples`` (below) warns
# otherwise, which fails the build under -W.

# scikit-learn's generated metadata-routing setters are noise in our pages.
_SKIP_MEMBERS = re.compile(r"^(set_\w+_request|get_metadata_routing)$")


def _require_examples(app, what, name, obj, options, lines):
    """Warn when a public skbait class or function has no Examples section."""
    if what not in ("class", "function") or not name.startswith("skbait."):
        return
    if any(part.startswith("_") for part in name.split(".")[1:]):
        return
    text = "\n".join(lines)
    if not text.strip():
        _logger.warning("%s has no docstring", name, type="skbait", subtype="docstring")
    elif not re.search(r"^(Examples\n-{8,}|\.\. rubric:: Examples)", text, re.MULTILINE):
        _logger.warning(
            "%s: its docstring has no Examples section", name, type="skbait", subtype="docstring"
        )


def _skip_member(app, what, name, obj, skip, options):
    if _SKIP_MEMBERS.match(name):
        return True
    return None


# -- intersphinx (offline) ----------------------------------------------------

_INV = "_inventories"
intersphinx_mapping = {
    "python": ("https://docs.python.org/3/", f"{_INV}/python.inv"),
    "sklearn": ("https://scikit-learn.org/stable/", f"{_INV}/sklearn.inv"),
    "numpy": ("https://numpy.org/doc/stable/", f"{_INV}/numpy.inv"),
    "torch": ("https://docs.pytorch.org/docs/stable/", f"{_INV}/torch.inv"),
    "skorch": ("https://skorch.readthedocs.io/en/stable/", f"{_INV}/skorch.inv"),
    "pandas": ("https://pandas.pydata.org/docs/", f"{_INV}/pandas.inv"),
    "matplotlib": ("https://matplotlib.org/stable/", f"{_INV}/matplotlib.inv"),
}
intersphinx_timeout = 1
intersphinx_disabled_reftypes = ["std:doc"]

# -- sphinx-gallery -----------------------------------------------------------

# The cheapest examples, a few seconds each: what SKBAIT_DOCS_QUICK=1 runs for a
# quick local build. CI runs them all (each is sized to under a minute on two cores).
QUICK_EXAMPLES = (
    "plot_rainfall_regression.py",
    "plot_selection_time.py",
)
QUICK = os.environ.get("SKBAIT_DOCS_QUICK", "0").strip().lower()
if QUICK in ("", "0", "false", "no"):
    _pattern = r"/plot_.*\.py$"
elif QUICK in ("1", "true", "yes", "quick"):
    _pattern = r"/(" + "|".join(re.escape(n) for n in QUICK_EXAMPLES) + r")$"
elif QUICK == "none":
    _pattern = r"^$"  # matches no file: every example is rendered without running
else:
    raise ValueError(f"SKBAIT_DOCS_QUICK must be 0, 1 or none, got {QUICK!r}.")

EXAMPLES = ROOT / "examples"

sphinx_gallery_conf = {
    "examples_dirs": str(EXAMPLES),
    "gallery_dirs": "auto_examples",
    "filename_pattern": _pattern,
    "ignore_pattern": r"__init__\.py|/_",
    "within_subsection_order": "FileNameSortKey",
    "backreferences_dir": "generated/backreferences",
    "doc_module": ("skbait",),
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "show_signature": False,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "abort_on_example_error": True,
    "capture_repr": ("_repr_html_", "__repr__"),
    "min_reported_time": 1,
    # The timing pages load jQuery and DataTables from CDNs: not written.
    "write_computation_times": False,
    "inspect_global_variables": False,
}

# Examples run headless and must not warn about it.
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings(
    "ignore", category=UserWarning, message="Matplotlib is currently using agg"
)

# -- HTML ---------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skbait {release}"
html_static_path = ["_static"]
html_css_files = ["skbait.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    # Nothing fetched from the network: no icon links to external services.
    "icon_links": [],
    "check_switcher": False,
}
html_context = {"default_mode": "light"}
html_sidebars = {
    "index": [],
    "install": [],
    "quickstart": [],
    "changelog": [],
}


# A <script> whose src names a host ("https://...", "http://..." or "//...").
_REMOTE_SCRIPT = re.compile(r"""<script\b[^>]*\bsrc=["']?(?:https?:)?//([^/"'\s>]+)""", re.I)


def _check_offline(app, exc):
    """Warn (an error under -W) when a page would load a script from the network."""
    if exc is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    for page in sorted(outdir.rglob("*.html")):
        match = _REMOTE_SCRIPT.search(page.read_text(encoding="utf-8", errors="replace"))
        if match:
            _logger.warning(
                "%s loads a script from %s: the docs must read offline",
                page.relative_to(outdir),
                match.group(1),
                type="skbait",
                subtype="offline",
            )
    if MATH == "mathjax" and not (outdir / "_static" / mathjax_path).is_file():
        _logger.warning(
            "_static/%s is missing: the formulas would not render",
            mathjax_path,
            type="skbait",
            subtype="offline",
        )


_PLOT = re.compile(r"^\.\. plot:: (\S+\.py)\s*$", re.M)


def _redraw_page_figures(app, docname, source):
    """Redraw the figures of a page that is read again (it changed).

    The plot directive redraws a figure when its script is newer than the
    image; a script may also read its page (bait_scale.py draws the page's
    tables), so a changed page drops its figures' images and they are redrawn.
    """
    folder = Path(app.doctreedir).parent / "plot_directive"
    for script in _PLOT.findall(source[0]):
        stem = Path(script).with_suffix("")
        for image in folder.glob(f"{stem}.*"):
            image.unlink()
        for image in folder.glob(f"{stem}_[0-9]*.*"):
            image.unlink()


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("source-read", _redraw_page_figures)
    # After sphinx-mathjax-offline (priority 500) has copied MathJax into _static.
    app.connect("build-finished", _check_offline, priority=900)
    # Before numpydoc (priority 500) rewrites the sections.
    app.connect("autodoc-process-docstring", _require_examples, priority=400)


# -- The user guide's figures (matplotlib's plot directive) ------------------------

plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]
plot_rcparams = {"savefig.bbox": "tight"}
