"""Models and helpers the namespaces share: the page envelope, the environment path parameter."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ClassVar

from flask import request
from flask_restx import Namespace, Resource, fields

from api.auth import Role
from api.context import require

ENV_PATH = "/environments/<string:env>"
ENV_DOC = {"env": "Environment name"}


def _environment_checked(method: Callable[..., Any]) -> Callable[..., Any]:
    """Check the caller's role in the route's environment (and that it exists) before the method runs."""
    @functools.wraps(method)
    def checked(*args: Any, **kwargs: Any) -> Any:
        resource = method.__self__  # type: ignore[attr-defined]  # flask-restx decorates bound methods
        require(kwargs["env"], resource.roles[request.method])
        return method(*args, **kwargs)
    return checked


class EnvironmentResource(Resource):
    """A resource under /environments/{env}: the caller's role in that environment is checked here,
    once, for every method: reads (GET) need view, changes need edit; a class may say otherwise in
    `roles` (a POST that only reads)."""

    roles: ClassVar[dict[str, Role]] = {"GET": "view", "HEAD": "view", "OPTIONS": "view", "POST": "edit",
                                        "PUT": "edit", "PATCH": "edit", "DELETE": "edit"}
    method_decorators: ClassVar[list[Callable[..., Any]]] = [_environment_checked]


class NullableString(fields.String):
    """A string that may be null (Swagger 2.0 says so with `x-nullable`): an object without a status,
    the tree's CONTAINS relationships without a link type."""

    def schema(self) -> dict[str, Any]:
        return {**super().schema(), "x-nullable": True}


def page_model(ns: Namespace, name: str, item: Any) -> Any:
    """The envelope of every list: items, total (matching the filters), page and page_size."""
    return ns.model(name, {
        "items": fields.List(fields.Nested(item) if not isinstance(item, fields.Raw) else item, required=True),
        "total": fields.Integer(required=True, description="Items matching the filters, over all pages"),
        "page": fields.Integer(required=True),
        "page_size": fields.Integer(required=True),
    })


def object_model(ns: Namespace) -> Any:
    return ns.model("InventoryObject", {
        "id": fields.String(required=True),
        "type": fields.String(required=True),
        "environment": fields.String(required=True),
    })
