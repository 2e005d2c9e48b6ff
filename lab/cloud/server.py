"""Run the simulated cloud on a loopback port, in a thread, with werkzeug's threaded WSGI server."""

from __future__ import annotations

import logging
import threading

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from lab.cloud.app import DEFAULT_PASSWORD, create_app
from lab.cloud.source import WorldSource
from lab.cloud.state import EXTENSION


class _QuietHandler(WSGIRequestHandler):
    """Request handler that logs at DEBUG instead of one INFO line per request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logging.getLogger(__name__).debug('"%s" %s %s', self.requestline, code, size)


class CloudServer:
    """A running simulated cloud: its URL and port, and shutdown()."""

    def __init__(self, server: BaseWSGIServer) -> None:
        self._server = server
        self.host = server.host
        self.port = server.port
        self.url = f"http://{server.host}:{server.port}"
        self._thread = threading.Thread(target=server.serve_forever, name=f"lab-cloud-{self.port}", daemon=True)

    @property
    def requests(self) -> list[str]:
        """The requests served so far, oldest first, as "METHOD /path?query" (lab.cloud.state.CloudState)."""
        return list(self._server.app.extensions[EXTENSION].requests)  # type: ignore[attr-defined]

    @property
    def auth_url(self) -> str:
        """The Keystone URL to give openstacksdk as auth_url."""
        return f"{self.url}/identity/v3"

    def start(self) -> CloudServer:
        self._thread.start()
        return self

    def shutdown(self) -> None:
        """Stop serving, close the socket and wait for the serving thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> CloudServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()


def serve(world_source: WorldSource, host: str = "127.0.0.1", port: int = 0,
          password: str = DEFAULT_PASSWORD) -> CloudServer:
    """Start serving the cloud of world_source on host:port (0: a free port) and return the handle."""
    server = make_server(host, port, create_app(world_source, password), threaded=True,
                         request_handler=_QuietHandler)
    # Many clients keep connections open; let the process exit even while they do.
    server.daemon_threads = True  # type: ignore[attr-defined]  # threaded=True: a ThreadingMixIn server
    return CloudServer(server).start()
