"""The HTTP face: Flask application factory, flask-restx namespaces, auth, metrics.

`create_app()` builds the whole API under /api/v1 (OpenAPI document at /api/v1/swagger.json,
Swagger UI at /api/v1/docs); `calipso serve` runs it under waitress.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import Flask, g, request
from flask_restx import Api

from api.auth import Authenticator
from api.context import ApiContext
from api.errors import (
    ERROR_SCHEMA,
    ERROR_STATUSES,
    PayloadTooLarge,
    Unauthorized,
    register_flask_handlers,
    restx_handler,
)
from api.metrics import ApiMetrics
from api.ui import PUBLIC as UI_PUBLIC
from api.ui import ui
from core.settings import Settings, get_settings
from core.stores import Stores

PREFIX = "/api/v1"
#: Endpoints anyone may call: the health check, logging in, and the API's own description.
PUBLIC_ENDPOINTS = frozenset({"health_health", "auth_tokens", "specs", "doc", "root", "restx_doc.static",
                              "static"}) | UI_PUBLIC  # the web UI's page and files (its API calls need a token)


class CalipsoApi(Api):
    """flask-restx's Api, with every operation's error answers and security declared in the document."""

    @property
    def __schema__(self) -> dict[str, Any]:
        schema = copy.deepcopy(super().__schema__)
        schema.setdefault("definitions", {})["Error"] = ERROR_SCHEMA
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                if method == "parameters" or not isinstance(operation, dict):
                    continue
                responses = operation.setdefault("responses", {})
                public = path in ("/health", "/auth/tokens") and method in ("get", "post")
                for status in ERROR_STATUSES:
                    responses.setdefault(str(status), {"description": "error", "schema": {"$ref": "#/definitions/Error"}})
                if public:
                    operation["security"] = []
        return schema


def create_app(settings: Settings | None = None, stores: Stores | None = None,
               authenticator: Authenticator | None = None) -> Flask:
    """The API as a Flask application. Stores are opened lazily, on the first request that needs them."""
    settings = settings or get_settings()
    stores = stores or Stores(settings)
    app = Flask("calipso.api")
    app.config.update(ERROR_INCLUDE_MESSAGE=False, RESTX_ERROR_404_HELP=False, RESTX_MASK_SWAGGER=False,
                      JSON_SORT_KEYS=False, PROPAGATE_EXCEPTIONS=False,
                      # Werkzeug stops reading a body (chunked, or lying about its length) past this.
                      MAX_CONTENT_LENGTH=settings.api_max_body_bytes)

    app.extensions["calipso"] = ApiContext(settings, stores, authenticator)

    api = CalipsoApi(
        app, version="1", title="Calipso API", prefix=PREFIX, doc=PREFIX + "/docs",
        description="Discovered virtual networking of clouds: inventory, links, cliques, scans, analysis "
                    "(impact, root cause, path, what-if, diff, invariants) and the graph around a focal point. "
                    "Log in with POST /auth/tokens, then send `Authorization: Bearer <token>`.",
        authorizations={"bearer": {"type": "apiKey", "in": "header", "name": "Authorization",
                                   "description": "`Bearer <token>` from POST /auth/tokens"}},
        security="bearer")
    api.error_handlers[Exception] = restx_handler
    register_flask_handlers(app)

    from api.namespaces import register_all
    register_all(api)
    app.register_blueprint(ui)  # the web UI at /, its files under /ui

    metrics = ApiMetrics(lambda: app.extensions["calipso"].stores)
    metrics.install(app)
    app.extensions["calipso_metrics"] = metrics

    @app.before_request
    def refuse_large_bodies() -> None:
        # Before authentication: a body past the limit is never read, let alone parsed.
        limit = settings.api_max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise PayloadTooLarge(f"the request body is {request.content_length} bytes; at most {limit} are read "
                                  "(CALIPSO_API_MAX_BODY_BYTES)", {"limit": limit})

    @app.before_request
    def authenticate() -> None:
        g.principal = None
        if request.endpoint in PUBLIC_ENDPOINTS or request.method == "OPTIONS":
            return
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if not header:
            raise Unauthorized("this operation needs `Authorization: Bearer <token>` (POST /api/v1/auth/tokens)",
                               headers={"WWW-Authenticate": "Bearer"})
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("the Authorization header must be `Bearer <token>`",
                               headers={"WWW-Authenticate": "Bearer"})
        principal, why = app.extensions["calipso"].auth.principal(token.strip())
        if principal is None:
            raise Unauthorized(f"invalid token: {why}", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        g.principal = principal
        g.token = token.strip()

    return app
