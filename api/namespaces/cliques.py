"""Clique types (declared ones and users' own, in MongoDB) and the clique of an object."""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace, Resource, fields

from api.context import context, mongo, require_admin
from api.errors import NotFound
from api.namespaces.common import ENV_DOC, ENV_PATH, EnvironmentResource
from api.namespaces.types import clique_type_model
from api.params import Args, Param, body, query
from api.serialize import jsonable, result_answer
from graphmodel.inventory import OBJECTS
from graphmodel.schema import LINK_TYPES, OBJECT_TYPES
from queries.clique import add_clique_type, clique, clique_type_document, clique_types

ns = Namespace("clique_types", description="Clique types: from a focal point type, the link types of its clique")
PATH = "/clique-types"
ns.models[clique_type_model.name] = clique_type_model

cliques_ns = Namespace("cliques", description="The clique of an object: its path through the network")
CLIQUES_PATH = ENV_PATH + "/cliques"
clique_model = cliques_ns.model("Clique", {
    "environment": fields.String(required=True), "focal_id": fields.String(required=True),
    "focal_type": fields.String(required=True), "clique_type": fields.String(required=True),
    "variant": fields.Raw(required=True), "networks": fields.List(fields.String, required=True),
    "nodes": fields.List(fields.Raw, required=True), "links": fields.List(fields.Raw, required=True),
    "rows": fields.List(fields.Raw, required=True), "title": fields.String(required=True)})

NEW = (
    Param("name", "str", "Name of the clique type", required=True, max_length=100),
    Param("focal_point_type", "str", "Object type it starts from", required=True,
          choices=[t.name for t in OBJECT_TYPES]),
    Param("link_types", "list", "Link types followed, in order", required=True, choices=[t.name for t in LINK_TYPES]),
    Param("mechanism_driver", "str", "ovs, lxb, vpp, sriov or ANY", default="ANY"),
    Param("type_driver", "str", "vxlan, gre, vlan, flat or ANY", default="ANY"),
    Param("distribution", "str", "Distribution or ANY", default="ANY"),
    Param("constraints", "list", "e.g. network: stay on the focal point's networks", choices=["network"]),
)


def public(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in jsonable(document).items() if k != "builtin"}


@ns.route("")
class CliqueTypes(Resource):
    @ns.response(200, "the clique types", [clique_type_model])
    @query(ns, Param("focal_point_type", "str", "Only clique types of this focal point type"))
    def get(self, args: Args) -> list[dict[str, Any]]:
        """Clique types (declared and users' own); the most specific match for an object's variant wins."""
        return [public(clique_type_document(t)) for t in clique_types(mongo())
                if not args.focal_point_type or t.focal_point_type == args.focal_point_type]

    @ns.response(201, "added or replaced", clique_type_model)
    @query(ns)
    @body(ns, "NewCliqueType", *NEW)
    def post(self, args: Args, data: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Add (or replace) a clique type of your own (admins only; built-in ones cannot be replaced)."""
        require_admin()
        document = {k: v for k, v in data.items() if v is not None}
        document.setdefault("constraints", [])
        return public(clique_type_document(add_clique_type(mongo(), document))), 201


@cliques_ns.route("/<path:focal_id>")
@cliques_ns.doc(params={**ENV_DOC, "focal_id": "Id of the focal object (e.g. a VM)"})
class Clique(EnvironmentResource):
    @cliques_ns.response(200, "the clique: objects and links on the focal point's path", clique_model)
    @query(cliques_ns, Param("clique_type", "str", "Use this clique type instead of the variant's best match"),
           Param("mechanism", "str", "Override the inferred mechanism driver"),
           Param("type_driver", "str", "Override the inferred type driver"))
    def get(self, env: str, focal_id: str, args: Args) -> dict[str, Any]:
        """The clique of an object: what its packets pass through, by the clique type of its variant."""
        if mongo()[OBJECTS].find_one({"environment": env, "id": focal_id}, {"_id": 1}) is None:
            raise NotFound(f"no object {focal_id!r} in environment {env!r}")
        result = clique(context().stores.neo4j, mongo(), env, focal_id, mechanism=args.mechanism,
                        type_driver=args.type_driver, clique_type_name=args.clique_type)
        return result_answer(result)
