"""The labeling page's API, against the real server on a free loopback port."""

import json
import os
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from label_server import Live, make_pool, read_labels, truth

from skbait.campaign import correct_label, merge_answers, read_campaign
from skbait.label import _bridge
from skbait.label._app import MAX_BODY, create_app
from skbait.label._journal import AnswerJournal
from skbait.label._model import cross_validated_score, wilson_interval
from skbait.label._server import is_loopback
from skbait.label._session import LabelSession, near_duplicates

TAB_A = "tab-aaaaaaaa"
JSON = {"Content-Type": "application/json"}
TAB_B = "tab-bbbbbbbb"


@pytest.fixture
def live(tmp_path):
    data, _ = make_pool(tmp_path)
    server = Live(data)
    server.wait_idle()
    yield server
    server.close()


def label_row(live, tab, view):
    row = view["row"]["row"]
    a = next(f["value"] for f in view["row"]["fields"] if f["column"] == "a")
    return row, truth(a), live.post("/api/label", tab=tab, row=row, label=truth(a))


# ------------------------------------------------------------------ security


def test_every_request_needs_the_token(live):
    for path in ("/", "/static/app.js", "/static/style.css", f"/api/state?tab={TAB_A}"):
        status, _payload = live.call(path, token=None)
        assert status == 403, path
        status, _ = live.call(path, token="not-the-token")
        assert status == 403, path
    # The API takes the token in its header only, not in the URL.
    status, _ = live.call(f"/api/state?tab={TAB_A}&token={live.token}", token=None)
    assert status == 403
    status, _ = live.call("/api/label", {"tab": TAB_A, "row": 5, "label": "pos"}, token=None)
    assert status == 403
    assert not os.path.exists(live.session.answers_path)
    # The page and its assets take it in the URL, and name it in the assets' URLs.
    status, page = live.call(f"/?token={live.token}", token=None)
    assert status == 200
    assert f"static/app.js?token={live.token}".encode() in page
    status, script = live.call(f"/static/app.js?token={live.token}", token=None)
    assert status == 200 and b"X-Skbait-Token" in script
    policy = live.last_headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert live.last_headers["referrer-policy"] == "no-referrer"
    status, _ = live.call(f"/static/../_app.py?token={live.token}", token=None)
    assert status == 404


def test_every_answer_forbids_framing_sniffing_and_other_sites(live):
    # Refusals and errors too: each answer carries the headers, none lets another
    # site read it (no CORS), and a preflight from another site is refused.
    import http.client

    token = live.token
    asks = [
        ("GET", f"/?token={token}", {}, None),
        ("GET", "/", {}, None),
        ("HEAD", f"/static/app.js?token={token}", {}, None),
        ("GET", "/no/such/page", {"X-Skbait-Token": token}, None),
        ("GET", "/api/label", {"X-Skbait-Token": token}, None),
        ("POST", "/api/label", {"X-Skbait-Token": token, **JSON}, b"{not json"),
        ("POST", "/api/label", {"X-Skbait-Token": token}, b"x" * (MAX_BODY + 1)),
        (
            "OPTIONS",
            "/api/label",
            {
                "Origin": "http://evil.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-skbait-token",
            },
            None,
        ),
    ]
    statuses = []
    for method, path, headers, body in asks:
        connection = http.client.HTTPConnection("127.0.0.1", live.server.port, timeout=30)
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        connection.close()
        statuses.append(response.status)
        policy = response.getheader("content-security-policy", "")
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy, path
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, path
        assert response.getheader("x-content-type-options") == "nosniff", path
        assert response.getheader("x-frame-options") == "DENY", path
        assert response.getheader("referrer-policy") == "no-referrer", path
        assert not any(
            name.lower().startswith("access-control-") for name, _ in response.getheaders()
        )
    assert statuses == [200, 403, 200, 404, 405, 400, 413, 403]


def test_a_websocket_is_refused_before_the_app_sees_it():
    # The token check covered HTTP only: a websocket went straight to the app, harmless
    # while it has no websocket route, unguarded for any route added later.
    import asyncio

    from skbait.label._app import _Guard

    reached, sent = [], []

    async def inner(scope, receive, send):
        reached.append(scope["type"])

    async def receive():
        return {"type": "websocket.connect"}

    async def send(message):
        sent.append(message)

    guard = _Guard(inner, "the-token")
    for headers in ([], [(b"x-skbait-token", b"the-token")]):
        scope = {"type": "websocket", "path": "/", "headers": headers, "query_string": b""}
        asyncio.run(guard(scope, receive, send))
    assert reached == [] and [m["type"] for m in sent] == ["websocket.close"] * 2
    asyncio.run(guard({"type": "lifespan"}, receive, send))
    assert reached == ["lifespan"]


def test_another_host_or_origin_is_refused(live):
    # A site whose name resolves to 127.0.0.1 (DNS rebinding) names itself in Host;
    # another site's script names itself in Origin. Both are refused, token or not.
    port = live.server.port
    for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1.evil.example:{port}"):
        status, payload = live.call(f"/api/state?tab={TAB_A}", headers={"Host": host})
        assert status == 403 and "own names" in payload["error"], host
        status, _ = live.call(f"/?token={live.token}", token=None, headers={"Host": host})
        assert status == 403, host
    for host in (f"localhost:{port}", f"127.0.0.1:{port}"):
        status, _ = live.call(f"/api/state?tab={TAB_A}", headers={"Host": host})
        assert status == 200, host
    view = live.state(TAB_A)
    body = {"tab": TAB_A, "row": view["row"]["row"], "label": "pos"}
    for origin in ("http://evil.example", "null", f"http://localhost:{port + 1}"):
        status, payload = live.call("/api/label", body, headers={"Origin": origin})
        assert status == 403 and "another site" in payload["error"], origin
    assert not os.path.exists(live.session.answers_path)
    status, _ = live.call("/api/label", body, headers={"Origin": f"http://127.0.0.1:{port}"})
    assert status == 200
    # Listening on another address, the page cannot know its names: Host is not checked.
    scope = {"headers": [(b"host", b"my-laptop.lan:8000")]}
    assert create_app(live.session, "t" * 8, local=False)._foreign(scope) is None
    assert create_app(live.session, "t" * 8)._foreign(scope) is not None


def test_a_host_that_is_no_name_is_refused_not_a_server_error(live):
    # "[zz]" or "[::1" is no host name at all: a 403 saying so, not a 500 (and a
    # traceback in the terminal).
    for host in ("[zz]", "[::1", f"[127.0.0.1]:{live.server.port}"):
        status, payload = live.call(f"/api/state?tab={TAB_A}", headers={"Host": host})
        assert status == 403 and "own names" in payload["error"], (host, payload)
    scope = {"headers": [(b"host", b"[zz]")]}
    assert create_app(live.session, "t" * 8, local=False)._foreign(scope) is None


def test_bodies_are_bounded(live):
    big = b'{"tab": "' + b"x" * (MAX_BODY + 10) + b'"}'
    status, payload = live.call(
        "/api/label", raw=big, headers={"Content-Type": "application/json"}
    )
    assert status == 413, payload
    status, _ = live.call("/api/label", raw=b"[1, 2]", headers=JSON)
    assert status == 400
    status, _ = live.call("/api/label", raw=b"{not json", headers=JSON)
    assert status == 400
    assert not os.path.exists(live.session.answers_path)


