"""Clique types (the model's, by focal point type and variant) and the clique of an object."""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace, Resource

from api.namespaces.types import clique_type_model, clique_types
from api.params import Args, Param, query

ns = Namespace("clique_types", description="Clique types: from a focal point type, the link types of its clique")
PATH = "/clique-types"
ns.models[clique_type_model.name] = clique_type_model


@ns.route("")
class CliqueTypes(Resource):
    @ns.response(200, "the clique types", [clique_type_model])
    @query(ns, Param("focal_point_type", "str", "Only clique types of this focal point type"))
    def get(self, args: Args) -> list[dict[str, Any]]:
        """Declared clique types; the most specific match for an environment's variant wins."""
        return [t for t in clique_types() if not args.focal_point_type or t["focal_point_type"] == args.focal_point_type]
