"""Connection tests of an environment, one per section: can Calipso reach what a scan needs?

- openstack: issue a Keystone token and read the service catalog;
- cli: log in to the jump host (when there is one), then run a command the scan runs anyway
  (`ip netns list`) on every host the APIs list, concurrently;
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

from core.environments import Environment
from core.logging import redact
from ingest.run import openstack_connection, openstack_reader, ssh_config
from ingest.transport import SSHConfig, SSHTransport, TransportError

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
            catalog = connection.session.auth.get_access(connection.session).service_catalog
            types = sorted({entry.get("type", "?") for entry in catalog.catalog})
        finally:
            connection.close()
        if not types:
            raise RuntimeError("the token came with an empty service catalog")
        return f"token issued; catalog: {', '.join(types)}"
    return _timed("openstack", environment.openstack.auth_url, probe)


def check_jump_host(config: SSHConfig) -> Check:
    """Log in to the jump host itself (its answer to `true` does not matter: bastions may refuse commands)."""
    direct = SSHConfig(**{**vars(config), "jump_host": None, "addresses": {"jump": config.jump_host or ""},
                          "sudo": False})

    def probe() -> str:
        with SSHTransport(direct) as transport:
            transport.run("jump", "true", timeout=TIMEOUT_S)
        return "logged in"
    return _timed("cli", f"jump host {config.jump_host}", probe)


def check_hosts(environment: Environment, hosts: list[str]) -> list[Check]:
    config = ssh_config(environment)
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


def check_environment(environment: Environment) -> list[Check]:
    """Every section's test; `environment` must carry its real credentials (EnvironmentStore.decrypt)."""
    environment.require_credentials()
    checks = [check_openstack(environment)]
    hosts: list[str] = []
    if checks[0].ok:
        try:
            hosts = sorted(d["id"] for d in openstack_reader(environment)() if d["type"] == "host")
        except Exception as exc:  # noqa: BLE001 - reported as a failed check
            checks.append(Check("openstack", "hosts", False, redact(f"listing hosts: {exc}")))
    if hosts or not environment.cli.jump_host:
        checks += check_hosts(environment, hosts) if hosts else [
            Check("cli", "-", False, "no host to test: the OpenStack APIs listed none")]
    else:
        checks.append(check_jump_host(ssh_config(environment)))
    checks.append(check_amqp(environment))
    checks.append(check_monitoring(environment))
    return checks


def as_rows(checks: list[Check]) -> list[dict[str, Any]]:
    return [vars(check) for check in checks]
