"""How long does the labeling page take to save a label and show the next row?

A pool of 100,000 rows (numeric features, a text column) with 50 labels is
served by ``skbait label``'s server on a loopback port; one client labels rows
of the current batch one after another, over one kept-alive HTTP connection,
as the page's script does. Each request saves the label (appended to the
answer file and fsynced) and answers with the next row to show, the batch's
progress and the side panel's figures. The table gives the latency of that
round trip (median, 95th percentile, worst), and of a plain state request (a
reload or heartbeat). With ``--browser`` (and the system's ``chromium``), it
also times the page itself in headless Chromium through Playwright: from the
key press to the next row drawn (Playwright's own round trips included, so an
upper bound), and the same timed inside the page (from the key's event to
the first frame after the row changed).

The refit and the next query are not on this path: they run in the
background once the batch is done, so the batch here is large enough
(``--batch-size``) that no refit starts while measuring.

Run from the repository root (``PYTHONPATH=.``); ``--help`` lists the options.
"""

import argparse
import http.client
import json
import os
import tempfile
import time

import numpy as np
import pandas as pd

from skbait.label._server import LabelServer
from skbait.label._session import LabelSession


def make_pool(folder, n_rows, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, 8)).round(4)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(8)])
    frame["city"] = rng.choice(["Lyon", "Oslo", "Lima", "Pune", "Perth"], size=n_rows)
    frame["note"] = [f"free text of row {i}, " * 3 for i in range(n_rows)]
    y = np.where(X[:, 0] + X[:, 1] > 0, "pos", "neg")
    frame["y"] = ""
    frame.loc[:49, "y"] = y[:50]
    path = os.path.join(folder, "pool.csv")
    frame.to_csv(path, index=False)
    return path, y


def time_the_page(server, truth, n_labels):
    import shutil

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    args += ["--disable-component-update", "--no-first-run"]
    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=args)
        page = browser.new_page()
        page.goto(server.url)
        shown = "() => document.getElementById('row-id').textContent.startsWith('Row')"
        page.wait_for_function(shown)
        # In the page: from the key's event to the next frame after the row changed.
        page.evaluate(
            """() => {
              window.__times = []; let pressed = 0;
              document.addEventListener('keydown', () => { pressed = performance.now(); }, true);
              new MutationObserver(() => {
                if (!pressed) return;
                const start = pressed; pressed = 0;
                requestAnimationFrame(() => window.__times.push(performance.now() - start));
              }).observe(document.getElementById('row-id'),
                         {childList: true, characterData: true, subtree: true});
            }"""
        )
        changed = "r => document.getElementById('row-id').textContent !== 'Row ' + r"
        for _ in range(n_labels):
            row = int(page.text_content("#row-id").split()[1])
            classes = page.evaluate(
                "[...document.querySelectorAll('#classes button')].map(b => b.dataset.label)"
            )
            key = str(classes.index(str(truth[row])) + 1)
            started = time.perf_counter()
            page.keyboard.press(key)
            page.wait_for_function(changed, arg=row, polling="raf")
            times.append(time.perf_counter() - started)
        in_page = [t / 1000 for t in page.evaluate("() => window.__times")]
        browser.close()
    return times, in_page


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="pool size")
    parser.add_argument("--labels", type=int, default=300, help="labels timed")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--browser", action="store_true", help="also time the page in Chromium")
    parser.add_argument(
        "--strategy",
        default="random",
        help="strategy of the (untimed) first query; the timed path does not depend on it",
    )
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="skbait-bench-label-")
    data, truth = make_pool(folder, args.rows)
    session = LabelSession(
        data,
        target="y",
        features=[f"x{i}" for i in range(8)] + ["city"],
        options={"batch_size": args.batch_size, "strategy": args.strategy, "device": "cpu"},
    )
    start = time.perf_counter()
    session.check()
    server = LabelServer(session)
    session.start()
    server.start()
    session.wait()
    print(f"first round ready in {time.perf_counter() - start:.1f} s ({args.rows} rows)")

    connection = http.client.HTTPConnection("127.0.0.1", server.port)
    headers = {"X-Skbait-Token": server.token, "Content-Type": "application/json"}

    def request(method, path, body=None):
        started = time.perf_counter()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        payload = json.loads(response.read())
        elapsed = time.perf_counter() - started
        assert response.status == 200, payload
        return payload, elapsed

    tab = "bench-tab-0001"
    view, _ = request("GET", f"/api/state?tab={tab}")
    for _ in range(20):  # warm up
        request("GET", f"/api/state?tab={tab}")
    submits, states = [], []
    for _ in range(args.labels):
        row = view["row"]["row"]
        body = json.dumps({"tab": tab, "row": row, "label": str(truth[row])})
        view, elapsed = request("POST", "/api/label", body)
        submits.append(elapsed)
        _, elapsed = request("GET", f"/api/state?tab={tab}")
        states.append(elapsed)
    assert len(session.journal.read()) == args.labels
    pages = in_page = []
    if args.browser:
        pages, in_page = time_the_page(server, truth, args.labels // 2)
    server.stop()

    def row(name, times):
        ms = np.array(times) * 1000
        return {
            "request": name,
            "n": ms.size,
            "median ms": round(float(np.median(ms)), 2),
            "p95 ms": round(float(np.percentile(ms, 95)), 2),
            "max ms": round(float(ms.max()), 2),
        }

    rows = [row("label + next row", submits), row("state (reload, heartbeat)", states)]
    if pages:
        rows.append(row("page: key press to next row drawn", pages))
        rows.append(row("  the same, timed inside the page", in_page))
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
