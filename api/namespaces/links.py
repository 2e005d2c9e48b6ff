"""Links of an environment: by type, host, state, source, target, attribute."""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace, Resource, fields

from api.context import mongo, require
from api.errors import NotFound
from api.namespaces.common import ENV_DOC, ENV_PATH, page_model
from api.params import PAGINATION, Args, Param, query
from api.serialize import jsonable
from graphmodel.inventory import HISTORY, LINKS
from graphmodel.schema import LINK_ATTRIBUTES, LINK_TYPES
from queries.explore import count

ns = Namespace("links", description="Discovered links between objects")
PATH = ENV_PATH + "/links"

item = ns.model("Link", {
    "link_type": fields.String(required=True), "source_id": fields.String(required=True),
    "target_id": fields.String(required=True), "environment": fields.String(required=True),
    "key": fields.String(required=True, description="link_type|source_id|target_id")})
page = page_model(ns, "LinkPage", item)

#: NAME=VALUE with NAME one of the attributes link types declare (the document states the names, too).
ATTRIBUTE = rf"^({'|'.join(LINK_ATTRIBUTES)})=[^\x00\n]{{0,200}}$"
FILTERS = (
    Param("link_type", "str", "Link type (repeatable)", choices=[t.name for t in LINK_TYPES], multiple=True),
    Param("host", "str", "Links on this host"),
    Param("state", "str", "up or down", choices=["up", "down"]),
    Param("status", "str", "Monitoring status"),
    Param("source_id", "str", "Links from this object"),
    Param("target_id", "str", "Links to this object"),
    Param("object_id", "str", "Links from or to this object"),
    Param("attribute", "str", "NAME=VALUE on the link's attributes, e.g. network=<id> or vlan_tag=3 (repeatable; "
          f"all must hold). NAME is one of {', '.join(LINK_ATTRIBUTES)}",
          multiple=True, pattern=ATTRIBUTE),
    Param("as_of", "datetime", "The links as they were at this time (from the history)"),
    *PAGINATION,
)


def link_filter(args: Args, prefix: str = "") -> dict[str, Any]:
    query: dict[str, Any] = {}
    if args.link_type:
        query[prefix + "link_type"] = {"$in": args.link_type}
    for name in ("host", "state", "status", "source_id", "target_id"):
        if getattr(args, name):
            query[prefix + name] = getattr(args, name)
    if args.object_id:
        query["$or"] = [{prefix + "source_id": args.object_id}, {prefix + "target_id": args.object_id}]
    for attribute in args.attribute:
        # The name becomes a field path: ATTRIBUTE (checked when the query was parsed) allows only the
        # attributes link types declare, never `environment`, `_id` or anything that widens the query.
        name, _, value = attribute.partition("=")
        number = _number(value)
        query.setdefault("$and", []).append(
            {prefix + name: {"$in": [value, number]} if number is not None else value})
    return query


#: MongoDB integers are 64-bit: a longer number can only ever match as text.
INT64 = 2**63


def _number(text: str) -> int | None:
    try:
        number = int(text)
    except ValueError:
        return None
    return number if -INT64 <= number < INT64 else None


@ns.route("")
@ns.doc(params=ENV_DOC)
class Links(Resource):
    @ns.response(200, "a page of links", page)
    @query(ns, *FILTERS)
    def get(self, env: str, args: Args) -> dict[str, Any]:
        """Links of the environment, filtered; with `as_of`, those that existed then."""
        require(env)
        window = args.page
        if args.as_of is not None:
            query = {"environment": env, "kind": "link", "valid_from": {"$lte": args.as_of},
                     "$and": [{"$or": [{"valid_to": None}, {"valid_to": {"$gt": args.as_of}}]}, link_filter(args, "doc.")]}
            total = count(mongo(), HISTORY, query)
            versions = mongo()[HISTORY].find(query).sort("key", 1).skip(window.skip).limit(window.page_size)
            return window.wrap([jsonable({**v["doc"], "environment": env, "key": v["key"]}) for v in versions], total)
        query = {**link_filter(args), "environment": env}
        total = count(mongo(), LINKS, query)
        docs = mongo()[LINKS].find(query).sort("key", 1).skip(window.skip).limit(window.page_size)
        return window.wrap([jsonable(d) for d in docs], total)


@ns.route("/<path:key>")
@ns.doc(params={**ENV_DOC, "key": "link_type|source_id|target_id"})
class Link(Resource):
    @ns.response(200, "the link", item)
    @query(ns)
    def get(self, env: str, key: str, args: Args) -> dict[str, Any]:
        """One link by its key."""
        require(env)
        doc = mongo()[LINKS].find_one({"environment": env, "key": key})
        if doc is None:
            raise NotFound(f"no link {key!r} in environment {env!r}", {"key": key})
        return jsonable(doc)
