"""The model's declared types: object types, link types, clique types (from graphmodel.schema)."""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace, Resource, fields

from api.params import no_query
from graphmodel.schema import CLIQUE_TYPES, LINK_TYPES, OBJECT_TYPES

ns = Namespace("types", description="Object, link and clique types of the model")

object_type_model = ns.model("ObjectType", {
    "name": fields.String(required=True), "label": fields.String(required=True),
    "parents": fields.List(fields.String, required=True), "id_rule": fields.String(required=True),
    "attributes": fields.List(fields.String, required=True), "description": fields.String(required=True)})
link_type_model = ns.model("LinkType", {
    "name": fields.String(required=True), "source": fields.String(required=True),
    "target": fields.String(required=True), "relationship": fields.String(required=True),
    "rule": fields.String(required=True), "attributes": fields.List(fields.String, required=True)})
clique_type_model = ns.model("CliqueType", {
    "name": fields.String(required=True), "focal_point_type": fields.String(required=True),
    "link_types": fields.List(fields.String, required=True), "mechanism_driver": fields.String(required=True),
    "type_driver": fields.String(required=True), "distribution": fields.String(required=True),
    "constraints": fields.List(fields.String, required=True)})
types_model = ns.model("Types", {
    "object_types": fields.List(fields.Nested(object_type_model), required=True),
    "link_types": fields.List(fields.Nested(link_type_model), required=True),
    "clique_types": fields.List(fields.Nested(clique_type_model), required=True)})


def object_types() -> list[dict[str, Any]]:
    return [{"name": t.name, "label": t.label, "parents": list(t.parents), "id_rule": t.id_rule,
             "attributes": list(t.attributes), "description": t.description} for t in OBJECT_TYPES]


def link_types() -> list[dict[str, Any]]:
    return [{"name": t.name, "source": t.source, "target": t.target, "relationship": t.relationship,
             "rule": t.rule, "attributes": list(t.attributes)} for t in LINK_TYPES]


def clique_types() -> list[dict[str, Any]]:
    return [{"name": t.name, "focal_point_type": t.focal_point_type, "link_types": list(t.link_types),
             "mechanism_driver": t.mechanism_driver, "type_driver": t.type_driver, "distribution": t.distribution,
             "constraints": list(t.constraints)} for t in CLIQUE_TYPES]


@ns.route("")
class Types(Resource):
    @ns.response(200, "the declared types", types_model)
    @no_query
    def get(self) -> dict[str, Any]:
        """Every object, link and clique type the model declares."""
        return {"object_types": object_types(), "link_types": link_types(), "clique_types": clique_types()}
