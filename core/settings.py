"""Calipso's configuration: one typed object, read from environment variables and an optional file.

Precedence, highest first: keyword arguments, environment variables, the file named by
``CALIPSO_CONFIG`` (YAML, same keys as the variables), defaults. With nothing set, every
address points at the local stack that ``calipso stack up`` runs.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

import yaml
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from core.errors import ConfigError

#: The checkout this package runs from; the default data directory lives under it.
CHECKOUT = Path(__file__).resolve().parents[1]

#: One plain e-mail address (no display name, no list, no line breaks): what a watch's `email` and
#: CALIPSO_SMTP_FROM may be.
EMAIL_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
                           r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*")
_NEO4J_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")


def _env(name: str) -> Any:
    """The Field option that binds a setting to exactly one environment variable name."""
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    """Every setting Calipso reads. Field aliases are the environment variable names."""

    model_config = SettingsConfigDict(
        extra="forbid", case_sensitive=False, frozen=True
    )

    home: Path = Field(CHECKOUT / "var", validation_alias=_env("CALIPSO_HOME"),
                       description="Data directory of the local stack: databases, logs, PIDs, builds.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", validation_alias=_env("CALIPSO_LOG_LEVEL"))

    mongo_uri: str = Field("mongodb://127.0.0.1:27017/", validation_alias=_env("MONGO_URI"))
    mongo_database: str = Field("calipso", validation_alias=_env("MONGO_DATABASE"))
    ferretdb_backend: Literal["sqlite", "postgresql"] = Field(
        "postgresql", validation_alias=_env("CALIPSO_FERRETDB_BACKEND"),
        description="The local stack's FerretDB storage: a PostgreSQL cluster the stack runs (the default: it "
                    "pushes equality filters down, SQLite does not), or SQLite files.")
    postgres_port: int = Field(5432, ge=1, le=65535, validation_alias=_env("CALIPSO_POSTGRES_PORT"),
                               description="Loopback port of the stack's PostgreSQL (postgresql backend only).")

    neo4j_uri: str = Field("bolt://127.0.0.1:7687", validation_alias=_env("NEO4J_URI"))
    neo4j_user: str = Field("neo4j", validation_alias=_env("NEO4J_USER"))
    neo4j_password: SecretStr = Field(SecretStr("calipso-local"), validation_alias=_env("NEO4J_PASSWORD"))
    neo4j_http_port: int = Field(7474, ge=1, le=65535, validation_alias=_env("NEO4J_HTTP_PORT"))
    neo4j_heap: str = Field("768m", validation_alias=_env("NEO4J_HEAP"))
    neo4j_pagecache: str = Field("256m", validation_alias=_env("NEO4J_PAGECACHE"))

    amqp_url: str = Field("amqp://guest:guest@127.0.0.1:5672//", validation_alias=_env("AMQP_URL"))
    rabbitmq_dist_port: int = Field(25672, ge=1, le=65535, validation_alias=_env("RABBITMQ_DIST_PORT"))
    epmd_port: int = Field(4369, ge=1, le=65535, validation_alias=_env("EPMD_PORT"))

    ldap_url: str = Field("ldap://127.0.0.1:3890", validation_alias=_env("LDAP_URL"))
    ldap_base_dn: str = Field("dc=calipso,dc=test", validation_alias=_env("LDAP_BASE_DN"))
    ldap_bind_dn: str = Field("cn=admin,dc=calipso,dc=test", validation_alias=_env("LDAP_BIND_DN"))
    ldap_bind_password: SecretStr = Field(SecretStr("calipso-local"), validation_alias=_env("LDAP_BIND_PASSWORD"))

    api_max_body_bytes: int = Field(
        1_048_576, ge=1024, le=1_073_741_824, validation_alias=_env("CALIPSO_API_MAX_BODY_BYTES"),
        description="Largest request body the API reads; a larger one is refused with 413 before it is read.")

    scan_host_batch: int = Field(
        50, ge=0, le=1_000_000, validation_alias=_env("CALIPSO_SCAN_HOST_BATCH"),
        description="Hosts per `calipso.fetch_hosts` task when a worker scans: a scan of more hosts is split into "
                    "host batches across the workers (one writer); 0: never split.")

    monitor_check_intervals: str = Field(
        "", validation_alias=_env("CALIPSO_MONITOR_CHECK_INTERVALS"),
        description="Seconds between two runs of a monitoring check type on a host, e.g. "
                    "'link_state=30,tunnel_peers=120'; unnamed check types keep their default (60 s).")

    smtp_host: str | None = Field(
        None, validation_alias=_env("CALIPSO_SMTP_HOST"),
        description="SMTP server for the watches' e-mail (unset: watches cannot send e-mail).")
    smtp_port: int = Field(25, ge=1, le=65535, validation_alias=_env("CALIPSO_SMTP_PORT"))
    smtp_from: str | None = Field(None, validation_alias=_env("CALIPSO_SMTP_FROM"),
                                  description="The From address of the watches' e-mail (needed with CALIPSO_SMTP_HOST).")
    smtp_starttls: bool = Field(False, validation_alias=_env("CALIPSO_SMTP_STARTTLS"),
                                description="Upgrade the SMTP connection with STARTTLS (certificate verified).")
    smtp_user: str | None = Field(None, validation_alias=_env("CALIPSO_SMTP_USER"))
    smtp_password: SecretStr | None = Field(None, validation_alias=_env("CALIPSO_SMTP_PASSWORD"))

    secret_key: SecretStr | None = Field(
        None, validation_alias=_env("CALIPSO_SECRET_KEY"),
        description="Fernet key (32 url-safe base64 bytes) that encrypts environment credentials at rest. "
                    "Unset: a key is generated once under CALIPSO_HOME.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, _ConfigFileSource(settings_cls)

    # -- validation: each error names what is expected ------------------------------------

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        # Servers run with their own working directories: a relative home would point elsewhere.
        return value.expanduser().resolve()

    @field_validator("mongo_uri")
    @classmethod
    def _check_mongo_uri(cls, value: str) -> str:
        _require_url(value, ("mongodb", "mongodb+srv"))
        return value

    @field_validator("neo4j_uri")
    @classmethod
    def _check_neo4j_uri(cls, value: str) -> str:
        _require_url(value, _NEO4J_SCHEMES)
        return value

    @field_validator("amqp_url")
    @classmethod
    def _check_amqp_url(cls, value: str) -> str:
        _require_url(value, ("amqp", "amqps"))
        return value

    @field_validator("ldap_url")
    @classmethod
    def _check_ldap_url(cls, value: str) -> str:
        _require_url(value, ("ldap", "ldaps"))
        return value

    @field_validator("neo4j_heap", "neo4j_pagecache")
    @classmethod
    def _check_memory_size(cls, value: str) -> str:
        if not re.fullmatch(r"\d+[kmg]", value.lower()):
            raise ValueError(f"expected a memory size such as 512m or 2g, got {value!r}")
        return value.lower()

    @field_validator("monitor_check_intervals")
    @classmethod
    def _check_intervals(cls, value: str) -> str:
        # the format here; the check type names are the monitor's (graphmodel/checks.py), checked at its start
        for part in value.replace(",", " ").split():
            if not re.fullmatch(r"[a-z_]+=[1-9]\d{0,5}", part):
                raise ValueError(f"{part!r}: expected CHECK=SECONDS (seconds 1-999999), e.g. link_state=30")
        return value

    @field_validator("smtp_host")
    @classmethod
    def _check_smtp_host(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.\-]{0,252})", value):
            raise ValueError(f"expected a host name or IPv4 address, got {value[:80]!r}")
        return value

    @field_validator("smtp_from")
    @classmethod
    def _check_smtp_from(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not EMAIL_ADDRESS.fullmatch(value):
            raise ValueError(f"expected one e-mail address such as calipso@example.org, got {value[:80]!r}")
        return value

    @model_validator(mode="after")
    def _smtp_complete(self) -> Settings:
        if self.smtp_host and not self.smtp_from:
            raise ValueError("CALIPSO_SMTP_HOST is set: CALIPSO_SMTP_FROM (the From address) is needed too")
        if (self.smtp_user is None) != (self.smtp_password is None):
            raise ValueError("CALIPSO_SMTP_USER and CALIPSO_SMTP_PASSWORD go together")
        return self

    @field_validator("secret_key")
    @classmethod
    def _check_secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        try:
            raw = base64.urlsafe_b64decode(value.get_secret_value().encode())
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise ValueError("expected a Fernet key: 32 bytes in url-safe base64 (44 characters), "
                             "e.g. from `python -c 'from cryptography.fernet import Fernet; "
                             "print(Fernet.generate_key().decode())'`")
        return value

    # -- derived values ---------------------------------------------------------------------

    @property
    def mongo_address(self) -> tuple[str, int]:
        return _host_port(self.mongo_uri, 27017)

    @property
    def neo4j_address(self) -> tuple[str, int]:
        return _host_port(self.neo4j_uri, 7687)

    @property
    def amqp_address(self) -> tuple[str, int]:
        return _host_port(self.amqp_url, 5672)

    @property
    def ldap_address(self) -> tuple[str, int]:
        return _host_port(self.ldap_url, 389)


class _ConfigFileSource(PydanticBaseSettingsSource):
    """Reads the YAML file named by CALIPSO_CONFIG; its keys are the environment variable names."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self.values = _read_config_file(os.environ.get("CALIPSO_CONFIG"))

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ returns the whole mapping

    def __call__(self) -> dict[str, Any]:
        return self.values


