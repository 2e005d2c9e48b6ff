"""Who is calling, and what they may do.

- Users log in with a name and password, checked against local users (scrypt hashes in MongoDB)
  or LDAP (the user's DN is found by a search as the service account, then bound with the
  password; membership of the admin group makes an admin).
- A login returns a random bearer token. Only its SHA-256 is stored, with the user, the admin
  flag, an expiry and a revocation time: a stolen database yields no usable token.
- Roles: admin (everything), and per environment `view` (read) or `edit` (read, start and abort
  scans, schedules). Grants live in MongoDB, so revoking one acts at once. A grant on environment
  "*" covers every environment.
- Each API process keeps what a token resolved to (its document, its user's admin flag and grants)
  while the auth epoch stands still: every change of users, grants or token revocations writes a
  new epoch, and a request reads only the epoch (one lookup by `_id`) to know that what it kept is
  still right. Kept answers also age out after `KEPT_CALLER_TTL`, for writes made past these stores.
- A token carries no rights of its own: each request resolves them again from the user as it is
  now (a local user's document; an LDAP user's entry and groups, cached for `LDAP_RIGHTS_TTL`), so a
  removed user, a revoked admin flag or a left admin group takes effect at once (LDAP: within the
  cache's lifetime). Removing a local user also revokes its tokens. Tokens issued without a password
  (`calipso token issue`, source "issued") carry the admin flag the operator gave them.
- User names are compared stripped and case-folded: `Bob`, ` bob` and `bob\t` are all `bob`, for
  logging in, grants and throttling alike.
- Failed logins are logged without the password. Each attempt is counted before its password is
  checked (one atomic update), so parallel guesses cannot outrun the count: after `THROTTLE_AFTER`
  attempts in `THROTTLE_WINDOW` for one user from one client, further attempts are refused (429)
  for a delay that doubles with each further failure, up to `THROTTLE_MAX_DELAY`.
- An unknown user name costs the same password hashing as a wrong password, so timing does not
  tell which names exist.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Literal

import ldap3
import ldap3.core.exceptions
from ldap3.utils.conv import escape_filter_chars
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError
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
#: How long an LDAP user's existence and admin group membership are trusted before the directory is asked again.
LDAP_RIGHTS_TTL = timedelta(seconds=30)
#: The auth epoch's collection: one document whose value changes with every change of rights.
AUTH_EPOCH = "api_auth_epoch"
#: How long an API process trusts a kept caller without a new epoch, and how many it keeps.
KEPT_CALLER_TTL = timedelta(seconds=60)
KEPT_CALLERS = 1024


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
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_user(name: str) -> str:
    """The one spelling of a user name: without surrounding white space, case-folded."""
    return name.strip().casefold()


@cache
def _decoy_hash() -> str:
    """A password hash no password matches, checked when a name is unknown (same cost as a real one)."""
    return generate_password_hash(secrets.token_urlsafe(16), method="scrypt")


@dataclass
class Identity:
    """A user whose password checked out."""

    user: str
    source: Literal["local", "ldap", "issued"]
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

class AuthEpoch:
    """A value that changes with every change of users, grants and token revocations, so that a
    process may keep what a token resolved to until it changes. A random value, not a counter:
    FerretDB's `$inc` can lose an update under concurrency, and two changes must never leave it
    where it was."""

    _ID = "epoch"

    def __init__(self, database: Database) -> None:
        self.epochs = database[AUTH_EPOCH]

    def current(self) -> str | None:
        doc = self.epochs.find_one({"_id": self._ID})
        return None if doc is None else str(doc["value"])

    def advance(self) -> None:
        """Called after the change is written, so that a reader who sees the new epoch sees the change."""
        self.epochs.update_one({"_id": self._ID}, {"$set": {"value": secrets.token_hex(16)}}, upsert=True)


class UserStore:
    """Local users (scrypt password hashes) and per-environment grants, in MongoDB."""

    def __init__(self, database: Database) -> None:
        self.users = database[USERS]
        self.grants = database[GRANTS]
        self.tokens = database[TOKENS]
        self.epoch = AuthEpoch(database)

    def add(self, name: str, password: str, admin: bool = False) -> None:
        name = normalize_user(name)
        if not name or not password:
            raise AuthError("a user needs a non-empty name and password")
        if self.users.find_one({"_id": name}):
            raise AuthError(f"user {name!r} exists already (use `calipso user passwd` to change its password)")
        self.users.insert_one({"_id": name, "password_hash": generate_password_hash(password, method="scrypt"),
                               "admin": admin, "created_at": utcnow()})

    def set_password(self, name: str, password: str) -> None:
        name = normalize_user(name)
        if not password:
            raise AuthError("the password must not be empty")
        if not self.users.update_one({"_id": name}, {"$set": {
                "password_hash": generate_password_hash(password, method="scrypt")}}).matched_count:
            raise AuthError(f"no local user {name!r}")

    def set_admin(self, name: str, admin: bool) -> None:
        name = normalize_user(name)
        if not self.users.update_one({"_id": name}, {"$set": {"admin": admin}}).matched_count:
            raise AuthError(f"no local user {name!r}")
        self.epoch.advance()

    def remove(self, name: str) -> bool:
        """Remove a local user, its grants, and every token issued to it (LDAP users: grants and tokens)."""
        name = normalize_user(name)
        self.grants.delete_many({"user": name})
        self.tokens.update_many({"user": name, "revoked_at": None}, {"$set": {"revoked_at": utcnow()}})
        removed = self.users.delete_one({"_id": name}).deleted_count == 1
        self.epoch.advance()
        return removed

    def list(self) -> list[dict[str, Any]]:
        users = [{"user": d["_id"], "source": "local", "admin": bool(d.get("admin")), "created_at": d.get("created_at")}
                 for d in self.users.find({}, {"password_hash": 0}).sort("_id", 1)]
        granted: dict[str, dict[str, str]] = {}
        for grant in self.grants.find():
            granted.setdefault(grant["user"], {})[grant["environment"]] = grant["role"]
        for user in users:
            user["grants"] = granted.pop(user["user"], {})
        # Users who only exist in LDAP but hold grants.
        users += [{"user": name, "source": "ldap", "admin": None, "created_at": None, "grants": grants}
                  for name, grants in sorted(granted.items())]
        return users

    def check(self, name: str, password: str) -> Identity | None:
        """The local user if the password matches; None if there is no such local user (after the
        same hashing work, so that the answer's time does not tell)."""
        name = normalize_user(name)
        doc = self.users.find_one({"_id": name})
        if doc is None:
            check_password_hash(_decoy_hash(), password)
            return None
        if not check_password_hash(doc["password_hash"], password):
            raise LoginFailed()
        return Identity(name, "local", bool(doc.get("admin")))

    def get(self, name: str) -> dict[str, Any] | None:
        """A local user's document (without its hash), or None."""
        return self.users.find_one({"_id": normalize_user(name)}, {"password_hash": 0})

    def grant(self, user: str, environment: str, role: str) -> None:
        user = normalize_user(user)
        if role not in ROLES:
            raise AuthError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        if not user or not environment:
            raise AuthError("a grant needs a user and an environment (or * for all)")
        self.grants.update_one({"_id": f"{user}|{environment}"},
                               {"$set": {"user": user, "environment": environment, "role": role}}, upsert=True)
        self.epoch.advance()

    def revoke(self, user: str, environment: str) -> bool:
        removed = self.grants.delete_one({"_id": f"{normalize_user(user)}|{environment}"}).deleted_count == 1
        self.epoch.advance()
        return removed

    def revoke_environment(self, environment: str) -> int:
        """Remove every grant on one environment (when it is purged); returns how many."""
        removed = self.grants.delete_many({"environment": environment}).deleted_count
        self.epoch.advance()
        return int(removed)

    def grants_of(self, user: str) -> dict[str, str]:
        return {g["environment"]: g["role"] for g in self.grants.find({"user": normalize_user(user)})}


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

    def _find(self, server: ldap3.Server, name: str) -> tuple[str, list[str]] | None:
        """The user's DN and groups, searched as the service account; None when no single entry matches."""
        with ldap3.Connection(server, self.settings.ldap_bind_dn, self.settings.ldap_bind_password.get_secret_value(),
                              auto_bind=True, receive_timeout=self.timeout, read_only=True) as service:
            service.search(self.settings.ldap_base_dn, f"(uid={escape_filter_chars(name)})",
                           attributes=["uid"], size_limit=2)
            entries = list(service.entries)
            if len(entries) != 1:
                return None
            user_dn = entries[0].entry_dn
            service.search(self.settings.ldap_base_dn,
                           f"(&(objectClass=groupOfNames)(member={escape_filter_chars(user_dn)}))",
                           attributes=["cn"])
            return user_dn, sorted(str(e.cn) for e in service.entries)

    def lookup(self, name: str) -> Identity | None:
        """The user as the directory holds it now (exists? admin?), without a password; None if gone."""
        try:
            found = self._find(self._server(), name)
        except ldap3.core.exceptions.LDAPException as exc:
            raise DirectoryUnavailable(f"LDAP at {self.settings.ldap_url}: {type(exc).__name__}") from exc
        return None if found is None else Identity(name, "ldap", self.admin_group in found[1], found[1])

    def check(self, name: str, password: str) -> Identity:
        if not password:
            # An LDAP bind with an empty password is an anonymous bind, which "succeeds".
            raise LoginFailed()
        server = self._server()
        try:
            found = self._find(server, name)
            if found is None:
                raise LoginFailed()
            user_dn, groups = found
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
        self.epoch = AuthEpoch(database)

    def issue(self, identity: Identity, ttl: timedelta = DEFAULT_TOKEN_TTL,
              client: str | None = None) -> tuple[str, dict[str, Any]]:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        doc = {"_id": token_digest(token), "user": normalize_user(identity.user), "admin": identity.admin,
               "source": identity.source,
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
        self.epoch.advance()
        return result.modified_count == 1

    def get(self, token_id: str) -> dict[str, Any] | None:
        return self.tokens.find_one({"_id": token_id})

    def purge_expired(self) -> int:
        return self.tokens.delete_many({"expires_at": {"$lt": self.clock() - timedelta(days=1)}}).deleted_count


# -- login throttling --------------------------------------------------------------------------

class LoginThrottle:
    """Counts login attempts per (user, client) in MongoDB, so every API process sees the same.

    Each attempt inserts a document before its password is checked and then counts the attempts
    in the window: inserts are atomic on every MongoDB server (an `$inc` is not on FerretDB's), so
    of N parallel guesses at most `after` see a count within the allowance; the rest wait. A
    success forgets the user+client's attempts."""

    def __init__(self, database: Database, after: int = THROTTLE_AFTER, window: timedelta = THROTTLE_WINDOW,
                 max_delay: timedelta = THROTTLE_MAX_DELAY, clock: Callable[[], datetime] = utcnow) -> None:
        self.attempts = database[LOGIN_FAILURES]
        self.after, self.window, self.max_delay, self.clock = after, window, max_delay, clock

    @staticmethod
    def _key(user: str, client: str) -> str:
        return hashlib.sha256(f"{normalize_user(user)}\x00{client}".encode()).hexdigest()

    def attempt(self, user: str, client: str) -> int:
        """Count one attempt and return its number in the window; LoginThrottled (and not counted)
        while this user+client must wait."""
        key, now = self._key(user, client), self.clock()
        self.attempts.delete_many({"key": key, "at": {"$lt": now - self.window}})
        mine = self.attempts.insert_one({"key": key, "at": now}).inserted_id
        number = self.attempts.count_documents({"key": key, "at": {"$gte": now - self.window}})
        if number <= self.after:
            return number
        block = self.attempts.find_one({"_id": f"block:{key}"})
        # Past the allowance: wait out the delay; none set yet means earlier attempts are still being checked.
        wait = (_aware(block["until"]) - now).total_seconds() if block is not None else 1.0
        if wait > 0:
            self.attempts.delete_one({"_id": mine})
            raise LoginThrottled(max(1, int(wait + 0.999)))
        return number

    def failed(self, user: str, client: str, number: int) -> None:
        """Attempt `number` failed: from the `after`-th on, block for a delay that doubles each time."""
        if number < self.after:
            return
        key = self._key(user, client)
        until = self.clock() + min(timedelta(seconds=2 ** min(number - self.after, 32)), self.max_delay)
        try:
            self.attempts.update_one({"_id": f"block:{key}"}, {"$max": {"until": until}}, upsert=True)
        except DuplicateKeyError:  # a parallel failure created it first
            self.attempts.update_one({"_id": f"block:{key}"}, {"$max": {"until": until}})

    def succeeded(self, user: str, client: str) -> None:
        key = self._key(user, client)
        self.attempts.delete_many({"key": key})
        self.attempts.delete_one({"_id": f"block:{key}"})


# -- the whole login -------------------------------------------------------------------------

@dataclass(frozen=True)
class _KeptCaller:
    """What a token resolved to, and under which auth epoch."""

    epoch: str | None
    resolved_at: datetime
    token: dict[str, Any]
    admin: bool
    grants: dict[str, str]


class Authenticator:
    """Logs users in (local first, then LDAP) and turns bearer tokens into principals."""

    def __init__(self, database: Database, settings: Settings, directory: LdapDirectory | None = None,
                 throttle: LoginThrottle | None = None, clock: Callable[[], datetime] = utcnow,
                 ldap_rights_ttl: timedelta = LDAP_RIGHTS_TTL) -> None:
        self.users = UserStore(database)
        self.tokens = TokenStore(database, clock)
        self.directory = directory or LdapDirectory(settings)
        self.throttle = throttle or LoginThrottle(database, clock=clock)
        self.clock = clock
        self.ldap_rights_ttl = ldap_rights_ttl
        self._ldap_rights: dict[str, tuple[datetime, Identity | None]] = {}
        self._callers: OrderedDict[str, _KeptCaller] = OrderedDict()
        self._lock = threading.Lock()

    def login(self, name: str, password: str, client: str, ttl: timedelta = DEFAULT_TOKEN_TTL) -> tuple[str, dict[str, Any]]:
        """A new token for this user, or LoginFailed / LoginThrottled / DirectoryUnavailable."""
        name = normalize_user(name)
        number = self.throttle.attempt(name, client)
        try:
            identity = self.users.check(name, password)
            if identity is None:
                identity = self.directory.check(name, password)
        except LoginFailed:
            self.throttle.failed(name, client, number)
            # Never the password: the user name and the client are what an operator needs.
            log.warning("failed login for user %r from %s (%d attempt(s) in the last %s)", name, client, number,
                        self.throttle.window)
            raise
        self.throttle.succeeded(name, client)
        token, doc = self.tokens.issue(identity, ttl, client)
        log.info("user %r logged in from %s (%s%s)", name, client, identity.source, ", admin" if identity.admin else "")
        return token, doc

    def principal(self, token: str) -> tuple[Principal | None, str]:
        """The caller behind a token, with the rights its user holds now; None and why when there is none."""
        epoch = self.users.epoch.current()  # read before the rights, so a change after it shows as a new epoch
        now = self.clock()
        digest = token_digest(token)
        with self._lock:
            kept = self._callers.get(digest)
        if kept is None or kept.epoch != epoch or now - kept.resolved_at >= KEPT_CALLER_TTL:
            resolved, why = self._resolve(token)
            if resolved is None:
                with self._lock:
                    self._callers.pop(digest, None)
                return None, why
            kept = _KeptCaller(epoch, now, *resolved)
            with self._lock:
                self._callers[digest] = kept
                self._callers.move_to_end(digest)
                while len(self._callers) > KEPT_CALLERS:
                    self._callers.popitem(last=False)
        doc = kept.token
        if _aware(doc["expires_at"]) <= now:
            return None, "the token has expired"
        admin = kept.admin
        if doc["source"] == "ldap":  # the directory's answer has a cache of its own
            current = self._ldap_user(doc["user"])
            if current is None:
                return None, f"user {doc['user']!r} is no longer in the directory"
            admin = current.admin
        return Principal(doc["user"], admin, doc["source"], doc["_id"], _aware(doc["expires_at"]),
                         dict(kept.grants)), ""

    def _resolve(self, token: str) -> tuple[tuple[dict[str, Any], bool, dict[str, str]] | None, str]:
        """From the stores: the token's document, its user's admin flag (local and issued tokens) and
        grants; None and why when the token or its local user is gone."""
        doc, why = self.tokens.lookup(token)
        if doc is None:
            return None, why
        user, source = doc["user"], doc["source"]
        admin = bool(doc["admin"])  # issued without a password: the rights it was issued with
        if source == "local":
            stored = self.users.get(user)
            if stored is None:
                return None, f"user {user!r} no longer exists"
            admin = bool(stored.get("admin"))
        return (doc, admin, self.users.grants_of(user)), ""

    def _ldap_user(self, name: str) -> Identity | None:
        """The directory's answer about `name`, cached briefly; while the directory cannot be reached,
        the user keeps view rights but not admin (fail closed)."""
        now = self.clock()
        with self._lock:
            cached = self._ldap_rights.get(name)
        if cached is not None and now - cached[0] < self.ldap_rights_ttl:
            return cached[1]
        try:
            current = self.directory.lookup(name)
        except DirectoryUnavailable as exc:
            log.warning("cannot check LDAP user %r (%s): no admin rights until the directory answers", name, exc)
            return Identity(name, "ldap", False)
        with self._lock:
            self._ldap_rights[name] = (now, current)
        return current

    @staticmethod
    def same_token(token: str, token_id: str) -> bool:
        return hmac.compare_digest(token_digest(token), token_id)
