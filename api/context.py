"""What every resource needs while serving a request: the stores, the authenticator, the caller."""

from __future__ import annotations

import time
from typing import Any

from flask import current_app, g, request

from api.auth import Authenticator, Principal, Role
from api.errors import Forbidden, NotFound, Unauthorized
from core.settings import Settings
from core.stores import Stores
from graphmodel.inventory import OBJECTS, InventoryVersion, inventory_counts, inventory_version

#: Collection of environment configurations (core.environments keeps it).
ENVIRONMENTS = "environments"


class ApiContext:
    """Settings, stores and the authenticator of one application (built on first use: it needs MongoDB)."""

    def __init__(self, settings: Settings, stores: Stores, authenticator: Authenticator | None = None) -> None:
        self.settings = settings
        self.stores = stores
        self._auth = authenticator

    @property
    def auth(self) -> Authenticator:
        if self._auth is None:
            self._auth = Authenticator(self.stores.mongo, self.settings)
        return self._auth


def context() -> ApiContext:
    return current_app.extensions["calipso"]


def mongo() -> Any:
    return context().stores.mongo


def caller() -> Principal:
    """The authenticated caller of this request (the before-request hook put it there)."""
    principal = g.get("principal")
    if principal is None:
        raise Unauthorized("this operation needs `Authorization: Bearer <token>` (POST /api/v1/auth/tokens)")
    return principal


def client_address() -> str:
    return request.remote_addr or "unknown"


def request_inventory_version(environment: str) -> InventoryVersion:
    """The environment's inventory version (graphmodel.inventory), read once per request: the
    existence check and the kept answers of one request share it."""
    versions: dict[str, InventoryVersion] = g.setdefault("inventory_versions", {})
    if environment not in versions:
        versions[environment] = inventory_version(mongo(), environment)
    return versions[environment]


#: (database, environment) -> (the inventory version at which it was found to exist, when). Kept only
#: for a version the writer numbered (an environment with an inventory); a purge moves the version.
_FOUND_ENVIRONMENTS: dict[tuple[str, str], tuple[InventoryVersion, float]] = {}
FOUND_ENVIRONMENT_TTL_S = 60.0


def environment_exists(name: str) -> bool:
    """Whether the environment is configured or has an inventory. Every request under
    /environments/{env} asks. Found once, it is known to exist while its inventory version stands
    still, which the request reads anyway for its kept answers. Otherwise each lookup is one FerretDB
    pushes down to its backend: an equality on `_id`, then on `name`, then the writer's counts (by
    `_id`). A `find_one` by `environment` in the inventory reads and decodes every object of the
    environment there (FerretDB applies a limit only to an empty filter): about 45 ms at 20 hosts x
    10 VMs, so it is asked only of an environment whose objects were never counted."""
    database = mongo()
    version, key = request_inventory_version(name), (database.name, name)
    found = _FOUND_ENVIRONMENTS.get(key)
    if found is not None and found[0] == version and time.monotonic() - found[1] < FOUND_ENVIRONMENT_TTL_S:
        return True
    if not _looked_up(database, name):
        return False
    if version[0] > 0:
        _FOUND_ENVIRONMENTS[key] = (version, time.monotonic())
    return True


def _looked_up(database: Any, name: str) -> bool:
    environments = database[ENVIRONMENTS]
    if (environments.find_one({"_id": name}, {"_id": 1}) is not None
            or environments.find_one({"name": name}, {"_id": 1}) is not None):
        return True
    counts = inventory_counts(database, name, "object")
    if counts is not None and any(n > 0 for n in counts.values()):
        return True
    return database[OBJECTS].find_one({"environment": name}, {"_id": 1}) is not None


def require_admin() -> Principal:
    principal = caller()
    if not principal.admin:
        raise Forbidden("this operation is for administrators", {"user": principal.user})
    return principal


def require(environment: str, role: Role = "view") -> Principal:
    """The caller, if it holds `role` in `environment` (and the environment exists)."""
    principal = caller()
    if not principal.can(environment, role):
        held = principal.role_in(environment)
        raise Forbidden(f"user {principal.user!r} may not {'change' if role == 'edit' else 'read'} environment "
                        f"{environment!r}" + (f" (holds {held})" if held else ""),
                        {"user": principal.user, "environment": environment, "needed": role, "held": held})
    if not environment_exists(environment):
        raise NotFound(f"no environment named {environment!r}", {"environment": environment})
    return principal