def test_a_state_change_needs_a_json_body(live):
    # A browser sends a form or text/plain across sites without asking first: each
    # state-changing call takes JSON only, whatever else the request carries.
    import http.client

    view = live.state(TAB_A)
    row = view["row"]["row"]
    body = json.dumps({"tab": TAB_A, "row": row, "label": "pos"}).encode()
    for kind in (None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        headers = {} if kind is None else {"Content-Type": kind}
        request_headers = {"X-Skbait-Token": live.token, **headers}
        connection = http.client.HTTPConnection("127.0.0.1", live.server.port, timeout=30)
        connection.request("POST", "/api/label", body=body, headers=request_headers)
        response = connection.getresponse()
        payload = json.loads(response.read())
        connection.close()
        assert response.status == 415, (kind, payload)
        assert "application/json" in payload["error"], kind
    assert not os.path.exists(live.session.answers_path)
    for kind in ("application/json", "application/json; charset=utf-8", "Application/JSON"):
        status, payload = live.call("/api/skip", raw=body, headers={"Content-Type": kind})
        assert status == 200, (kind, payload)


def test_json_nested_too_deep_or_with_a_lone_surrogate_is_a_400(live):
    # JSON nested past Python's recursion limit, and a lone surrogate ("\ud800", which
    # JSON may spell but UTF-8 cannot), were a 500 and a traceback in the terminal.
    view = live.state(TAB_A)
    row = view["row"]["row"]
    bodies = [
        b"[" * (MAX_BODY - 100),
        b'{"a": ' * 2000 + b"1" + b"}" * 2000,
        json.dumps({"tab": TAB_A, "row": row, "label": "\ud800"}).encode(),
        json.dumps({"tab": TAB_A, "row": row, "label": "pos\udfff", "confirm": True}).encode(),
    ]
    for path in ("/api/label", "/api/skip", "/api/undo", "/api/move", "/api/retry"):
        for body in bodies:
            status, payload = live.call(
                path, raw=body, headers={"Content-Type": "application/json"}
            )
            assert status == 400 and "request body" in payload["error"], (path, body[:40])
    assert not os.path.exists(live.session.answers_path)
    assert live.state(TAB_A)["row"]["row"] == row


def test_listening_beyond_this_machine_is_warned_of(tmp_path, monkeypatch, capsys):
    from skbait._cli import main
    from skbait.label import _server

    served = []

    def serve(self):
        served.append(self.socket.getsockname()[0])
        self.socket.close()

    monkeypatch.setattr(_server.LabelServer, "serve", serve)
    data, _ = make_pool(tmp_path)
    common = ["--target", "y", "-b", "4", "--device", "cpu", "--no-browser"]
    for host, warned in (("127.0.0.1", False), ("::1", False), ("0.0.0.0", True)):
        assert main(["label", data, *common, "--host", host]) == 0
        err = capsys.readouterr().err
        assert ("skbait: warning: listening on 0.0.0.0" in err) is warned, (host, err)
    assert served == ["127.0.0.1", "::1", "0.0.0.0"]


def test_loopback_names():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    assert not is_loopback("example.org")
    # Other spellings of loopback, read without asking DNS (a Host header's name).
    for name in ("LOCALHOST", "localhost.", "127.1", "127.0.1", "::ffff:127.0.0.1"):
        assert is_loopback(name), name
    for name in ("127.0.0.1.evil.example", "localhost.evil.example", "127.1x", "0x7f.1", ""):
        assert not is_loopback(name), name


@pytest.mark.parametrize(
    "host, local",
    [
        ("127.0.0.1", True),
        ("127.1", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", False),
    ],
)
def test_loopback_is_decided_by_the_bound_address(tmp_path, capsys, monkeypatch, host, local):
    # 127.1, LOCALHOST and ::ffff:127.0.0.1 bind to loopback, yet were warned of as
    # "listening beyond this machine" and lost the Host check against DNS rebinding.
    from skbait._cli import main
    from skbait.label import _server

    data, _ = make_pool(tmp_path)
    session = LabelSession(data, target="y", options={"device": "cpu"}).check()
    try:
        server = _server.LabelServer(session, host=host)
    except OSError as exc:  # 127.1 not resolved here, or no IPv6
        pytest.skip(f"cannot listen on {host}: {exc}")
    server.socket.close()
    assert server.local is local
    foreign = server.app._foreign({"headers": [(b"host", b"evil.example")]})
    assert (foreign is not None) is local
    monkeypatch.setattr(_server.LabelServer, "serve", lambda self: self.socket.close())
    common = ["--target", "y", "-b", "4", "--device", "cpu", "--no-browser"]
    assert main(["label", data, *common, "--host", host]) == 0
    assert ("listening on" in capsys.readouterr().err) is not local


# ------------------------------------------------------------ one campaign


def test_a_whole_batch_reaches_data_and_the_next_batch_comes(live, tmp_path):
    data = live.session.data
    before = read_labels(data)
    view = live.state(TAB_A)
    first_round = view["round"]
    batch = list(live.session._batch)
    assert len(batch) == 4 and view["row"]["row"] == batch[0]
    given = {}
    for _ in range(4):
        row, label, view = label_row(live, TAB_A, view)
        given[row] = label
        # Saved in the answer file at once, before DATA.
        assert AnswerJournal(live.session.answers_path, "y").read()[row] == label
    assert sorted(given) == sorted(batch)
    live.wait_idle()
    # DATA holds exactly the labels given, and the campaign recorded them.
    assert read_labels(data) == {**before, **given}
    recorded = {e["row"]: e["label"] for e in read_campaign(live.session.campaign)["labels"]}
    assert recorded == {**before, **given}
    assert not os.path.exists(live.session.answers_path)
    view = live.state(TAB_A)
    assert view["round"] == first_round + 1
    new_batch = live.session._batch
    assert len(new_batch) == 4 and not set(new_batch) & set(given) and not set(new_batch) & {0, 1}
    assert view["row"]["row"] in new_batch
    # The round's reasons and the model's view of the row.
    assert view["row"]["why"]["rank"] == new_batch.index(view["row"]["row"]) + 1
    assert view["row"]["why"]["design"] == "bait"
    prediction = view["row"]["prediction"]
    assert prediction["label"] in ("pos", "neg") and 0.5 <= prediction["probability"] <= 1
    assert [c["label"] for c in view["classes"]] == ["neg", "pos"]
    assert view["n_labeled"] == 6 and view["rounds"] == first_round + 2
    assert {c["name"] for c in view["stopping"]} >= {"max confidence", "overall uncertainty"}
    # Each rule with its threshold, in the words of skbait query.
    rules = {c["name"]: c["rule"] for c in view["stopping"]}
    assert rules["max confidence"] == "stop when >= 0.9"
    assert rules["overall uncertainty"] == "stop when <= 0.1"
    # The batch file is the one skbait query writes, for a spreadsheet.
    batch_file = pd.read_csv(live.session.batch_file)
    assert batch_file["row"].tolist() == new_batch


def test_predictions_match_a_model_fitted_by_hand(live):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    view = live.state(TAB_A)
    for _ in range(4):
        _, _, view = label_row(live, TAB_A, view)
    live.wait_idle()
    state = read_campaign(live.session.campaign)
    table = _bridge.read_table(live.session.data)
    X = _bridge.feature_matrix(table, state["data"]["features"])
    rows = [e["row"] for e in state["labels"]]
    y = [e["label"] for e in state["labels"]]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X[rows], y)
    for row in live.session._batch:
        shown = live.session._analysis["predictions"][row]
        proba = model.predict_proba(X[[row]])[0]
        assert shown["label"] == model.classes_[proba.argmax()]
        assert shown["probability"] == pytest.approx(proba.max())


def test_a_label_the_disk_refuses_is_an_error_and_not_shown_as_saved(live, monkeypatch):
    # A full disk: the page says the label was not saved (a JSON error, not a bare
    # 500), and what it shows is what the answer file holds, after a restart too.
    from skbait.label import _journal

    def full(fd):
        raise OSError(28, "No space left on device")

    journal = live.session.journal
    first = live.state(TAB_A)["row"]["row"]
    second = live.post("/api/label", tab=TAB_A, row=first, label="pos")["row"]["row"]
    third = live.post("/api/label", tab=TAB_A, row=second, label="neg")["row"]["row"]
    monkeypatch.setattr(_journal.os, "fsync", full)
    for body in (
        {"row": third, "label": "neg"},  # a new label (appended)
        {"row": second, "label": "pos"},  # a relabel (the file rewritten)
    ):
        status, payload = live.call("/api/label", {"tab": TAB_A, **body})
        assert status == 500 and "No space left" in payload["error"], payload
    status, payload = live.call("/api/undo", {"tab": TAB_A})
    assert status == 500 and "No space left" in payload["error"], payload
    assert live.session._pending == {first: "pos", second: "neg"} == journal.read()
    assert live.state(TAB_A)["row"]["row"] == third
    monkeypatch.undo()
    assert live.post("/api/undo", tab=TAB_A)["row"]["row"] == second
    assert live.session._pending == {first: "pos"} == journal.read()


def test_labels_survive_a_crash_and_merge_as_teach_would(tmp_path):
    data, _ = make_pool(tmp_path)
    first = Live(data)
    first.wait_idle()
    view = first.state(TAB_A)
    row, label, _ = label_row(first, TAB_A, view)
    first.close()  # the server goes away mid-batch
    answers = first.session.answers_path
    # The answer file is a batch answer file: skbait teach merges it as it is.
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in os.listdir(tmp_path):
        if os.path.isfile(tmp_path / name):
            (copy / name).write_bytes((tmp_path / name).read_bytes())
    merged = merge_answers(copy / "pool.csv", copy / os.path.basename(answers))
    assert merged["merged"] == [row]
    # A new server on the same files continues the batch with the label kept.
    second = Live(data)
    second.wait_idle()
    view = second.state(TAB_B)
    assert view["batch"]["labeled"] == 1 and view["pending"] == 1
    assert second.session._batch == first.session._batch
    while view["row"] is not None:
        _, _, view = label_row(second, TAB_B, view)
    second.wait_idle()
    assert read_labels(data)[row] == label
    second.close()


def test_a_line_cut_short_by_a_crash_is_dropped(tmp_path):
    journal = AnswerJournal(tmp_path / "a.csv", "y")
    journal.append(3, "pos")
    journal.append(5, 'neg "quoted", with comma')
    with open(journal.path, "a") as handle:
        handle.write("7,po")  # the crash came mid-line
    assert journal.read() == {3: "pos", 5: 'neg "quoted", with comma'}
    # The next label, after a restart, is not glued to the line cut short: "1" and
    # "7,neg" would read as row 17.
    with open(journal.path, "a") as handle:
        handle.write("1")
    journal.append(7, "neg")
    assert journal.read() == {3: "pos", 5: 'neg "quoted", with comma', 7: "neg"}
    header = AnswerJournal(tmp_path / "c.csv", "y")
    (tmp_path / "c.csv").write_text("ro")  # cut short in its header
    header.append(2, "pos")
    assert header.read() == {2: "pos"}
    (tmp_path / "b.csv").write_text("row,label\n1,x\n")
    with pytest.raises(ValueError, match="not the page's answer file"):
        AnswerJournal(tmp_path / "b.csv", "y").read()


def test_the_answer_file_re_saved_by_a_spreadsheet_is_read_as_the_campaign_reads_it(tmp_path):
    # Excel saves "CSV UTF-8" with a byte-order mark (and, in much of Europe, semicolons
    # and CRLF line ends): the page refused its own answer file at the next start.
    data, _ = make_pool(tmp_path)
    first = Live(data)
    first.wait_idle()
    view = first.state(TAB_A)
    row, label, view = label_row(first, TAB_A, view)
    first.close()
    answers = first.session.answers_path
    with open(answers, "w", encoding="utf-8-sig", newline="") as handle:
        handle.write(f"row;y\r\n{row};{label}\r\n")
    second = Live(data)
    second.wait_idle()
    try:
        assert second.session._pending == {row: label}
        view = second.state(TAB_B)
        nxt, nxt_label, _ = label_row(second, TAB_B, view)
        # The next label is written in the file's own dialect, and both read back.
        assert AnswerJournal(answers, "y").read() == {row: label, nxt: nxt_label}
        with open(answers, "rb") as handle:
            assert handle.read().endswith(f"\r\n{nxt};{nxt_label}\r\n".encode())
    finally:
        second.close()
    # Its checks stay: another file's header is still refused.
    (tmp_path / "b.csv").write_text("\ufeffrow;label\n1;x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not the page's answer file"):
        AnswerJournal(tmp_path / "b.csv", "y").read()
    # Excel's "CSV (semicolon)" on Windows writes Windows-1252: read, and kept so.
    cp1252 = AnswerJournal(tmp_path / "c.csv", "y")
    (tmp_path / "c.csv").write_bytes("row;y\r\n1;café\r\n".encode("cp1252"))
    assert cp1252.read() == {1: "café"}
    cp1252.append(2, "crème")
    assert (tmp_path / "c.csv").read_bytes() == "row;y\r\n1;café\r\n2;crème\r\n".encode("cp1252")
    cp1252.rewrite({2: "crème", 3: "€"})
    assert (tmp_path / "c.csv").read_bytes() == "row;y\r\n2;crème\r\n3;€\r\n".encode("cp1252")
    # A label it cannot hold is refused, the file as it was.
    with pytest.raises(ValueError, match="Windows-1252.*'CSV UTF-8'"):
        cp1252.append(4, "日本")
    with pytest.raises(ValueError, match="Windows-1252.*'CSV UTF-8'"):
        cp1252.rewrite({2: "crème", 4: "日本"})
    assert cp1252.read() == {2: "crème", 3: "€"}
    # A byte Windows-1252 leaves undefined is no text: refused, naming it.
    (tmp_path / "d.csv").write_bytes(b"row;y\r\n1;caf\x81\r\n")
    with pytest.raises(ValueError, match="byte 0x81.*'CSV UTF-8'"):
        AnswerJournal(tmp_path / "d.csv", "y").read()


def test_a_line_cut_short_inside_a_character_is_dropped_not_misread(tmp_path):
    # A crash between the bytes of "日" leaves no UTF-8 text: the whole file read as
    # Windows-1252 would make "café" "cafÃ©".
    path = tmp_path / "a.csv"
    path.write_bytes("row,y\n3,café\n5,".encode() + "日本".encode()[:2])
    journal = AnswerJournal(path, "y")
    assert journal.read() == {3: "café"}
    journal.append(5, "日本")
    assert path.read_bytes() == "row,y\n3,café\n5,日本\n".encode()
    assert journal.read() == {3: "café", 5: "日本"}


def test_a_windows_1252_data_takes_the_labels_it_can_hold(tmp_path):
    # Excel's "CSV (semicolon)" on Windows: accented classes and notes, Windows-1252.
    data, frame = make_pool(tmp_path, n=12)
    accented = {"pos": "élevé", "neg": "bas"}
    frame["y"] = frame["y"].replace(accented)
    frame["note"] = ["café", "Müller", "€ 12"] * 4
    frame.to_csv(data, sep=";", index=False, encoding="cp1252", lineterminator="\r\n")
    with open(data, "rb") as handle:
        before = handle.read().split(b"\r\n")
    live = Live(data)
    live.wait_idle()
    try:
        view = live.state(TAB_A)
        row = view["row"]["row"]
        status, payload = live.call("/api/label", {"tab": TAB_A, "row": row, "label": "日本"})
        assert status == 422 and "Windows-1252" in payload["error"], payload
        assert "'CSV UTF-8'" in payload["error"]
        assert not os.path.exists(live.session.answers_path)
        labeled = {}
        for _ in range(4):  # the batch
            row = view["row"]["row"]
            a = next(f["value"] for f in view["row"]["fields"] if f["column"] == "a")
            labeled[row] = accented[truth(a)]
            view = live.post("/api/label", tab=TAB_A, row=row, label=labeled[row])
        live.wait_idle()
    finally:
        live.close()
    with open(data, "rb") as handle:
        after = handle.read().split(b"\r\n")
    # Still Windows-1252, the lines of rows not labeled here byte for byte as they were.
    changed = [i for i, (x, y) in enumerate(zip(before, after)) if x != y]
    assert len(after) == len(before) and changed == sorted(row + 1 for row in labeled)
    for row, label in labeled.items():
        assert after[row + 1] == before[row + 1] + label.encode("cp1252")
    saved = pd.read_csv(data, sep=";", dtype=str, keep_default_na=False, encoding="cp1252")
    assert all(saved["y"][row] == label for row, label in labeled.items())
    assert saved["note"].tolist() == frame["note"].tolist()


@pytest.mark.parametrize(
    "saved, rewritten",
    [
        ("\ufeffrow;y\r\n3;pos\r\n5;neg\r\n", "\ufeffrow;y\r\n3;pos\r\n7;neg\r\n"),
        ('"row","y"\n3,"pos"\n5,"neg"\n', '"row","y"\n3,"pos"\n7,"neg"\n'),
        ("row\ty\r3\tpos\r5\tneg\r", "row\ty\r3\tpos\r7\tneg\r"),
    ],
)
def test_the_answer_file_is_rewritten_in_the_dialect_it_was_saved_in(tmp_path, saved, rewritten):
    # An undo, or labels the campaign recorded, rewrite the page's answer file: as Excel
    # (BOM, semicolons, CRLF), R (quoted text) or old Mac Excel (CR) saved it, not in
    # skbait's comma and LF, which that spreadsheet reopens as one column.
    path = tmp_path / "a.csv"
    path.write_bytes(saved.encode("utf-8"))
    journal = AnswerJournal(path, "y")
    assert journal.read() == {3: "pos", 5: "neg"}
    journal.rewrite({3: "pos", 7: "neg"})
    assert path.read_bytes().decode("utf-8") == rewritten
    assert journal.read() == {3: "pos", 7: "neg"}
    journal.append(9, "pos")
    assert journal.read() == {3: "pos", 7: "neg", 9: "pos"}


def test_spreadsheet_answers_and_data_typed_labels_join(live):
    session = live.session
    view = live.state(TAB_A)
    batch = list(session._batch)
    # One row answered in the batch file (a spreadsheet), one typed into DATA.
    sheet = pd.read_csv(session.batch_file, dtype=str, keep_default_na=False)
    frame = pd.read_csv(session.data, dtype=str, keep_default_na=False)
    sheet.loc[sheet["row"] == str(batch[3]), "y"] = truth(frame.loc[batch[3], "a"])
    sheet.to_csv(session.batch_file, index=False)
    outside = next(r for r in range(len(frame)) if r not in batch and frame.loc[r, "y"] == "")
    frame.loc[outside, "y"] = "pos"
    frame.to_csv(session.data, index=False)
    given = {}
    for _ in range(4):
        row, label, view = label_row(live, TAB_A, view)
        given[row] = label
    live.wait_idle()
    labels = read_labels(session.data)
    assert labels[outside] == "pos"
    assert all(labels[r] == label for r, label in given.items())
    assert labels[batch[3]] == truth(frame.loc[batch[3], "a"])
    assert session._job["error"] is None


def test_answers_in_the_batch_file_before_the_page_opens_are_not_asked_again(tmp_path, capsys):
    # A batch begun in a spreadsheet and finished on the page: the page asked again for
    # the rows the batch file answered (a clash stopped the merge where they differed).
    from skbait._cli import main

    data, frame = make_pool(tmp_path)
    assert main(["query", data, "--target", "y", "-b", "4", "--device", "cpu"]) == 0
    capsys.readouterr()
    batch_file = str(tmp_path / "pool_batch.csv")
    sheet = pd.read_csv(batch_file, dtype=str, keep_default_na=False)
    answered = {int(r): truth(frame.loc[int(r), "a"]) for r in sheet["row"][:2]}
    sheet.loc[:1, "y"] = list(answered.values())
    sheet.to_csv(batch_file, index=False)
    live = Live(data)
    live.wait_idle()
    try:
        view = live.state(TAB_A)
        assert view["batch"] == {"size": 4, "labeled": 2, "skipped": 0}
        batch = [int(r) for r in sheet["row"]]
        assert live.session._batch == batch
        shown = set()
        while view["row"] is not None and view["row"]["status"] == "to label":
            shown.add(view["row"]["row"])
            _, _, view = label_row(live, TAB_A, view)
        assert shown == set(batch) - set(answered)
        live.wait_idle()
        assert live.session._job["error"] is None
        labels = read_labels(data)
        assert all(labels[r] == label for r, label in answered.items())
    finally:
        live.close()


# ------------------------------------------------------- several annotators


def test_two_tabs_are_never_served_the_same_row(tmp_path):
    data, _ = make_pool(tmp_path)
    now = [0.0]
    live = Live(data, clock=lambda: now[0], lease_seconds=120)
    live.wait_idle()
    try:
        a, b = live.state(TAB_A), live.state(TAB_B)
        assert a["row"]["row"] != b["row"]["row"]
        row_b = b["row"]["row"]
        status, payload = live.call("/api/label", {"tab": TAB_A, "row": row_b, "label": "pos"})
        assert status == 409 and "another tab" in payload["error"]
        # The same tab asking again (a reload) keeps its row.
        assert live.state(TAB_B)["row"]["row"] == row_b
        # Tab B goes away: its lease lapses and its row is served again.
        tabs = ["tab-cccccccc", "tab-dddddddd"]
        seen = {live.state(t)["row"]["row"] for t in tabs}
        assert row_b not in seen and len(seen) == 2
        now[0] += 121
        for t in [TAB_A, *tabs]:
            live.state(t)  # heartbeats
        assert live.state("tab-eeeeeeee")["row"]["row"] == row_b
        # Labels given concurrently from many threads: none lost, none twice.
        errors = []

        def worker(tab):
            view = live.state(tab)
            while view["row"] is not None and view["row"]["status"] == "to label":
                status, payload = live.call(
                    "/api/label", {"tab": tab, "row": view["row"]["row"], "label": "pos"}
                )
                if status != 200:
                    errors.append(payload)
                    return
                view = payload

        threads = [threading.Thread(target=worker, args=(t,)) for t in [TAB_A, *tabs]]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
    finally:
        live.close()


def test_undo_takes_back_the_last_label_until_it_is_in_data(live):
    view = live.state(TAB_A)
    row, _label, view = label_row(live, TAB_A, view)
    assert view["can_undo"]
    view = live.post("/api/undo", tab=TAB_A)
    assert view["row"]["row"] == row and view["row"]["status"] == "to label"
    assert AnswerJournal(live.session.answers_path, "y").read() == {}
    status, payload = live.call("/api/undo", {"tab": TAB_A})
    assert status == 409
    # Label the whole batch; once in DATA, the last label cannot be undone.
    while view["row"] is not None and view["row"]["status"] == "to label":
        _, _, view = label_row(live, TAB_A, view)
        if live.session._job["running"]:
            break
    live.wait_idle()
    status, payload = live.call("/api/undo", {"tab": TAB_A})
    assert status == 409 and "already in DATA" in payload["error"]


def test_undo_after_a_correction_restores_the_label_before_it(live):
    # Label pos, go back, relabel neg, undo: the row went back to unlabeled, losing pos.
    view = live.state(TAB_A)
    first = view["row"]["row"]
    live.post("/api/label", tab=TAB_A, row=first, label="pos")
    live.post("/api/move", tab=TAB_A, step=-1)
    live.post("/api/label", tab=TAB_A, row=first, label="neg")
    view = live.post("/api/undo", tab=TAB_A)
    assert view["row"]["row"] == first and view["row"]["status"] == "labeled"
    assert view["row"]["label"] == "pos" and view["can_undo"]
    journal = AnswerJournal(live.session.answers_path, "y")
    assert live.session._pending == {first: "pos"} == journal.read()
    # One more undo takes back the first label too.
    view = live.post("/api/undo", tab=TAB_A)
    assert view["row"]["row"] == first and view["row"]["status"] == "to label"
    assert live.session._pending == {} and not view["can_undo"]


def test_previous_relabel_and_skip(live):
    view = live.state(TAB_A)
    first, _, view = label_row(live, TAB_A, view)
    second = view["row"]["row"]
    view = live.post("/api/move", tab=TAB_A, step=-1)
    assert view["row"]["row"] == first and view["row"]["status"] == "labeled"
    view = live.post("/api/label", tab=TAB_A, row=first, label="neg")
    assert live.session._pending[first] == "neg"
    assert AnswerJournal(live.session.answers_path, "y").read() == {first: "neg"}
    assert view["row"]["row"] == second
    view = live.post("/api/skip", tab=TAB_A, row=second)
    assert view["row"]["row"] != second
    assert second in live.session._skipped
    status, _ = live.call("/api/move", {"tab": TAB_A, "step": 2})
    assert status == 400


def test_a_new_class_close_to_a_known_one_asks_first(live):
    view = live.state(TAB_A)
    row = view["row"]["row"]
    view = live.post("/api/label", tab=TAB_A, row=row, label="catalogue")
    row = view["row"]["row"]
    status, payload = live.call("/api/label", {"tab": TAB_A, "row": row, "label": "catalog"})
    assert status == 409 and payload["near"] == ["catalogue"] and payload["keep"] is True
    assert len(live.session._pending) == 1
    view = live.post("/api/label", tab=TAB_A, row=row, label="catalog", confirm=True)
    assert {"catalog", "catalogue"} <= {c["label"] for c in view["classes"]}


def test_a_misspelt_class_is_refused_as_the_merge_would(live):
    # The campaign's merge refuses a new class one edit from a known one, or the same
    # up to case and spacing: kept on the page, it would stop the batch at its merge.
    view = live.state(TAB_A)
    row = view["row"]["row"]
    for label, known in ((" Pos ", "pos"), ("negg", "neg")):
        for confirm in (False, True):
            body = {"tab": TAB_A, "row": row, "label": label, "confirm": confirm}
            status, payload = live.call("/api/label", body)
            assert status == 409 and "misspelling" in payload.get("error"), payload
            assert payload["near"] == [known] and payload["keep"] is False
    assert not os.path.exists(live.session.answers_path)
    # A new class spelt two ways in one batch would be refused too: the first stands.
    view = live.post("/api/label", tab=TAB_A, row=row, label="unsure")
    row = view["row"]["row"]
    body = {"tab": TAB_A, "row": row, "label": "Unsure", "confirm": True}
    status, payload = live.call("/api/label", body)
    assert status == 409 and payload["near"] == ["unsure"]
    while view["row"] is not None and view["row"]["status"] == "to label":
        row, _, view = label_row(live, TAB_A, view)
    live.wait_idle()
    assert live.session._job["error"] is None
    assert "unsure" in read_labels(live.session.data).values()


def test_near_duplicates():
    known = ["cat", "dog", "traffic light"]
    assert near_duplicates("cat", known) == []
    assert near_duplicates("Cat", known) == ["cat"]
    assert near_duplicates("trafic light", known) == ["traffic light"]
    assert near_duplicates("traffic-light", known) == ["traffic light"]
    assert near_duplicates("horse", known) == []
    # Labels of symbols only (nothing left to compare) are not alike for that.
    assert near_duplicates("👎", ["👍", "cat"]) == []
    assert near_duplicates("-", ["+"]) == []
    assert near_duplicates("🐶 dog", ["dog"]) == ["dog"]
    # Before the first merge decides the campaign's label type, 1.0 is 1 in waiting.
    assert near_duplicates("1.0", ["1", "2"]) == ["1"]
    assert near_duplicates("12", ["1", "2"]) == []
    # Numbered classes differ by their numbers; a typo of one is still asked about.
    assert near_duplicates("topic_31", ["topic_30", "topic_13"]) == []
    assert near_duplicates("topik_30", ["topic_30", "topic_13"]) == ["topic_30"]


def test_a_new_numbered_class_is_taken(tmp_path):
    # topic_3 is one edit from topic_1 and topic_2: the page refused it as a misspelling
    # (and the first query refused topic_1 and topic_2 in DATA as two spellings of one).
    data, frame = make_pool(tmp_path, labeled=0)
    frame.loc[:3, "y"] = ["topic_1", "topic_2", "topic_1", "topic_2"]
    frame.to_csv(data, index=False)
    live = Live(data)
    try:
        live.wait_idle()
        view = live.state(TAB_A)
        assert view["job"]["error"] is None, view["job"]
        row = view["row"]["row"]
        view = live.post("/api/label", tab=TAB_A, row=row, label="topic_3")
        assert [c["label"] for c in view["classes"]] == ["topic_1", "topic_2", "topic_3"]
        assert AnswerJournal(live.session.answers_path, "y").read() == {row: "topic_3"}
    finally:
        live.close()


def test_labels_of_the_wrong_type_are_refused(tmp_path):
    data, frame = make_pool(tmp_path, labeled=0)
    frame.loc[0, "y"], frame.loc[1, "y"] = "1", "0"
    frame.to_csv(data, index=False)
    live = Live(data)
    live.wait_idle()
    try:
        view = live.state(TAB_A)
        row = view["row"]["row"]
        for bad in ("abc", "", "1.5", "a\nb"):
            status, payload = live.call("/api/label", {"tab": TAB_A, "row": row, "label": bad})
            assert status == 422, (bad, payload)
        assert not os.path.exists(live.session.answers_path)
        live.post("/api/label", tab=TAB_A, row=row, label="1")
        status, _ = live.call("/api/label", {"tab": TAB_A, "row": 10**6, "label": "1"})
        assert status == 404
    finally:
        live.close()


# ------------------------------------------------------------------- images


def test_numbers_are_numbers_with_the_decimal_mark_of_data(tmp_path):
    """A semicolon file with decimal commas, as European Excel saves it: ``1,5`` shows
    as a number (aligned as one), as ``1.5`` does in a comma-separated file."""
    data, frame = make_pool(tmp_path)
    frame.to_csv(data, sep=";", decimal=",", index=False)
    assert "1,5;" in Path(data).read_text(encoding="utf-8")
    live = Live(data)
    live.wait_idle()
    try:
        fields = {f["column"]: f for f in live.session._row_view(0, TAB_A, 0)["fields"]}
    finally:
        live.close()
    assert fields["a"]["value"] == "1,5" and fields["a"]["kind"] == "number"
    assert fields["b"]["kind"] == "number"
    assert fields["note"]["kind"] == "text"


def test_images_are_served_from_data_folder_only(tmp_path):
    inside = tmp_path / "img"
    inside.mkdir()
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    (inside / "a.png").write_bytes(png)
    outside = tmp_path.parent / f"{tmp_path.name}-outside.png"
    outside.write_bytes(png)
    (inside / "link.png").symlink_to(outside)
    n = 40
    cells = ["img/a.png", f"../{outside.name}", "img/link.png", "https://example.org/x.png"]
    data, _ = make_pool(tmp_path, n=n, extra={"picture": [cells[i % 4] for i in range(n)]})
    live = Live(data)
    live.wait_idle()
    try:
        session = live.session
        kinds = {}
        for row in range(4):
            field = next(
                f for f in session._row_view(row, TAB_A, 0)["fields"] if f["column"] == "picture"
            )
            kinds[cells[row]] = field
        assert kinds["img/a.png"]["kind"] == "image"
        assert kinds["https://example.org/x.png"]["src"] == "https://example.org/x.png"
        assert kinds[f"../{outside.name}"]["kind"] == "file"
        assert kinds["img/link.png"]["kind"] == "file"
        status, body = live.call(f"/api/image?row=0&column=picture&token={live.token}", token=None)
        assert status == 200 and body == png
        for row in (1, 2, 3):
            status, _ = live.call(
                f"/api/image?row={row}&column=picture&token={live.token}", token=None
            )
            assert status == 404
        status, _ = live.call("/api/image?row=0&column=picture", token=None)
        assert status == 403
        status, _ = live.call(f"/api/image?row=0&column=y&token={live.token}", token=None)
        assert status == 404
    finally:
        live.close()


def test_a_file_the_page_shows_no_image_of_says_why(tmp_path):
    # A radiology pool: DICOM and TIFF files no browser draws, an SVG the page will not
    # serve, a missing file, paths leading out. Each shows its path and why, as text.
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    scans = tmp_path / "scans"
    scans.mkdir()
    outside = tmp_path.parent / f"{tmp_path.name}-outside.png"
    outside.write_bytes(png)
    (scans / "out.png").symlink_to(outside)
    why = {
        "scans/Ünïcode lung.PNG": None,
        "scans/chest.DCM": "DICOM",
        "scans/chest.tiff": "TIFF",
        "scans/chart.svg": "SVG",
        "scans/gone.png": "no such file",
        "scans/gone.dcm": "no such file",
        f"../{outside.name}": "outside DATA's folder",
        "scans/out.png": "outside DATA's folder",
        "https://pacs.example/1.dcm": "DICOM",
        "https://pacs.example/1.png": None,
        # A table made on Windows: its backslashes are the separators of the path.
        "scans\\win lung.png": None,
        f"..\\{outside.name}": "outside DATA's folder",
    }
    for cell in why:
        if not cell.startswith(("http", "..")) and "gone" not in cell and cell != "scans/out.png":
            (tmp_path / cell.replace("\\", "/")).write_bytes(png)
    cells = list(why)
    n = 40
    data, _ = make_pool(tmp_path, n=n, extra={"scan": [cells[i % len(cells)] for i in range(n)]})
    live = Live(data)
    live.wait_idle()
    try:
        session = live.session
        for row, cell in enumerate(cells):
            field = next(
                f for f in session._row_view(row, TAB_A, 0)["fields"] if f["column"] == "scan"
            )
            assert field["value"] == cell
            served = session._image_file(cell) is not None or cell.endswith(
                "://pacs.example/1.png"
            )
            assert (field["kind"] == "image") == served == (why[cell] is None), cell
            status, _ = live.call(
                f"/api/image?row={row}&column=scan&token={live.token}", token=None
            )
            assert (status == 200) == (served and not cell.startswith("http")), cell
            if why[cell] is not None:
                assert field["kind"] == "file" and why[cell] in field["note"], cell
                assert "src" not in field
    finally:
        live.close()


def test_show_picks_the_columns_a_row_shows(tmp_path, capsys, monkeypatch):
    # Hundreds of embedding columns beside the image: every one was a line of the row,
    # the image among them. --show gives the page's columns, in its order.
    from skbait._cli import main
    from skbait.label import _server

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    (tmp_path / "scan.png").write_bytes(png)
    extra = {f"emb_{j}": np.arange(40.0) * (j + 1) for j in range(64)}
    extra["scan"] = ["scan.png"] * 40
    data, frame = make_pool(tmp_path, extra=extra)
    live = Live(data, show=["scan", "note", "scan"])
    live.wait_idle()
    try:
        row = live.session._batch[0]
        fields = live.session._row_view(row, TAB_A, 0)["fields"]
        assert [f["column"] for f in fields] == ["scan", "note"]
        assert [f["value"] for f in fields] == ["scan.png", frame["note"][row].strip()]
        assert fields[0]["kind"] == "image"
        # A column not shown is not served either; the features are the campaign's.
        status, _ = live.call(f"/api/image?row={row}&column=scan&token={live.token}", token=None)
        assert status == 200
        status, _ = live.call(f"/api/image?row={row}&column=a&token={live.token}", token=None)
        assert status == 404
        assert "emb_63" in read_campaign(live.session.campaign)["data"]["features"]
    finally:
        live.close()
    monkeypatch.setattr(_server.LabelServer, "serve", lambda self: self.socket.close())
    before = sorted(os.listdir(tmp_path))
    for show, said in (("scna", "did you mean 'scan'"), ("scan,y", "label column 'y'"), (",", "")):
        assert main(["label", data, "--no-browser", "--show", show]) == 2
        err = capsys.readouterr().err
        assert err.startswith("skbait: error:") and err.count("\n") == 1 and said in err
    assert sorted(os.listdir(tmp_path)) == before


def test_no_spelling_of_a_path_leaves_data_folder(tmp_path):
    # Only a cell of DATA names an image file; whatever it says, the file served is an
    # image inside DATA's folder (reached through a symlinked folder too), never DATA.
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    real = tmp_path / "real"
    (real / "img").mkdir(parents=True)
    (real / "img" / "a.png").write_bytes(png)
    outside = tmp_path / "outside.png"
    outside.write_bytes(png)
    (tmp_path / "linked").symlink_to(real)
    data, _ = make_pool(real)
    (real / "data.png").symlink_to(data)
    session = LabelSession(str(tmp_path / "linked" / "pool.csv"), target="y")
    assert session._image_file("img/a.png") == real / "img" / "a.png"
    assert session._image_file("./img/../img/a.png") == real / "img" / "a.png"
    for cell in (
        str(outside),
        "../outside.png",
        "img/../../outside.png",
        "%2e%2e/outside.png",
        "..%2foutside.png",
        "..\\outside.png",
        "img\\..\\..\\outside.png",
        "file:///" + str(outside),
        "data.png",
        "pool.csv",
        "img",
        "",
    ):
        assert session._image_file(cell) is None, cell


# --------------------------------------------------------- background rounds


def _held_query(monkeypatch):
    """Hold the next batch's query until ``release`` is set: ``(entered, release)``."""
    release = threading.Event()
    entered = threading.Event()
    query = _bridge.query

    def slow_query(*args, **kwargs):
        entered.set()
        assert release.wait(60)
        return query(*args, **kwargs)

    monkeypatch.setattr(_bridge, "query", slow_query)
    return entered, release


def test_requests_answer_while_the_next_batch_is_chosen(tmp_path, monkeypatch):
    data, _ = make_pool(tmp_path)
    live = Live(data)
    live.wait_idle()
    entered, release = _held_query(monkeypatch)
    try:
        view = live.state(TAB_A)
        first = view["row"]["row"]
        view = live.post("/api/skip", tab=TAB_A, row=first)
        given = {}
        while view["row"]["row"] != first:
            row, label, view = label_row(live, TAB_A, view)
            given[row] = label
        # The batch's last label answers with the skipped row: skipped again, for tab B.
        assert live.post("/api/skip", tab=TAB_A, row=first)["row"] is None
        assert entered.wait(30)
        # The round is under way: the page answers, and shows its progress.
        view = live.state(TAB_B)
        assert view["job"]["running"] and view["job"]["stage"] == "choosing the next batch"
        assert view["row"]["row"] == first  # the skipped row, meanwhile
        view = live.post("/api/label", tab=TAB_B, row=first, label="pos")
        assert AnswerJournal(live.session.answers_path, "y").read() == {first: "pos"}
        release.set()
        live.wait_idle()
        assert all(read_labels(data)[r] == label for r, label in given.items())
        assert first not in read_labels(data)  # not lost: kept for the next merge
        assert live.session._pending == {first: "pos"}
        # Never served again, even when the new batch holds it.
        served = set()
        for tab in ("tab-cccccccc", "tab-dddddddd", "tab-eeeeeeee", "tab-ffffffff"):
            view = live.state(tab)
            if view["row"] is not None:
                served.add(view["row"]["row"])
        assert first not in served and len(served) == 4 - (first in live.session._batch)
    finally:
        release.set()
        live.close()


def test_a_skip_while_the_next_batch_is_chosen_shows_another_skipped_row(tmp_path, monkeypatch):
    # The skipped rows are offered again while the next batch is chosen: a skip then
    # showed the same row again, the first skipped, so the others were never reached.
    data, _ = make_pool(tmp_path)
    live = Live(data)
    live.wait_idle()
    entered, release = _held_query(monkeypatch)
    try:
        view = live.state(TAB_A)
        skipped = []
        for _ in range(2):
            skipped.append(view["row"]["row"])
            view = live.post("/api/skip", tab=TAB_A, row=skipped[-1])
        while view["row"] is not None and view["row"]["status"] == "to label":
            _, _, view = label_row(live, TAB_A, view)
        assert entered.wait(30)
        view = live.state(TAB_A)
        shown = [view["row"]["row"]]
        for _ in range(3):
            view = live.post("/api/skip", tab=TAB_A, row=shown[-1])
            shown.append(view["row"]["row"])
        assert shown == [skipped[0], skipped[1], skipped[0], skipped[1]]
        view = live.post("/api/move", tab=TAB_A, step=1)
        assert view["row"]["row"] == skipped[0]
    finally:
        release.set()
        live.close()


def test_skipping_the_last_row_of_a_batch_does_not_show_it_again(tmp_path, monkeypatch):
    # Skip on the batch's last row, the only one skipped: the page showed that same row
    # again (offered while the next batch is chosen), so Skip seemed to do nothing, and
    # the tab kept the old row once the next batch came.
    data, _ = make_pool(tmp_path)
    live = Live(data)
    live.wait_idle()
    entered, release = _held_query(monkeypatch)
    try:
        view = live.state(TAB_A)
        while live.state(TAB_A)["batch"]["labeled"] < view["batch"]["size"] - 1:
            _, _, view = label_row(live, TAB_A, view)
        last = view["row"]["row"]
        view = live.post("/api/skip", tab=TAB_A, row=last)
        assert view["row"] is None and view["job"]["running"]
        assert live.post("/api/move", tab=TAB_A, step=1)["row"] is None
        # Another tab is still offered it meanwhile.
        assert live.state(TAB_B)["row"]["row"] == last
        assert entered.wait(30)
        release.set()
        live.wait_idle()
        view = live.state(TAB_A)
        assert view["row"]["row"] in live.session._batch
    finally:
        release.set()
        live.close()


def test_the_label_ending_a_batch_answers_with_a_skipped_row_not_an_empty_page(
    tmp_path, monkeypatch
):
    # The batch's last label answered with no row ("the next batch is on its way"),
    # and the skipped row came only at the page's next poll.
    data, _ = make_pool(tmp_path)
    live = Live(data)
    live.wait_idle()
    _, release = _held_query(monkeypatch)
    try:
        view = live.state(TAB_A)
        skipped = view["row"]["row"]
        view = live.post("/api/skip", tab=TAB_A, row=skipped)
        while view["batch"]["labeled"] < view["batch"]["size"] - 2:
            _, _, view = label_row(live, TAB_A, view)
        _, _, view = label_row(live, TAB_A, view)  # the last row not skipped
        assert view["job"]["running"]
        assert view["row"] is not None and view["row"]["row"] == skipped
    finally:
        release.set()
        live.close()


def test_a_failed_merge_keeps_the_labels_and_can_be_retried(live):
    session = live.session
    view = live.state(TAB_A)
    rows = list(session._batch)
    frame = pd.read_csv(session.data, dtype=str, keep_default_na=False)
    # Someone types a different label into DATA for a row of the batch meanwhile.
    given = {}
    for _ in range(3):
        row, label, view = label_row(live, TAB_A, view)
        given[row] = label
    clash = next(iter(given))
    frame.loc[clash, "y"] = "neg" if given[clash] == "pos" else "pos"
    frame.to_csv(session.data, index=False)
    row, label, view = label_row(live, TAB_A, view)
    given[row] = label
    live.wait_idle()
    view = live.state(TAB_A)
    assert view["job"]["error"] and f"row {clash}" in view["job"]["error"]
    assert AnswerJournal(session.answers_path, "y").read() == given
    assert sorted(given) == sorted(rows)
    # The person fixes DATA, then retries.
    frame.loc[clash, "y"] = ""
    frame.to_csv(session.data, index=False)
    live.post("/api/retry", tab=TAB_A)
    live.wait_idle()
    assert live.state(TAB_A)["job"]["error"] is None
    labels = read_labels(session.data)
    assert all(labels[r] == label for r, label in given.items())


def test_a_row_labeled_by_teach_meanwhile_keeps_that_label_and_the_page_says_so(live, tmp_path):
    # skbait teach in a terminal for a row of the open batch, then that row labeled
    # otherwise on the page: the merge stopped ("row 12: already labeled 'pos'").
    session = live.session
    view = live.state(TAB_A)
    row = view["row"]["row"]
    a = next(f["value"] for f in view["row"]["fields"] if f["column"] == "a")
    theirs, mine = truth(a), "neg" if truth(a) == "pos" else "pos"
    (tmp_path / "mine.csv").write_text(f"row,y\n{row},{theirs}\n")
    assert merge_answers(session.data, tmp_path / "mine.csv")["merged"] == [row]
    given = {}
    view = live.post("/api/label", tab=TAB_A, row=row, label=mine)
    while view["row"] is not None and view["row"]["status"] == "to label":
        r, label, view = label_row(live, TAB_A, view)
        given[r] = label
    live.wait_idle()
    view = live.state(TAB_A)
    assert view["job"]["error"] is None
    labels = read_labels(session.data)
    assert labels[row] == theirs and all(labels[r] == label for r, label in given.items())
    note = view["job"]["note"]
    assert f"row {row}" in note and repr(theirs) in note and repr(mine) in note, note
    assert f"skbait correct pool.csv --row {row} --label {mine}" in note, note
    assert AnswerJournal(session.answers_path, "y").read() == {}


def test_a_campaign_error_on_the_page_names_the_pages_way_on(live):
    # DATA made read-only during the session: the page said "... and run the command
    # again", where the way on is its Retry button; the command line keeps its words.
    session = live.session
    view = live.state(TAB_A)
    os.chmod(session.data, 0o444)
    try:
        while view["row"] is not None and view["row"]["status"] == "to label":
            _, _, view = label_row(live, TAB_A, view)
        live.wait_idle()
        error = live.state(TAB_A)["job"]["error"]
        assert "read-only" in error and "chmod u+w pool.csv), then press Retry." in error
        assert "run the command" not in error
        with pytest.raises(_bridge.CampaignError, match="and run the command again"):
            _bridge.check_writable(session.data)
    finally:
        os.chmod(session.data, 0o644)
    live.post("/api/retry", tab=TAB_A)
    live.wait_idle()
    assert live.state(TAB_A)["job"]["error"] is None


# ------------------------------------------------------------ the estimates


def test_wilson_interval_matches_scipy():
    from scipy.stats import binomtest

    for k, n in [(0, 5), (3, 10), (10, 10), (47, 60)]:
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert wilson_interval(k, n) == pytest.approx((ci.low, ci.high), abs=1e-6)


def test_cross_validated_score_is_scikit_learns():
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.metrics import r2_score
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    y = np.where(X[:, 0] + 0.5 * rng.normal(size=30) > 0, "a", "b")
    got = cross_validated_score(LogisticRegression(), X, y, "classification", random_state=1)
    predicted = cross_val_predict(
        LogisticRegression(), X, y, cv=StratifiedKFold(5, shuffle=True, random_state=1)
    )
    assert got["value"] == pytest.approx(np.mean(predicted == y))
    assert got["low"] <= got["value"] <= got["high"] and got["folds"] == 5
    assert cross_validated_score(LogisticRegression(), X[:3], y[:3], "classification") is None
    assert (
        cross_validated_score(
            LogisticRegression(), X, np.array(["a"] * 29 + ["b"]), "classification"
        )
        is None
    )
    t = X @ [1.0, 2.0, 0.0] + 0.1 * rng.normal(size=30)
    got = cross_validated_score(LinearRegression(), X, t, "regression", random_state=1)
    predicted = cross_val_predict(
        LinearRegression(), X, t, cv=KFold(5, shuffle=True, random_state=1)
    )
    assert got["value"] == pytest.approx(r2_score(t, predicted))
    assert got["low"] <= got["value"] <= got["high"]


# ----------------------------------------------------------------- the CLI


def test_cli_errors_are_one_line(tmp_path, capsys):
    from skbait._cli import main

    data, _ = make_pool(tmp_path, labeled=0)
    assert main(["label", str(tmp_path / "missing.csv"), "--target", "y", "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("skbait: error:") and err.count("\n") == 1
    assert main(["label", data, "--no-browser"]) == 2
    assert "--target" in capsys.readouterr().err
    assert main(["label", data, "--target", "nope", "--no-browser"]) == 2
    assert "no column 'nope'" in capsys.readouterr().err
    assert main(["label", data, "--target", "y", "--port", "70000", "--no-browser"]) == 2
    capsys.readouterr()
    # An empty host listened on every interface and printed the address "http://:PORT".
    assert main(["label", data, "--target", "y", "--host", " ", "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("skbait: error: --host is empty") and err.count("\n") == 1
    assert sorted(os.listdir(tmp_path)) == ["pool.csv"]  # nothing written


def test_cli_names_the_reading_of_data_on_a_terminal(tmp_path, capsys, monkeypatch):
    # On a large DATA, skbait label read it for tens of seconds and printed nothing.
    import sys

    from skbait._cli import main

    data, _ = make_pool(tmp_path, labeled=0)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["label", data, "--target", "nope", "--no-browser"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"skbait: reading {os.path.basename(data)}"
    assert lines[1].startswith("skbait: error: no column 'nope'")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)  # not in a log
    assert main(["label", data, "--target", "nope", "--no-browser"]) == 2
    assert "skbait: reading" not in capsys.readouterr().err


def test_a_batch_file_that_cannot_be_written_is_refused_at_start(tmp_path, capsys, monkeypatch):
    # The page started, and its first round failed on the batch file, with nothing to
    # label; query refuses these before it records the round.
    from skbait._cli import main
    from skbait.label import _server

    def refused(*args, **kwargs):
        raise AssertionError("the page was served")

    monkeypatch.setattr(_server.LabelServer, "__init__", refused)

    data, _ = make_pool(tmp_path)
    answers = str(tmp_path / "pool.csv.campaign.answers.csv")
    with open(answers, "w") as handle:
        handle.write("row,y\n")
    for output, said in (
        (str(tmp_path / "missing" / "batch.csv"), "does not exist"),
        (data, "would overwrite DATA"),
        (answers, "would overwrite the page's answer file"),
    ):
        args = ["label", data, "--target", "y", "-o", output, "--no-browser"]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err.startswith("skbait: error: cannot write the batch file") or (
            err.startswith("skbait: error: the batch file")
        ), err
        assert said in err and err.count("\n") == 1
    assert sorted(os.listdir(tmp_path)) == ["pool.csv", "pool.csv.campaign.answers.csv"]


def test_a_read_only_data_or_campaign_is_refused_at_start(tmp_path, capsys, monkeypatch):
    # The page served a batch whose merge then failed on the read-only file: a whole
    # batch labeled before the page said that DATA could not take it.
    from skbait._cli import main
    from skbait.label import _server

    def refused(*args, **kwargs):
        raise AssertionError("the page was served")

    monkeypatch.setattr(_server.LabelServer, "__init__", refused)
    data, _ = make_pool(tmp_path)
    campaign = data + ".campaign.json"
    for path in (data, campaign):
        if path == campaign:
            assert main(["query", data, "--target", "y", "-b", "4", "--device", "cpu"]) == 0
            capsys.readouterr()
        os.chmod(path, 0o444)
        try:
            assert main(["label", data, "--target", "y", "--no-browser"]) == 2
        finally:
            os.chmod(path, 0o644)
        err = capsys.readouterr().err
        assert err.startswith(f"skbait: error: cannot write {path!r}"), err
        assert "read-only" in err and err.count("\n") == 1
        assert not os.path.exists(data + ".campaign.answers.csv")


def test_a_port_in_use_is_one_line_and_writes_nothing(tmp_path, capsys):
    import socket

    from skbait._cli import main

    data, _ = make_pool(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        assert main(["label", data, "--target", "y", "--port", port, "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"skbait: error: cannot listen on 127.0.0.1:{port}") and (
        err.count("\n") == 1
    )
    # The serving lock was taken before the port, and its file was left behind.
    assert sorted(os.listdir(tmp_path)) == ["pool.csv"]


def test_one_server_per_campaign(tmp_path, capsys):
    from filelock import FileLock

    from skbait._cli import main

    data, _ = make_pool(tmp_path)
    session = LabelSession(data, target="y")
    # The page serving it is merging a batch, with a label given since.
    journal = AnswerJournal(session.answers_path, "y")
    journal.rewrite({3: "pos", 5: "neg"})
    merging = session.answers_path + ".merging.csv"
    journal.snapshot({3: "pos"}, merging)
    with open(session.answers_path, "rb") as handle:
        answers = handle.read()
    with FileLock(session.campaign + ".label.lock"):
        assert main(["label", data, "--target", "y", "--no-browser"]) == 2
    assert "already serves" in capsys.readouterr().err
    # The refused page left the serving page's files alone.
    assert os.path.exists(merging)
    with open(session.answers_path, "rb") as handle:
        assert handle.read() == answers


def test_answers_are_not_held_by_nagles_algorithm(live):
    import socket

    # Head and body go out in two writes; with Nagle's algorithm the body would wait
    # for the client's delayed ACK (about 40 ms a request). Accepted sockets inherit it.
    assert live.server.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_the_command_serves_the_page_until_stopped(tmp_path, monkeypatch, capsys):
    import html
    import time
    import urllib.parse
    import urllib.request
    from pathlib import Path

    from skbait._cli import main
    from skbait.label import _server

    data, _ = make_pool(tmp_path)
    servers, opened, status = [], [], []
    serve = _server.LabelServer.serve

    def recorded_serve(self):
        servers.append(self)
        serve(self)

    monkeypatch.setattr(_server.LabelServer, "serve", recorded_serve)

    def open_and_read(uri):
        path = urllib.request.url2pathname(urllib.parse.urlsplit(uri).path)
        opened.append((uri, os.stat(path).st_mode & 0o777, Path(path).read_text()))

    monkeypatch.setattr("webbrowser.open", open_and_read)
    args = ["label", data, "--target", "y", "-b", "4", "--device", "cpu"]
    thread = threading.Thread(target=lambda: status.append(main(args)))
    thread.start()
    deadline = time.monotonic() + 60
    while not (servers and servers[0].server.started) and time.monotonic() < deadline:
        time.sleep(0.02)
    server = servers[0]
    try:
        assert server.url.startswith("http://127.0.0.1:")
        # The browser's command line, which every user of the machine can read, holds a
        # file of this user's only, which sends it on to the URL; not the token.
        [(uri, mode, text)] = opened
        assert uri.startswith("file://") and server.token not in uri and mode == 0o600
        assert f'url={html.escape(server.url)}"' in text
        with urllib.request.urlopen(server.url, timeout=30) as response:
            assert b"skbait label" in response.read()
        # A second page on the same campaign is refused while this one runs.
        assert main(["label", data, "--no-browser"]) == 2
        server.session.wait(60)
        view = server.session.view(TAB_A)
        server.session.label(TAB_A, view["row"]["row"], "pos")
    finally:
        server.server.should_exit = True
        thread.join(60)
    assert status == [0]
    out = capsys.readouterr().out
    assert server.url in out
    assert f"skbait teach {data} {server.session.answers_path}" in out
    assert not os.path.exists(urllib.request.url2pathname(urllib.parse.urlsplit(uri).path))


def test_a_campaign_with_every_row_labeled_is_finished(tmp_path):
    data, frame = make_pool(tmp_path, n=6, labeled=2)
    live = Live(data)
    live.wait_idle()
    try:
        view = live.state(TAB_A)
        while view["row"] is not None:
            _, _, view = label_row(live, TAB_A, view)
        live.wait_idle()
        view = live.state(TAB_A)
        assert view["finished"] and view["row"] is None and view["n_labeled"] == 6
        assert read_labels(data) == {i: truth(a) for i, a in enumerate(frame["a"])}
    finally:
        live.close()


def test_a_regression_campaign_takes_numbers(tmp_path):
    data, frame = make_pool(tmp_path, labeled=0)
    frame["y"] = ""
    frame.loc[:5, "y"] = [str(v) for v in (frame["a"][:6] * 2.5).round(2)]
    frame.to_csv(data, index=False)
    live = Live(data, options={"batch_size": 4, "device": "cpu", "task": "regression"})
    live.wait_idle()
    try:
        view = live.state(TAB_A)
        assert view["classes"] == [] and view["task"] == "regression"
        assert view["accuracy"]["metric"] == "r2"
        row = view["row"]["row"]
        status, _ = live.call("/api/label", {"tab": TAB_A, "row": row, "label": "big"})
        assert status == 422
        view = live.post("/api/label", tab=TAB_A, row=row, label="1.25")
        assert live.session._pending == {row: "1.25"}
    finally:
        live.close()


def test_a_regression_estimate_is_shown_to_four_significant_digits(tmp_path):
    # "Model says: -1.8728629686338512" gave the annotator sixteen digits no one
    # labels to; the estimate is the model's, rounded to four significant digits.
    data, frame = make_pool(tmp_path, labeled=0)
    frame["y"] = ""
    frame.loc[:7, "y"] = [repr(v) for v in frame["a"][:8] * 2.5 + 1 / 3]
    frame.to_csv(data, index=False)
    live = Live(data, options={"batch_size": 4, "device": "cpu", "task": "regression"})
    live.wait_idle()
    try:
        state = read_campaign(live.session.campaign)
        table = _bridge.read_table(live.session.data)
        X = _bridge.feature_matrix(table, state["data"]["features"])
        rows = [e["row"] for e in state["labels"]]
        y = [float(e["label"]) for e in state["labels"]]
        model = _bridge.make_model(state, "regression")[1].fit(X[rows], y)
        for row in live.session._batch:
            shown = live.session._analysis["predictions"][row]["label"]
            digits = shown.lstrip("-").replace(".", "").lstrip("0")
            assert len(digits) <= 4 and "e" not in shown, shown
            exact = model.predict(X[[row]])[0]
            assert float(shown) == pytest.approx(exact, rel=5e-4, abs=1e-12), (shown, exact)
    finally:
        live.close()


def test_the_first_values_of_a_regression_campaign_are_numbers(tmp_path):
    # Before its first label the campaign's label type is unknown: text or an infinity
    # was kept as a row's value, and the merge then refused the whole batch.
    data, _ = make_pool(tmp_path, labeled=0)
    live = Live(data, options={"batch_size": 2, "device": "cpu", "task": "regression"})
    live.wait_idle()
    try:
        assert live.session._label_type() is None
        view = live.state(TAB_A)
        row = view["row"]["row"]
        for label in ("big", "inf", "1e999"):
            status, payload = live.call("/api/label", {"tab": TAB_A, "row": row, "label": label})
            assert status == 422 and "not a number" in payload["error"], (label, payload)
        assert not os.path.exists(live.session.answers_path)
        view = live.post("/api/label", tab=TAB_A, row=row, label="2")
        live.post("/api/label", tab=TAB_A, row=view["row"]["row"], label="-1.5")
        live.wait_idle()
        assert live.session._job["error"] is None
        assert sorted(read_labels(data).values()) == ["-1.5", "2"]
    finally:
        live.close()


def test_a_number_typed_with_a_thousands_separator_says_to_type_it_without(tmp_path):
    # In DATA of decimal points, "1,000" is refused with the way to type it, not read as
    # 1.000 and not blamed on the decimal mark.
    data, frame = make_pool(tmp_path, labeled=0)
    frame.loc[:5, "y"] = [str(v) for v in (frame["a"][:6] * 2.5).round(2)]
    frame.to_csv(data, index=False)
    live = Live(data, options={"batch_size": 2, "device": "cpu", "task": "regression"})
    live.wait_idle()
    try:
        row = live.state(TAB_A)["row"]["row"]
        status, payload = live.call("/api/label", {"tab": TAB_A, "row": row, "label": "1,000"})
        assert status == 422, payload
        assert "thousands separator: type the number without it (1000)" in payload["error"]
        assert not os.path.exists(live.session.answers_path)
    finally:
        live.close()


def test_a_value_typed_with_the_decimal_comma_of_data_is_a_number(tmp_path):
    # A semicolon file writes 2,5 for 2.5: so may the person labeling it, as a
    # spreadsheet or `skbait teach` with an answer file in DATA's dialect would.
    data, frame = make_pool(tmp_path, labeled=0)
    frame["y"] = [str(v).replace(".", ",") for v in (frame["a"] * 2.5).round(2)]
    frame.loc[6:, "y"] = ""
    frame = frame.drop(columns=["html", "note"])
    frame["a"] = frame["a"].astype(str).str.replace(".", ",")
    frame.to_csv(data, index=False, sep=";")
    live = Live(data, options={"batch_size": 2, "device": "cpu", "task": "regression"})
    live.wait_idle()
    try:
        assert live.session._label_type() == "float"
        view = live.state(TAB_A)
        first = view["row"]["row"]
        view = live.post("/api/label", tab=TAB_A, row=first, label="2,5")
        second = view["row"]["row"]
        status, payload = live.call("/api/label", {"tab": TAB_A, "row": second, "label": "2,5,1"})
        assert status == 422 and "not a number" in payload["error"], payload
        live.post("/api/label", tab=TAB_A, row=second, label="-1,25")
        assert live.session._pending == {first: "2.5", second: "-1.25"}
        live.wait_idle()
        assert live.session._job["error"] is None
    finally:
        live.close()
    labels = pd.read_csv(data, sep=";", dtype=str, keep_default_na=False)["y"]
    assert (labels[first], labels[second]) == ("2,5", "-1,25")


def test_a_semicolon_data_of_decimal_points_gets_the_page_labels_with_points(tmp_path):
    # pandas and R's write.csv2(dec=".") write ';' with decimal points: the page's labels
    # reach DATA as 2.5 beside the others, and its answer file, re-saved by a European
    # spreadsheet, takes its labels' decimal commas.
    data, frame = make_pool(tmp_path, labeled=0)
    frame["y"] = [str(v) for v in (frame["a"] * 2.5).round(2)]
    frame.loc[6:, "y"] = ""
    frame = frame.drop(columns=["html", "note"])
    frame.to_csv(data, index=False, sep=";")
    live = Live(data, options={"batch_size": 2, "device": "cpu", "task": "regression"})
    live.wait_idle()
    try:
        view = live.state(TAB_A)
        first = view["row"]["row"]
        status, payload = live.call("/api/label", {"tab": TAB_A, "row": first, "label": "2,5"})
        assert status == 422 and "with a point ('2.5')" in payload["error"], payload
        with open(live.session.answers_path, "w", encoding="utf-8") as handle:
            handle.write("row;y\n")  # as a European spreadsheet re-saved it, empty
        view = live.post("/api/label", tab=TAB_A, row=first, label="2.5")
        with open(live.session.answers_path, encoding="utf-8") as handle:
            assert handle.read() == f"row;y\n{first};2,5\n"  # integers only: ';' writes 2,5
        assert live.session.journal.read() == {first: "2.5"}
        second = view["row"]["row"]
        live.post("/api/label", tab=TAB_A, row=second, label="-1.25")
        live.wait_idle()
        assert live.session._job["error"] is None
    finally:
        live.close()
    labels = pd.read_csv(data, sep=";")["y"]
    assert (labels[first], labels[second]) == (2.5, -1.25)
    with open(data, encoding="utf-8") as handle:
        assert ",5" not in handle.read()


@pytest.mark.parametrize(
    "content, expected",
    [
        ("row;y\n3;2,5\n", "3;2,5\n4;3,75\n"),  # re-saved by European Excel
        ("row;y\n3;2.5\n", "3;2.5\n4;3.75\n"),  # re-saved by pandas
        ("row;y\n3;2\n", "3;2\n4;3,75\n"),  # integers: a ';' file's commas
    ],
)
def test_page_answer_file_writes_numbers_with_its_mark(tmp_path, content, expected):
    path = tmp_path / "answers.csv"
    path.write_text(content, encoding="utf-8")
    journal = AnswerJournal(path, "y", numbers=lambda: True)
    journal.append(4, "3.75")
    assert path.read_text().split("\n", 1)[1] == expected
    assert journal.read() == {3: content.split(";")[-1].strip().replace(",", "."), 4: "3.75"}
    journal.rewrite(journal.read())
    assert path.read_text().split("\n", 1)[1] == expected


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("mode", [0o600, 0o660])
def test_page_answer_file_keeps_its_permissions_when_rewritten(tmp_path, mode):
    # An undo rewrites the answer file: one kept private (0600) became readable by every
    # user of the machine, one shared with a group (0660) no longer writable by it.
    path = tmp_path / "answers.csv"
    journal = AnswerJournal(path, "y")
    journal.append(3, "pos")
    journal.append(4, "neg")
    os.chmod(path, mode)
    journal.rewrite({3: "pos"})
    assert os.stat(path).st_mode & 0o777 == mode
    assert journal.read() == {3: "pos"}
    # The copy a merge reads, beside it, is no more readable than the answer file.
    merging = tmp_path / "answers.csv.merging.csv"
    journal.snapshot({3: "pos"}, merging)
    assert os.stat(merging).st_mode & 0o777 == mode


def test_page_answer_file_keeps_text_labels_as_they_are(tmp_path):
    # A text class 1,5 is no number: it is neither rewritten nor read as 1.5.
    path = tmp_path / "answers.csv"
    path.write_text("row;y\n3;1,5\n", encoding="utf-8")
    journal = AnswerJournal(path, "y", numbers=lambda: False)
    journal.append(4, "2.5")
    assert journal.read() == {3: "1,5", 4: "2.5"}


def test_integer_classes_are_one_class_however_data_spells_them(tmp_path):
    # A semicolon file with a decimal comma and NA for blanks, its labels spelt as a
    # spreadsheet or R might: the campaign reads them as the integers 0 and 1, and so
    # does the page (its journal keeps values, DATA keeps texts).
    data, frame = make_pool(tmp_path, labeled=0)
    classes = (frame["a"] > 0).astype(int).astype(str)
    frame["y"] = "NA"
    frame.loc[:3, "y"] = [classes[0], classes[1], classes[2] + ".0", classes[3] + ",0"]
    frame = frame.drop(columns=["html", "note"])
    frame.to_csv(data, index=False, sep=";")
    live = Live(data)
    live.wait_idle()
    try:
        assert live.session._job["error"] is None
        view = live.state(TAB_A)
        counts = Counter(classes[:4])
        assert view["classes"] == [{"label": c, "count": counts[c]} for c in ("0", "1")]
        assert view["label_type"] == "int" and view["task"] == "classification"
        assert view["n_labeled"] == 4
        assert view["row"]["prediction"]["label"] in ("0", "1")
        row = view["row"]["row"]
        # "NA" would reach DATA as a blank: refused, not lost.
        status, payload = live.call("/api/label", {"tab": TAB_A, "row": row, "label": "NA"})
        assert status == 422 and "missing value" in payload["error"], payload
        view = live.post("/api/label", tab=TAB_A, row=row, label=classes[row] + ".0")
        assert live.session._pending == {row: classes[row]}
        while view["row"] is not None and view["row"]["status"] == "to label":
            r = view["row"]["row"]
            view = live.post("/api/label", tab=TAB_A, row=r, label=classes[r])
        live.wait_idle()
        assert live.session._job["error"] is None
        state = read_campaign(live.session.campaign)
        assert all(isinstance(e["label"], int) for e in state["labels"])
        assert {e["row"]: str(e["label"]) for e in state["labels"]} == {
            r: classes[r] for r in live.session._recorded
        }
        with open(data, encoding="utf-8") as handle:
            header, rest = handle.readline(), handle.read()
        assert ";" in header and "NA" in rest  # DATA kept its dialect
    finally:
        live.close()
    # A label retracted in the campaign is no longer a label on the page.
    correct_label(data, 0, retract=True)
    again = LabelSession(data).check()
    assert 0 not in again._recorded and 0 not in again._data_labels
    assert not again._is_labeled(0)


def test_a_number_spelt_otherwise_is_the_known_class_of_a_text_campaign(tmp_path):
    # A text campaign with the class "1": the merge reads "1.0" as that class, but the
    # page asked about it as a new class close to "1", with a keep option.
    data, frame = make_pool(tmp_path, labeled=0)
    frame.loc[:3, "y"] = ["1", "cat", "1", "cat"]
    frame.to_csv(data, index=False)
    live = Live(data)
    live.wait_idle()
    try:
        view = live.state(TAB_A)
        assert view["label_type"] == "str"
        row = view["row"]["row"]
        view = live.post("/api/label", tab=TAB_A, row=row, label="1.0")
        assert live.session._pending == {row: "1"}  # in the campaign's spelling
        assert [c["label"] for c in view["classes"]] == ["1", "cat"]
    finally:
        live.close()


def test_the_query_options_of_a_hardened_campaign_reach_it(tmp_path):
    # --classes, --stop and --na-values, as skbait query takes them.
    data, frame = make_pool(tmp_path)
    frame.loc[2:, "y"] = "?"
    frame.to_csv(data, index=False)
    options = {
        "batch_size": 4,
        "device": "cpu",
        "classes": ["neg", "pos", "unsure"],
        "stop": "max_confidence=0.8",
        "na_values": ["?"],
    }
    live = Live(data, options=options)
    live.wait_idle()
    try:
        assert live.session._job["error"] is None
        settings = read_campaign(live.session.campaign)["settings"]
        assert settings["classes"] == ["neg", "pos", "unsure"] and settings["na_values"] == ["?"]
        view = live.state(TAB_A)
        assert view["n_labeled"] == 2  # "?" is a blank
        assert [c["label"] for c in view["classes"]] == ["neg", "pos", "unsure"]
        assert [(c["name"], c["rule"]) for c in view["stopping"]] == [
            ("max confidence", "stop when >= 0.8")
        ]
        row = view["row"]["row"]
        for bad in ("maybe", "?"):
            status, payload = live.call("/api/label", {"tab": TAB_A, "row": row, "label": bad})
            assert status == 422, (bad, payload)
        assert (
            "declared classes"
            in live.call("/api/label", {"tab": TAB_A, "row": row, "label": "maybe"})[1]["error"]
        )
        view = live.post("/api/label", tab=TAB_A, row=row, label="unsure")
        while view["row"] is not None and view["row"]["status"] == "to label":
            _, _, view = label_row(live, TAB_A, view)
        live.wait_idle()
        assert live.session._job["error"] is None and read_labels(data)[row] == "unsure"
    finally:
        live.close()


def test_declared_classes_keep_their_order_on_the_page(tmp_path):
    # Thirty findings given with --classes, the most frequent first: the page sorted
    # them by name, so the keys 1 to 9 went to whichever came first in the alphabet.
    data, _ = make_pool(tmp_path)
    declared = ["pos", "unsure", "neg"] + [f"finding {k}" for k in range(27, 0, -1)]
    live = Live(data, options={"batch_size": 4, "device": "cpu", "classes": declared})
    live.wait_idle()
    try:
        view = live.state(TAB_A)
        assert [c["label"] for c in view["classes"]] == declared
        assert {c["label"]: c["count"] for c in view["classes"]}["neg"] == 1
        row = view["row"]["row"]
        view = live.post("/api/label", tab=TAB_A, row=row, label=declared[0])
        assert [c["label"] for c in view["classes"]] == declared
    finally:
        live.close()


def test_the_command_passes_the_query_options(monkeypatch):
    from skbait._cli import main
    from skbait.label import _session

    made = []

    class Stop(Exception):
        pass

    def fake_check(self):
        made.append(self)
        raise Stop

    monkeypatch.setattr(_session.LabelSession, "check", fake_check)
    # Let the stand-in's exception through the command's catch-all error line.
    monkeypatch.setenv("SKBAIT_DEBUG", "1")
    args = ["label", "d.csv", "--id", "key", "--exclude", "a, b", "--classes", "x,y"]
    args += ["--stop", "none", "--na-values", "?,-", "--no-browser"]
    with pytest.raises(Stop):
        main(args)
    assert {k: v for k, v in made[0].options.items() if v is not None} == {
        "id_column": "key",
        "exclude": ["a", "b"],
        "classes": ["x", "y"],
        "stop": "none",
        "na_values": ["?", "-"],
    }


def _session(data, **options):
    options.setdefault("target", "y")
    options.setdefault("options", {"batch_size": 4, "device": "cpu"})
    session = LabelSession(data, **options)
    session.start()
    assert session.wait(120)
    return session


def test_an_undo_during_the_pause_keeps_the_batch_open(tmp_path):
    data, _ = make_pool(tmp_path)
    session = _session(data, refit_delay=3.0)
    before = read_labels(data)
    view = session.view(TAB_A)
    rows = []
    while view["row"] is not None and view["row"]["status"] == "to label":
        rows.append(view["row"]["row"])
        view = session.label(TAB_A, rows[-1], "pos")
    assert session.view(TAB_A)["job"]["stage"] == "waiting"
    view = session.undo(TAB_A)
    assert view["row"]["row"] == rows[-1]
    assert session.wait(60)
    assert not session._job["running"] and session._job["error"] is None
    assert read_labels(data) == before  # nothing merged: the batch is open again
    assert AnswerJournal(session.answers_path, "y").read() == {r: "pos" for r in rows[:-1]}


@pytest.mark.parametrize("where", ["choosing the batch", "fitting the page's model"])
def test_labels_given_while_the_refit_fails_are_kept_through_a_retry_and_a_restart(
    tmp_path, monkeypatch, where
):
    """The round after a batch fails in its model (the query's, or the page's own fit):
    every label given, before and after the failure, reaches DATA, on a retry and after
    a restart of the page."""
    import skbait.label._session as session_module

    data, frame = make_pool(tmp_path)
    session = _session(data, refit_delay=0.0)

    def crash(*args, **kwargs):
        raise RuntimeError("the model crashed")

    if where == "choosing the batch":
        monkeypatch.setattr(_bridge, "query", crash)
    else:
        monkeypatch.setattr(session_module, "analyse", crash)

    def label_batch():
        given, view = {}, session.view(TAB_A)
        while view["row"] is not None and view["row"]["status"] == "to label":
            row = view["row"]["row"]
            given[row] = truth(frame["a"][row])
            view = session.label(TAB_A, row, given[row])
        assert session.wait(60)
        return given

    given = label_batch()
    assert "the model crashed" in session.view(TAB_A)["job"]["error"]
    given.update(label_batch())  # the rows still served (the new batch, if it came)
    on_disk = {**read_labels(data), **AnswerJournal(session.answers_path, "y").read()}
    assert all(on_disk.get(row) == label for row, label in given.items())
    monkeypatch.undo()
    session.retry()
    assert session.wait(60) and session._job["error"] is None
    given.update(label_batch())
    restarted = _session(data, refit_delay=0.0)
    assert restarted._job["error"] is None
    labels = read_labels(data)
    assert all(labels.get(row) == label for row, label in given.items())
    assert len(labels) == 2 + len(given)


@pytest.mark.parametrize("point", ["replace:pool.csv", "replace:pool.csv.campaign.json"])
def test_a_page_killed_in_its_merge_keeps_every_label_on_restart(tmp_path, monkeypatch, point):
    """Killed with DATA written and the campaign not (or both written, the answer file
    not yet emptied): a restarted page records every label once and goes on."""
    import skbait.campaign._files as files_module

    class Killed(BaseException):  # as SIGKILL: nothing of the page runs after it
        pass

    data, frame = make_pool(tmp_path)
    session = _session(data, refit_delay=0.0)
    checkpoint = files_module._checkpoint

    def kill(name):
        checkpoint(name)
        if name == point:
            raise Killed

    monkeypatch.setattr(files_module, "_checkpoint", kill)
    monkeypatch.setattr(threading, "excepthook", lambda args: None)
    given, view = {}, session.view(TAB_A)
    while view["row"] is not None and view["row"]["status"] == "to label":
        row = view["row"]["row"]
        given[row] = truth(frame["a"][row])
        view = session.label(TAB_A, row, given[row])
    assert session.wait(60) and session._job["running"]  # its thread died mid-merge
    monkeypatch.undo()
    restarted = _session(data, refit_delay=0.0)
    assert restarted._job["error"] is None and restarted._round == 1
    labels = read_labels(data)
    assert all(labels.get(row) == label for row, label in given.items())
    journal = read_campaign(restarted.campaign)["labels"]
    assert sorted(e["row"] for e in journal) == sorted([0, 1, *given])
    assert AnswerJournal(restarted.answers_path, "y").read() == {}


def test_session_refusals(tmp_path):
    data, frame = make_pool(tmp_path)
    session = _session(data, refit_delay=30.0)
    for tab in ("short", "x" * 65, "tab-é-aaaaaa", None):
        with pytest.raises(Exception, match="tab id"):
            session.view(tab)
    view = session.view(TAB_A)
    row = view["row"]["row"]
    for bad in ("3", 2.0, True, None):
        with pytest.raises(Exception, match="integer"):
            session.label(TAB_A, bad, "pos")
    # A label that is no text nor number (JSON null, true, an object) is refused, not
    # saved as the text "None" or "True".
    for bad in (None, True, {"label": "pos"}):
        with pytest.raises(Exception, match="a label is a text") as refused:
            session.label(TAB_A, row, bad)
        assert refused.value.status == 422
    assert session._pending == {} and not os.path.exists(session.answers_path)
    with pytest.raises(Exception, match="already labeled in DATA"):
        session.label(TAB_A, 0, "pos")
    outside = next(r for r in range(len(frame)) if r not in session._batch and r > 1)
    with pytest.raises(Exception, match="not in this batch"):
        session.label(TAB_A, outside, "pos")
    with pytest.raises(Exception, match="first row"):
        session.move(TAB_A, -1)
    # Next past the end skips; every row skipped and none labeled: they come back.
    seen = [row]
    for _ in range(3):
        seen.append(session.move(TAB_A, 1)["row"]["row"])
    assert sorted(seen) == sorted(session._batch)
    view = session.move(TAB_A, 1)
    assert view["row"]["row"] == seen[0] and view["row"]["status"] == "to label"
    # Back to the row before (offered again too, so no longer skipped), then on again.
    view = session.move(TAB_A, -1)
    assert view["row"]["row"] == seen[3] and view["row"]["status"] == "to label"
    assert session._leases[seen[3]][0] == TAB_A
    view = session.move(TAB_A, 1)
    assert view["row"]["row"] == seen[0]
    # A retry while a round is under way is refused.
    for r in session._batch:
        session._pending[r] = "pos"
    session._maybe_refit()
    with pytest.raises(Exception, match="already being chosen"):
        session.retry()


def test_check_reports_what_cannot_be_served(tmp_path):
    data, _ = make_pool(tmp_path)
    session = _session(data)
    with pytest.raises(_bridge.CampaignError, match="labels column 'y', not 'a'"):
        LabelSession(data, target="a").check()
    # A stale merge file goes; labels already in the campaign leave the answer file.
    journal = AnswerJournal(session.answers_path, "y")
    journal.rewrite({0: "pos", 5: "neg"})
    stale = session.answers_path + ".merging.csv"
    journal.snapshot({5: "neg"}, stale)
    again = LabelSession(data).check()
    assert again._pending == {5: "neg"}
    assert journal.read() == {0: "pos", 5: "neg"} and os.path.exists(stale)  # check writes nothing
    again._tidy_answers()  # what start() does, as the page serving the campaign
    assert again._pending == {5: "neg"} and journal.read() == {5: "neg"}
    assert not os.path.exists(stale)
    (tmp_path / os.path.basename(session.answers_path)).write_text("row,other\n")
    with pytest.raises(_bridge.CampaignError, match="not the page's answer file"):
        LabelSession(data).check()


def test_the_merge_waits_for_the_campaign_lock(tmp_path):
    import time

    data, _ = make_pool(tmp_path)
    session = _session(data, refit_delay=0.0)
    before = read_labels(data)
    held, release = threading.Event(), threading.Event()

    def another_writer():  # as skbait teach would, in another thread or process
        with _bridge.campaign_lock(session.data):
            held.set()
            release.wait(60)

    writer = threading.Thread(target=another_writer)
    writer.start()
    assert held.wait(30)
    try:
        view = session.view(TAB_A)
        while view["row"] is not None and view["row"]["status"] == "to label":
            view = session.label(TAB_A, view["row"]["row"], "pos")
        deadline = time.monotonic() + 30
        # The page says why the round does not move on, where it waited without a word.
        waiting = "writing the labels to DATA (waiting for another skbait command working on "
        while not session._job["stage"].startswith(waiting):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(0.5)
        assert read_labels(data) == before and session._job["running"]
    finally:
        release.set()
        writer.join(30)
    assert session.wait(120)
    assert len(read_labels(data)) == len(before) + 4


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_ctrl_c_stops_the_command_and_names_the_saved_labels(tmp_path, signame):
    # SIGTERM (kill, a service manager) stops it as Ctrl-C does: uvicorn raised it
    # again with its default action, which killed the process (status -15) unannounced.
    import signal
    import subprocess
    import sys
    import urllib.request

    data, _ = make_pool(tmp_path)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    process = subprocess.Popen(
        [sys.executable, "-m", "skbait", "label", data, "--target", "y", "-b", "4"]
        + ["--device", "cpu", "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=root,
    )
    try:
        assert process.stdout.readline().startswith("skbait: labeling pool.csv at")
        url = process.stdout.readline().strip()
        token = url.split("token=")[1]
        base = url.split("/?")[0]
        tab = "tab-subprocess"
        for _ in range(600):
            request = urllib.request.Request(
                f"{base}/api/state?tab={tab}", headers={"X-Skbait-Token": token}
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                view = json.loads(response.read())
            if view["row"] is not None:
                break
            time.sleep(0.1)
        body = json.dumps({"tab": tab, "row": view["row"]["row"], "label": "pos"}).encode()
        request = urllib.request.Request(
            f"{base}/api/label",
            data=body,
            headers={"X-Skbait-Token": token, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
    finally:
        process.send_signal(getattr(signal, signame))
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "1 label(s) of the unfinished batch are saved in" in out
    assert "Traceback" not in err


def test_the_browser_gets_the_url_itself_where_no_private_file_can_be_written(
    tmp_path, monkeypatch
):
    from skbait.label._cli import _open_in_browser

    opened = []
    monkeypatch.setattr("webbrowser.open", opened.append)
    assert _open_in_browser("http://127.0.0.1:1/?token=t", str(tmp_path / "no-such")) is None
    assert opened == ["http://127.0.0.1:1/?token=t"]


@pytest.mark.skipif(os.name != "posix", reason="kills a process with SIGKILL")
def test_a_temporary_left_by_a_killed_rewrite_is_removed_at_the_next_start(tmp_path):
    # A page killed inside AnswerJournal.rewrite left its ".skbait-*.csv" temporary
    # beside the answer file, and no later start removed it.
    import subprocess
    import sys

    data, _ = make_pool(tmp_path)
    answers = LabelSession(data, target="y").answers_path
    killed = (
        "import os, signal, sys\n"
        "from skbait.label import _journal\n"
        "journal = _journal.AnswerJournal(sys.argv[1], 'y')\n"
        "journal.append(5, 'pos')\n"
        "_journal.os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n"
        "journal.rewrite({5: 'neg'})\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = subprocess.run([sys.executable, "-c", killed, answers], env=env, check=False)
    assert run.returncode != 0
    left = [name for name in os.listdir(tmp_path) if name.startswith(".")]
    assert len(left) == 1, left
    # A page that does not serve the campaign (check only) leaves it alone.
    LabelSession(data, target="y", options={"device": "cpu"}).check()
    assert left[0] in os.listdir(tmp_path)
    live = Live(data)
    try:
        live.wait_idle()
        assert not [name for name in os.listdir(tmp_path) if name.startswith(".")]
        assert AnswerJournal(answers, "y").read() == {5: "pos"}
    finally:
        live.close()


def test_a_label_longer_than_the_limit_is_refused(live):
    from skbait.label._session import MAX_LABEL_LENGTH

    view = live.state(TAB_A)
    row = view["row"]["row"]
    status, payload = live.call("/api/label", {"tab": TAB_A, "row": row, "label": "x" * 15_000})
    assert status == 422 and f"{MAX_LABEL_LENGTH} characters" in payload["error"]
    assert not os.path.exists(live.session.answers_path)
    status, payload = live.call(
        "/api/label", {"tab": TAB_A, "row": row, "label": "x" * (MAX_LABEL_LENGTH + 1)}
    )
    assert status == 422
    # The page's own limit is the same one.
    status, page = live.call(f"/?token={live.token}", token=None)
    assert f'maxlength="{MAX_LABEL_LENGTH}"'.encode() in page
    # Each label of a label set too.
    status, payload = live.call(
        "/api/label", {"tab": TAB_A, "row": row, "labels": ["ok", "x" * 15_000]}
    )
    assert status == 422 and f"{MAX_LABEL_LENGTH} characters" in payload["error"]
    assert live.post("/api/label", tab=TAB_A, row=row, label="y" * MAX_LABEL_LENGTH)
    assert AnswerJournal(live.session.answers_path, "y").read() == {row: "y" * MAX_LABEL_LENGTH}
