"""Scheduled scans of an environment: once, hourly, daily, weekly, monthly (UTC); `calipso
scheduler` runs them."""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace, fields

from api.context import mongo
from api.errors import NotFound
from api.namespaces.common import ENV_DOC, ENV_PATH, EnvironmentResource, page_model
from api.params import PAGINATION, Args, Param, body, query
from api.serialize import with_id
from ingest.schedules import AT_FORMATS, EVERY, SCHEDULES, ScheduleStore, parse_recurrence
from queries.explore import count

ns = Namespace("schedules", description="Scheduled scans")
PATH = ENV_PATH + "/schedules"

item = ns.model("Schedule", {"id": fields.String(required=True), "environment": fields.String(required=True),
                             "every": fields.String(required=True, enum=list(EVERY)),
                             "description": fields.String(required=True)})
page = page_model(ns, "SchedulePage", item)

NEW = (
    Param("every", "str", "once, hourly, daily, weekly or monthly", required=True, choices=list(EVERY)),
    Param("at", "str", "When, in UTC: " + "; ".join(f"{k}: {v}" for k, v in AT_FORMATS.items()), max_length=40),
)


@ns.route("")
@ns.doc(params=ENV_DOC)
class Schedules(EnvironmentResource):
    @ns.response(200, "the environment's schedules", page)
    @query(ns, *PAGINATION)
    def get(self, env: str, args: Args) -> dict[str, Any]:
        """Schedules of the environment, oldest first."""
        window = args.page
        query = {"environment": env}
        total = count(mongo(), SCHEDULES, query)
        docs = mongo()[SCHEDULES].find(query).sort("created_at", 1).skip(window.skip).limit(window.page_size)
        return window.wrap([with_id(d) for d in docs], total)

    @ns.response(201, "scheduled", item)
    @query(ns)
    @body(ns, "NewSchedule", *NEW)
    def post(self, env: str, args: Args, data: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Schedule scans of the environment (needs the edit role)."""
        document = ScheduleStore(mongo()).add(env, parse_recurrence(data["every"], data["at"]))
        return with_id(document), 201


def schedule_of(env: str, schedule_id: str) -> dict[str, Any]:
    document = mongo()[SCHEDULES].find_one({"_id": schedule_id, "environment": env})
    if document is None:
        raise NotFound(f"no schedule {schedule_id!r} in environment {env!r}")
    return document


@ns.route("/<string:schedule_id>")
@ns.doc(params={**ENV_DOC, "schedule_id": "Schedule id"})
class Schedule(EnvironmentResource):
    @ns.response(200, "the schedule", item)
    @query(ns)
    def get(self, env: str, schedule_id: str, args: Args) -> dict[str, Any]:
        """One schedule: when it runs next, how its last run went."""
        return with_id(schedule_of(env, schedule_id))

    @ns.response(204, "deleted")
    @query(ns)
    def delete(self, env: str, schedule_id: str, args: Args) -> tuple[str, int]:
        """Delete a schedule (needs the edit role)."""
        schedule_of(env, schedule_id)
        ScheduleStore(mongo()).delete(schedule_id)
        return "", 204
