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


def test_a_store_that_times_out_or_is_gone_is_503_with_retry_after_not_500() -> None:
    import neo4j.exceptions
    import pymongo.errors

    for exc, store in ((pymongo.errors.NetworkTimeout("127.0.0.1:27018: timed out"), "MongoDB"),
                       (pymongo.errors.ServerSelectionTimeoutError("no servers"), "MongoDB"),
                       (neo4j.exceptions.ServiceUnavailable("gone"), "Neo4j")):
        body, status, headers = describe(exc)
        shape(body)
        assert status == 503 and body["error"]["code"] == "store_unavailable" and headers == {"Retry-After": "5"}
        assert store in body["error"]["message"] and "27018" not in body["error"]["message"]
