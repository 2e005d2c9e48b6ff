"""What the web UI shows first about an environment: its last scan, counts and failing objects;
how far its graph lags behind MongoDB; the health of a set of objects (for colouring a graph);
messages by level over time (for a dashboard). Counts and health come from the graph (Neo4j seeks
and scans are fast where FerretDB scans and decodes whole collections)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask_restx import Namespace, fields

from api.context import caller, context, mongo
from api.namespaces.common import ENV_DOC, ENV_PATH, EnvironmentResource
from api.params import Args, Param, query
from api.serialize import jsonable, with_id
from graphmodel.inventory import CHANGES, COUNTERS, feed_counter_id
from graphmodel.projector import Projector
from graphmodel.schema import uid
from ingest.records import SCANS
from queries.datapath import FAILING_STATUSES, node_failing
from queries.explore import MESSAGES, count
from queries.loader import run_query

ns = Namespace("overview", description="An environment at a glance, object health, messages over time (for the UI)")
PATH = ENV_PATH + "/overview"

HEALTH = ["ok", "warning", "critical", "unknown", "down"]
#: Monitoring statuses as the UI's five colours.
STATUS_HEALTH = {"ok": "ok", "passing": "ok", "warning": "warning", "error": "critical", "critical": "critical",
                 "down": "down", "unknown": "unknown"}
FAILING_SHOWN = 50
HEALTH_IDS = 500

failing_model = ns.model("FailingObject", {
    "id": fields.String(required=True), "type": fields.String(required=True), "name": fields.String,
    "host": fields.String, "health": fields.String(required=True, enum=HEALTH), "reason": fields.String})
overview_model = ns.model("Overview", {
    "environment": fields.String(required=True),
    "role": fields.String(required=True, enum=["view", "edit"]),
    "last_scan": fields.Raw(description="the newest scan, null when never scanned"),
    "objects": fields.Integer(required=True), "links": fields.Integer(required=True),
    "links_down": fields.Integer(required=True),
    "failing_total": fields.Integer(required=True),
    "failing": fields.List(fields.Nested(failing_model), required=True,
                           description=f"failing objects, at most {FAILING_SHOWN}"),
})
projection_model = ns.model("ProjectionLag", {
    "environment": fields.String(required=True),
    "checkpoint": fields.Integer(required=True, description="the last change of the feed applied to Neo4j"),
    "lag": fields.Integer(required=True, description="changes of the environment not yet in Neo4j")})
health_model = ns.model("ObjectHealth", {
    "id": fields.String(required=True), "health": fields.String(required=True, enum=HEALTH),
    "reason": fields.String(required=True),
    "degree": fields.Integer(required=True, description="its links (the tree left out): a picture showing fewer "
                                                         "has left some out")})
health_answer = ns.model("HealthAnswer", {"environment": fields.String(required=True),
                                          "items": fields.List(fields.Nested(health_model), required=True)})
bucket_model = ns.model("MessageBucket", {"start": fields.DateTime(required=True),
                                          "level": fields.String(required=True),
                                          "count": fields.Integer(required=True)})
timeline_model = ns.model("MessageTimeline", {
    "environment": fields.String(required=True), "bucket": fields.String(required=True),
    "since": fields.DateTime(required=True), "items": fields.List(fields.Nested(bucket_model), required=True)})


def health_of(doc: dict[str, Any], down_links: int = 0) -> tuple[str, str]:
    """(health, reason) of an object document: its own failing evidence first, then its monitoring
    status, then links of it that are down; with none of these, ok."""
    # The object's own evidence (no carrier, dead agent, VM in error) outranks a monitoring status.
    failing = node_failing({k: v for k, v in doc.items() if k != "status"})
    if failing:
        return "down", failing
    status = str(doc.get("status") or "").lower()
    if status in STATUS_HEALTH:
        text = f"status {status}" + (f": {doc['status_text']}" if doc.get("status_text") else "")
        return STATUS_HEALTH[status], text
    if down_links:
        return "critical", f"{down_links} link{'s' if down_links > 1 else ''} of it down"
    return "ok", "no fault seen by the last scan or monitoring"


@ns.route("")
@ns.doc(params=ENV_DOC)
class Overview(EnvironmentResource):
    @ns.response(200, "the environment at a glance", overview_model)
    @query(ns)
    def get(self, env: str, args: Args) -> dict[str, Any]:
        """Last scan, object and link counts and failing objects (with why), from the graph: MongoDB
        (FerretDB) would scan whole collections to count. The projection's lag is `/overview/projection`."""
        scan = mongo()[SCANS].find_one({"environment": env}, sort=[("created_at", -1)])
        driver, failing_statuses = context().stores.neo4j, sorted(FAILING_STATUSES)
        counts = run_query(driver, "overview_counts", env=env, failing=failing_statuses)[0]
        failing = []
        for row in run_query(driver, "overview_failing", env=env, failing=failing_statuses, limit=FAILING_SHOWN):
            health, reason = health_of({k: v for k, v in row.items() if v is not None})
            failing.append({**{k: row[k] for k in ("id", "type", "name", "host")}, "health": health, "reason": reason})
        return {"environment": env, "role": caller().role_in(env) or "view",
                "last_scan": with_id(scan) if scan else None,
                "objects": int(counts["objects"]), "links": int(counts["links"] or 0),
                "links_down": int(counts["links_down"] or 0), "failing_total": int(counts["failing_total"]),
                "failing": jsonable(failing)}


