"""Messages: what the scanner, the listener and monitoring found worth a human's attention."""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from flask_restx import Namespace, fields

from api.context import mongo
from api.errors import NotFound
from api.namespaces.common import ENV_DOC, ENV_PATH, EnvironmentResource, page_model
from api.params import PAGINATION, Args, Param, query
from api.serialize import with_id
from ingest.records import MESSAGES
from queries.explore import count

ns = Namespace("messages", description="Messages by level, source, related object and time")
PATH = ENV_PATH + "/messages"

item = ns.model("Message", {
    "id": fields.String(required=True), "environment": fields.String(required=True),
    "level": fields.String(required=True), "source_system": fields.String(required=True),
    "message": fields.String(required=True), "timestamp": fields.DateTime(required=True)})
page = page_model(ns, "MessagePage", item)

FILTERS = (
    Param("level", "str", "info, warning or error (repeatable)", choices=["info", "warning", "error"], multiple=True),
    Param("source_system", "str", "OpenStack, Calipso, Sensu, ..."),
    Param("related_object", "str", "Id of the object the message is about"),
    Param("related_object_type", "str", "Type of the object the message is about"),
    Param("scan_id", "str", "Messages of one scan"),
    Param("since", "datetime", "At or after this time"),
    Param("until", "datetime", "Before this time"),
    *PAGINATION,
)


@ns.route("")
@ns.doc(params=ENV_DOC)
class Messages(EnvironmentResource):
    @ns.response(200, "a page of messages, newest first", page)
    @query(ns, *FILTERS)
    def get(self, env: str, args: Args) -> dict[str, Any]:
        """Messages of the environment, newest first."""
        query: dict[str, Any] = {"environment": env}
        if args.level:
            query["level"] = {"$in": args.level}
        for name in ("source_system", "related_object", "related_object_type", "scan_id"):
            if getattr(args, name):
                query[name] = getattr(args, name)
        if args.since or args.until:
            query["timestamp"] = {k: v for k, v in (("$gte", args.since), ("$lt", args.until)) if v}
        window = args.page
        total = count(mongo(), MESSAGES, query)
        docs = mongo()[MESSAGES].find(query).sort("timestamp", -1).skip(window.skip).limit(window.page_size)
        return window.wrap([with_id(d) for d in docs], total)


@ns.route("/<string:message_id>")
@ns.doc(params={**ENV_DOC, "message_id": "Message id"})
class Message(EnvironmentResource):
    @ns.response(200, "the message", item)
    @query(ns)
    def get(self, env: str, message_id: str, args: Args) -> dict[str, Any]:
        """One message."""
        try:
            oid: Any = ObjectId(message_id)
        except (InvalidId, TypeError):
            oid = message_id
        doc = mongo()[MESSAGES].find_one({"_id": oid, "environment": env})
        if doc is None:
            raise NotFound(f"no message {message_id!r} in environment {env!r}")
        return with_id(doc)
