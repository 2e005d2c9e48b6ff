"""Environments: the clouds Calipso scans, each with how to reach its APIs, hosts, bus and monitoring.

An environment is one validated document (`Environment`) with typed sections. Credentials
(passwords, private key text, the AMQP password) are encrypted at rest with Fernet under the
configured secret key and are never shown: `public()` and `EnvironmentStore.list()` mask them as
"***", `EnvironmentStore.get()` returns them masked unless asked to reveal them, which only the
scanner does. Unknown keys are refused with an error that names them.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pymongo.errors import DuplicateKeyError

from core.errors import CalipsoError, ConfigError
from core.settings import Settings, redact_url
from core.stores import MongoDatabase

ENVIRONMENTS = "environments"
MASK = "***"
#: Where each credential is sent. A credential kept as "***" on update may not follow a change of
#: these: whoever changes where a secret goes must send the secret again. The OpenStack API decides
#: which hosts exist, so it is a destination of the SSH credentials too.
SECRET_DESTINATIONS: dict[str, tuple[str, ...]] = {
    "openstack.password": ("openstack.auth_url",),
    "cli.password": ("cli.jump_host", "cli.addresses", "openstack.auth_url"),
    "cli.private_key": ("cli.jump_host", "cli.addresses", "openstack.auth_url"),
    "cli.key_passphrase": ("cli.jump_host", "cli.addresses", "openstack.auth_url"),
    "amqp.password": ("amqp.url",),
    "monitoring.password": ("monitoring.api_url",),
}
SECRET_KEY_FILE = "secret.key"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
_JUMP_HOST = re.compile(r"^(?:[^@\s:]+@)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::\d{1,5})?$")


class EnvironmentConfigError(ConfigError):
    """An environment document is invalid; the message names each bad key."""


def _without_credentials(url: str, fields: str) -> str:
    """The URL, if it carries no credential (user info or a credential-like query parameter): those
    belong in the typed secret fields, which are encrypted at rest and never shown."""
    if redact_url(url) != url:
        raise ValueError(f"the URL holds a credential ({redact_url(url)!r}); give it in {fields} instead")
    return url


class EnvironmentNotFound(CalipsoError):
    """No environment has that name."""


class EnvironmentExists(CalipsoError):
    """An environment of that name exists already."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class OpenStackSection(_Section):
    """Keystone v3 credentials; openstacksdk finds every other endpoint in the catalog."""

    auth_url: str
    username: str
    password: SecretStr
    project: str = "admin"
    user_domain: str = "Default"
    project_domain: str = "Default"
    region: str = "RegionOne"
    interface: Literal["public", "internal", "admin"] = "public"
    verify_tls: bool = True

    @field_validator("auth_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an http(s) URL such as https://keystone:5000/v3, got {redact_url(value)!r}")
        return _without_credentials(value, "openstack.username and openstack.password")


class CommandTranslation(_Section):
    """How a containerised distribution's tools are run: `prefix` goes before the command, with
    `{container}` replaced by the container of the host's role (first role listed that matches)."""

    prefix: str
    containers: dict[str, str] = {}  # host role (compute, network, controller, default) -> container
    tools: list[str] | None = None  # only commands starting with one of these; None: every command

    @model_validator(mode="after")
    def _containers_named(self) -> CommandTranslation:
        if "{container}" in self.prefix and not self.containers:
            raise ValueError("prefix uses {container}: name the containers per host role under `containers`")
        return self


class CLISection(_Section):
    """SSH to the hosts: directly, or through a jump host that reaches them by name."""

    user: str = "root"
    port: int = Field(22, ge=1, le=65535)
    key_file: str | None = None
    private_key: SecretStr | None = None  # key text, for deployments that cannot mount a file
    key_passphrase: SecretStr | None = None
    password: SecretStr | None = None
    jump_host: str | None = None  # [user@]host[:port]
    addresses: dict[str, str] = {}  # host name -> [user@]address[:port] when the name does not resolve
    sudo: bool = False
    translation: CommandTranslation | None = None
    connect_timeout: float = Field(10.0, gt=0)
    concurrency: int = Field(8, ge=1, le=256)  # hosts scanned at once
    # strict: a host whose key is not known is skipped; trust-on-first-use: an unknown key is recorded
    # and accepted; accept: any key (nothing recorded). A changed key is refused but under accept.
    host_key_policy: Literal["strict", "trust-on-first-use", "accept"] = "strict"

    @field_validator("jump_host")
    @classmethod
    def _jump_host(cls, value: str | None) -> str | None:
        if value is not None and not _JUMP_HOST.match(value.strip()):
            raise ValueError(f"expected [user@]host[:port], got {value!r}")
        return value.strip() if value else value

    @model_validator(mode="after")
    def _some_credential(self) -> CLISection:
        if not (self.key_file or self.private_key or self.password):
            raise ValueError("give key_file, private_key or password")
        return self