@ns.route("/projection")
@ns.doc(params=ENV_DOC)
class Projection(EnvironmentResource):
    @ns.response(200, "how far the graph is behind MongoDB", projection_model)
    @query(ns)
    def get(self, env: str, args: Args) -> dict[str, Any]:
        """The projection's checkpoint (the last change applied to Neo4j) and its lag (changes of the
        environment's feed after it). Slow on a large feed in FerretDB (a count is a scan), so apart."""
        database = mongo()
        checkpoint = Projector(database, context().stores.neo4j, env).checkpoint()
        # Gated by the environment's feed counter (one document): nothing written since the checkpoint, no scan.
        counter = database[COUNTERS].find_one({"_id": feed_counter_id(env)}) or {}
        pending = 0 if int(counter.get("value") or 0) <= checkpoint else \
            count(database, CHANGES, {"environment": env, "seq": {"$gt": checkpoint}})
        return {"environment": env, "checkpoint": checkpoint, "lag": pending}


@ns.route("/health")
@ns.doc(params=ENV_DOC)
class Health(EnvironmentResource):
    @ns.response(200, "each object's health and why; unknown ids are left out", health_answer)
    @query(ns, Param("id", "str", f"Object id (repeatable, at most {HEALTH_IDS})", required=True, multiple=True))
    def get(self, env: str, args: Args) -> dict[str, Any]:
        """The health of objects (ok, warning, critical, unknown, down) with its reason: failing
        evidence of the object itself (NIC without carrier, dead agent, VM in error), its monitoring
        status, or its links that are down. Read from the graph: one index seek per object, where
        MongoDB (FerretDB) would scan every link of the environment."""
        ids = list(dict.fromkeys(args.id))[:HEALTH_IDS]
        rows = run_query(context().stores.neo4j, "object_health", uids=[uid(env, i) for i in ids])
        items = []
        for row in rows:
            health, reason = health_of({k: v for k, v in row.items() if v is not None}, int(row["down_links"]))
            items.append({"id": row["id"], "health": health, "reason": reason, "degree": int(row["degree"])})
        return {"environment": env, "items": items}


@ns.route("/timeline")
@ns.doc(params=ENV_DOC)
class Timeline(EnvironmentResource):
    @ns.response(200, "messages counted per level and time bucket, oldest first", timeline_model)
    @query(ns, Param("bucket", "str", "hour or day", choices=["hour", "day"], default="day"),
           Param("since", "datetime", "From this time (default: 14 days ago, or 48 hours ago by the hour)"))
    def get(self, env: str, args: Args) -> dict[str, Any]:
        """Messages by level over time, for a dashboard."""
        hourly = args.bucket == "hour"
        since = args.since or datetime.now(UTC) - (timedelta(hours=48) if hourly else timedelta(days=14))
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        counts: dict[tuple[datetime, str], int] = {}
        # Counted here, not by $dateTrunc: FerretDB does not implement the date operators.
        for doc in mongo()[MESSAGES].find({"environment": env, "timestamp": {"$gte": since}},
                                          {"_id": 0, "timestamp": 1, "level": 1}):
            stamp = doc.get("timestamp")
            if not isinstance(stamp, datetime):
                continue
            start = stamp.replace(minute=0, second=0, microsecond=0)
            if not hourly:
                start = start.replace(hour=0)
            key = (start, str(doc.get("level") or "info"))
            counts[key] = counts.get(key, 0) + 1
        items = [{"start": start, "level": level, "count": n} for (start, level), n in sorted(counts.items())]
        return jsonable({"environment": env, "bucket": args.bucket, "since": since, "items": items})
