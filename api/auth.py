"""Who is calling, and what they may do.

- Users log in with a name and password, checked against local users (scrypt hashes in MongoDB)
  or LDAP (the user's DN is found by a search as the service account, then bound with the
  password; membership of the admin group makes an admin).
- A login returns a random bearer token. Only its SHA-256 is stored, with the user, the admin
  flag, an expiry and a revocation time: a stolen database yields no usable token.
- Roles: admin (everything), and per environment `view` (read) or `edit` (read, start and abort
  scans, schedules). Grants live in MongoDB and are read on each request, so revoking one acts at
  once. A grant on environment "*" covers every environment.
- Failed logins are logged without the password. After `THROTTLE_AFTER` failures in
  `THROTTLE_WINDOW` for one user from one client, further attempts are refused (429) for a delay
  that doubles with each further failure, up to `THROTTLE_MAX_DELAY`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

import ldap3
import ldap3.core.exceptions
from ldap3.utils.conv import escape_filter_chars
from pymongo.database import Database
from werkzeug.security import check_password_hash, generate_password_hash

from core.errors import CalipsoError
from core.settings import Settings

log = logging.getLogger(__name__)

USERS = "api_users"
GRANTS = "api_grants"
TOKENS = "api_tokens"
LOGIN_FAILURES = "api_login_failures"

Role = Literal["view", "edit"]
ROLES: tuple[str, ...] = ("view", "edit")
ALL_ENVIRONMENTS = "*"

ADMIN_GROUP = "calipso-admins"
DEFAULT_TOKEN_TTL = timedelta(hours=8)
MAX_TOKEN_TTL = timedelta(days=30)
THROTTLE_AFTER = 5
THROTTLE_WINDOW = timedelta(minutes=15)
THROTTLE_MAX_DELAY = timedelta(minutes=15)


class AuthError(CalipsoError):
    """A user or grant command could not be carried out."""


class LoginFailed(Exception):
    """Wrong user name or password (deliberately not saying which)."""


class LoginThrottled(Exception):
    """Too many recent failures for this user from this client."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


class DirectoryUnavailable(Exception):
    """The LDAP server could not be reached."""


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Identity:
    """A user whose password checked out."""

    user: str
    source: Literal["local", "ldap"]
    admin: bool
    groups: list[str] = field(default_factory=list)


@dataclass
class Principal:
    """The caller of one request: who, through which token, and with which grants."""

    user: str
    admin: bool
    source: str
    token_id: str
    expires_at: datetime
    grants: dict[str, str] = field(default_factory=dict)  # environment -> view | edit

    def role_in(self, environment: str) -> str | None:
        if self.admin:
            return "edit"
        return self.grants.get(environment) or self.grants.get(ALL_ENVIRONMENTS)

    def can(self, environment: str, role: Role = "view") -> bool:
        held = self.role_in(environment)
        return held is not None and ROLES.index(held) >= ROLES.index(role)

    def to_dict(self) -> dict[str, Any]:
        return {"user": self.user, "admin": self.admin, "source": self.source,
                "expires_at": self.expires_at.isoformat(), "grants": dict(sorted(self.grants.items()))}


# -- local users and grants ---------------------------------------------------------------------

