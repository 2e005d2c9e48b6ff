"""Models and helpers the namespaces share: the page envelope, the environment path parameter."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import Any, ClassVar, Literal

from flask import request
from flask_restx import Namespace, Resource, fields

from api.auth import Role
from api.context import caller, mongo, request_inventory_version, require, require_admin
from api.serialize import jsonable
from queries.answers import Answer, inventory_answers

ENV_PATH = "/environments/<string:env>"
ENV_DOC = {"env": "Environment name"}

#: What a method needs of its caller: a role in the route's environment (which must exist), to be an
#: administrator, or only to be signed in (the method itself shows only what the caller may see).
Need = Role | Literal["admin", "signed_in"]
#: A need, or a function of the request that tells it (a role that depends on the body).
RoleRule = Need | Callable[[], Need]


def _role_checked(method: Callable[..., Any]) -> Callable[..., Any]:
    """Check what the resource's `roles` say the request's method needs, before the method (and its
    parameter checks) runs."""
    @functools.wraps(method)
    def checked(*args: Any, **kwargs: Any) -> Any:
        resource = method.__self__  # type: ignore[attr-defined]  # flask-restx decorates bound methods
        rule = resource.roles.get(request.method)
        if rule is None:  # a programming error: tests/unit/api checks every resource declares its methods
            raise RuntimeError(f"{type(resource).__name__} declares no role for {request.method}")
        need = rule() if callable(rule) else rule
        if need == "admin":
            require_admin()
        elif need == "signed_in":
            caller()
        else:
            require(kwargs["env"], need)
        return method(*args, **kwargs)
    return checked


class RoleResource(Resource):
    """A resource whose methods' needs are declared once, in `roles` (method -> RoleRule), and checked for
    every request before the method runs; view/edit are roles in the route's environment ({env})."""

    roles: ClassVar[dict[str, RoleRule]] = {}
    method_decorators: ClassVar[list[Callable[..., Any]]] = [_role_checked]


class EnvironmentResource(RoleResource):
    """A resource under /environments/{env}: the caller's role in that environment is checked here,
    once, for every method: reads (GET) need view, changes need edit; a class may say otherwise in
    `roles` (a POST that only reads, a role that depends on the body, an administrator's method)."""

    roles: ClassVar[dict[str, RoleRule]] = {"GET": "view", "HEAD": "view", "OPTIONS": "view", "POST": "edit",
                                            "PUT": "edit", "PATCH": "edit", "DELETE": "edit"}


def body_field(name: str) -> Any:
    """A top-level field of the request's JSON body, or None (a body that is not a JSON object has none: its
    method's parameter check refuses it)."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested too deeply: the parameter check says so
        return None
    return body.get(name) if isinstance(body, dict) else None


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


def kept_answer(env: str, question: Hashable, compute: Callable[[], Answer]) -> Answer:
    """`compute()`'s answer about the environment, kept while its inventory stands still (queries/answers.py)."""
    return inventory_answers.answer(mongo(), env, question, compute, request_inventory_version(env))


def kept_page(env: str, question: Hashable, find: Callable[[], tuple[list[dict[str, Any]], int]]
              ) -> tuple[list[Any], int]:
    """A page of the environment's documents and their total, JSON-ready, as `find()` gives them;
    kept while the environment's inventory stands still (queries/answers.py)."""
    def page() -> tuple[list[Any], int]:
        docs, total = find()
        return [jsonable(d) for d in docs], total
    return kept_answer(env, question, page)
