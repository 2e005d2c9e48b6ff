"""Models and helpers the namespaces share: the page envelope, the environment path parameter."""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace, fields

ENV_PATH = "/environments/<string:env>"
ENV_DOC = {"env": "Environment name"}


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
