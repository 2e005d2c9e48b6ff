"""Webhook deliveries of watches: a JSON POST retried with exponential backoff against a real HTTP server
on loopback, every attempt recorded; webhook URLs are checked."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from queries.watches import WatchError, check_webhook, deliver


def _server(statuses: list[int]) -> tuple[ThreadingHTTPServer, list[dict]]:  # type: ignore[type-arg]
    """A server answering each POST with the next of `statuses` (the last one repeats)."""
    bodies: list[dict] = []  # type: ignore[type-arg]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(statuses[min(len(bodies), len(statuses)) - 1])
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, bodies


def test_a_failing_receiver_is_retried_with_backoff_until_it_accepts() -> None:
    server, bodies = _server([500, 503, 200])
    waits: list[float] = []
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        delivery = deliver(url, {"event": "degraded", "n": 1}, retries=3, backoff_s=0.5, sleep=waits.append)
    finally:
        server.shutdown()
    assert delivery.delivered and [a.get("status") for a in delivery.attempts] == [500, 503, 200]
    assert waits == [0.5, 1.0] and len(bodies) == 3 and bodies[0] == {"event": "degraded", "n": 1}


def test_an_unreachable_receiver_is_recorded_as_not_delivered() -> None:
    server, _ = _server([200])
    port = server.server_address[1]
    server.shutdown()
    server.server_close()
    delivery = deliver(f"http://127.0.0.1:{port}/hook", {"event": "recovered"}, retries=2, backoff_s=0.1,
                       sleep=lambda s: None)
    assert not delivery.delivered and len(delivery.attempts) == 3
    assert all("error" in a for a in delivery.attempts)


@pytest.mark.parametrize("url", ["ftp://example.invalid/x", "http://", "http://user:pw@127.0.0.1/hook", "hook"])
def test_bad_webhook_urls_are_refused(url: str) -> None:
    with pytest.raises(WatchError, match="webhook"):
        check_webhook(url)


def test_good_webhook_urls_pass() -> None:
    assert check_webhook("https://alerts.example.invalid/calipso?team=net") is not None
    assert check_webhook(None) is None
