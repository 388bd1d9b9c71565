"""Helpers of the labeling page's tests: a pool on disk and the real server on loopback."""

import json
import os
import time
import urllib.error
import urllib.request

import numpy as np
import pandas as pd

from skbait.label._server import LabelServer
from skbait.label._session import LabelSession


def truth(a):
    """The oracle of the test pools: the class of a row from its feature ``a``."""
    return "pos" if float(a) > 0 else "neg"


def make_pool(folder, n=40, seed=0, labeled=2, extra=None):
    """A CSV pool: numeric features ``a``, ``b``, a long text and a hostile cell; ``y`` blank.

    The first ``labeled`` rows are labeled by :func:`truth` (one of each class
    when 2), so that the page has two classes and a model from the start.
    """
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n).round(3)
    a[0], a[1] = 1.5, -1.5
    frame = pd.DataFrame(
        {
            "a": a,
            "b": rng.normal(size=n).round(3),
            "note": [
                f"row {i}: " + "a long note that wraps across the page " * (1 + i % 3)
                for i in range(n)
            ],
            "html": ["<script>window.__pwned = 1</script><img src=x onerror=window.__pwned=1>"]
            * n,
            "y": [truth(v) if i < labeled else "" for i, v in enumerate(a)],
        }
    )
    for column, values in (extra or {}).items():
        frame.insert(len(frame.columns) - 1, column, values)
    path = os.path.join(folder, "pool.csv")
    frame.to_csv(path, index=False)
    return path, frame


def read_labels(path, target="y"):
    """``{row: label}`` of DATA as on disk."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return {i: v for i, v in enumerate(frame[target]) if v != ""}


class Live:
    """A session and its server on a free loopback port, for one test."""

    def __init__(self, data, **session_options):
        session_options.setdefault("target", "y")
        session_options.setdefault("options", {"batch_size": 4, "device": "cpu"})
        session_options.setdefault("refit_delay", 0.05)
        self.session = LabelSession(data, **session_options)
        self.session.check()
        self.server = LabelServer(self.session)
        self.session.start()
        self.server.start()
        self.token = self.server.token
        self.base = self.server.base
        self.url = self.server.url

    def call(self, path, body=None, *, token=True, headers=None, raw=None):
        """(status, decoded JSON or bytes) of one request."""
        sent = dict(headers or {})
        if token is True:
            sent["X-Skbait-Token"] = self.token
        elif token:
            sent["X-Skbait-Token"] = token
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data=data, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, payload, kind = (
                    response.status,
                    response.read(),
                    response.headers.get_content_type(),
                )
                self.last_headers = response.headers
        except urllib.error.HTTPError as error:
            status, payload, kind = error.code, error.read(), error.headers.get_content_type()
            self.last_headers = error.headers
        if kind == "application/json":
            payload = json.loads(payload)
        return status, payload

    def state(self, tab):
        status, payload = self.call(f"/api/state?tab={tab}")
        assert status == 200, payload
        return payload

    def post(self, path, **body):
        status, payload = self.call(path, body)
        assert status == 200, payload
        return payload

    def wait_idle(self, timeout=120):
        """Wait until no background round is in progress."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.session.wait(timeout)
            with self.session._lock:
                if not self.session._job["running"]:
                    return
            time.sleep(0.02)
        raise AssertionError("the background round did not finish")

    def close(self):
        self.server.stop()
        self.session.wait(60)
