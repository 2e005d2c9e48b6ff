"""Keystone v3, simulated: password and token auth, the service catalog, projects, regions, users.

One user (admin, domain Default) with the admin role on every project; the password is the
app's. The catalog points every service at the server the client reached, in each region of
the world, on the public, internal and admin interfaces.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, request

from lab.cloud.http import derived_id, json_response, public
from lab.cloud.listing import filter_key, query_key
from lab.cloud.state import docs, state
from lab.cloud.tokens import Token, TokenStore
from lab.world import Project, World

blueprint = Blueprint("identity", __name__, url_prefix="/identity")

API_VERSION = "v3.14"  # Keystone 2024.1 reports v3.14
ADMIN_USER = "admin"
ADMIN_PROJECT = "admin"
DEFAULT_DOMAIN = {"id": "default", "name": "Default"}
ROLES = ("admin", "member", "reader")  # admin implies member implies reader: tokens list all three
INTERFACES = ("public", "internal", "admin")
#: (type, name, path under the server root) of each service in the catalog.
SERVICES = (("identity", "keystone", "identity"), ("compute", "nova", "compute/v2.1"),
            ("network", "neutron", "network"))


def admin_user_id() -> str:
    """The id of the one user, admin (the other services name it as owner of what it made)."""
    return derived_id("user", ADMIN_USER, hex_only=True)


class AuthError(Exception):
    """A rejected authentication request, with Keystone's status code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def error_body(code: int, message: str) -> dict[str, Any]:
    """Keystone's (and keystonemiddleware's) error JSON."""
    titles = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
              405: "Method Not Allowed", 409: "Conflict"}
    return {"error": {"code": code, "message": message, "title": titles.get(code, "Error")}}


def keystone_error(code: int, message: str) -> Response:
    return json_response(error_body(code, message), code)


def unauthorized() -> Response:
    return keystone_error(401, "The request you have made requires authentication.")


def timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


