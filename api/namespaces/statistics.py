"""Counts per object type, status, link type, link state and message level."""

from __future__ import annotations

from flask import Response
from flask_restx import Namespace, fields

from api.context import mongo
from api.namespaces.common import ENV_DOC, ENV_PATH, EnvironmentResource, kept_json
from api.params import Args, query
from graphmodel.inventory import messages_version
from queries.explore import statistics

ns = Namespace("statistics", description="Counts per type, state and level")
PATH = ENV_PATH + "/statistics"

counts = fields.Raw(required=True, description="name -> count")
model = ns.model("Statistics", {
    "environment": fields.String(required=True), "objects": fields.Integer(required=True),
    "links": fields.Integer(required=True), "objects_by_type": counts, "objects_by_status": counts,
    "links_by_type": counts, "links_by_state": counts, "messages_by_level": counts})


@ns.route("")
@ns.doc(params=ENV_DOC)
class Statistics(EnvironmentResource):
    @ns.response(200, "the counts", model)
    @query(ns)
    def get(self, env: str, args: Args) -> Response:
        """Counts of the environment's objects (per type and status), links (per type and state) and
        messages (per level). Kept while the inventory and the messages stand still (ETag, 304)."""
        return kept_json(env, ("statistics", messages_version(mongo(), env)), lambda: statistics(mongo(), env))
