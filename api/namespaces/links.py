"""Links of an environment: by type, host, state, source, target, attribute."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_restx import Namespace, fields

from api.context import mongo
from api.errors import NotFound
from api.namespaces.common import ENV_DOC, ENV_PATH, EnvironmentResource, kept_page, page_model
from api.params import PAGINATION, Args, Param, query
from api.serialize import jsonable
from graphmodel.schema import LINK_ATTRIBUTES, LINK_TYPES
from queries.inventory import LinkQuery, find_link, find_links

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


def link_query(args: Args) -> LinkQuery:
    # ATTRIBUTE (checked when the query was parsed) allows only the attributes link types declare.
    return LinkQuery(link_types=args.link_type or (), host=args.host, state=args.state, status=args.status,
                     source_id=args.source_id, target_id=args.target_id, object_id=args.object_id,
                     attributes=[(name, value) for name, _, value in (a.partition("=") for a in args.attribute)],
                     as_of=args.as_of)


@ns.route("")
@ns.doc(params=ENV_DOC)
class Links(EnvironmentResource):
    @ns.response(200, "a page of links", page)
    @query(ns, *FILTERS)
    def get(self, env: str, args: Args) -> Response:
        """Links of the environment, filtered; with `as_of`, those that existed then."""
        window = args.page
        wanted = link_query(args)
        return kept_page(env, ("links", repr(wanted)), window,
                         lambda: find_links(mongo(), env, wanted, window.skip, window.page_size))


@ns.route("/<path:key>")
@ns.doc(params={**ENV_DOC, "key": "link_type|source_id|target_id"})
class Link(EnvironmentResource):
    @ns.response(200, "the link", item)
    @query(ns)
    def get(self, env: str, key: str, args: Args) -> dict[str, Any]:
        """One link by its key."""
        doc = find_link(mongo(), env, key)
        if doc is None:
            raise NotFound(f"no link {key!r} in environment {env!r}", {"key": key})
        return jsonable(doc)