class IdentityDocs:
    """Keystone's documents for one world, as seen at one base URL."""

    def __init__(self, world: World, base: str) -> None:
        self.base = base
        self.v3 = f"{base}identity/v3"
        self.user_id = admin_user_id()
        admin = Project(id=derived_id("project", ADMIN_PROJECT, hex_only=True), name=ADMIN_PROJECT)
        self.admin_project_id = admin.id
        projects = [admin] + [p for p in world.projects if p.id != admin.id]
        domain_ids = ["default"] + sorted({p.domain_id for p in projects} - {"default"})
        self.domains = [self._domain(domain_id) for domain_id in domain_ids]
        self.projects = [self._project(p) for p in projects]
        self.regions = [{"id": r.name, "description": "", "parent_region_id": None,
                         "links": {"self": f"{self.v3}/regions/{r.name}"}} for r in world.regions]
        self.users = [{"id": self.user_id, "name": ADMIN_USER, "domain_id": "default", "enabled": True,
                       "password_expires_at": None, "options": {},
                       "links": {"self": f"{self.v3}/users/{self.user_id}"}}]
        self.roles = [{"id": derived_id("role", name, hex_only=True), "name": name, "domain_id": None,
                       "description": None, "options": {},
                       "links": {"self": f"{self.v3}/roles/{derived_id('role', name, hex_only=True)}"}}
                      for name in ROLES]
        self.services: list[dict[str, Any]] = []
        self.endpoints: list[dict[str, Any]] = []
        self.catalog: list[dict[str, Any]] = []
        for service_type, name, path in SERVICES:
            service_id = derived_id("service", service_type, hex_only=True)
            self.services.append({"id": service_id, "type": service_type, "name": name, "enabled": True,
                                  "description": f"{name.capitalize()} Service",
                                  "links": {"self": f"{self.v3}/services/{service_id}"}})
            entries = []
            for region in world.regions:
                for interface in INTERFACES:
                    endpoint_id = derived_id("endpoint", service_type, region.name, interface, hex_only=True)
                    url = f"{base}{path}"
                    entries.append({"id": endpoint_id, "interface": interface, "region_id": region.name,
                                    "url": url, "region": region.name})
                    self.endpoints.append({"id": endpoint_id, "interface": interface, "region_id": region.name,
                                           "region": region.name, "url": url, "service_id": service_id,
                                           "enabled": True, "links": {"self": f"{self.v3}/endpoints/{endpoint_id}"}})
            self.catalog.append({"endpoints": entries, "id": service_id, "type": service_type, "name": name})
        self.project_by_id = {p["id"]: p for p in self.projects}
        self.domain_by_id = {d["id"]: d for d in self.domains}

    def _domain(self, domain_id: str) -> dict[str, Any]:
        name = "Default" if domain_id == "default" else domain_id
        return {"id": domain_id, "name": name, "description": "The default domain" if domain_id == "default" else "",
                "enabled": True, "tags": [], "options": {}, "links": {"self": f"{self.v3}/domains/{domain_id}"}}

    def _project(self, project: Project) -> dict[str, Any]:
        return {"id": project.id, "name": project.name, "domain_id": project.domain_id, "description": "",
                "enabled": project.enabled, "parent_id": project.domain_id, "is_domain": False, "tags": [],
                "options": {}, "links": {"self": f"{self.v3}/projects/{project.id}"}}

    def find_domain(self, ref: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """The domain named by {"id": ...} or {"name": ...}."""
        if not isinstance(ref, Mapping):
            return None
        if "id" in ref:
            return self.domain_by_id.get(str(ref["id"]))
        return next((d for d in self.domains if d["name"] == ref.get("name")), None)

    def find_project(self, ref: Mapping[str, Any]) -> dict[str, Any] | None:
        """The project named by {"id": ...} or {"name": ..., "domain": {...}}."""
        if "id" in ref:
            return self.project_by_id.get(str(ref["id"]))
        domain = self.find_domain(ref.get("domain"))
        if domain is None:
            return None
        return next((p for p in self.projects if p["name"] == ref.get("name") and p["domain_id"] == domain["id"]), None)

    def token_body(self, token: Token, with_catalog: bool = True) -> dict[str, Any]:
        """The body Keystone returns for a token: who, what scope, roles, catalog."""
        body: dict[str, Any] = {
            "methods": list(token.methods),
            "user": {"domain": dict(DEFAULT_DOMAIN), "id": token.user_id, "name": ADMIN_USER,
                     "password_expires_at": None},
            "audit_ids": [token.audit_id],
            "expires_at": timestamp(token.expires_at),
            "issued_at": timestamp(token.issued_at),
        }
        scoped = True
        if token.project_id:
            project = self.project_by_id[token.project_id]
            domain = self.domain_by_id[project["domain_id"]]
            body["project"] = {"domain": {"id": domain["id"], "name": domain["name"]}, "id": project["id"],
                               "name": project["name"]}
            body["is_domain"] = False
        elif token.domain_id:
            domain = self.domain_by_id[token.domain_id]
            body["domain"] = {"id": domain["id"], "name": domain["name"]}
        elif token.system:
            body["system"] = {"all": True}
        else:
            scoped = False
        if scoped:
            body["roles"] = [{"id": role["id"], "name": role["name"]} for role in self.roles]
            if with_catalog:
                body["catalog"] = self.catalog
        return {"token": body}


def authenticate(body: object, password: str, identity: IdentityDocs, tokens: TokenStore) -> Token:
    """Check a POST /v3/auth/tokens body and issue the token it asks for; AuthError otherwise."""
    auth = body.get("auth") if isinstance(body, dict) else None
    if not isinstance(auth, dict) or not isinstance(auth.get("identity"), dict):
        raise AuthError(400, "Invalid input for field 'identity': 'identity' is a required property")
    methods = auth["identity"].get("methods")
    if not isinstance(methods, list) or not methods:
        raise AuthError(400, "Invalid input for field 'identity/methods': 'methods' is a required property")
    if "password" in methods:
        user = (auth["identity"].get("password") or {}).get("user")
        if not isinstance(user, dict) or "password" not in user:
            raise AuthError(400, "Invalid input for field 'identity/password/user'")
        if "id" in user:
            known = user["id"] == identity.user_id
        else:
            domain = identity.find_domain(user.get("domain"))
            known = user.get("name") == ADMIN_USER and domain is not None and domain["id"] == "default"
        if not known or user["password"] != password:
            raise AuthError(401, "The request you have made requires authentication.")
    elif "token" in methods:
        presented = tokens.get(str((auth["identity"].get("token") or {}).get("id", "")))
        if presented is None:
            raise AuthError(401, "The request you have made requires authentication.")
    else:
        raise AuthError(401, f"Unsupported authentication method: {methods[0]}")
    scope = auth.get("scope")
    if scope is None or scope == "unscoped":
        return tokens.issue(identity.user_id, tuple(methods))
    if not isinstance(scope, dict):
        raise AuthError(400, "Invalid input for field 'scope'")
    if "project" in scope:
        project = identity.find_project(scope["project"] or {})
        if project is None or not project["enabled"]:
            raise AuthError(401, "The request you have made requires authentication.")
        return tokens.issue(identity.user_id, tuple(methods), project_id=project["id"])
    if "domain" in scope:
        domain = identity.find_domain(scope["domain"])
        if domain is None:
            raise AuthError(401, "The request you have made requires authentication.")
        return tokens.issue(identity.user_id, tuple(methods), domain_id=domain["id"])
    if "system" in scope:
        return tokens.issue(identity.user_id, tuple(methods), system=True)
    raise AuthError(400, "Invalid input for field 'scope'")


def _version() -> dict[str, Any]:
    return {"id": API_VERSION, "status": "stable", "updated": "2020-04-07T00:00:00Z",
            "links": [{"rel": "self", "href": f"{request.url_root}identity/v3/"}],
            "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]}


def _listing(key: str, items: list[dict[str, Any]], path: str) -> Response:
    identity = docs(IdentityDocs)
    return json_response({key: items, "links": {"self": f"{identity.v3}/{path}", "previous": None, "next": None}})


def _filtered(items: list[dict[str, Any]], names: tuple[str, ...]) -> list[dict[str, Any]]:
    """Keystone's simple equality filters (e.g. ?name=admin, ?enabled=true)."""
    for name in names:
        wanted = request.args.get(name)
        if wanted is not None:
            items = [item for item in items
                     if filter_key(item.get(name)) == query_key(wanted, isinstance(item.get(name), bool))]
    return items


def _one(items: dict[str, dict[str, Any]] | list[dict[str, Any]], key: str, item_id: str, kind: str) -> Response:
    found = items.get(item_id) if isinstance(items, dict) else next((i for i in items if i["id"] == item_id), None)
    if found is None:
        return keystone_error(404, f"Could not find {kind}: {item_id}.")
    return json_response({key: found})


@blueprint.get("/", strict_slashes=False)
@public
def versions() -> Response:
    # Keystone answers its root with 300 Multiple Choices.
    return json_response({"versions": {"values": [_version()]}}, 300)


@blueprint.get("/v3", strict_slashes=False)
@public
def version() -> Response:
    return json_response({"version": _version()})


@blueprint.post("/v3/auth/tokens")
@public
def issue_token() -> Response:
    identity = docs(IdentityDocs)
    cloud = state()
    try:
        token = authenticate(request.get_json(silent=True), cloud.password, identity, cloud.tokens)
    except AuthError as exc:
        return keystone_error(exc.code, exc.message)
    body = identity.token_body(token, with_catalog="nocatalog" not in request.args)
    return json_response(body, 201, {"X-Subject-Token": token.id})


@blueprint.route("/v3/auth/tokens", methods=["GET", "HEAD"])
def validate_token() -> Response:
    token = state().tokens.get(request.headers.get("X-Subject-Token"))
    if token is None:
        return keystone_error(404, "Could not find token.")
    body = docs(IdentityDocs).token_body(token, with_catalog="nocatalog" not in request.args)
    return json_response(body, 200, {"X-Subject-Token": token.id})


@blueprint.delete("/v3/auth/tokens")
def revoke_token() -> Response:
    if not state().tokens.revoke(request.headers.get("X-Subject-Token", "")):
        return keystone_error(404, "Could not find token.")
    return Response(status=204)


@blueprint.get("/v3/auth/catalog")
def catalog() -> Response:
    identity = docs(IdentityDocs)
    return json_response({"catalog": identity.catalog, "links": {"self": f"{identity.v3}/auth/catalog",
                                                                  "previous": None, "next": None}})


@blueprint.get("/v3/auth/projects")
def auth_projects() -> Response:
    return _listing("projects", docs(IdentityDocs).projects, "auth/projects")


@blueprint.get("/v3/auth/domains")
def auth_domains() -> Response:
    return _listing("domains", docs(IdentityDocs).domains, "auth/domains")


@blueprint.get("/v3/projects")
def projects() -> Response:
    return _listing("projects", _filtered(docs(IdentityDocs).projects, ("name", "domain_id", "enabled")), "projects")


@blueprint.get("/v3/projects/<project_id>")
def project(project_id: str) -> Response:
    return _one(docs(IdentityDocs).project_by_id, "project", project_id, "project")


@blueprint.get("/v3/domains")
def domains() -> Response:
    return _listing("domains", _filtered(docs(IdentityDocs).domains, ("name", "enabled")), "domains")


@blueprint.get("/v3/domains/<domain_id>")
def domain(domain_id: str) -> Response:
    return _one(docs(IdentityDocs).domain_by_id, "domain", domain_id, "domain")


@blueprint.get("/v3/regions")
def regions() -> Response:
    return _listing("regions", docs(IdentityDocs).regions, "regions")


@blueprint.get("/v3/regions/<region_id>")
def region(region_id: str) -> Response:
    return _one(docs(IdentityDocs).regions, "region", region_id, "region")


@blueprint.get("/v3/users")
def users() -> Response:
    return _listing("users", _filtered(docs(IdentityDocs).users, ("name", "domain_id", "enabled")), "users")


@blueprint.get("/v3/users/<user_id>")
def user(user_id: str) -> Response:
    return _one(docs(IdentityDocs).users, "user", user_id, "user")


@blueprint.get("/v3/roles")
def roles() -> Response:
    return _listing("roles", _filtered(docs(IdentityDocs).roles, ("name",)), "roles")


@blueprint.get("/v3/services")
def services() -> Response:
    return _listing("services", _filtered(docs(IdentityDocs).services, ("type", "name")), "services")


@blueprint.get("/v3/services/<service_id>")
def service(service_id: str) -> Response:
    return _one(docs(IdentityDocs).services, "service", service_id, "service")


@blueprint.get("/v3/endpoints")
def endpoints() -> Response:
    return _listing("endpoints", _filtered(docs(IdentityDocs).endpoints, ("interface", "service_id", "region_id")),
                    "endpoints")


@blueprint.get("/v3/endpoints/<endpoint_id>")
def endpoint(endpoint_id: str) -> Response:
    return _one(docs(IdentityDocs).endpoints, "endpoint", endpoint_id, "endpoint")
