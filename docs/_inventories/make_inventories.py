"""Write the intersphinx inventories the docs link against, without the network.

The docs are built offline, so intersphinx cannot download ``objects.inv`` from
scikit-learn, numpy, torch, skorch and the others. This script introspects the
*installed* packages instead and writes, for each project, a Sphinx inventory
(version 2: four header lines, then zlib-compressed lines
``name domain:role priority uri dispname``) whose URIs follow that project's
real online documentation layout. ``docs/conf.py`` points
``intersphinx_mapping`` at the files written here.

Run it from anywhere after upgrading one of these packages, and commit its
outputs::

    python docs/_inventories/make_inventories.py

Only public API is listed: public modules (no ``_`` in the dotted path, no
tests), their public names (``__all__`` when defined) and the public methods
and attributes of public classes. That is a superset of what a real inventory
needs for our cross-references; names it misses render as plain code, never as
a broken link.
"""

import importlib
import inspect
import pkgutil
import sys
import warnings
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent


# ----------------------------------------------------------------------------
# Introspection


def _is_public_path(name):
    return not any(
        part.startswith("_") or part in ("tests", "testing", "conftest")
        for part in name.split(".")
    )


def _import(name):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(name)
    except Exception:  # optional dependencies, platform-specific modules
        return None


def _walk(root, *, skip=()):
    """The importable public submodules of ``root``, ``root`` included."""
    top = _import(root)
    if top is None:
        return []
    mods = [top]
    if hasattr(top, "__path__"):
        for info in pkgutil.walk_packages(top.__path__, prefix=root + ".", onerror=lambda n: None):
            if not _is_public_path(info.name) or any(info.name.startswith(s) for s in skip):
                continue
            mod = _import(info.name)
            if mod is not None:
                mods.append(mod)
    return mods


def _public_names(mod):
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [n for n in vars(mod) if not n.startswith("_")]
    return [n for n in names if isinstance(n, str) and not n.startswith("_")]


def _belongs(obj, package):
    owner = getattr(obj, "__module__", None) or ""
    return owner == package or owner.startswith(package + ".")


def _role(obj):
    if inspect.isclass(obj):
        return "py:exception" if issubclass(obj, BaseException) else "py:class"
    if inspect.ismodule(obj):
        return "py:module"
    if callable(obj):
        return "py:function"
    return "py:data"


def _members(cls):
    """Public methods and attributes of a class, inherited ones included."""
    out = []
    for name in dir(cls):
        if name.startswith("_"):
            continue
        try:
            value = inspect.getattr_static(cls, name)
        except AttributeError:
            continue
        if isinstance(value, (property,)) or type(value).__name__ in (
            "getset_descriptor",
            "member_descriptor",
            "cached_property",
        ):
            out.append((name, "py:attribute"))
        elif isinstance(value, (staticmethod, classmethod)) or callable(value):
            out.append((name, "py:method"))
        else:
            out.append((name, "py:attribute"))
    return out


def collect(modules, package, *, members=True, only_own=True):
    """``{name: role}`` for the public API reachable from ``modules``."""
    entries = {}
    for mod in modules:
        modname = mod.__name__
        entries.setdefault(modname, "py:module")
        for name in _public_names(mod):
            try:
                obj = getattr(mod, name)
            except AttributeError:
                continue
            if inspect.ismodule(obj):
                continue
            if (
                only_own
                and (inspect.isclass(obj) or inspect.isfunction(obj))
                and not _belongs(obj, package)
            ):
                continue
            full = f"{modname}.{name}"
            role = _role(obj)
            entries.setdefault(full, role)
            if members and inspect.isclass(obj):
                for member, mrole in _members(obj):
                    entries.setdefault(f"{full}.{member}", mrole)
    return entries


# ----------------------------------------------------------------------------
# Writing


def write_inventory(path, project, version, entries):
    """Write ``entries`` (``[(name, role, uri)]``) as a version 2 Sphinx inventory."""
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    ).encode()
    lines = []
    for name, role, uri in sorted(set(entries)):
        if " " in name:
            continue
        # "$" at the end of a URI stands for the object's name.
        if uri.endswith("#" + name):
            uri = uri[: -len(name)] + "$"
        lines.append(f"{name} {role} 1 {uri} -\n")
    path.write_bytes(header + zlib.compress("".join(lines).encode(), 9))
    return len(lines)


def _page(owner_page, name):
    """A URI on the page of ``owner_page`` anchored at ``name``."""
    return f"{owner_page}#{name}"


# ----------------------------------------------------------------------------
# One function per project: where its docs put each kind of object.


