"""Health of the stores (no login needed) and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask_restx import Namespace, Resource, fields

from api.context import context, require_admin
from api.params import no_query

ns = Namespace("health", description="Whether the stores answer (no token needed)")
metrics_ns = Namespace("metrics", description="Prometheus metrics")

store_model = ns.model("StoreHealth", {"name": fields.String(required=True), "ok": fields.Boolean(required=True),
                                       "detail": fields.String(required=True)})
health_model = ns.model("Health", {"status": fields.String(required=True, enum=["ok", "degraded"]),
                                   "stores": fields.List(fields.Nested(store_model), required=True)})


@ns.route("", endpoint="health_health")
class Health(Resource):
    @ns.response(200, "every store answers", health_model)
    @ns.response(503, "a store does not answer", health_model)
    @no_query
    def get(self) -> tuple[dict[str, Any], int]:
        """Each store's state (MongoDB, Neo4j). No token needed."""
        checks = context().stores.health()
        ok = all(c.ok for c in checks)
        return {"status": "ok" if ok else "degraded", "stores": [vars(c) for c in checks]}, 200 if ok else 503


@metrics_ns.route("")
class Metrics(Resource):
    @metrics_ns.produces(["text/plain"])
    @metrics_ns.response(200, "Prometheus text exposition format")
    @no_query
    def get(self) -> Response:
        """Request counts and latencies per endpoint and status, scans, projection lag (Prometheus format).
        Administrators only: the figures name every environment."""
        require_admin()
        body, content_type = current_app.extensions["calipso_metrics"].exposition()
        return Response(body, content_type=content_type)
