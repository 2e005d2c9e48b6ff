"""Scan an environment by its stored configuration: the one entry point the command line, the
scheduler and the REST API share.

`scan_environment` builds the OpenStack connection and the SSH transport from the environment's
sections, applies its command translation, and runs the scanner (all of it, or one object's
subtree). Credentials go from the environment straight into the clients, never into a log.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import keystoneauth1.exceptions
import openstack
import openstack.connection
import openstack.exceptions
import pymongo.errors
from pymongo.database import Database

from core.environments import CommandTranslation, Environment
from core.errors import CalipsoError
from core.known_hosts import KnownHosts
from core.logging import redact
from ingest.hierarchy import fetch_host, openstack_documents, read_openstack
from ingest.recording import Recording, RecordingTransport, ReplayTransport, ScanRecorder
from ingest.records import Message, ScanRecords, record_message
from ingest.scanner import Progress, Scanner, ScanResult
from ingest.sources.openstack.fetch import RawOpenStack
from ingest.transport import CommandResult, SSHConfig, SSHTransport, Transport, TransportError

Document = dict[str, Any]
log = logging.getLogger(__name__)

#: The role whose container applies when none of a host's roles is listed.
DEFAULT_ROLE = "default"


#: What openstacksdk raises when the cloud cannot be reached or refuses the credentials.
CLOUD_ERRORS = (keystoneauth1.exceptions.ClientException, openstack.exceptions.SDKException)


class CloudUnavailable(CalipsoError):
    """The environment's OpenStack APIs could not be read: unreachable, or credentials refused."""


def _quiet(phase: str, done: int, total: int) -> None:
    pass


def openstack_connection(environment: Environment) -> openstack.connection.Connection:
    """openstacksdk connected with the environment's Keystone credentials (needs revealed secrets)."""
    section = environment.openstack
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openstacksdk's notices about its own deprecations
        return openstack.connect(
            auth_url=section.auth_url, username=section.username, password=section.password.get_secret_value(),
            project_name=section.project, user_domain_name=section.user_domain,
            project_domain_name=section.project_domain, region_name=section.region, interface=section.interface,
            verify=section.verify_tls)


def ssh_config(environment: Environment, database: Database | None = None) -> SSHConfig:
    """The SSH transport's configuration from the CLI section (needs revealed secrets), with the
    environment's known host keys from `database` (none without one) under its host key policy;
    trust-on-first-use records each new key there."""
    cli = environment.cli

    def secret(value: Any) -> str | None:
        return value.get_secret_value() if value is not None else None

    known = KnownHosts(database) if database is not None else None

    def record(host: str, key_type: str, key: str) -> None:
        if known is not None:
            known.record(environment.name, host, key_type, key, replace=False)

    return SSHConfig(user=cli.user, port=cli.port, password=secret(cli.password),
                     private_key=secret(cli.private_key), key_file=cli.key_file,
                     key_passphrase=secret(cli.key_passphrase), jump_host=cli.jump_host,
                     addresses=dict(cli.addresses), sudo=cli.sudo, connect_timeout=cli.connect_timeout,
                     max_sessions=min(cli.concurrency, 8), host_key_policy=cli.host_key_policy,
                     known_host_keys=known.keys(environment.name) if known is not None else {},
                     on_new_host_key=record)


def translate(command: str, roles: list[str], translation: CommandTranslation | None) -> str:
    """The command a containerised host runs: the translation's prefix, with `{container}` set to the
    container of the host's first listed role (or `default`); unchanged when no prefix applies."""
    if translation is None:
        return command
    words = command.split(None, 1)
    if not words or (translation.tools is not None and words[0] not in translation.tools):
        return command
    prefix = translation.prefix
    if "{container}" in prefix:
        containers = {role.lower(): name for role, name in translation.containers.items()}
        container = next((containers[r.lower()] for r in roles if r.lower() in containers),
                         containers.get(DEFAULT_ROLE))
        if container is None:
            return command  # this host's role runs the tools natively
        prefix = prefix.replace("{container}", container)
    return f"{prefix} {command}"


class TranslatingTransport:
    """A transport that rewrites each command for the host's role (e.g. `docker exec <container>`)
    before the inner transport adds sudo and sends it."""

    def __init__(self, inner: Transport, translation: CommandTranslation | None) -> None:
        self.inner = inner
        self.translation = translation
        self.roles: dict[str, list[str]] = {}  # host -> roles, learnt from the OpenStack APIs

    def run(self, host: str, command: str, timeout: float = 30.0) -> CommandResult:
        return self.inner.run(host, translate(command, self.roles.get(host, []), self.translation), timeout)

    def close(self) -> None:
        self.inner.close()


