"""Exploring without loading everything: the subgraph around a focal point or a search, search, tree."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_restx import Namespace, fields

from api.context import context, mongo
from api.errors import BadRequest, NotFound
from api.namespaces.common import ENV_DOC, ENV_PATH, EnvironmentResource, NullableString, kept_page, page_model
from api.params import PAGINATION, Args, Param, query
from api.serialize import jsonable
from graphmodel.inventory import OBJECTS
from graphmodel.schema import LINK_TYPES, OBJECT_TYPES
from queries.explore import DEFAULT_NODES, MAX_HOPS, MAX_NODES, search_objects, subgraph, tree_children

ns = Namespace("graph", description="The subgraph around a focal point or a search hit, search, the tree")
PATH = ENV_PATH

node_model = ns.model("GraphNode", {
    "id": fields.String(required=True), "type": fields.String(required=True), "name": NullableString,
    "host": NullableString, "status": NullableString, "focal": fields.Boolean(required=True),
    "hidden_links": fields.Integer(required=True, description="links of this node not in the picture")})
link_model = ns.model("GraphLink", {
    "source": fields.String(required=True), "target": fields.String(required=True),
    "relationship": fields.String(required=True), "link_type": NullableString, "state": NullableString,
    "status": NullableString})
graph_model = ns.model("Subgraph", {
    "environment": fields.String(required=True), "focal": fields.List(fields.String, required=True),
    "hops": fields.Integer(required=True), "max_nodes": fields.Integer(required=True),
    "truncated": fields.Boolean(required=True, description="true: the cap cut the subgraph short"),
    "nodes": fields.List(fields.Nested(node_model), required=True),
    "links": fields.List(fields.Nested(link_model), required=True)})
hit_model = ns.model("SearchHit", {"id": fields.String(required=True), "type": fields.String(required=True)})
hits_page = page_model(ns, "SearchPage", hit_model)
child_model = ns.model("TreeNode", {"id": fields.String(required=True), "type": fields.String(required=True),
                                    "children": fields.Integer(required=True)})
children_page = page_model(ns, "TreePage", child_model)

TYPE_NAMES = [t.name for t in OBJECT_TYPES]
GRAPH = (
    Param("focal", "str", "Id of the focal object (repeatable)", multiple=True),
    Param("search", "str", "Or: focus on the objects whose name or id contains this text", max_length=200),
    Param("hops", "int", "How many links away from the focal objects", minimum=0, maximum=MAX_HOPS, default=2),
    Param("max_nodes", "int", "Cap on the nodes returned (nearest first)", minimum=1, maximum=MAX_NODES,
          default=DEFAULT_NODES),
    Param("link_type", "str", "Follow only these link types (repeatable)", choices=[t.name for t in LINK_TYPES],
          multiple=True),
    Param("tree", "bool", "Also follow the inventory tree (CONTAINS)", default=False),
)
#: How many search hits become focal points at most.
SEARCH_FOCAL = 10


@ns.route("/graph")
@ns.doc(params=ENV_DOC)
class Graph(EnvironmentResource):
    @ns.response(200, "nodes and links, with status", graph_model)
    @query(ns, *GRAPH)
    def get(self, env: str, args: Args) -> dict[str, Any]:
        """The subgraph around focal objects (or the hits of a search), at most `hops` links away,
        capped at `max_nodes`; each node says how many of its links the picture leaves out."""
        focal = list(args.focal)
        if not focal and not args.search:
            raise BadRequest("give a focal object (focal=ID) or a search (search=TEXT)")
        if focal:
            # Ids are unique: with a limit, FerretDB (which scans) stops once it has found them all.
            by_id = {"$in": focal} if len(focal) > 1 else focal[0]
            known = {d["id"] for d in mongo()[OBJECTS].find({"environment": env, "id": by_id}, {"id": 1})
                     .limit(len(set(focal)))}
            missing = [f for f in focal if f not in known]
            if missing:
                raise NotFound(f"no object {missing[0]!r} in environment {env!r}", {"missing": missing})
        if args.search:
            hits, _ = search_objects(mongo(), env, args.search, limit=SEARCH_FOCAL)
            focal += [h["id"] for h in hits if h["id"] not in focal]
        result = subgraph(context().stores.neo4j, env, focal, args.hops, args.max_nodes, args.link_type, args.tree)
        return jsonable(result.to_dict())


@ns.route("/search")
@ns.doc(params=ENV_DOC)
class Search(EnvironmentResource):
    @ns.response(200, "matching objects, exact matches first", hits_page)
    @query(ns, Param("q", "str", "Text in the name, id, MAC or IP address (case-insensitive, taken literally)",
                     required=True, max_length=200),
           Param("type", "str", "Only these object types (repeatable)", choices=TYPE_NAMES, multiple=True),
           *PAGINATION)
    def get(self, env: str, args: Args) -> Response:
        """Objects whose name, id, MAC or IP address contains the text."""
        window = args.page
        return kept_page(env, ("search", args.q, tuple(args.type or ())), window,
                         lambda: search_objects(mongo(), env, args.q, args.type, window.page_size, window.skip))


@ns.route("/tree")
@ns.doc(params=ENV_DOC)
class Tree(EnvironmentResource):
    @ns.response(200, "one level of the tree", children_page)
    @query(ns, Param("parent", "str", "Parent object id (default: the environment's top level)"), *PAGINATION)
    def get(self, env: str, args: Args) -> Response:
        """The children of one object in the inventory tree, each with its own number of children."""
        window = args.page

        def level() -> tuple[list[dict[str, Any]], int]:
            # Inside the kept answer: a missing parent is an error (not kept), a found one is not asked again.
            if args.parent and not mongo()[OBJECTS].find_one({"environment": env, "id": args.parent}, {"_id": 1}):
                raise NotFound(f"no object {args.parent!r} in environment {env!r}")
            return tree_children(mongo(), env, args.parent, window.page_size, window.skip)
        return kept_page(env, ("tree", args.parent), window, level)