def sklearn_entries():
    import sklearn

    mods = _walk("sklearn", skip=("sklearn.experimental", "sklearn.externals"))
    out = []
    for name, role in collect(mods, "sklearn").items():
        parts = name.split(".")
        if role == "py:module":
            uri = f"api/{name}.html#module-{name}"
        elif role in ("py:method", "py:attribute"):
            owner = ".".join(parts[:-1])
            uri = _page(f"modules/generated/{owner}.html", name)
        else:
            uri = _page(f"modules/generated/{name}.html", name)
        out.append((name, role, uri))
    return "scikit-learn", sklearn.__version__, out


def numpy_entries():
    import numpy as np

    mods = [
        m
        for m in (_import(n) for n in ("numpy", "numpy.linalg", "numpy.random", "numpy.fft"))
        if m is not None
    ]
    random_pages = {
        "numpy.random.RandomState": "reference/random/legacy.html",
        "numpy.random.Generator": "reference/random/generator.html",
        "numpy.random.default_rng": "reference/random/generator.html",
        "numpy.random.SeedSequence": "reference/random/bit_generators/generated/numpy.random.SeedSequence.html",  # noqa: E501
    }
    entries = collect(mods, "numpy")
    # ufuncs (numpy.exp...) are objects, not functions: numpy documents them as functions.
    out = []
    for name, role in entries.items():
        parts = name.split(".")
        owner = ".".join(parts[:-1])
        if role == "py:module":
            uri = {
                "numpy": "reference/index.html#module-numpy",
                "numpy.linalg": "reference/routines.linalg.html#module-numpy.linalg",
                "numpy.random": "reference/random/index.html#module-numpy.random",
                "numpy.fft": "reference/routines.fft.html#module-numpy.fft",
            }.get(name, f"reference/index.html#module-{name}")
        elif name in random_pages:
            uri = _page(random_pages[name], name)
        elif owner in random_pages and role in ("py:method", "py:attribute"):
            uri = _page(random_pages[owner], name)
        elif (
            role == "py:class"
            and name.startswith("numpy.")
            and len(parts) == 2
            and issubclass(getattr(np, parts[1]), np.generic)
        ):
            uri = _page("reference/arrays.scalars.html", name)
        elif role in ("py:method", "py:attribute") and owner == "numpy.ndarray":
            uri = _page(f"reference/generated/{name}.html", name)
        elif role in ("py:method", "py:attribute"):
            uri = _page(f"reference/generated/{owner}.html", name)
        elif name.startswith("numpy.random.") and role == "py:function":
            uri = _page(f"reference/random/generated/{name}.html", name)
        elif role == "py:data" and isinstance(getattr(mods[0], parts[-1], None), np.ufunc):
            role = "py:data"
            uri = _page(f"reference/generated/{name}.html", name)
        elif role == "py:data":
            uri = _page("reference/constants.html", name)
        else:
            uri = _page(f"reference/generated/{name}.html", name)
        out.append((name, role, uri))
    return "NumPy", np.__version__, out


def torch_entries():
    import torch

    names = (
        "torch",
        "torch.nn",
        "torch.nn.functional",
        "torch.nn.utils",
        "torch.linalg",
        "torch.cuda",
        "torch.utils.data",
        "torch.optim",
    )
    mods = [m for m in (_import(n) for n in names) if m is not None]
    entries = collect(mods, "torch", members=False)
    # Public classes whose members the docs may name.
    for cls_name in (
        "torch.Tensor",
        "torch.Generator",
        "torch.nn.Module",
        "torch.nn.Linear",
        "torch.utils.data.DataLoader",
        "torch.utils.data.Dataset",
    ):
        module, _, attr = cls_name.rpartition(".")
        cls = getattr(importlib.import_module(module), attr)
        entries.setdefault(cls_name, "py:class")
        for member, role in _members(cls):
            entries.setdefault(f"{cls_name}.{member}", role)
    for name in ("torch.device", "torch.dtype"):
        entries[name] = "py:class"
    special = {
        "torch.Tensor": "tensors.html",
        "torch.device": "tensor_attributes.html",
        "torch.dtype": "tensor_attributes.html",
    }
    module_pages = {
        "torch": "torch.html#module-torch",
        "torch.nn": "nn.html#module-torch.nn",
        "torch.nn.functional": "nn.functional.html#module-torch.nn.functional",
        "torch.nn.utils": "nn.html#module-torch.nn.utils",
        "torch.linalg": "linalg.html#module-torch.linalg",
        "torch.cuda": "cuda.html#module-torch.cuda",
        "torch.utils.data": "data.html#module-torch.utils.data",
        "torch.optim": "optim.html#module-torch.optim",
    }
    out = []
    for name, role in entries.items():
        parts = name.split(".")
        owner = ".".join(parts[:-1])
        if role == "py:module":
            if name not in module_pages:
                continue
            uri = module_pages[name]
        elif name in special:
            uri = _page(special[name], name)
        elif name.startswith("torch.utils.data."):
            uri = _page("data.html", name)
        elif role in ("py:method", "py:attribute") and owner in (
            "torch.nn.Module",
            "torch.nn.Linear",
            "torch.Generator",
        ):
            uri = _page(f"generated/{owner}.html", name)
        elif role in ("py:method", "py:attribute"):  # torch.Tensor.x: a page per method
            uri = _page(f"generated/{name}.html", name)
        else:
            uri = _page(f"generated/{name}.html", name)
        out.append((name, role, uri))
    return "PyTorch", torch.__version__.split("+")[0], out