class AMQPSection(_Section):
    """The cloud's message bus (oslo.messaging notifications). A password in the URL is moved to
    `password`, so that the URL can be shown."""

    url: str
    password: SecretStr | None = None
    exchanges: list[str] = ["nova", "neutron"]

    @model_validator(mode="before")
    @classmethod
    def _split_password(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("url"), str):
            parts = urlsplit(data["url"])
            if parts.password is not None:
                data = {**data, "url": parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", "@", 1))
                        .geturl()}
                data.setdefault("password", parts.password)
        return data

    @field_validator("url")
    @classmethod
    def _amqp_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("amqp", "amqps") or not parts.hostname:
            raise ValueError(f"expected amqp://user@host:port/vhost, got {redact_url(value)!r}")
        return _without_credentials(value, "amqp.password")

    def connection_url(self) -> str:
        """The URL with its password, for kombu. Never log it."""
        if self.password is None:
            return self.url
        parts = urlsplit(self.url)
        user, _, host = parts.netloc.rpartition("@")
        netloc = f"{user}:{self.password.get_secret_value()}@{host}" if user else parts.netloc
        return parts._replace(netloc=netloc).geturl()


class MonitoringSection(_Section):
    """Check results: a Sensu-style API Calipso reads, and its own checks over the host transports."""

    enabled: bool = False
    provider: Literal["sensu"] = "sensu"
    api_url: str | None = None
    username: str | None = None
    password: SecretStr | None = None
    check_interval_s: int = Field(60, ge=5)

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str | None) -> str | None:
        return value if value is None else _without_credentials(value, "monitoring.username and monitoring.password")

    @model_validator(mode="after")
    def _url_when_enabled(self) -> MonitoringSection:
        if self.enabled and not self.api_url:
            raise ValueError("api_url is needed when monitoring is enabled")
        return self


class ScanOutputsSection(_Section):
    """What each scan read (API resources, host command outputs), kept for `calipso scan replay`."""

    keep: int = Field(3, ge=0, le=1000)  # the last scans whose outputs are kept; 0: none
    max_mb: int = Field(64, ge=1, le=4096)  # compressed, per scan; a scan reading more cannot be replayed


