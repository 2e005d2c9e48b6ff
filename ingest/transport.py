"""How the scanner runs commands on hosts: one small interface, over SSH or on this machine.

`Transport.run(host, command)` returns a `CommandResult`; a non-zero exit status is a result,
not an error. `TransportError` means the command could not be run at all (host unreachable,
authentication refused, timeout) and names the host, the command and the cause, never a
password or key.

SSH (`SSHTransport`) keeps one paramiko connection per endpoint and runs each command on its
own channel, so several threads may share a connection (up to `max_sessions` channels at once).

Jump hosts: the transport logs in to the jump host and runs `ssh <target> <command>` there,
the common pattern for bastions that have an ssh client and keys for the hosts behind them.
It does not tunnel with `direct-tcpip` channels, so targets need no credentials of ours; the
jump host's own ssh configuration (keys, known hosts) decides how it reaches them. All targets
then share the one connection to the jump host.
"""

from __future__ import annotations

import io
import logging
import math
import os
import selectors
import shlex
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from core.errors import CalipsoError, ConfigError
from core.logging import redact

log = logging.getLogger(__name__)

ROOT_USER = "root"
SUDO_PREFIX = "sudo -n"  # -n: fail at once instead of waiting for a password prompt nobody answers


@dataclass
class CommandResult:
    """What a command printed and how it ended."""

    exit_status: int  # -1 when the server sent none (e.g. the command was killed by a signal)
    stdout: str
    stderr: str


class Transport(Protocol):
    """Runs shell commands on named hosts."""

    def run(self, host: str, command: str, timeout: float = 30.0) -> CommandResult: ...

    def close(self) -> None: ...


class TransportError(CalipsoError):
    """A command could not be run on a host: the host was unreachable, refused us or timed out."""

    def __init__(self, host: str, command: str, cause: str) -> None:
        self.host = host
        self.command = command
        self.cause = cause
        super().__init__(redact(f"cannot run {command!r} on {host}: {cause}"))


# ---------------------------------------------------------------------------------------------
# Pure helpers


@dataclass(frozen=True)
class Endpoint:
    """Where an SSH connection goes: user, address and port."""

    user: str
    address: str
    port: int = 22

    def __str__(self) -> str:
        address = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.user}@{address}:{self.port}"


def parse_endpoint(text: str, default_user: str, default_port: int = 22) -> Endpoint:
    """`[user@]host[:port]` (IPv6 as `[addr]:port` or bare) as an Endpoint; ValueError if malformed."""
    rest = text.strip()
    user = default_user
    if "@" in rest:
        user, rest = rest.rsplit("@", 1)
        if not user:
            raise ValueError(f"empty user name in {text!r}")
    port_text = None
    if rest.startswith("["):
        address, bracket, after = rest[1:].partition("]")
        if not bracket or (after and not after.startswith(":")):
            raise ValueError(f"malformed address {text!r}: expected [address]:port")
        port_text = after[1:] if after else None
    elif rest.count(":") == 1:
        address, port_text = rest.split(":")
    else:
        address = rest  # a host name, or a bare IPv6 address (which cannot carry a port)
    if not address:
        raise ValueError(f"no host in {text!r}")
    if port_text is None:
        return Endpoint(user, address, default_port)
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"bad port in {text!r}")
    return Endpoint(user, address, int(port_text))


def parse_jump_host(text: str, default_user: str) -> Endpoint:
    """A jump host given as `[user@]host[:port]`, as OpenSSH's -J takes it (port 22 by default)."""
    return parse_endpoint(text, default_user, 22)


def build_command(command: str, *, user: str, sudo: bool = False, prefix: str | None = None,
                  prefixed_tools: Collection[str] | None = None) -> str:
    """The command line a host runs: `[sudo -n ][prefix ]command`.

    `prefix` is the distribution's translation (e.g. `docker exec openvswitch_vswitchd`);
    when `prefixed_tools` is given, only commands whose first word is one of them get it (the
    tools that live in the container). sudo applies to the whole line, prefix included, and
    only when the login user is not root. Like `sudo cmd | other`, sudo covers the first
    command of a pipeline only.
    """
    words = command.split(None, 1)
    if prefix and words and (prefixed_tools is None or words[0] in prefixed_tools):
        command = f"{prefix} {command}"
    if sudo and user != ROOT_USER:
        command = f"{SUDO_PREFIX} {command}"
    return command


