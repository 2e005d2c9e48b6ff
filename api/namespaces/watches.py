"""Watches: focal VMs whose paths call a webhook on degradation and recovery (queries/watches.py;
evaluated after each round of `calipso monitor`)."""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace, fields

from api.context import caller, context, mongo
from api.errors import BadRequest, Forbidden, NotFound
from api.namespaces.common import ENV_DOC, ENV_PATH, EnvironmentResource, Need, body_field, page_model
from api.params import PAGINATION, Args, Param, body, query
from api.serialize import jsonable, with_id
from queries.datapath import AnalysisError
from queries.watches import (
    DELIVERIES,
    MAX_FOCAL,
    WATCHES,
    WEBHOOK_PATTERN,
    WatchError,
    WatchStore,
    make_watch,
    path_health,
    unknown_focal,
)

#: The API's check of an address (queries.watches.check_email applies the full rule).
EMAIL_PATTERN = r"^[^@\s]{1,64}@[A-Za-z0-9.\-]{1,189}$"

ns = Namespace("watches", description="Watches on VMs' paths, with webhooks on degradation and recovery")
PATH = ENV_PATH + "/watches"

item = ns.model("Watch", {
    "id": fields.String(required=True), "environment": fields.String(required=True),
    "focal": fields.List(fields.String, required=True), "webhook": fields.String(), "email": fields.String(),
    "state": fields.String(required=True, description="unknown (not evaluated yet), healthy or degraded"),
    "since": fields.DateTime(), "created_by": fields.String(required=True)})
page = page_model(ns, "WatchPage", item)

NEW = (
    Param("focal", "list", f"The focal VMs (or DHCP/router namespaces): ids or unique names, 1 to {MAX_FOCAL}",
          required=True, max_length=200),
    Param("webhook", "str", "http(s) URL that gets a JSON POST on degradation and on recovery (no credentials in it)",
          max_length=2000, pattern=WEBHOOK_PATTERN),
    Param("email", "str", "An address that gets the same content by e-mail (needs the server's CALIPSO_SMTP_HOST)",
          max_length=254, pattern=EMAIL_PATTERN),
)


def _shown(doc: dict[str, Any]) -> dict[str, Any]:
    return jsonable(with_id({k: v for k, v in doc.items() if k != "hops"}))


def _new_watch_role() -> Need:
    """Watching needs only view; a webhook or an e-mail address makes the server send to a destination of the
    caller's choosing: only for those trusted to change the environment, not for every reader."""
    return "edit" if body_field("webhook") or body_field("email") else "view"


@ns.route("")
@ns.doc(params=ENV_DOC)
class Watches(EnvironmentResource):
    roles = {**EnvironmentResource.roles, "POST": _new_watch_role}

    @ns.response(200, "the environment's watches", page)
    @query(ns, *PAGINATION)
    def get(self, env: str, args: Args) -> dict[str, Any]:
        """The environment's watches, oldest first."""
        window = args.page
        docs = WatchStore(mongo()).list(env)
        return window.wrap([_shown(d) for d in docs[window.skip:window.skip + window.page_size]], len(docs))

    @ns.response(201, "watching", item)
    @query(ns)
    @body(ns, "NewWatch", *NEW)
    def post(self, env: str, args: Args, data: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Watch VMs' paths (view role; with a webhook or an e-mail address, edit role): the webhook is called
        and the address mailed when a hop degrades and when all recover."""
        principal = caller()
        try:
            doc = make_watch(mongo(), context().stores.neo4j, env, data["focal"], data["webhook"], principal.user,
                             email=data.get("email"), settings=context().settings)
        except WatchError as exc:
            unknown = unknown_focal(context().stores.neo4j, env, data["focal"])
            if unknown:  # names nothing at all: a 404, as the analyses answer
                raise NotFound(str(exc), {"unknown": unknown}) from None
            raise BadRequest(str(exc), {"focal": data["focal"]}) from None
        return _shown(doc), 201


def watch_of(env: str, watch_id: str) -> dict[str, Any]:
    doc = WatchStore(mongo()).get(env, watch_id)
    if doc is None:
        raise NotFound(f"no watch {watch_id!r} in environment {env!r}")
    return doc


@ns.route("/<string:watch_id>")
@ns.doc(params={**ENV_DOC, "watch_id": "Watch id"})
class Watch(EnvironmentResource):
    roles = {**EnvironmentResource.roles, "DELETE": "view"}  # the creator may delete their own watch

    @ns.response(200, "the watch, its paths' health now and its last deliveries")
    @query(ns)
    def get(self, env: str, watch_id: str, args: Args) -> dict[str, Any]:
        """One watch: its state, each focal VM's path with every hop's status, its recent webhook deliveries."""
        doc = watch_of(env, watch_id)
        try:
            paths = [{"focal": p.focal, "name": p.name, "status": p.status, "hops": [vars(h) for h in p.hops]}
                     for p in path_health(context().stores.neo4j, env, doc["focal"])]
        except AnalysisError:  # a focal VM went away since
            paths = []
        deliveries = [{k: v for k, v in d.items() if k != "_id"} for d in WatchStore(mongo()).deliveries(watch_id)]
        return jsonable({**_shown(doc), "paths": paths, "deliveries": deliveries})

    @ns.response(204, "deleted")
    @query(ns)
    def delete(self, env: str, watch_id: str, args: Args) -> tuple[str, int]:
        """Stop a watch (view role: the creator or anyone who may edit the environment)."""
        principal = caller()
        doc = watch_of(env, watch_id)
        if doc.get("created_by") != principal.user and not principal.can(env, "edit"):
            raise Forbidden(f"watch {watch_id!r} belongs to {doc.get('created_by')!r}: only they or an editor "
                             "may delete it")
        mongo()[WATCHES].delete_one({"_id": watch_id, "environment": env})
        mongo()[DELIVERIES].delete_many({"watch_id": watch_id})
        return "", 204

