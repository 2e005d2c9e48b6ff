"""Small HTTP helpers shared by the three simulated services."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import Response, request

#: Namespace of the simulated cloud's derived ids (uuid5), so the same world gives the same ids.
LAB_NAMESPACE = uuid.UUID("6b1f8a2e-4c1d-5e0a-9c3b-0c4a1b5e7d21")

View = TypeVar("View", bound=Callable[..., Any])


def derived_id(*parts: object, hex_only: bool = False) -> str:
    """A stable UUID for something the world spec does not name an id for (a flavor, a service)."""
    value = uuid.uuid5(LAB_NAMESPACE, "/".join(str(part) for part in parts))
    return value.hex if hex_only else str(value)


def json_response(body: object, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON response; `body` may be an object or text that is already JSON."""
    text = body if isinstance(body, str) else json.dumps(body)
    response = Response(text, status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def public(view: View) -> View:
    """Mark a view as reachable without a token (version documents, token issue)."""
    view.public = True  # type: ignore[attr-defined]
    return view


def base_url() -> str:
    """The URL the client used to reach this server, with a trailing slash: catalog and links use it."""
    return request.url_root


def query_lists() -> dict[str, list[str]]:
    """The query parameters, each with every value it was given (a filter may repeat)."""
    return {name: request.args.getlist(name) for name in request.args}


def url_with(path_url: str, params: Mapping[str, list[str]]) -> str:
    """A URL with the given query parameters, repeated ones repeated (for next/previous links)."""
    pairs = [(name, value) for name, values in params.items() for value in values]
    return path_url + ("?" + urlencode(pairs) if pairs else "")
