"""Environments: the clouds Calipso scans. Configurations are validated by core.environments and
their credentials are encrypted at rest; every answer shows them as "***"."""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace, fields

from api.context import caller, context, environment_exists, mongo
from api.errors import Conflict, NotFound
from api.namespaces.common import EnvironmentResource, RoleResource, page_model
from api.params import PAGINATION, Args, Param, body, query
from api.serialize import jsonable
from core.environments import Environment, EnvironmentExists, EnvironmentNotFound, EnvironmentStore
from graphmodel.inventory import OBJECTS
from ingest.purge import purge_environment

ns = Namespace("environments", description="Environments: list, add, update, delete (credentials always masked)")

item = ns.model("Environment", {
    "name": fields.String(required=True),
    "role": fields.String(required=True, enum=["view", "edit"], description="what the caller may do there"),
    "configured": fields.Boolean(required=True, description="false: known from its inventory only"),
    "config": fields.Raw(required=True, description="the configuration, credentials as ***; {} when not configured"),
})
page = page_model(ns, "EnvironmentPage", item)

SECTIONS = (
    Param("distribution", "str", "e.g. Devstack, Kolla, RDO"),
    Param("distribution_version", "str"),
    Param("mechanism_drivers", "list", "ovs, lxb, vpp, sriov", choices=["ovs", "lxb", "vpp", "sriov"]),
    Param("type_drivers", "list", "vxlan, gre, vlan, flat, geneve", choices=["vxlan", "gre", "vlan", "flat", "geneve"]),
    Param("openstack", "object", "auth_url, username, password, project, user_domain, project_domain, region, "
          "interface, verify_tls", required=True),
    Param("cli", "object", "user, port, key_file | private_key | password, jump_host, addresses, sudo, translation, "
          "connect_timeout, concurrency", required=True),
    Param("amqp", "object", "url, password, exchanges"),
    Param("monitoring", "object", "enabled, provider, api_url, username, password, check_interval_s"),
    Param("uplinks", "object", "host (or glob) -> its uplink NICs (names or globs), for NICs without a PCI device"),
    Param("scan_outputs", "object", "keep (the last scans whose outputs are kept for replay; 0: none), max_mb"),
)
NEW = (Param("name", "str", "Letters, digits, '.', '_' or '-'", required=True, max_length=63), *SECTIONS)


def store() -> EnvironmentStore:
    return EnvironmentStore.from_settings(mongo(), context().settings)


def environment_names() -> list[str]:
    names = {str(n) for n in mongo()[OBJECTS].distinct("environment")}
    return sorted(names | set(store().names()))


def describe(name: str, configs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    config = configs.get(name)
    return {"name": name, "role": caller().role_in(name), "configured": config is not None,
            "config": jsonable(config or {})}


def _config(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


@ns.route("")
class Environments(RoleResource):
    # the list shows each caller the environments they hold a role in
    roles = {"GET": "signed_in", "HEAD": "signed_in", "OPTIONS": "signed_in", "POST": "admin"}

    @ns.response(200, "the environments the caller may see", page)
    @query(ns, Param("name", "str", "Names containing this text", max_length=200), *PAGINATION)
    def get(self, args: Args) -> dict[str, Any]:
        """Environments the caller holds a role in (all of them for an admin)."""
        principal = caller()
        configs = {c["name"]: c for c in store().list()}
        visible = [describe(n, configs) for n in environment_names()
                   if principal.can(n) and (not args.name or args.name.lower() in n.lower())]
        window = args.page
        return window.wrap(visible[window.skip:window.skip + window.page_size], len(visible))

    @ns.response(201, "added", item)
    @query(ns)
    @body(ns, "NewEnvironment", *NEW)
    def post(self, args: Args, data: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Add an environment (admins only). Unknown keys in any section are refused, naming them."""
        environment = Environment.parse(_config(data))
        try:
            store().add(environment)
        except EnvironmentExists as exc:
            raise Conflict(str(exc)) from None
        return describe(environment.name, {environment.name: environment.public()}), 201


@ns.route("/<string:env>")
@ns.doc(params={"env": "Environment name"})
class EnvironmentItem(EnvironmentResource):
    roles = {**EnvironmentResource.roles, "PUT": "admin", "DELETE": "admin"}  # configurations: admins only

    @ns.response(200, "the environment", item)
    @query(ns)
    def get(self, env: str, args: Args) -> dict[str, Any]:
        """One environment, credentials masked."""
        configs = {env: store().get(env).public()} if store().exists(env) else {}
        return describe(env, configs)

    @ns.response(200, "replaced", item)
    @query(ns)
    @body(ns, "EnvironmentConfig", *SECTIONS)
    def put(self, env: str, args: Args, data: dict[str, Any]) -> dict[str, Any]:
        """Replace an environment's configuration (admins only); a credential sent as "***" keeps its
        stored value, so a document read, edited and sent back loses no secret."""
        if not store().exists(env):
            raise NotFound(f"no configured environment named {env!r}")
        updated = store().update(Environment.parse(_config(data), name=env))
        return describe(env, {env: updated.public()})

    @ns.response(204, "deleted (without purge, its inventory stays)")
    @query(ns, Param("purge", "bool", "Also remove its inventory, history, changes, scans, messages, schedules, "
                                      "known host keys, grants and graph", default=False))
    def delete(self, env: str, args: Args) -> tuple[str, int]:
        """Delete an environment's configuration (admins only); with purge=true, everything kept about it."""
        if args.purge:
            if not environment_exists(env):
                raise NotFound(f"no environment named {env!r}")
            purge_environment(mongo(), context().stores.neo4j, env)
            context().auth.users.revoke_environment(env)
            return "", 204
        try:
            store().delete(env)
        except EnvironmentNotFound as exc:
            raise NotFound(str(exc)) from None
        return "", 204


def configured(env: str) -> Environment:
    """The environment's configuration with its real credentials (for starting a scan)."""
    if not store().exists(env):
        if environment_exists(env):
            raise Conflict(f"environment {env!r} has an inventory but no configuration to scan with; "
                           "add one (POST /environments)")
        raise NotFound(f"no environment named {env!r}")
    return store().decrypt(env)
