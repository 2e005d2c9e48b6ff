"""Connection tests of an environment, one per section: can Calipso reach what a scan needs?

- openstack: issue a Keystone token and read the service catalog;
- cli: log in to the jump host (when there is one), then run a command the scan runs anyway
  (`ip netns list`) on every host the APIs list, concurrently; an unknown or changed host key
  fails the host's check with both fingerprints;
- amqp: connect to the bus with kombu;
- monitoring: the monitoring API answers (when enabled).

A check never raises: it reports ok or the reason, without credentials.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from base64 import b64encode
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import kombu
from pymongo.database import Database

from core.environments import Environment
from core.known_hosts import KnownHosts
from core.logging import redact
from ingest.run import openstack_connection, openstack_reader, ssh_config
from ingest.transport import SSHConfig, SSHTransport, TransportError, fingerprint

#: The command run on each host: read-only, and one the scan runs, so sudo and translation are tried too.
HOST_PROBE = "ip netns list"
TIMEOUT_S = 10.0


@dataclass
class Check:
    """One connection test's outcome."""

    section: str
    target: str
    ok: bool
    detail: str
    ms: int = 0


def _timed(section: str, target: str, probe: Callable[[], str]) -> Check:
    started = time.perf_counter()
    try:
        detail, ok = probe(), True
    except Exception as exc:  # noqa: BLE001 - every failure is a result of the test
        detail, ok = redact(f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"), False
    return Check(section, target, ok, detail, round((time.perf_counter() - started) * 1000))


def check_openstack(environment: Environment) -> Check:
    def probe() -> str:
        connection = openstack_connection(environment)
        try:
            connection.authorize()  # issues the token
            auth: Any = connection.session.auth  # an identity plugin once authorized
            catalog = auth.get_access(connection.session).service_catalog
            types = sorted({entry.get("type", "?") for entry in catalog.catalog})
        finally:
            connection.close()
        if not types:
            raise RuntimeError("the token came with an empty service catalog")
        return f"token issued; catalog: {', '.join(types)}"
    return _timed("openstack", environment.openstack.auth_url, probe)


def check_jump_host(config: SSHConfig) -> Check:
    """Log in to the jump host itself, checking its host key (no command: bastions may refuse them)."""
    def probe() -> str:
        with SSHTransport(config) as transport:
            transport.connect_jump()
        return "logged in"
    return _timed("cli", f"jump host {config.jump_host}", probe)


def check_hosts(environment: Environment, hosts: list[str], database: Database | None = None) -> list[Check]:
    config = ssh_config(environment, database)
    checks = [check_jump_host(config)] if config.jump_host else []
    if checks and not checks[0].ok:
        return checks
    with SSHTransport(config) as transport:
        def probe(host: str) -> Check:
            def run() -> str:
                result = transport.run(host, HOST_PROBE, timeout=TIMEOUT_S)
                if result.exit_status != 0:
                    raise TransportError(host, HOST_PROBE, f"exit status {result.exit_status}: "
                                                           f"{result.stderr.strip()[:200]}")
                return f"`{HOST_PROBE}` answered"
            return _timed("cli", host, run)
        with ThreadPoolExecutor(max_workers=environment.cli.concurrency) as pool:
            checks += list(pool.map(probe, hosts))
    return checks


def check_amqp(environment: Environment) -> Check:
    section = environment.amqp
    if section is None:
        return Check("amqp", "-", True, "not configured (skipped)")

    def probe() -> str:
        with kombu.Connection(section.connection_url(), connect_timeout=TIMEOUT_S) as connection:
            connection.ensure_connection(max_retries=1, timeout=TIMEOUT_S)
            server = connection.connection.server_properties if connection.connection else {}
        version = server.get("version", "")
        return f"connected ({server.get('product', 'AMQP')} {version})".strip()
    return _timed("amqp", section.url, probe)


def check_monitoring(environment: Environment) -> Check:
    section = environment.monitoring
    if not section.enabled or not section.api_url:
        return Check("monitoring", "-", True, "disabled (skipped)")

    def probe() -> str:
        request = urllib.request.Request(section.api_url or "")
        if section.username and section.password is not None:
            token = b64encode(f"{section.username}:{section.password.get_secret_value()}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310 - configured URL
            return f"HTTP {response.status}"
    return _timed("monitoring", section.api_url, probe)


def check_environment(environment: Environment, database: Database | None = None) -> list[Check]:
    """Every section's test; `environment` must carry its real credentials (EnvironmentStore.decrypt).
    Host keys are checked against the environment's known keys in `database` (none without one)."""
    environment.require_credentials()
    checks = [check_openstack(environment)]
    hosts: list[str] = []
    if checks[0].ok:
        try:
            hosts = sorted(d["id"] for d in openstack_reader(environment)() if d["type"] == "host")
        except Exception as exc:  # noqa: BLE001 - reported as a failed check
            checks.append(Check("openstack", "hosts", False, redact(f"listing hosts: {exc}")))
    if hosts or not environment.cli.jump_host:
        checks += check_hosts(environment, hosts, database) if hosts else [
            Check("cli", "-", False, "no host to test: the OpenStack APIs listed none")]
    else:
        checks.append(check_jump_host(ssh_config(environment, database)))
    checks.append(check_amqp(environment))
    checks.append(check_monitoring(environment))
    return checks


def as_rows(checks: list[Check]) -> list[dict[str, Any]]:
    return [vars(check) for check in checks]


# ---------------------------------------------------------------------------------------------
# Host keys


@dataclass
class ShownKey:
    """A host key a host shows, compared with the environment's known keys."""

    host: str
    key_type: str
    key: str
    fingerprint: str
    state: str  # new | known | changed | error
    detail: str = ""


def _compare(host: str, shown: dict[str, str], known: dict[str, str]) -> list[ShownKey]:
    rows = []
    for key_type, key in sorted(shown.items()):
        if known.get(key_type) == key:
            state, detail = "known", ""
        elif known:
            state = "changed"
            detail = "expected " + ", ".join(f"{t} {fingerprint(k)}" for t, k in sorted(known.items()))
        else:
            state, detail = "new", ""
        rows.append(ShownKey(host, key_type, key, fingerprint(key), state, detail))
    return rows


def read_host_keys(environment: Environment, database: Database, hosts: list[str] | None = None) -> list[ShownKey]:
    """The host keys the jump host (if any) and `hosts` (by default every host the OpenStack APIs
    list) show, each compared with the known ones; hosts that cannot be read are rows of state
    "error". Nothing is recorded. Through a jump host the targets' keys are read there with
    ssh-keyscan, after logging in with the key the jump host showed."""
    environment.require_credentials()
    config = ssh_config(environment, database)
    known = dict(config.known_host_keys)
    if hosts is None:
        hosts = sorted(d["id"] for d in openstack_reader(environment)() if d["type"] == "host")
    rows: list[ShownKey] = []
    if config.jump_host:
        # The transport may log in to the jump host with the key it shows now: the user confirms
        # it with the targets' keys below before anything is recorded.
        with SSHTransport(SSHConfig(**{**vars(config), "host_key_policy": "accept"})) as probe:
            name = probe.jump_name or ""
            try:
                shown = probe.jump_host_keys()
            except TransportError as error:
                return [ShownKey(name, "-", "", "-", "error", redact(error.cause))]
        rows += _compare(name, shown, known.get(name, {}))
        known = {**known, name: shown}
    with SSHTransport(SSHConfig(**{**vars(config), "known_host_keys": known})) as transport:
        def read(host: str) -> list[ShownKey]:
            try:
                return _compare(host, transport.host_keys(host, timeout=TIMEOUT_S), known.get(host, {}))
            except TransportError as error:
                return [ShownKey(host, "-", "", "-", "error", redact(error.cause))]
        with ThreadPoolExecutor(max_workers=environment.cli.concurrency) as pool:
            for found in pool.map(read, hosts):
                rows += found
    return rows


def record_host_keys(environment: str, database: Database, rows: list[ShownKey]) -> int:
    """Record the new and changed keys among `rows` as the environment's known keys; how many."""
    store = KnownHosts(database)
    recorded = 0
    for row in rows:
        if row.state in ("new", "changed"):
            store.record(environment, row.host, row.key_type, row.key)
            recorded += 1
    return recorded
