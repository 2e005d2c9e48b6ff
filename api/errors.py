"""One JSON error shape for every failure the API returns, its own and Flask's.

    {"error": {"status": 404, "code": "not_found", "message": "...", "details": {...}}}

Handlers are registered both on Flask (unknown URLs, 405s, anything raised outside a resource)
and on flask-restx (inside resources), so a client never sees an HTML page or a traceback.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import neo4j.exceptions
import pymongo.errors
from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from core.errors import CalipsoError, StoreUnavailable

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error the API answers with its own status, code and message."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        self.headers = headers or {}


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class TooManyRequests(ApiError):
    status, code = 429, "too_many_requests"


class ServiceUnavailable(ApiError):
    status, code = 503, "service_unavailable"


#: Statuses every operation may answer with, besides its own success; the OpenAPI document
#: declares them all with the error schema.
#: A store gone, or too slow to answer in time (pymongo's NetworkTimeout is a ConnectionFailure).
STORE_GONE = (pymongo.errors.ConnectionFailure, neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.SessionExpired)
ERROR_STATUSES = (400, 401, 403, 404, 405, 409, 413, 429, 500, 503)

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["status", "code", "message"],
        "properties": {"status": {"type": "integer"}, "code": {"type": "string"},
                       "message": {"type": "string"}, "details": {"type": "object"}},
    }},
}


def error_body(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"status": status, "code": code, "message": message, "details": details or {}}}


def _code_of(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def describe(exc: BaseException) -> tuple[dict[str, Any], int, dict[str, str]]:
    """(body, status, headers) for any exception raised while serving a request."""
    if isinstance(exc, ApiError):
        return error_body(exc.status, exc.code, exc.message, exc.details), exc.status, exc.headers
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        headers = {}
        if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            headers["Allow"] = ", ".join(sorted(exc.valid_methods))  # type: ignore[attr-defined]
        message = exc.description or HTTPStatus(status).phrase
        if status == 404:
            message = "no such resource: check the URL against the API document at /api/v1/swagger.json"
        return error_body(status, _code_of(status), message), status, headers
    if isinstance(exc, StoreUnavailable):
        return error_body(503, "store_unavailable", str(exc)), 503, {}
    if isinstance(exc, STORE_GONE):
        store = "MongoDB" if isinstance(exc, pymongo.errors.PyMongoError) else "Neo4j"
        return (error_body(503, "store_unavailable", f"{store} did not answer in time; try again shortly"), 503,
                {"Retry-After": "5"})
    if isinstance(exc, CalipsoError):
        # Our own errors carry a message meant for the user; they are the caller's input problems.
        return error_body(400, "bad_request", str(exc)), 400, {}
    log.exception("unexpected error while serving a request", exc_info=exc)
    return error_body(500, "internal_error", "the server failed to answer; the error is logged"), 500, {}


def json_error(exc: BaseException) -> Response:
    body, status, headers = describe(exc)
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers)
    return response


def restx_handler(exc: BaseException) -> tuple[dict[str, Any], int, dict[str, str]]:
    return describe(exc)


def register_flask_handlers(app: Flask) -> None:
    """Errors raised outside flask-restx's resources (unknown URLs, hooks) get the same shape."""
    app.register_error_handler(HTTPException, json_error)
    app.register_error_handler(Exception, json_error)