def openstack_reader(environment: Environment, on_docs: Callable[[list[Document]], None] | None = None,
                     on_raw: Callable[[RawOpenStack], None] | None = None) -> Callable[[], list[Document]]:
    """A function that reads every OpenStack object of the environment as inventory documents
    (`on_raw` is shown what the APIs returned, `on_docs` the documents made of it)."""
    def read() -> list[Document]:
        try:
            connection = openstack_connection(environment)
            try:
                raw = read_openstack(connection, environment.openstack.region)
                if on_raw is not None:
                    on_raw(raw)
                docs = openstack_documents(raw)
            finally:
                connection.close()
        except CLOUD_ERRORS as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            raise CloudUnavailable(redact(f"environment {environment.name!r}: cannot read the OpenStack APIs at "
                                          f"{environment.openstack.auth_url}: {first}")) from None
        if on_docs is not None:
            on_docs(docs)
        return docs
    return read


def scan_environment(database: Database, environment: Environment, progress: Progress = _quiet,
                     object_id: str | None = None, scan_id: str | None = None,
                     transport: Transport | None = None, openstack_raw: RawOpenStack | None = None,
                     openstack_s: float | None = None) -> ScanResult:
    """Scan `environment` (whose credentials must be revealed: `EnvironmentStore.decrypt`) into
    MongoDB: all of it, or the subtree of `object_id`. `scan_id` continues a scan record created
    beforehand (`ScanRecords.create`), so a caller can report or abort it while it runs.
    `transport` replaces SSH (e.g. the lab's in-process hosts). What the scan reads is kept for
    `calipso scan replay` (ingest/recording.py), as the environment's `scan_outputs` section says.
    `openstack_raw`: what the OpenStack APIs returned, already read by the caller (not read again) in
    `openstack_s` seconds."""
    environment.require_credentials()
    inner = transport if transport is not None else SSHTransport(ssh_config(environment, database))
    hosts = TranslatingTransport(inner, environment.cli.translation)
    recorder = ScanRecorder()
    scan_id = scan_id or ScanRecords(database).create(environment.name, scope=object_id)

    def learn_roles(docs: list[Document]) -> None:
        hosts.roles = {d["id"]: list(d.get("host_type") or []) for d in docs if d["type"] == "host"}

    try:
        # Commands are recorded as the fetchers ask them (before translation): a replay answers those.
        reader = (openstack_reader(environment, learn_roles, recorder.record_openstack) if openstack_raw is None
                  else _already_read(openstack_raw, learn_roles, recorder.record_openstack))
        scanner = Scanner(database, environment.name, reader,
                          RecordingTransport(hosts, recorder), fetch_host, environment.cli.concurrency,
                          uplinks=environment.uplinks,
                          fetched_elsewhere={"openstack_s": openstack_s} if openstack_s is not None else None)
        return scanner.scan(progress, scan_id=scan_id, object_id=object_id)
    finally:
        if transport is None:
            inner.close()
        if recorder.openstack is not None:
            _keep_outputs(database, environment, recorder, scan_id, object_id)


def _already_read(raw: RawOpenStack, on_docs: Callable[[list[Document]], None],
                  on_raw: Callable[[RawOpenStack], None]) -> Callable[[], list[Document]]:
    """An OpenStack reader of what the APIs returned earlier (shown to `on_raw`, its documents to `on_docs`)."""
    def read() -> list[Document]:
        on_raw(raw)
        docs = openstack_documents(raw)
        on_docs(docs)
        return docs
    return read


# -- a scan split across workers: host batches fetched apart, one writer ----------------------------------

def read_openstack_raw(environment: Environment) -> tuple[RawOpenStack, list[Document]]:
    """What the environment's OpenStack APIs return, and the documents made of it (CloudUnavailable
    when they cannot be read). Needs revealed credentials."""
    environment.require_credentials()
    seen: list[RawOpenStack] = []
    docs = openstack_reader(environment, on_raw=seen.append)()
    return seen[0], docs


def host_roles(docs: list[Document]) -> dict[str, list[str]]:
    """Host id -> its roles (`host_type`), from the OpenStack documents: what command translation needs."""
    return {d["id"]: list(d.get("host_type") or []) for d in docs if d["type"] == "host"}


@dataclass
class FetchedHosts:
    """What one host batch read: each host's commands as asked (before translation) with their answers, and
    the error that stopped a host (its commands up to there are kept)."""

    commands: dict[str, list[list[Any]]] = field(default_factory=dict)  # host -> [command, status, stdout, stderr]
    errors: dict[str, str] = field(default_factory=dict)  # host -> what stopped it
    error_commands: dict[str, str | None] = field(default_factory=dict)  # host -> the command that failed


