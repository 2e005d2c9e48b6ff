"""The simulated OpenStack control plane as one Flask app: Keystone, Nova and Neutron on one port.

    /identity/v3    Keystone v3        (catalog entry: <root>/identity)
    /compute/v2.1   Nova, microversions 2.1 to 2.96
    /network/v2.0   Neutron            (catalog entry: <root>/network)

Everything but the version documents and token issue needs a valid X-Auth-Token.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

from lab.cloud import compute, identity, network
from lab.cloud.http import json_response, public
from lab.cloud.source import WorldSource
from lab.cloud.state import EXTENSION, CloudState

log = logging.getLogger(__name__)

DEFAULT_PASSWORD = "lab-admin-pw"


def create_app(world_source: WorldSource, password: str = DEFAULT_PASSWORD) -> Flask:
    """A Flask app serving the cloud of the world that world_source returns (asked on every request)."""
    app = Flask(__name__)
    app.extensions[EXTENSION] = CloudState(world_source, password)
    for blueprint in (identity.blueprint, compute.blueprint, network.blueprint):
        app.register_blueprint(blueprint)
    app.add_url_rule("/", "index", index)
    app.before_request(_log_request)
    app.before_request(_require_token)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _server_error)
    return app


@public
def index() -> Response:
    """Where each service lives, for a human with curl."""
    root = request.url_root
    return json_response({"services": {"identity": f"{root}identity/v3", "compute": f"{root}compute/v2.1",
                                       "network": f"{root}network/v2.0"}})


def _log_request() -> None:
    query = request.query_string.decode("latin-1")
    current_app.extensions[EXTENSION].requests.append(f"{request.method} {request.path}{'?' + query if query else ''}")


def _require_token() -> Response | None:
    # keystonemiddleware runs before routing in each real service, so unknown paths get 401 too.

    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, "public", False):
        return None
    if current_app.extensions[EXTENSION].tokens.get(request.headers.get("X-Auth-Token")) is None:
        return identity.unauthorized()
    return None


def _error(code: int, message: str) -> Response:
    """An error in the shape of the service the path belongs to."""
    path = request.path
    if path.startswith("/compute"):
        return compute.fault(code, message)
    if path.startswith("/network"):
        kinds = {400: "HTTPBadRequest", 404: "HTTPNotFound", 405: "HTTPMethodNotAllowed"}
        return network.neutron_error(code, kinds.get(code, "HTTPInternalServerError"), message)
    return identity.keystone_error(code, message)


def _http_error(exc: HTTPException) -> Response:
    messages = {404: "The resource could not be found.", 405: "The method is not allowed for the requested URL."}
    return _error(exc.code or 500, messages.get(exc.code or 500, exc.description or exc.name))


def _server_error(exc: Exception) -> Response:
    log.exception("simulated cloud failed on %s %s", request.method, request.path)
    return _error(500, f"An unexpected error occurred: {type(exc).__name__}: {exc}")