def skorch_entries():
    import skorch

    # skorch documents each module on one page: net.html, classifier.html, ...
    # (docs/<module>.rst with ``automodule:: skorch.<module>``).
    pages = (
        "net",
        "classifier",
        "regressor",
        "dataset",
        "helper",
        "history",
        "callbacks",
        "toy",
        "utils",
        "exceptions",
        "scoring",
    )
    out = []
    aliases = {}
    for page in pages:
        mod = _import(f"skorch.{page}")
        if mod is None:
            continue
        for name, role in collect([mod], "skorch").items():
            out.append(
                (name, role, f"{page}.html#" + (f"module-{name}" if role == "py:module" else name))
            )
            aliases[name] = (role, page)
    # The top-level re-exports (skorch.NeuralNetClassifier) point at the same pages.
    for public in _public_names(skorch):
        obj = getattr(skorch, public, None)
        if not inspect.isclass(obj):
            continue
        canonical = f"{obj.__module__}.{public}"
        for name, (role, page) in aliases.items():
            if name == canonical or name.startswith(canonical + "."):
                alias = "skorch." + public + name[len(canonical) :]
                out.append((alias, role, f"{page}.html#{name}"))
    out.append(("skorch", "py:module", "index.html#module-skorch"))
    return "skorch", skorch.__version__, out


def pandas_entries():
    import pandas as pd

    out = []
    for name, role in collect([pd], "pandas").items():
        if role == "py:module":
            uri = "reference/index.html#module-pandas"
        else:
            uri = _page(f"reference/api/{name}.html", name)
        out.append((name, role, uri))
    return "pandas", pd.__version__, out


def matplotlib_entries():
    import matplotlib
    import matplotlib.axes
    import matplotlib.figure

    out = [("matplotlib", "py:module", "index.html#module-matplotlib")]
    for cls_name in ("matplotlib.axes.Axes", "matplotlib.figure.Figure"):
        out.append((cls_name, "py:class", _page(f"api/_as_gen/{cls_name}.html", cls_name)))
    import matplotlib.pyplot as plt

    for name in _public_names(plt):
        obj = getattr(plt, name, None)
        if inspect.isfunction(obj) and obj.__module__ == "matplotlib.pyplot":
            full = f"matplotlib.pyplot.{name}"
            out.append((full, "py:function", _page(f"api/_as_gen/{full}.html", full)))
    return "Matplotlib", matplotlib.__version__, out


def python_entries():
    import builtins

    out = []
    for name in dir(builtins):
        if name.startswith("_"):
            continue
        obj = getattr(builtins, name)
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            out.append((name, "py:exception", _page("library/exceptions.html", name)))
        elif inspect.isclass(obj) and name in (
            "bool",
            "int",
            "float",
            "complex",
            "str",
            "bytes",
            "list",
            "tuple",
            "dict",
            "set",
            "frozenset",
            "range",
            "slice",
            "object",
            "type",
        ):
            page = "functions.html" if name in ("object", "type", "slice") else "stdtypes.html"
            out.append((name, "py:class", _page(f"library/{page}", name)))
        elif callable(obj):
            out.append((name, "py:function", _page("library/functions.html", name)))
    for const in ("None", "True", "False", "Ellipsis", "NotImplemented"):
        out.append((const, "py:data", _page("library/constants.html", const)))
    out.append(("pickle", "py:module", "library/pickle.html#module-pickle"))
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return "Python", version, out


PROJECTS = {
    "sklearn": sklearn_entries,
    "numpy": numpy_entries,
    "torch": torch_entries,
    "skorch": skorch_entries,
    "pandas": pandas_entries,
    "matplotlib": matplotlib_entries,
    "python": python_entries,
}


def main(argv=None):
    names = (argv if argv is not None else sys.argv[1:]) or list(PROJECTS)
    for key in names:
        project, version, entries = PROJECTS[key]()
        n = write_inventory(HERE / f"{key}.inv", project, version, entries)
        print(f"{key}.inv: {project} {version}, {n} objects")


if __name__ == "__main__":
    main()