class Environment(_Section):
    """One cloud to scan: its name, variant and sections."""

    name: str
    distribution: str = "Devstack"
    distribution_version: str | None = None
    mechanism_drivers: list[Literal["ovs", "lxb", "vpp", "sriov"]] = ["ovs"]
    type_drivers: list[Literal["vxlan", "gre", "vlan", "flat", "geneve"]] = ["vxlan"]
    openstack: OpenStackSection
    cli: CLISection
    amqp: AMQPSection | None = None
    monitoring: MonitoringSection = MonitoringSection()
    scan_outputs: ScanOutputsSection = ScanOutputsSection()
    #: Host name (or glob pattern) -> device names (or patterns) that are the host's uplinks (physical NICs),
    #: for NICs sysfs shows no PCI device for (ingest/sources/host/uplinks.py).
    uplinks: dict[str, list[str]] = {}

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("expected letters, digits, '.', '_' or '-' (at most 63, starting with a letter or "
                             f"digit), got {value!r}")
        return value

    @field_validator("mechanism_drivers", "type_drivers")
    @classmethod
    def _not_empty(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("name at least one")
        return value

    @classmethod
    def parse(cls, data: Any, name: str | None = None) -> Environment:
        """Validate a mapping (e.g. a YAML document); EnvironmentConfigError names each bad key."""
        if not isinstance(data, dict):
            raise EnvironmentConfigError(f"an environment is a mapping of sections, not a {type(data).__name__}")
        if name is not None:
            data = {**data, "name": name}
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise EnvironmentConfigError(describe_errors(exc, name or data.get("name"))) from None

    def public(self) -> dict[str, Any]:
        """The document as it may be shown: every credential that is set reads "***"."""
        return _mask(self)

    def require_credentials(self) -> Environment:
        """Self, if its credentials are real rather than the "***" of a masked read."""
        masked = [path for path, value in self.secrets().items() if value == MASK]
        if masked:
            raise ConfigError(f"environment {self.name!r}: {', '.join(masked)} read {MASK!r}; connecting needs "
                              "the stored values (EnvironmentStore.decrypt)")
        return self

    def secrets(self) -> dict[str, str]:
        """Every credential that is set, by dotted path (e.g. "openstack.password")."""
        found: dict[str, str] = {}
        _collect_secrets(self, "", found)
        return found


def describe_errors(exc: ValidationError, name: str | None = None) -> str:
    """One line per problem, naming the key path; unknown keys say which keys are allowed."""
    problems = []
    for error in exc.errors():
        path = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            allowed = _allowed_keys(error["loc"][:-1])
            problems.append(f"{path}: unknown key" + (f" (allowed: {', '.join(allowed)})" if allowed else ""))
        elif error["type"] == "missing":
            problems.append(f"{path}: required")
        else:
            problems.append(f"{path or 'environment'}: {error['msg'].removeprefix('Value error, ')}")
    where = f"environment {name!r}" if name else "environment"
    return f"invalid {where}:\n  " + "\n  ".join(problems)


def _allowed_keys(location: tuple[Any, ...]) -> list[str]:
    model: Any = Environment
    for part in location:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        annotation = field.annotation
        model = next((arg for arg in getattr(annotation, "__args__", (annotation,))
                      if isinstance(arg, type) and issubclass(arg, BaseModel)), None)
        if model is None:
            return []
    return sorted(model.model_fields)


def _mask(model: BaseModel) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for field_name in type(model).model_fields:
        value = getattr(model, field_name)
        if isinstance(value, SecretStr):
            shown[field_name] = MASK
        elif isinstance(value, BaseModel):
            shown[field_name] = _mask(value)
        elif isinstance(value, str) and "://" in value:  # auth_url, amqp url, api_url: no user info or tokens
            shown[field_name] = redact_url(value)
        else:
            shown[field_name] = json.loads(json.dumps(value, default=str))
    return shown


def _collect_secrets(model: BaseModel, prefix: str, found: dict[str, str]) -> None:
    for field_name in type(model).model_fields:
        value = getattr(model, field_name)
        if isinstance(value, SecretStr):
            found[prefix + field_name] = value.get_secret_value()
        elif isinstance(value, BaseModel):
            _collect_secrets(value, f"{prefix}{field_name}.", found)


def _get_path(document: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        if not isinstance(document, dict):
            return None
        document = document.get(part)  # type: ignore[assignment]
    return document


def _set_path(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        document = document.setdefault(part, {})
    document[last] = value


# ---------------------------------------------------------------------------------------------
# The secret key


def secret_key(settings: Settings) -> bytes:
    """CALIPSO_SECRET_KEY, or the key generated once under CALIPSO_HOME (mode 0600) when unset."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = Path(settings.home) / SECRET_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # O_EXCL: two processes starting at once agree on the first key written
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(Fernet.generate_key())
    key = path.read_bytes().strip()
    if not key:
        raise ConfigError(f"{path} is empty: delete it to generate a key, or set CALIPSO_SECRET_KEY")
    return key


# ---------------------------------------------------------------------------------------------
# The store


def _now() -> datetime:
    return datetime.now(UTC)


class EnvironmentStore:
    """The `environments` collection. Credentials are stored as one Fernet token per environment;
    the readable part of the document holds none of them."""

    def __init__(self, database: MongoDatabase, key: bytes | str) -> None:
        self.collection = database[ENVIRONMENTS]
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as exc:
            raise ConfigError("CALIPSO_SECRET_KEY: expected a Fernet key (32 bytes, url-safe base64)") from exc

    @classmethod
    def from_settings(cls, database: MongoDatabase, settings: Settings) -> EnvironmentStore:
        return cls(database, secret_key(settings))

    # -- writing ---------------------------------------------------------------------------------

    def add(self, environment: Environment) -> Environment:
        """Store a new environment; EnvironmentExists if the name is taken."""
        if MASK in environment.secrets().values():
            raise EnvironmentConfigError(f"environment {environment.name!r}: a credential reads {MASK!r}; "
                                         "give the real value")
        document = self._document(environment)
        document["created_at"] = document["updated_at"]
        try:
            self.collection.insert_one(document)
        except DuplicateKeyError:
            raise EnvironmentExists(f"environment {environment.name!r} exists already "
                                    f"(delete it first, or update it)") from None
        return environment

    def update(self, environment: Environment) -> Environment:
        """Replace a stored environment. A credential given as "***" (as `public()` shows it) keeps
        its stored value, so a document read back, edited and sent again loses no secret."""
        stored = self._stored(environment.name)
        kept = self._decrypt(stored)
        data = environment.model_dump(mode="python")
        before = self._environment(stored, reveal=False).model_dump(mode="python")
        redirected = []
        for path, value in environment.secrets().items():
            if value == MASK:
                if path not in kept:
                    raise EnvironmentConfigError(f"{path}: no stored value to keep; give the real value")
                moved = [d for d in SECRET_DESTINATIONS.get(path, ()) if _get_path(data, d) != _get_path(before, d)]
                if moved:
                    redirected.append(f"{path} (because {', '.join(moved)} changed)")
                _set_path(data, path, kept[path])
        if redirected:
            raise EnvironmentConfigError(
                f"environment {environment.name!r}: where a credential goes changed, so it cannot be kept as "
                f"{MASK!r}; send it again: {'; '.join(redirected)}")
        updated = Environment.parse(_reveal(data))
        document = self._document(updated)
        document["created_at"] = stored.get("created_at", document["updated_at"])
        self.collection.replace_one({"_id": stored["_id"]}, document)
        return updated

    def delete(self, name: str) -> None:
        if self.collection.delete_one({"name": name}).deleted_count == 0:
            raise EnvironmentNotFound(f"no environment named {name!r}")

    # -- reading -------------------------------------------------------------------------------

    def names(self) -> list[str]:
        return sorted(d["name"] for d in self.collection.find({}, {"name": 1}))

    def list(self) -> list[dict[str, Any]]:
        """Every environment, credentials masked, by name."""
        return [self._environment(document, reveal=False).public() | _times(document)
                for document in self.collection.find({}).sort("name", 1)]

    def get(self, name: str, reveal: bool = False) -> Environment:
        """The environment; its credentials read "***" unless `reveal` (the scanner's path)."""
        return self._environment(self._stored(name), reveal)

    def decrypt(self, name: str) -> Environment:
        """The environment with its real credentials, for connecting to the cloud. Never show it."""
        return self.get(name, reveal=True)

    def exists(self, name: str) -> bool:
        return self.collection.count_documents({"name": name}, limit=1) == 1

    # -- the stored form -----------------------------------------------------------------------

    def _stored(self, name: str) -> dict[str, Any]:
        document = self.collection.find_one({"name": name})
        if document is None:
            known = ", ".join(self.names()) or "none yet; add one with `calipso env add`"
            raise EnvironmentNotFound(f"no environment named {name!r} (known: {known})")
        return document

    def _document(self, environment: Environment) -> dict[str, Any]:
        secrets = environment.secrets()
        readable = environment.model_dump(mode="python")
        for path in secrets:
            _set_path(readable, path, None)
        token = self._fernet.encrypt(json.dumps(secrets).encode()).decode()
        return {"_id": environment.name, **readable, "credentials": token, "credential_paths": sorted(secrets),
                "updated_at": _now()}

    def _decrypt(self, document: dict[str, Any]) -> dict[str, str]:
        try:
            revealed: dict[str, str] = json.loads(self._fernet.decrypt(document["credentials"].encode()))
            return revealed
        except InvalidToken:
            raise ConfigError(f"the credentials of environment {document['name']!r} cannot be decrypted with "
                              "this secret key (was CALIPSO_SECRET_KEY changed?)") from None

    def _environment(self, document: dict[str, Any], reveal: bool) -> Environment:
        data = {k: v for k, v in document.items()
                if k not in ("_id", "credentials", "credential_paths", "created_at", "updated_at")}
        secrets = self._decrypt(document) if reveal else dict.fromkeys(document.get("credential_paths", []), MASK)
        for path, value in secrets.items():
            _set_path(data, path, value)
        return Environment.parse(data)


def _reveal(data: Any) -> Any:
    """A model_dump with SecretStr values turned back into plain strings, for re-validation."""
    if isinstance(data, dict):
        return {k: _reveal(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_reveal(v) for v in data]
    if isinstance(data, SecretStr):
        return data.get_secret_value()
    return data


def _times(document: dict[str, Any]) -> dict[str, Any]:
    return {"created_at": document.get("created_at"), "updated_at": document.get("updated_at")}