def fetch_hosts(database: Database, environment: Environment, hosts: list[str], roles: dict[str, list[str]],
                fetched: FetchedHosts | None = None) -> FetchedHosts:
    """Run the host collectors (ingest.hierarchy.fetch_host) on `hosts` over the environment's SSH
    transport, `cli.concurrency` at once, recording what each command answered. Nothing is parsed into
    documents here: the scan's one writer replays the answers (`write_fetched_scan`). `fetched` is filled
    as hosts finish (a caller cut short keeps what was done)."""
    environment.require_credentials()
    fetched = fetched if fetched is not None else FetchedHosts()
    inner = SSHTransport(ssh_config(environment, database))
    translating = TranslatingTransport(inner, environment.cli.translation)
    translating.roles = dict(roles)
    recorder = ScanRecorder()
    recorder.commands = fetched.commands  # the recorder fills the caller's dict (it holds its own lock)
    recording = RecordingTransport(translating, recorder)

    def one(host: str) -> None:
        try:
            fetch_host(recording, host)
        except Exception as exc:  # noqa: BLE001 - any failure is this host's error, for the writer to record
            fetched.errors[host] = str(exc) if isinstance(exc, CalipsoError) else f"{type(exc).__name__}: {exc}"
            fetched.error_commands[host] = getattr(exc, "command", None)
        else:
            fetched.commands.setdefault(host, [])  # a host that answered everything with nothing to ask

    try:
        with ThreadPoolExecutor(max_workers=max(1, environment.cli.concurrency),
                                thread_name_prefix="fetch-host") as pool:
            list(pool.map(one, hosts))
    finally:
        inner.close()
    return fetched


class StagedTransport(ReplayTransport):
    """Answers each command with what a host batch task recorded; a host that stopped there (unreachable,
    refused, timed out, its batch task lost) fails at the same command with the same error."""

    def __init__(self, recording: Recording, errors: dict[str, str], error_commands: dict[str, str | None]) -> None:
        super().__init__(recording)
        self.errors = errors
        self.error_commands = error_commands

    def run(self, host: str, command: str, timeout: float = 30.0) -> CommandResult:
        answers = self.recording.commands.get(host, {})
        if command in answers:
            return answers[command]
        if host in self.errors:
            raise FetchFailed(host, self.errors[host], self.error_commands.get(host))
        raise TransportError(host, command, "its host batch task did not run this command")


class FetchFailed(TransportError):
    """A host's batch task could not read it: a transport error (the one kind the collectors let through),
    its message what stopped the host there."""

    def __init__(self, host: str, message: str, command: str | None = None) -> None:
        self.host, self.command, self.cause = host, command or "", message
        CalipsoError.__init__(self, message)


def write_fetched_scan(database: Database, environment: Environment, scan_id: str, recording: Recording,
                       errors: dict[str, str], error_commands: dict[str, str | None],
                       timings: dict[str, float] | None = None, progress: Progress = _quiet) -> ScanResult:
    """The one writer of a scan whose hosts were fetched by host batch tasks: the scanner run on what they
    recorded (`recording`: the OpenStack read and each host's answers; `errors`: hosts that stopped), so
    the documents, messages, host errors and kept outputs are those the scan would have made in one process.
    `timings`: the phases measured by the tasks (OpenStack read, host fetch), recorded as the scan's."""
    recorder = ScanRecorder()
    scanner = Scanner(database, environment.name, _already_read(recording.openstack, lambda docs: None,
                                                                recorder.record_openstack),
                      RecordingTransport(StagedTransport(recording, errors, error_commands), recorder), fetch_host,
                      environment.cli.concurrency, uplinks=environment.uplinks, fetched_elsewhere=timings)
    try:
        return scanner.scan(progress, scan_id=scan_id)
    finally:
        if recorder.openstack is not None:
            _keep_outputs(database, environment, recorder, scan_id, None)


def _keep_outputs(database: Database, environment: Environment, recorder: ScanRecorder, scan_id: str,
                  object_id: str | None) -> None:
    """Store what the scan read; a failure to keep it is a message, never a failed scan."""
    kept = environment.scan_outputs
    try:
        if not recorder.save(database, environment.name, scan_id, object_id, kept.keep, kept.max_mb * 1024 * 1024):
            record_message(database, Message(
                environment.name, "Calipso", "warning", f"scan {scan_id} read more than scan_outputs.max_mb "
                f"({kept.max_mb} MB compressed): its outputs were cut short and it cannot be replayed",
                scan_id=scan_id))
    except pymongo.errors.PyMongoError as exc:
        log.warning("scan %s: its outputs were not kept: %s", scan_id, exc)
