"""The labeling page's web application (Starlette): the page, its assets and its API.

Every request must carry the server's token: the page and the files it loads
(assets, images) in the ``token`` query parameter of their URL, the API calls
the page's script makes in the ``X-Skbait-Token`` header. There is no cookie,
so another site open in the same browser cannot act for the user; a request
whose ``Origin`` is another site's is refused, and so, on a loopback server, is
one whose ``Host`` is not a name of this machine (a DNS-rebinding site). Bodies are
bounded (:data:`MAX_BODY` bytes), and every answer forbids the browser to run
anything but the page's own script (a Content-Security-Policy) or to send the
token to another site in a Referer.
"""

import ipaddress
import json
import secrets
import socket
from importlib import resources
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from skbait.label._session import MAX_LABEL_LENGTH, Refused

__all__ = ["MAX_BODY", "TOKEN_HEADER", "create_app", "is_loopback", "loopback_address"]

MAX_BODY = 16 * 1024
TOKEN_HEADER = "x-skbait-token"
ASSETS = {"app.js": "text/javascript", "style.css": "text/css"}
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        b"img-src 'self' http: https:; base-uri 'none'; form-action 'none'; "
        b"frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    # frame-ancestors' older spelling, for browsers that know no CSP level 2.
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


def is_loopback(host):
    """Whether the name ``host`` (a ``Host`` header's) names this machine only.

    ``localhost`` in any case, or a loopback address in any spelling: 127.0.0.0/8
    (``127.1`` too), ``::1``, ``::ffff:127.0.0.1``. Read from the text alone,
    never resolved: a site's own name resolving to 127.0.0.1 is what DNS
    rebinding uses, and is not this machine's name. Where the server listens is
    decided by its bound address instead (:func:`skbait.label._server.bound_to_loopback`).
    """
    if host.rstrip(".").lower() == "localhost":
        return True
    try:
        return loopback_address(ipaddress.ip_address(host))
    except ValueError:
        pass
    # IPv4's short forms (127.1), as socket.inet_aton reads them: digits and dots only.
    if not host or host.strip("0123456789.") or host.startswith("."):
        return False
    try:
        return ipaddress.ip_address(socket.inet_aton(host)).is_loopback
    except OSError:
        return False


def loopback_address(address):
    """Whether an :class:`ipaddress` address is loopback, an IPv4-mapped IPv6 one too."""
    return (getattr(address, "ipv4_mapped", None) or address).is_loopback


def _host_name(host):
    """The host name of a ``Host`` header (``"[::1]:8000"``: ``"::1"``), or "" when it
    names none (``"[zz]"``, ``"[::1"``)."""
    try:
        return urlsplit("//" + host).hostname or ""
    except ValueError:
        return ""


def _asset(name):
    return (resources.files("skbait.label") / "static" / name).read_bytes()


class _Guard:
    """ASGI middleware: the token on every request, bounded bodies, security headers.

    ``local``: the server listens on loopback only, so a request naming any
    other host in its ``Host`` header came through a name some site pointed at
    127.0.0.1 (DNS rebinding), and is refused.
    """

    def __init__(self, app, token, local=True):
        self.app = app
        self.token = token.encode()
        self.local = local

    def _foreign(self, scope):
        """Why the request comes from another site (its Host or Origin), or None."""
        headers = dict(scope.get("headers") or ())
        host = headers.get(b"host", b"").decode("latin-1")
        if self.local and host and not is_loopback(_host_name(host)):
            return f"this page answers to this machine's own names only, not to {host!r}."
        origin = headers.get(b"origin")
        # A browser names the page's origin in its POSTs; another site's (or "null") is
        # a cross-site request.
        if origin is not None and origin.decode("latin-1") != f"http://{host}":
            return "requests from another site are refused."
        return None

    def _authorised(self, scope):
        from urllib.parse import parse_qs

        given = dict(scope.get("headers") or ()).get(TOKEN_HEADER.encode())
        api = scope["path"].startswith("/api/") and scope["path"] != "/api/image"
        if given is None and not api:
            # The page, its assets and its images: the token is in their URL.
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            values = query.get("token")
            given = values[0].encode() if values else None
        return given is not None and secrets.compare_digest(given, self.token)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            # The page uses none; refused before the app sees it, so that no route added
            # later is reached without the token.
            return await send({"type": "websocket.close", "code": 1008})
        if scope["type"] != "http":
            return await self.app(scope, receive, send)  # lifespan

        async def secured(message):
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        foreign = self._foreign(scope)
        if foreign is not None:
            response = JSONResponse({"error": foreign}, status_code=403)
            return await response(scope, receive, secured)
        if not self._authorised(scope):
            response = JSONResponse(
                {"error": "this page needs the token printed by skbait label (open its URL)."},
                status_code=403,
            )
            return await response(scope, receive, secured)
        length = dict(scope.get("headers") or ()).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            response = JSONResponse({"error": "request body too large."}, status_code=413)
            return await response(scope, receive, secured)
        return await self.app(scope, receive, secured)


