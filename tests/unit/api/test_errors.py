"""Every failure has the one JSON error shape."""

from __future__ import annotations

from werkzeug.exceptions import MethodNotAllowed, NotFound

from api.errors import BadRequest, TooManyRequests, describe
from core.errors import CalipsoError, StoreUnavailable


def shape(body: dict) -> None:  # type: ignore[type-arg]
    assert list(body) == ["error"] and set(body["error"]) == {"status", "code", "message", "details"}


def test_own_errors_keep_status_details_and_headers() -> None:
    body, status, headers = describe(TooManyRequests("slow down", {"retry_after": 4}, {"Retry-After": "4"}))
    shape(body)
    assert status == 429 and body["error"]["code"] == "too_many_requests" and headers == {"Retry-After": "4"}
    assert body["error"]["details"] == {"retry_after": 4}
    assert describe(BadRequest("x"))[1] == 400


def test_http_errors_of_flask() -> None:
    body, status, headers = describe(MethodNotAllowed(valid_methods=["GET", "POST"]))
    shape(body)
    assert status == 405 and body["error"]["code"] == "method_not_allowed" and headers["Allow"] == "GET, POST"
    body, status, _ = describe(NotFound())
    assert status == 404 and "swagger.json" in body["error"]["message"]


def test_calipso_errors_and_surprises() -> None:
    assert describe(StoreUnavailable("MongoDB is down"))[1] == 503
    body, status, _ = describe(CalipsoError("no such clique type"))
    assert status == 400 and body["error"]["message"] == "no such clique type"
    body, status, _ = describe(KeyError("internal detail"))
    shape(body)
    assert status == 500 and "internal detail" not in body["error"]["message"]
