"""BAIT's measured selection times, drawn from the tables of bait.rst's "Scale" section.

The numbers are read from the page itself when the documentation is built: the
CPU table (the one whose columns are call, time, peak memory, against) and the
GPU table (call, time, GPU memory, on the CPU). Editing a table redraws the
figure (docs/conf.py redraws a page's figures whenever the page is re-read), so
the figure cannot disagree with the tables.
"""

import re
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

# The plot directive runs this script with sys.argv[0] set to its path.
PAGE = Path(sys.argv[0]).resolve().parent.parent / "bait.rst"


def list_tables(text):
    """Every ``list-table`` of an rst text, as a list of rows of cell strings."""
    tables = []
    for block in re.split(r"^\.\. list-table::", text, flags=re.M)[1:]:
        rows = []
        for line in block.splitlines()[1:]:
            if line and not line.startswith(" "):
                break  # the table's indented block has ended
            item = re.match(r"^   (\*| ) - ?(.*)$", line)
            if item:
                if item.group(1) == "*":
                    rows.append([])
                rows[-1].append(item.group(2).strip())
            elif rows and line.strip():
                rows[-1][-1] += " " + line.strip()  # a cell's continuation line
        tables.append(rows)
    return tables


def seconds(cell):
    """The first time in seconds of a cell ("71.4 s", "1.38x the FLOP bound (51.6 s)")."""
    found = re.search(r"([\d.]+) s\b", cell)
    return float(found.group(1)) if found else None


def parameters(call, previous):
    """A call's settings (kind, n, d, k, B, dtype); "the same ..." starts from the row above."""
    settings = dict(previous) if call.startswith("the same") else {}
    for kind in ("exact", "default"):
        if re.match(rf"^\**{kind}\**,", call):
            settings["kind"] = kind
    for name, value in re.findall(r":math:`(\w) = ([\d\\, ]+)`", call):
        settings[name] = int(re.sub(r"[^\d]", "", value))
    dtype = re.search(r"float(32|64)", call)
    if dtype:
        settings["dtype"] = dtype.group(0)
    return settings


def calls(table):
    """``{settings: row}`` for a table whose first column is the call."""
    header, *rows = table
    assert header[0] == "call", header
    found, previous = {}, {}
    for row in rows:
        previous = parameters(row[0], previous)
        found[tuple(sorted(previous.items()))] = row
    return found


tables = [t for t in list_tables(PAGE.read_text(encoding="utf-8")) if t and t[0][0] == "call"]
cpu = next(calls(t) for t in tables if t[0][2] == "peak memory")
gpu = next(calls(t) for t in tables if t[0][2] == "GPU memory")
keys = list(cpu) + [key for key in gpu if key not in cpu]


def label(key):
    s = dict(key)
    kind = "bait, exact" if s["kind"] == "exact" else "bait, default (class subspace of 10)"
    text = f"{kind}\nn = {s['n']:,}, d = {s['d']}, k = {s['k']}, B = {s['B']}"
    return text + (f", {s['dtype']}" if "dtype" in s else "")


fig, ax = plt.subplots(figsize=(8.6, 0.62 * len(keys) + 1.3))
y = np.arange(len(keys))[::-1]
height = 0.38
for row_y, key in zip(y, keys):
    for shift, table, colour in ((height / 2, cpu, "C0"), (-height / 2, gpu, "C1")):
        row = table.get(key)
        time = seconds(row[1]) if row else None
        if time is None:
            if table is cpu:
                why = "no CPU time: " + gpu[key][3]
                ax.text(0.55, row_y + shift, why, va="center", fontsize=8)
            continue
        ax.barh(row_y + shift, time, height=height, color=colour)
        ax.text(time * 1.08, row_y + shift, row[1], va="center", fontsize=8)
    bound = re.search(r"FLOP bound \(([\d.]+) s\)", cpu.get(key, ["", "", "", ""])[3])
    if bound:
        ax.plot(float(bound.group(1)), row_y + height / 2, "k|", markersize=14, mew=2)

handles = [
    Patch(color="C0", label="CPU, 2 cores (MKL)"),
    Patch(color="C1", label="GPU, one NVIDIA H200"),
    Line2D(
        [],
        [],
        color="k",
        marker="|",
        ls="",
        markersize=10,
        mew=2,
        label="FLOP bound of exact bait (CPU)",
    ),
]
ax.set_xscale("log")
ax.set_xlim(0.3, 3000)
ax.set_yticks(y, [label(key) for key in keys], fontsize=8)
ax.set_xlabel("selection time of one batch, seconds (log scale)")
ax.set_title("bait's selection times, as measured by benchmarks/bench_scale.py", fontsize=10)
ax.legend(handles=handles, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3)
ax.grid(axis="x", which="major", alpha=0.3)
fig.tight_layout()
