"""Monitoring intake (Sensu Go events, collectd write_http JSON) and the environment's health at a glance.

Posting results needs the `edit` role on the environment (a token of a user granted `edit`, e.g. a
service user for the Sensu handler or collectd's write_http)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_restx import Namespace

from api.context import mongo
from api.errors import BadRequest, ServiceUnavailable
from api.namespaces.common import ENV_DOC, ENV_PATH, EnvironmentResource
from api.params import Args, query
from api.serialize import jsonable
from graphmodel.inventory import OBJECTS, WriteLockTimeout
from ingest.monitoring.intake import IntakeError
from ingest.monitoring.runner import MONITORED_TYPES, ROUNDS, intake

ns = Namespace("monitoring", description="Live health: status summary, Sensu and collectd intake")
PATH = ENV_PATH + "/monitoring"


def _body() -> Any:
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise BadRequest("the request body is nested too deeply") from None
    if body is None:
        raise BadRequest("the request body must be JSON (Content-Type: application/json)")
    return body


@ns.route("")
@ns.doc(params=ENV_DOC)
class Summary(EnvironmentResource):
    @query(ns)
    def get(self, env: str, args: Args) -> dict[str, Any]:
        """Objects per monitoring status and type, the last round's cost per host."""
        counts: dict[str, dict[str, int]] = {}
        for doc in mongo()[OBJECTS].find({"environment": env, "type": {"$in": list(MONITORED_TYPES)},
                                          "status_since": {"$exists": True}}, {"type": 1, "status": 1}):
            by_type = counts.setdefault(str(doc.get("status")), {})
            by_type[doc["type"]] = by_type.get(doc["type"], 0) + 1
        last = mongo()[ROUNDS].find_one({"environment": env}, sort=[("at", -1)])
        return jsonable({"environment": env, "statuses": counts,
                         "last_round": {k: v for k, v in (last or {}).items() if k != "_id"} or None})


@ns.route("/sensu")
@ns.doc(params=ENV_DOC)
class Sensu(EnvironmentResource):
    @ns.response(200, "mapped: how many results set a status, which named nothing")
    @query(ns)
    def post(self, env: str, args: Args) -> dict[str, Any]:
        """A Sensu Go event (or a list): entity + check with status and output (edit role)."""
        try:
            return intake(mongo(), env, "sensu", _body())
        except IntakeError as exc:
            raise BadRequest(f"not a Sensu Go event: {exc}") from None
        except WriteLockTimeout as exc:  # a scan holds the inventory: the sender retries
            raise ServiceUnavailable(str(exc)) from None


@ns.route("/collectd")
@ns.doc(params=ENV_DOC)
class Collectd(EnvironmentResource):
    @ns.response(200, "mapped: how many results set a status, which named nothing")
    @query(ns)
    def post(self, env: str, args: Args) -> dict[str, Any]:
        """collectd write_http JSON: value lists and notifications (ovs_events, ping, interface...) (edit role)."""
        try:
            return intake(mongo(), env, "collectd", _body())
        except IntakeError as exc:
            raise BadRequest(f"not collectd write_http JSON: {exc}") from None
        except WriteLockTimeout as exc:  # a scan holds the inventory: the sender retries
            raise ServiceUnavailable(str(exc)) from None
