"""Objects of an environment: by id, type, parent, subtree, name, host, time; their history."""

from __future__ import annotations

import re
from typing import Any

from flask_restx import Namespace, Resource, fields

from api.context import mongo, require
from api.errors import NotFound
from api.namespaces.common import ENV_DOC, ENV_PATH, object_model, page_model
from api.params import PAGINATION, Args, Param, query
from api.serialize import jsonable
from graphmodel.inventory import HISTORY, OBJECTS
from graphmodel.schema import OBJECT_TYPES
from queries.explore import count

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
    Param("seen_after", "datetime", "Last seen by a scan after this time"),
    Param("seen_before", "datetime", "Last seen by a scan before this time"),
    Param("as_of", "datetime", "The inventory as it was at this time (from the history)"),
    *PAGINATION,
)


def object_filter(args: Args, prefix: str = "") -> dict[str, Any]:
    """A MongoDB filter from the query; `prefix` is "doc." when filtering history versions."""
    query: dict[str, Any] = {}
    if args.type:
        query[prefix + "type"] = {"$in": args.type}
    if args.parent_id:
        query[prefix + "parent_id"] = args.parent_id
    if args.subtree:
        query[prefix + "id_path"] = args.subtree
    if args.name:
        query[prefix + "name"] = {"$regex": re.escape(args.name), "$options": "i"}
    if args.host:
        query[prefix + "host"] = args.host
    if args.status:
        query[prefix + "status"] = args.status
    return query


@ns.route("")
@ns.doc(params=ENV_DOC)
class Inventory(Resource):
    @ns.response(200, "a page of objects", page)
    @query(ns, *FILTERS)
    def get(self, env: str, args: Args) -> dict[str, Any]:
        """Objects of the environment, filtered; with `as_of`, the objects that existed then, as they were."""
        require(env)
        database, window = mongo(), args.page
        if args.as_of is not None:
            query = {"environment": env, "kind": "object", "valid_from": {"$lte": args.as_of},
                     "$or": [{"valid_to": None}, {"valid_to": {"$gt": args.as_of}}], **object_filter(args, "doc.")}
            total = count(database, HISTORY, query)
            versions = database[HISTORY].find(query).sort("key", 1).skip(window.skip).limit(window.page_size)
            return window.wrap([jsonable({**v["doc"], "environment": env}) for v in versions], total)
        query = {"environment": env, **object_filter(args)}
        if args.seen_after or args.seen_before:
            query["last_seen"] = {k: v for k, v in (("$gt", args.seen_after), ("$lt", args.seen_before)) if v}
        total = count(database, OBJECTS, query)
        docs = database[OBJECTS].find(query).sort("id", 1).skip(window.skip).limit(window.page_size)
        return window.wrap([jsonable(d) for d in docs], total)


@ns.route("/<path:object_id>")
@ns.doc(params={**ENV_DOC, "object_id": "Object id (may contain /)"})
class InventoryObject(Resource):
    @ns.response(200, "the object", item)
    @query(ns)
    def get(self, env: str, object_id: str, args: Args) -> dict[str, Any]:
        """One object by id."""
        require(env)
        doc = mongo()[OBJECTS].find_one({"environment": env, "id": object_id})
        if doc is None:
            raise NotFound(f"no object {object_id!r} in environment {env!r}", {"id": object_id})
        return jsonable(doc)


@ns.route("/<path:object_id>/history")
@ns.doc(params={**ENV_DOC, "object_id": "Object id"})
class InventoryHistory(Resource):
    @ns.response(200, "the object's versions, newest first", versions_page)
    @query(ns, *PAGINATION)
    def get(self, env: str, object_id: str, args: Args) -> dict[str, Any]:
        """Every version of an object: what it was from `valid_from` until `valid_to`."""
        require(env)
        query = {"environment": env, "kind": "object", "key": object_id}
        total = count(mongo(), HISTORY, query)
        if total == 0:
            raise NotFound(f"no object {object_id!r} was ever in environment {env!r}", {"id": object_id})
        window = args.page
        versions = mongo()[HISTORY].find(query).sort("valid_from", -1).skip(window.skip).limit(window.page_size)
        return window.wrap([jsonable({k: v[k] for k in ("valid_from", "valid_to", "doc")}) for v in versions], total)
