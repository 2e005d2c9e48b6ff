"""Environments: the clouds Calipso scans (configurations with credentials that are never returned)."""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace, Resource, fields

from api.context import caller, environment_exists, mongo, require
from api.errors import NotFound
from api.namespaces.common import page_model
from api.params import PAGINATION, Args, Param, query
from graphmodel.inventory import OBJECTS

ns = Namespace("environments", description="Environments: list, configuration (credentials redacted)")

item = ns.model("Environment", {"name": fields.String(required=True),
                                "role": fields.String(required=True, enum=["view", "edit"],
                                                      description="what the caller may do there")})
page = page_model(ns, "EnvironmentPage", item)


def environment_names() -> list[str]:
    database = mongo()
    names = {str(n) for n in database[OBJECTS].distinct("environment")}
    names |= {str(d.get("name") or d["_id"]) for d in database["environments"].find({}, {"name": 1})}
    return sorted(names)


@ns.route("")
class Environments(Resource):
    @ns.response(200, "the environments the caller may see", page)
    @query(ns, Param("name", "str", "Names containing this text", max_length=200), *PAGINATION)
    def get(self, args: Args) -> dict[str, Any]:
        """Environments the caller holds a role in (all of them for an admin)."""
        principal = caller()
        visible = [{"name": n, "role": principal.role_in(n)} for n in environment_names()
                   if principal.can(n) and (not args.name or args.name.lower() in n.lower())]
        window = args.page
        return window.wrap(visible[window.skip:window.skip + window.page_size], len(visible))


@ns.route("/<string:env>")
@ns.doc(params={"env": "Environment name"})
class Environment(Resource):
    @ns.response(200, "the environment", item)
    @query(ns)
    def get(self, env: str, args: Args) -> dict[str, Any]:
        """One environment."""
        principal = require(env)
        if not environment_exists(env):
            raise NotFound(f"no environment named {env!r}")
        return {"name": env, "role": principal.role_in(env)}