class UserStore:
    """Local users (scrypt password hashes) and per-environment grants, in MongoDB."""

    def __init__(self, database: Database) -> None:
        self.users = database[USERS]
        self.grants = database[GRANTS]

    def add(self, name: str, password: str, admin: bool = False) -> None:
        if not name or not password:
            raise AuthError("a user needs a non-empty name and password")
        if self.users.find_one({"_id": name}):
            raise AuthError(f"user {name!r} exists already (use `calipso user passwd` to change its password)")
        self.users.insert_one({"_id": name, "password_hash": generate_password_hash(password, method="scrypt"),
                               "admin": admin, "created_at": utcnow()})

    def set_password(self, name: str, password: str) -> None:
        if not password:
            raise AuthError("the password must not be empty")
        if not self.users.update_one({"_id": name}, {"$set": {
                "password_hash": generate_password_hash(password, method="scrypt")}}).matched_count:
            raise AuthError(f"no local user {name!r}")

    def set_admin(self, name: str, admin: bool) -> None:
        if not self.users.update_one({"_id": name}, {"$set": {"admin": admin}}).matched_count:
            raise AuthError(f"no local user {name!r}")

    def remove(self, name: str) -> bool:
        self.grants.delete_many({"user": name})
        return self.users.delete_one({"_id": name}).deleted_count == 1

    def list(self) -> list[dict[str, Any]]:
        users = [{"user": d["_id"], "source": "local", "admin": bool(d.get("admin")), "created_at": d.get("created_at")}
                 for d in self.users.find({}, {"password_hash": 0}).sort("_id", 1)]
        granted = {}
        for grant in self.grants.find():
            granted.setdefault(grant["user"], {})[grant["environment"]] = grant["role"]
        for user in users:
            user["grants"] = granted.pop(user["user"], {})
        # Users who only exist in LDAP but hold grants.
        users += [{"user": name, "source": "ldap", "admin": None, "created_at": None, "grants": grants}
                  for name, grants in sorted(granted.items())]
        return users

    def check(self, name: str, password: str) -> Identity | None:
        """The local user if the password matches; None if there is no such local user."""
        doc = self.users.find_one({"_id": name})
        if doc is None:
            return None
        if not check_password_hash(doc["password_hash"], password):
            raise LoginFailed()
        return Identity(name, "local", bool(doc.get("admin")))

    def grant(self, user: str, environment: str, role: str) -> None:
        if role not in ROLES:
            raise AuthError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        if not user or not environment:
            raise AuthError("a grant needs a user and an environment (or * for all)")
        self.grants.update_one({"_id": f"{user}|{environment}"},
                               {"$set": {"user": user, "environment": environment, "role": role}}, upsert=True)

    def revoke(self, user: str, environment: str) -> bool:
        return self.grants.delete_one({"_id": f"{user}|{environment}"}).deleted_count == 1

    def grants_of(self, user: str) -> dict[str, str]:
        return {g["environment"]: g["role"] for g in self.grants.find({"user": user})}


# -- LDAP --------------------------------------------------------------------------------------

class LdapDirectory:
    """Checks passwords against LDAP: search the user's entry as the service account, bind as it."""

    def __init__(self, settings: Settings, admin_group: str = ADMIN_GROUP, timeout: int = 5) -> None:
        self.settings = settings
        self.admin_group = admin_group
        self.timeout = timeout

    def _server(self) -> ldap3.Server:
        host, port = self.settings.ldap_address
        return ldap3.Server(host, port=port, use_ssl=self.settings.ldap_url.startswith("ldaps"),
                            connect_timeout=self.timeout, get_info=ldap3.NONE)

    def check(self, name: str, password: str) -> Identity:
        if not password:
            # An LDAP bind with an empty password is an anonymous bind, which "succeeds".
            raise LoginFailed()
        server = self._server()
        try:
            with ldap3.Connection(server, self.settings.ldap_bind_dn,
                                  self.settings.ldap_bind_password.get_secret_value(),
                                  auto_bind=True, receive_timeout=self.timeout, read_only=True) as service:
                service.search(self.settings.ldap_base_dn, f"(uid={escape_filter_chars(name)})",
                               attributes=["uid"], size_limit=2)
                entries = list(service.entries)
                if len(entries) != 1:
                    raise LoginFailed()
                user_dn = entries[0].entry_dn
                service.search(self.settings.ldap_base_dn,
                               f"(&(objectClass=groupOfNames)(member={escape_filter_chars(user_dn)}))",
                               attributes=["cn"])
                groups = sorted(str(e.cn) for e in service.entries)
            try:
                with ldap3.Connection(server, user_dn, password, auto_bind=True, receive_timeout=self.timeout):
                    pass
            except ldap3.core.exceptions.LDAPBindError:
                raise LoginFailed() from None
        except LoginFailed:
            raise
        except ldap3.core.exceptions.LDAPException as exc:
            raise DirectoryUnavailable(f"LDAP at {self.settings.ldap_url}: {type(exc).__name__}") from exc
        return Identity(name, "ldap", self.admin_group in groups, groups)


# -- tokens ------------------------------------------------------------------------------------