def _read_config_file(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
    except OSError as exc:
        raise ConfigError(f"CALIPSO_CONFIG: cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"CALIPSO_CONFIG: {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"CALIPSO_CONFIG: {path} must hold a mapping of settings, "
                          f"e.g. `NEO4J_URI: bolt://...`; it holds a {type(data).__name__}")
    return {str(key).upper(): value for key, value in data.items()}


def _require_url(value: str, schemes: tuple[str, ...]) -> None:
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError(f"expected a URL of the form {schemes[0]}://HOST[:PORT]... "
                         f"(scheme one of {', '.join(schemes)}), got {redact_url(value)!r}")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"the port in {redact_url(value)!r} is not a number from 1 to 65535") from exc


def _host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


#: Query parameters that carry credentials (compared case-insensitively).
CREDENTIAL_PARAMETERS = frozenset({"password", "passwd", "pwd", "pass", "secret", "client_secret", "token",
                                   "access_token", "auth_token", "api_key", "apikey", "key", "private_key",
                                   "signature", "sig", "auth"})


def redact_url(url: str) -> str:
    """The URL with its password and credential-like query parameters replaced by ***, safe to log,
    print or return. Text that is not a URL comes back unchanged."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # not a URL we can take apart (e.g. a bad port): nothing to mask reliably
        return url
    if password is not None:
        user, _, host = parts.netloc.rpartition("@")
        parts = parts._replace(netloc=f"{user.split(':', 1)[0]}:***@{host}")
    if parts.query:
        pairs = [(name, "***" if name.lower() in CREDENTIAL_PARAMETERS else value)
                 for name, value in parse_qsl(parts.query, keep_blank_values=True)]
        parts = parts._replace(query=urlencode(pairs, safe="*"))
    return parts.geturl()


def _alias_of(field_name: str) -> str:
    alias = Settings.model_fields[field_name].validation_alias
    return alias.choices[0] if isinstance(alias, AliasChoices) else field_name  # type: ignore[return-value]


def load_settings(**overrides: Any) -> Settings:
    """Read and validate the settings; raise ConfigError naming each bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            name = _alias_of(field) if field in Settings.model_fields else field.upper()
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown setting (check the spelling against `calipso config show`)"
            problems.append(f"{name}: {message}" if error["loc"] else message)  # a rule across variables
        raise ConfigError("Invalid configuration:\n  " + "\n  ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
