"""Serve the labeling page with uvicorn, on a socket bound before the URL is printed."""

import secrets
import socket
import threading
import time

from skbait.label._app import create_app, is_loopback

__all__ = ["LabelServer", "is_loopback"]


class LabelServer:
    """A labeling page bound to ``host:port`` (port 0: any free port), with a fresh token.

    Parameters
    ----------
    session : skbait.label._session.LabelSession
    host : str, default="127.0.0.1"
    port : int, default=0
    """

    def __init__(self, session, host="127.0.0.1", port=0):
        import uvicorn

        self.session = session
        self.token = secrets.token_urlsafe(32)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.create_server((host, port), family=family)
        # Answers go out in two writes (head, body): without this, Nagle's algorithm
        # holds the body until the client's delayed ACK, some 40 ms later.
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.port = self.socket.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        self.base = f"http://{shown}:{self.port}"
        self.url = f"{self.base}/?token={self.token}"
        config = uvicorn.Config(
            create_app(session, self.token, local=is_loopback(host)),
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