class TokenStore:
    """Bearer tokens: random, stored as a SHA-256 digest with user, admin flag and expiry."""

    def __init__(self, database: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.tokens = database[TOKENS]
        self.clock = clock

    def issue(self, identity: Identity, ttl: timedelta = DEFAULT_TOKEN_TTL, client: str | None = None) -> tuple[str, dict[str, Any]]:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        doc = {"_id": token_digest(token), "user": identity.user, "admin": identity.admin, "source": identity.source,
               "issued_at": now, "expires_at": now + ttl, "revoked_at": None, "client": client}
        self.tokens.insert_one(doc)
        return token, doc

    def lookup(self, token: str) -> tuple[dict[str, Any] | None, str]:
        """The token's document if it is valid, else None and why not (unknown, expired, revoked)."""
        doc = self.tokens.find_one({"_id": token_digest(token)})
        if doc is None:
            return None, "unknown token"
        if doc.get("revoked_at") is not None:
            return None, "the token was revoked"
        if _aware(doc["expires_at"]) <= self.clock():
            return None, "the token has expired"
        return doc, ""

    def revoke(self, token_id: str) -> bool:
        result = self.tokens.update_one({"_id": token_id, "revoked_at": None}, {"$set": {"revoked_at": self.clock()}})
        return result.modified_count == 1

    def get(self, token_id: str) -> dict[str, Any] | None:
        return self.tokens.find_one({"_id": token_id})

    def purge_expired(self) -> int:
        return self.tokens.delete_many({"expires_at": {"$lt": self.clock() - timedelta(days=1)}}).deleted_count


# -- login throttling --------------------------------------------------------------------------

class LoginThrottle:
    """Counts failed logins per (user, client) in MongoDB, so every API process sees the same."""

    def __init__(self, database: Database, after: int = THROTTLE_AFTER, window: timedelta = THROTTLE_WINDOW,
                 max_delay: timedelta = THROTTLE_MAX_DELAY, clock: Callable[[], datetime] = utcnow) -> None:
        self.failures = database[LOGIN_FAILURES]
        self.after, self.window, self.max_delay, self.clock = after, window, max_delay, clock

    @staticmethod
    def _key(user: str, client: str) -> str:
        return hashlib.sha256(f"{user}\x00{client}".encode()).hexdigest()

    def check(self, user: str, client: str) -> None:
        """Raise LoginThrottled while this user+client must wait."""
        doc = self.failures.find_one({"_id": self._key(user, client)})
        if not doc:
            return
        now = self.clock()
        if _aware(doc["first_at"]) < now - self.window:
            return
        blocked_until = _aware(doc.get("blocked_until") or now)
        if blocked_until > now:
            raise LoginThrottled(max(1, int((blocked_until - now).total_seconds() + 0.999)))

    def failed(self, user: str, client: str) -> int:
        """Record a failure; returns how many there were in the window."""
        key, now = self._key(user, client), self.clock()
        doc = self.failures.find_one({"_id": key})
        if not doc or _aware(doc["first_at"]) < now - self.window:
            doc = {"_id": key, "count": 0, "first_at": now}
        count = int(doc["count"]) + 1
        blocked_until = None
        if count >= self.after:
            delay = min(timedelta(seconds=2 ** (count - self.after)), self.max_delay)
            blocked_until = now + delay
        self.failures.replace_one({"_id": key}, {"count": count, "first_at": doc["first_at"], "last_at": now,
                                                 "blocked_until": blocked_until}, upsert=True)
        return count

    def succeeded(self, user: str, client: str) -> None:
        self.failures.delete_one({"_id": self._key(user, client)})


# -- the whole login -------------------------------------------------------------------------

class Authenticator:
    """Logs users in (local first, then LDAP) and turns bearer tokens into principals."""

    def __init__(self, database: Database, settings: Settings, directory: LdapDirectory | None = None,
                 throttle: LoginThrottle | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.users = UserStore(database)
        self.tokens = TokenStore(database, clock)
        self.directory = directory or LdapDirectory(settings)
        self.throttle = throttle or LoginThrottle(database, clock=clock)

    def login(self, name: str, password: str, client: str, ttl: timedelta = DEFAULT_TOKEN_TTL) -> tuple[str, dict[str, Any]]:
        """A new token for this user, or LoginFailed / LoginThrottled / DirectoryUnavailable."""
        self.throttle.check(name, client)
        try:
            identity = self.users.check(name, password)
            if identity is None:
                identity = self.directory.check(name, password)
        except LoginFailed:
            count = self.throttle.failed(name, client)
            # Never the password: the user name and the client are what an operator needs.
            log.warning("failed login for user %r from %s (%d failure(s) in the last %s)", name, client, count,
                        self.throttle.window)
            raise
        self.throttle.succeeded(name, client)
        token, doc = self.tokens.issue(identity, ttl, client)
        log.info("user %r logged in from %s (%s%s)", name, client, identity.source, ", admin" if identity.admin else "")
        return token, doc

    def principal(self, token: str) -> tuple[Principal | None, str]:
        doc, why = self.tokens.lookup(token)
        if doc is None:
            return None, why
        return Principal(doc["user"], bool(doc["admin"]), doc["source"], doc["_id"], _aware(doc["expires_at"]),
                         self.users.grants_of(doc["user"])), ""

    @staticmethod
    def same_token(token: str, token_id: str) -> bool:
        return hmac.compare_digest(token_digest(token), token_id)
