"""Scans of an environment: list, one scan, abort."""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import current_app
from flask_restx import Namespace, fields

from api.context import caller, context, mongo
from api.errors import Conflict, NotFound, ServiceUnavailable
from api.namespaces.common import ENV_DOC, ENV_PATH, EnvironmentResource, page_model
from api.namespaces.environments import configured
from api.params import PAGINATION, Args, Param, body, query
from api.serialize import with_id
from ingest.records import FINISHED, SCANS, ScanRecords
from ingest.run import scan_environment
from ingest.tasks import BrokerUnavailable, enqueue_scan
from queries.explore import count

log = logging.getLogger(__name__)

ns = Namespace("scans", description="Scans: list, status, abort")
PATH = ENV_PATH + "/scans"

STATUSES = ["pending", "running", *FINISHED]
item = ns.model("Scan", {"id": fields.String(required=True), "environment": fields.String(required=True),
                         "status": fields.String(required=True, enum=STATUSES)})
page = page_model(ns, "ScanPage", item)


@ns.route("")
@ns.doc(params=ENV_DOC)
class Scans(EnvironmentResource):
    @ns.response(200, "a page of scans, newest first", page)
    @query(ns, Param("status", "str", "Only scans in this status (repeatable)", choices=STATUSES, multiple=True),
           *PAGINATION)
    def get(self, env: str, args: Args) -> dict[str, Any]:
        """Scans of the environment, newest first."""
        query: dict[str, Any] = {"environment": env}
        if args.status:
            query["status"] = {"$in": args.status}
        window = args.page
        total = count(mongo(), SCANS, query)
        docs = mongo()[SCANS].find(query).sort("created_at", -1).skip(window.skip).limit(window.page_size)
        return window.wrap([with_id(d) for d in docs], total)

    @ns.response(202, "queued: poll GET .../scans/{id} for its progress", item)
    @ns.response(503, "the task broker did not take the scan (the scan record says so too)")
    @query(ns)
    @body(ns, "NewScan", Param("object_id", "str", "Re-scan only the subtree of this object (default: everything)"))
    def post(self, env: str, args: Args, data: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Start a scan of the environment (needs the edit role): it is queued for the `calipso worker`s."""
        principal = caller()
        environment = configured(env)
        database = mongo()
        records = ScanRecords(database)
        scan_id = records.create(env, scope=data["object_id"], requested_by=principal.user)
        # Tests and demos scan in-process labs: the app may name the transport to use. Such a transport
        # lives in this process, so those scans run here; every other scan goes to the workers.
        transport_factory = current_app.config.get("SCAN_TRANSPORT")
        if transport_factory is None:
            try:
                enqueue_scan(context().settings, database, scan_id, env, data["object_id"])
            except BrokerUnavailable as exc:
                raise ServiceUnavailable(str(exc)) from None
            return with_id(records.get(scan_id) or {"_id": scan_id}), 202

        def run() -> None:
            try:
                scan_environment(database, environment, scan_id=scan_id, object_id=data["object_id"],
                                 transport=transport_factory(environment) if transport_factory else None)
            except Exception:  # noqa: BLE001 - the scan record holds the failure; the log says more
                log.exception("scan %s of %s failed", scan_id, env)

        threading.Thread(target=run, name=f"scan-{scan_id}", daemon=True).start()
        return with_id(records.get(scan_id) or {"_id": scan_id}), 202


def get_scan(env: str, scan_id: str) -> dict[str, Any]:
    doc = mongo()[SCANS].find_one({"_id": scan_id, "environment": env})
    if doc is None:
        raise NotFound(f"no scan {scan_id!r} in environment {env!r}")
    return doc


@ns.route("/<string:scan_id>")
@ns.doc(params={**ENV_DOC, "scan_id": "Scan id"})
class Scan(EnvironmentResource):
    @ns.response(200, "the scan", item)
    @query(ns)
    def get(self, env: str, scan_id: str, args: Args) -> dict[str, Any]:
        """One scan: status, counts, errors, timing."""
        return with_id(get_scan(env, scan_id))

    @ns.response(200, "abort requested; the scan stops at its next step", item)
    @query(ns)
    def delete(self, env: str, scan_id: str, args: Args) -> dict[str, Any]:
        """Abort a pending or running scan (needs the edit role)."""
        doc = get_scan(env, scan_id)
        if not ScanRecords(mongo()).request_abort(scan_id):
            raise Conflict(f"scan {scan_id} is {doc['status']}: only pending or running scans can be aborted",
                           {"status": doc["status"]})
        return with_id(get_scan(env, scan_id))