async def _json(request):
    """The request's JSON object, read up to MAX_BODY bytes.

    Sent as ``application/json`` only: the types a form of another site may post
    without the browser asking first (``text/plain``, form encodings) are refused.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise Refused(
            415,
            f"send the request body as JSON (Content-Type: application/json), "
            f"not {kind or 'no content type'}.",
        )
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise Refused(413, "request body too large.")
    try:
        value = json.loads(body or b"{}")
        # JSON may spell a lone surrogate ("\ud800"), which no UTF-8 file can hold.
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except RecursionError:
        raise Refused(400, "the request body is nested too deeply.") from None
    except UnicodeEncodeError:
        raise Refused(
            400, "the request body holds a lone surrogate (such as \\ud800), which is no text."
        ) from None
    except ValueError:
        raise Refused(400, "the request body is not JSON.") from None
    if not isinstance(value, dict):
        raise Refused(400, "the request body is not a JSON object.")
    return value


def _answer(call):
    try:
        return JSONResponse(call())
    except Refused as exc:
        return JSONResponse({"error": exc.message, **exc.extra}, status_code=exc.status)


def create_app(session, token, local=True):
    """The Starlette application serving ``session``, guarded by ``token``.

    Parameters
    ----------
    session : skbait.label._session.LabelSession
    token : str
        The secret every request must carry.
    local : bool, default=True
        The server listens on loopback only: requests must name this machine
        (``localhost`` or a loopback address) in their ``Host`` header.

    Returns
    -------
    ASGI application
    """
    page = (
        _asset("index.html")
        .decode("utf-8")
        .replace("__TOKEN__", token)
        .replace("__MAX_LABEL_LENGTH__", str(MAX_LABEL_LENGTH))
    )

    async def index(request):
        return Response(page, media_type="text/html; charset=utf-8")

    async def asset(request):
        name = request.path_params["name"]
        if name not in ASSETS:
            return JSONResponse({"error": "no such file."}, status_code=404)
        return Response(_asset(name), media_type=ASSETS[name])

    async def state(request):
        return _answer(lambda: session.view(request.query_params.get("tab", "")))

    def _post(handler):
        async def endpoint(request):
            try:
                body = await _json(request)
            except Refused as exc:
                return JSONResponse({"error": exc.message}, status_code=exc.status)
            return _answer(lambda: handler(body))

        return endpoint

    def _label(body):
        # A multi-label campaign's answer is a list of labels ("labels"; empty: none applies).
        answer = body["labels"] if "labels" in body else body.get("label", "")
        return session.label(
            body.get("tab", ""),
            body.get("row"),
            answer,
            confirm=body.get("confirm") is True,
        )

    def _retry(body):
        session.retry()
        return session.view(body.get("tab", ""))

    async def image(request):
        try:
            row = int(request.query_params.get("row", ""))
        except ValueError:
            return JSONResponse({"error": "row must be an integer."}, status_code=400)
        try:
            path = session.image_path(row, request.query_params.get("column", ""))
        except Refused as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        return FileResponse(path)

    routes = [
        Route("/", index),
        Route("/static/{name}", asset),
        Route("/api/state", state),
        Route("/api/label", _post(_label), methods=["POST"]),
        Route(
            "/api/skip",
            _post(lambda b: session.skip(b.get("tab", ""), b.get("row"))),
            methods=["POST"],
        ),
        Route("/api/undo", _post(lambda b: session.undo(b.get("tab", ""))), methods=["POST"]),
        Route(
            "/api/move",
            _post(lambda b: session.move(b.get("tab", ""), b.get("step"))),
            methods=["POST"],
        ),
        Route("/api/retry", _post(_retry), methods=["POST"]),
        Route("/api/image", image),
    ]
    app = Starlette(routes=routes)
    return _Guard(app, token, local)
