"""Serve the labeling page with uvicorn, on a socket bound before the URL is printed."""

import ipaddress
import secrets
import socket
import threading
import time

from skbait.label._app import create_app, is_loopback, loopback_address

__all__ = ["LabelServer", "bound_to_loopback", "is_loopback"]


def bound_to_loopback(sock):
    """Whether ``sock`` listens on a loopback address (as bound, whatever the host's
    spelling: ``127.1``, ``LOCALHOST``, ``::ffff:127.0.0.1``)."""
    address = sock.getsockname()[0].split("%")[0]  # an IPv6 scope (fe80::1%eth0)
    return loopback_address(ipaddress.ip_address(address))


def _bind_address(host):
    """The family and address to bind ``host`` to: an IPv4-mapped IPv6 address
    (``::ffff:127.0.0.1``), which an IPv6-only socket cannot bind, as its IPv4 one."""
    try:
        mapped = ipaddress.ip_address(host).ipv4_mapped
    except (ValueError, AttributeError):
        mapped = None
    if mapped is not None:
        return socket.AF_INET, str(mapped)
    return (socket.AF_INET6 if ":" in host else socket.AF_INET), host


class LabelServer:
    """A labeling page bound to ``host:port`` (port 0: any free port), with a fresh token.

    Parameters
    ----------
    session : skbait.label._session.LabelSession
    host : str, default="127.0.0.1"
    port : int, default=0

    Attributes
    ----------
    local : bool
        The socket is bound to a loopback address: requests must then name this
        machine in their ``Host`` header.
    app : ASGI application
        The page served.
    """

    def __init__(self, session, host="127.0.0.1", port=0):
        import uvicorn

        self.session = session
        self.token = secrets.token_urlsafe(32)
        family, address = _bind_address(host)
        self.socket = socket.create_server((address, port), family=family)
        # Answers go out in two writes (head, body): without this, Nagle's algorithm
        # holds the body until the client's delayed ACK, some 40 ms later.
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.port = self.socket.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        self.base = f"http://{shown}:{self.port}"
        self.url = f"{self.base}/?token={self.token}"
        # Decided by the address bound, not the host's spelling: on loopback, requests
        # must name this machine (the Host check against DNS rebinding).
        self.local = bound_to_loopback(self.socket)
        self.app = create_app(session, self.token, local=self.local)
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        self.server = uvicorn.Server(config)
        self._thread = None

    def serve(self):
        """Serve until interrupted (Ctrl-C) in this thread."""
        try:
            self.server.run(sockets=[self.socket])
        finally:
            self.socket.close()

    def start(self, timeout=30.0):
        """Serve in a background thread (for tests); returns once the server listens."""
        self._thread = threading.Thread(target=self.serve, name="skbait-label-http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the labeling page's server did not start.")
            time.sleep(0.01)
        return self

    def stop(self, timeout=30.0):
        """Stop a server started with :meth:`start`."""
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