def jump_command(target: Endpoint, command: str, *, jump_user: str, connect_timeout: float = 10.0) -> str:
    """The command a jump host runs to run `command` on `target`: `ssh [options] address 'command'`.

    The jump host's shell removes one level of quoting and its ssh sends the command to the
    target's shell, so the command is quoted once. BatchMode makes ssh fail instead of asking.
    """
    words = ["ssh", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={max(1, math.ceil(connect_timeout))}"]
    if target.port != 22:
        words += ["-p", str(target.port)]
    if target.user != jump_user:
        words += ["-l", target.user]
    words += [target.address, command]
    return " ".join(shlex.quote(word) for word in words)


def load_private_key(text: str, password: str | None = None) -> paramiko.PKey:
    """A paramiko key from private key text (OpenSSH or PEM format; RSA, ECDSA or Ed25519)."""
    data = text.encode()
    secret = password.encode() if password else None
    # Same detection as paramiko's PKey.from_path, for text instead of a file.
    try:
        loaded = serialization.load_ssh_private_key(data, password=secret)
    except ValueError:
        loaded = serialization.load_pem_private_key(data, password=secret)
    if isinstance(loaded, rsa.RSAPrivateKey):
        key_class: type[paramiko.PKey] = paramiko.RSAKey
    elif isinstance(loaded, ed25519.Ed25519PrivateKey):
        key_class = paramiko.Ed25519Key
    elif isinstance(loaded, ec.EllipticCurvePrivateKey):
        key_class = paramiko.ECDSAKey
    else:
        raise ValueError(f"unsupported key type {type(loaded).__name__}")
    return key_class.from_private_key(io.StringIO(text), password=password)


# ---------------------------------------------------------------------------------------------
# SSH


@dataclass
class SSHConfig:
    """How to reach hosts over SSH. Credentials are kept out of repr()."""

    user: str
    port: int = 22
    password: str | None = field(default=None, repr=False)
    private_key: str | None = field(default=None, repr=False)  # private key text (PEM / OpenSSH)
    key_file: str | None = None
    key_passphrase: str | None = field(default=None, repr=False)
    jump_host: str | None = None  # [user@]host[:port]; see the module docstring
    # host name -> `[user@]address[:port]`; a host not listed is reached by its name.
    addresses: dict[str, str] = field(default_factory=dict)
    sudo: bool = False
    command_prefix: str | None = None
    prefixed_tools: frozenset[str] | None = None  # None: the prefix applies to every command
    connect_timeout: float = 10.0
    max_sessions: int = 8  # channels at once per connection; OpenSSH's MaxSessions is 10
    keepalive_interval: int = 30
    # Off by default: unknown host keys are accepted and remembered (a later change is refused),
    # which suits labs and tests. Production should turn it on and provide known_hosts.
    strict_host_keys: bool = False
    known_hosts_file: str | None = None  # read, and (when not strict) appended with new keys


@dataclass
class _Connection:
    transport: paramiko.Transport
    sessions: threading.BoundedSemaphore

    def close(self) -> None:
        self.transport.close()


# What OpenSSH's client prints (besides `ssh: ...` lines) when it cannot reach or log in to a host.
_SSH_CLIENT_FAILURES = ("Permission denied", "Connection closed", "Connection reset", "Connection timed out",
                        "Host key verification failed")


class _Dropped(Exception):
    """The connection went away under a command; the caller reconnects once."""


class _HostKeyRejected(Exception):
    pass


class SSHTransport:
    """Runs commands over SSH with paramiko: one connection per endpoint, shared by threads."""

    def __init__(self, config: SSHConfig) -> None:
        self.config = config
        self._pkey = self._load_key(config)
        if self._pkey is None and config.password is None:
            raise ConfigError("SSHConfig needs a private_key, a key_file or a password")
        self._jump = parse_jump_host(config.jump_host, config.user) if config.jump_host else None
        self._lock = threading.Lock()
        self._connections: dict[Endpoint, _Connection] = {}
        self._gates: dict[Endpoint, threading.Lock] = {}  # one connect at a time per endpoint
        self._failures: dict[Endpoint, tuple[float, str]] = {}  # last failed connect: when, why
        self._closed = False
        self._host_keys = paramiko.HostKeys()
        self._host_keys_lock = threading.Lock()
        known_hosts = config.known_hosts_file or (
            os.path.expanduser("~/.ssh/known_hosts") if config.strict_host_keys else None)
        if known_hosts and Path(known_hosts).exists():
            self._host_keys.load(known_hosts)

    @staticmethod
    def _load_key(config: SSHConfig) -> paramiko.PKey | None:
        try:
            if config.private_key:
                return load_private_key(config.private_key, config.key_passphrase)
            if config.key_file:
                return paramiko.PKey.from_path(config.key_file, password=config.key_passphrase)
        except (ValueError, TypeError, OSError, paramiko.SSHException) as error:
            source = config.key_file or "private_key"
            # The exception text from the key parsers never contains the key itself.
            raise ConfigError(f"cannot load the SSH key from {source}: {type(error).__name__}: {error}") from None
        return None

    def __enter__(self) -> SSHTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- routing ------------------------------------------------------------------------------

    def route(self, host: str, command: str) -> tuple[Endpoint, str]:
        """The endpoint to connect to and the exact command line sent for `command` on `host`."""
        target = parse_endpoint(self.config.addresses.get(host, host), self.config.user, self.config.port)
        line = build_command(command, user=target.user, sudo=self.config.sudo,
                             prefix=self.config.command_prefix, prefixed_tools=self.config.prefixed_tools)
        if self._jump is None:
            return target, line
        return self._jump, jump_command(target, line, jump_user=self._jump.user,
                                        connect_timeout=self.config.connect_timeout)

    # -- running ------------------------------------------------------------------------------

    def run(self, host: str, command: str, timeout: float = 30.0) -> CommandResult:
        """Run `command` on `host`; `timeout` bounds the wait for a channel and the command itself.

        Connecting is bounded by `connect_timeout`. If the connection has dropped (server
        restart, network blip), the transport reconnects once and sends the command again,
        which is safe for discovery's read-only commands.
        """
        try:
            endpoint, line = self.route(host, command)
        except ValueError as error:
            raise TransportError(host, command, f"bad address: {error}") from None
        deadline = time.monotonic() + timeout
        for attempt in (1, 2):
            connection = self._connection(endpoint, host, command)
            try:
                result = self._execute(connection, line, deadline, host, command, timeout)
            except _Dropped as error:
                self._discard(endpoint, connection)
                if attempt == 2:
                    cause = f"the SSH session to {endpoint} failed twice: {error}"
                    raise TransportError(host, command, cause) from None
                log.warning("connection to %s lost (%s); reconnecting once", endpoint, error)
                continue
            if self._jump is not None:
                self._check_jump_result(result, host, command)
            return result
        raise AssertionError("unreachable")

    def _execute(self, connection: _Connection, line: str, deadline: float,
                 host: str, command: str, timeout: float) -> CommandResult:
        if not connection.sessions.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise TransportError(host, command, f"timed out after {timeout:g} s waiting for a free SSH session")
        try:
            # Any failure to open a channel or start the command, except an explicit refusal of the
            # channel, is taken for a dead connection (is_active() lags behind the error).
            try:
                channel = connection.transport.open_session(timeout=max(0.1, deadline - time.monotonic()))
            except paramiko.ChannelException as error:
                raise TransportError(host, command, f"the server refused a session: {_describe(error)}") from None
            except (paramiko.SSHException, EOFError, OSError) as error:
                raise _Dropped(_describe(error)) from None
            try:
                try:
                    channel.exec_command(line)
                except (paramiko.SSHException, EOFError, OSError) as error:
                    raise _Dropped(_describe(error)) from None
                result = _collect(channel, deadline)
                if result is None:
                    raise TransportError(host, command, f"timed out after {timeout:g} s")
                # A channel closed with neither EOF nor exit status died with its connection
                # (a command killed by a signal still gets an EOF).
                if result.exit_status == -1 and (not channel.eof_received or not connection.transport.is_active()):
                    raise _Dropped("closed while the command ran")
                return result
            finally:
                channel.close()
        finally:
            connection.sessions.release()

    def _check_jump_result(self, result: CommandResult, host: str, command: str) -> None:
        # Through a jump host, ssh's own failures (target unknown, unreachable, refused) come back
        # as exit status 255 with an `ssh: ...` message; report them like a direct failure.
        if result.exit_status != 255:
            return
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else ""
        if reason.startswith("ssh:") or any(sign in reason for sign in _SSH_CLIENT_FAILURES):
            raise TransportError(host, command, f"unreachable through jump host {self._jump}: {reason}")

    # -- connections --------------------------------------------------------------------------

    def _connection(self, endpoint: Endpoint, host: str, command: str) -> _Connection:
        waited_since = time.monotonic()
        with self._lock:
            if self._closed:
                raise TransportError(host, command, "the transport is closed")
            connection = self._connections.get(endpoint)
            if connection is not None and connection.transport.is_active():
                return connection
            gate = self._gates.setdefault(endpoint, threading.Lock())
        with gate:
            with self._lock:
                connection = self._connections.get(endpoint)
                if connection is not None and connection.transport.is_active():
                    return connection
                failure = self._failures.get(endpoint)
            # Threads that queued behind a connect attempt which failed share its verdict instead
            # of each waiting out its own connect timeout against a dead host.
            if failure is not None and failure[0] >= waited_since:
                raise TransportError(host, command, failure[1])
            try:
                connection = self._open(endpoint)
            except Exception as error:  # noqa: BLE001 - every failure becomes a TransportError
                cause = self._scrub(_describe_connect(error, endpoint, self.config.connect_timeout))
                with self._lock:
                    self._failures[endpoint] = (time.monotonic(), cause)
                raise TransportError(host, command, cause) from None
            with self._lock:
                self._failures.pop(endpoint, None)
                old = self._connections.get(endpoint)
                if self._closed:
                    connection.close()
                    raise TransportError(host, command, "the transport is closed")
                self._connections[endpoint] = connection
            if old is not None:
                old.close()
            return connection

    def _open(self, endpoint: Endpoint) -> _Connection:
        timeout = self.config.connect_timeout
        sock = socket.create_connection((endpoint.address, endpoint.port), timeout=timeout)
        # Commands are small request/response exchanges: without NODELAY, Nagle's algorithm and
        # delayed ACKs add about 40 ms to each one.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport = paramiko.Transport(sock)
        transport.banner_timeout = timeout
        transport.handshake_timeout = timeout
        transport.auth_timeout = timeout
        try:
            transport.start_client(timeout=timeout)
            self._verify_host_key(endpoint, transport.get_remote_server_key())
            self._authenticate(transport, endpoint.user)
            if self.config.keepalive_interval:
                transport.set_keepalive(self.config.keepalive_interval)
        except BaseException:
            transport.close()
            raise
        log.debug("connected to %s", endpoint)
        return _Connection(transport, threading.BoundedSemaphore(self.config.max_sessions))

    def _authenticate(self, transport: paramiko.Transport, user: str) -> None:
        refused: Exception | None = None
        if self._pkey is not None:
            try:
                transport.auth_publickey(user, self._pkey)
            except paramiko.AuthenticationException as error:
                refused = error
        if not transport.is_authenticated() and self.config.password is not None:
            transport.auth_password(user, self.config.password)
        if not transport.is_authenticated():
            raise refused or paramiko.AuthenticationException("authentication failed")

    def _verify_host_key(self, endpoint: Endpoint, key: paramiko.PKey) -> None:
        # known_hosts names non-standard ports as [address]:port.
        name = endpoint.address if endpoint.port == 22 else f"[{endpoint.address}]:{endpoint.port}"
        with self._host_keys_lock:
            known = self._host_keys.lookup(name) or {}
            if key.get_name() in known:
                if known[key.get_name()].asbytes() != key.asbytes():
                    raise _HostKeyRejected(f"the host key of {name} has changed (possible man-in-the-middle); "
                                           f"remove the old key from known hosts if the change is expected")
                return
            if self.config.strict_host_keys:
                raise _HostKeyRejected(f"the host key of {name} is not in known hosts and strict_host_keys is on")
            self._host_keys.add(name, key.get_name(), key)
            if self.config.known_hosts_file:
                self._host_keys.save(self.config.known_hosts_file)
        log.info("accepted new %s host key for %s", key.get_name(), name)

    def _discard(self, endpoint: Endpoint, connection: _Connection) -> None:
        with self._lock:
            if self._connections.get(endpoint) is connection:
                del self._connections[endpoint]
        connection.close()

    def _scrub(self, text: str) -> str:
        # Belt and braces: no exception text we know of contains the password, but make sure.
        if self.config.password:
            text = text.replace(self.config.password, "***")
        return text

    def close(self) -> None:
        """Close every connection; later calls to run() fail."""
        with self._lock:
            self._closed = True
            connections = list(self._connections.values())
            self._connections.clear()
        for connection in connections:
            connection.close()


def _collect(channel: paramiko.Channel, deadline: float) -> CommandResult | None:
    """Read stdout and stderr until EOF and the exit status; None on timeout.

    Both streams are drained as data arrives: reading one to its end first could stall a
    command that fills the other's window.
    """
    stdout: list[bytes] = []
    stderr: list[bytes] = []
    with selectors.DefaultSelector() as selector:
        # The channel's fileno() is a pipe paramiko signals on data or EOF on either stream.
        selector.register(channel.fileno(), selectors.EVENT_READ)
        while True:
            while channel.recv_ready():
                stdout.append(channel.recv(65536))
            while channel.recv_stderr_ready():
                stderr.append(channel.recv_stderr(65536))
            if (channel.eof_received or channel.closed) and not channel.recv_ready() \
                    and not channel.recv_stderr_ready():
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            selector.select(remaining)
    # The exit status may follow the EOF (OpenSSH sends it after); closing also sets this event.
    if not channel.status_event.wait(max(0.0, deadline - time.monotonic())):
        return None
    return CommandResult(channel.exit_status, b"".join(stdout).decode(errors="replace"),
                         b"".join(stderr).decode(errors="replace"))


def _describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _describe_connect(error: BaseException, endpoint: Endpoint, timeout: float) -> str:
    """Why connecting to `endpoint` failed, in words an operator can act on."""
    where = f"{endpoint.address}:{endpoint.port}"
    if isinstance(error, paramiko.AuthenticationException):
        return f"authentication refused for user {endpoint.user} at {where}"
    if isinstance(error, _HostKeyRejected):
        return f"host key rejected: {error}"
    if isinstance(error, (socket.timeout, TimeoutError)):
        return f"unreachable: no answer from {where} within {timeout:g} s"
    if isinstance(error, ConnectionRefusedError):
        return f"unreachable: connection refused by {where}"
    if isinstance(error, socket.gaierror):
        return f"unreachable: cannot resolve {endpoint.address} ({error.strerror})"
    if isinstance(error, OSError):
        return f"unreachable: {where}: {error.strerror or error}"
    if isinstance(error, EOFError):
        return f"connection to {where} closed by the server during the handshake"
    if isinstance(error, paramiko.SSHException):
        # e.g. "Error reading SSH protocol banner" from something that is not an SSH server
        return f"SSH handshake with {where} failed: {error}"
    return f"cannot connect to {where}: {_describe(error)}"


# ---------------------------------------------------------------------------------------------
# Local


class LocalTransport:
    """Runs commands on this machine through the shell, for a single-host setup.

    The host name only labels results and errors: every command runs here.
    """

    def __init__(self, *, sudo: bool = False, command_prefix: str | None = None,
                 prefixed_tools: Collection[str] | None = None) -> None:
        self.sudo = sudo
        self.command_prefix = command_prefix
        self.prefixed_tools = prefixed_tools

    def __enter__(self) -> LocalTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def run(self, host: str, command: str, timeout: float = 30.0) -> CommandResult:
        user = ROOT_USER if os.geteuid() == 0 else "non-root"
        line = build_command(command, user=user, sudo=self.sudo, prefix=self.command_prefix,
                             prefixed_tools=self.prefixed_tools)
        try:
            # A session of its own, so that a timeout kills the whole pipeline, not just the shell.
            process = subprocess.Popen(line, shell=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, start_new_session=True)
        except OSError as error:
            raise TransportError(host, command, f"cannot start the shell: {error}") from None
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.communicate()
            raise TransportError(host, command, f"timed out after {timeout:g} s") from None
        return CommandResult(process.returncode, stdout.decode(errors="replace"), stderr.decode(errors="replace"))

    def close(self) -> None:
        """Nothing to release."""


class CallableTransport:
    """Runs commands by calling `responder(host, command) -> (exit status, stdout, stderr)` in this process.

    For large simulated worlds: the lab's responder answers without an SSH round trip. An exit
    status of 255 is ssh's "could not reach the host", reported as TransportError as SSH would.
    """

    def __init__(self, responder: Callable[[str, str], tuple[int, str, str]]) -> None:
        self.responder = responder

    def run(self, host: str, command: str, timeout: float = 30.0) -> CommandResult:
        status, stdout, stderr = self.responder(host, command)
        if status == 255:
            raise TransportError(host, command, stderr.strip() or "host unreachable")
        return CommandResult(status, stdout, stderr)

    def close(self) -> None:
        pass
