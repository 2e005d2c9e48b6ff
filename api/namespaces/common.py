"""Models and helpers the namespaces share: the page envelope, the environment path parameter."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from flask import Response, request
from flask_restx import Namespace, Resource, fields

from api.auth import Role
from api.context import caller, mongo, request_inventory_version, require, require_admin
from api.params import Page
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


@dataclass(frozen=True)
class EncodedAnswer:
    """A JSON answer encoded once: its body and the entity tag that names it."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, value: Any) -> EncodedAnswer:
        body = (json.dumps(value) + "\n").encode()
        return cls(body, hashlib.blake2b(body, digest_size=16).hexdigest())


def kept_json(env: str, question: Hashable, compute: Callable[[], Any]) -> Response:
    """The response to `question` about the environment: `compute()`'s JSON-ready answer, encoded once
    and kept while the environment's inventory stands still (queries/answers.py), so a repeated
    question costs neither the store nor the encoding. It carries an ETag: a client that sends it back
    in If-None-Match gets 304 Not Modified while the answer is unchanged."""
    encoded = kept_answer(env, question, lambda: EncodedAnswer.of(compute()))
    response = Response(encoded.body, mimetype="application/json")
    response.set_etag(encoded.etag)
    response.make_conditional(request)  # in place: 304 and no body when If-None-Match names it
    return response


def kept_page(env: str, question: Hashable, window: Page,
              find: Callable[[], tuple[list[dict[str, Any]], int]]) -> Response:
    """A page of the environment's documents as `find()` gives them (and their total), enveloped and
    kept as `kept_json` keeps answers."""
    def page() -> dict[str, Any]:
        docs, total = find()
        return window.wrap([jsonable(d) for d in docs], total)
    return kept_json(env, (question, window.skip, window.page_size), page)
