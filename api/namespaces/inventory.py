"""Objects of an environment: by id, type, parent, subtree, name, host, time; their history."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_restx import Namespace, fields

from api.context import mongo
from api.errors import NotFound
from api.namespaces.common import (
    ENV_DOC,
    ENV_PATH,
    EnvironmentResource,
    kept_answer,
    kept_page,
    object_model,
    page_model,
)
from api.params import PAGINATION, Args, Param, query
from api.serialize import jsonable
from graphmodel.schema import OBJECT_TYPES
from queries.inventory import ObjectQuery, find_object, find_objects, object_versions

ns = Namespace("inventory", description="Discovered objects, current or as of a time, and their history")
PATH = ENV_PATH + "/inventory"

item = object_model(ns)
page = page_model(ns, "InventoryPage", item)
version_model = ns.model("ObjectVersion", {
    "valid_from": fields.DateTime(required=True), "valid_to": fields.DateTime(description="null: current"),
    "doc": fields.Raw(required=True)})
versions_page = page_model(ns, "ObjectVersionPage", version_model)

TYPE_NAMES = [t.name for t in OBJECT_TYPES]
FILTERS = (
    Param("type", "str", "Object type (repeatable)", choices=TYPE_NAMES, multiple=True),
    Param("parent_id", "str", "Direct children of this object (`environment` for the top level)"),
    Param("subtree", "str", "Every object under this one (its id is in their id_path)"),
    Param("name", "str", "Name contains this text (case-insensitive, taken literally)", max_length=200),
    Param("host", "str", "Objects on this host"),
    Param("status", "str", "Monitoring status"),
    Param("seen_after", "datetime", "Last written (new or changed) by a scan after this time"),
    Param("seen_before", "datetime", "Last written (new or changed) by a scan before this time"),
    Param("as_of", "datetime", "The inventory as it was at this time (from the history)"),
    *PAGINATION,
)


def object_query(args: Args) -> ObjectQuery:
    return ObjectQuery(types=args.type or (), parent_id=args.parent_id, subtree=args.subtree, name=args.name,
                       host=args.host, status=args.status, seen_after=args.seen_after,
                       seen_before=args.seen_before, as_of=args.as_of)


@ns.route("")
@ns.doc(params=ENV_DOC)
class Inventory(EnvironmentResource):
    @ns.response(200, "a page of objects", page)
    @query(ns, *FILTERS)
    def get(self, env: str, args: Args) -> Response:
        """Objects of the environment, filtered; with `as_of`, the objects that existed then, as they were."""
        window = args.page
        wanted = object_query(args)
        return kept_page(env, ("objects", repr(wanted)), window,
                         lambda: find_objects(mongo(), env, wanted, window.skip, window.page_size))


@ns.route("/<path:object_id>")
@ns.doc(params={**ENV_DOC, "object_id": "Object id (may contain /)"})
class InventoryObject(EnvironmentResource):
    @ns.response(200, "the object", item)
    @query(ns)
    def get(self, env: str, object_id: str, args: Args) -> dict[str, Any]:
        """One object by id."""
        doc = kept_answer(env, ("object", object_id), lambda: jsonable(find_object(mongo(), env, object_id)))
        if doc is None:
            raise NotFound(f"no object {object_id!r} in environment {env!r}", {"id": object_id})
        return doc


@ns.route("/<path:object_id>/history")
@ns.doc(params={**ENV_DOC, "object_id": "Object id"})
class InventoryHistory(EnvironmentResource):
    @ns.response(200, "the object's versions, newest first", versions_page)
    @query(ns, *PAGINATION)
    def get(self, env: str, object_id: str, args: Args) -> dict[str, Any]:
        """Every version of an object: what it was from `valid_from` until `valid_to`."""
        window = args.page
        versions, total = object_versions(mongo(), env, object_id, window.skip, window.page_size)
        if total == 0:
            raise NotFound(f"no object {object_id!r} was ever in environment {env!r}", {"id": object_id})
        return window.wrap([jsonable(v) for v in versions], total)
