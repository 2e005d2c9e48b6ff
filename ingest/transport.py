"""How the scanner runs commands on hosts: one small interface, over SSH or on this machine.

`Transport.run(host, command)` returns a `CommandResult`; a non-zero exit status is a result,
not an error. `TransportError` means the command could not be run at all (host unreachable,
authentication refused, timeout) and names the host, the command and the cause, never a
password or key.

SSH (`SSHTransport`) keeps one paramiko connection per endpoint and runs each command on its
own channel, so several threads may share a connection (up to `max_sessions` channels at once).

Jump hosts: the transport logs in to the jump host and runs `ssh -- <target> <command>` there,
the common pattern for bastions that have an ssh client and keys for the hosts behind them.
It does not tunnel with `direct-tcpip` channels, so targets need no credentials of ours; the
jump host's own ssh configuration (keys) decides how it logs in to them. All targets then share
the one connection to the jump host.

Host keys: every host key is checked against the environment's known host keys
(`SSHConfig.known_host_keys`, host name -> key type -> base64) under a policy: `strict` refuses
a host whose key is unknown, `trust-on-first-use` records an unknown key (`on_new_host_key`) and
accepts it, `accept` accepts anything. A key that differs from the known one is refused under
every policy but `accept`, with both fingerprints in the error. Through a jump host, the jump
host's own key is checked the same way, and the onward `ssh` reads the targets' known keys from a
file the transport writes on the jump host (`StrictHostKeyChecking=yes`, `HostKeyAlias=<host>`).

Host names come from the cloud's APIs: `ssh_target` lets only RFC 1123 host names and IP
addresses through, so a name can never become an ssh option, a user or a port.
"""

from __future__ import annotations

import base64
import hashlib
import io
import ipaddress
import logging
import math
import os
import re
import secrets
import selectors
import shlex
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Protocol

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

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


#: What `SSHConfig.host_key_policy` may be (and the environment's `cli.host_key_policy`).
HOST_KEY_POLICIES = ("strict", "trust-on-first-use", "accept")

_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


class UnsafeHostName(ValueError):
    """A host name that cannot be an SSH target: not an RFC 1123 host name or an IP address."""


def ssh_target(name: str, source: str | None = None) -> str:
    """`name` if it is an RFC 1123 host name or an IPv4/IPv6 address, else UnsafeHostName.

    Host names come from the cloud's APIs; on an ssh command line a name such as
    `-oProxyCommand=...` would be an option and `root@elsewhere:2222` would redirect the
    connection, so a name never carries a user, a port, spaces or shell characters.
    `source` names the object the name came from, for the error.
    """
    origin = f" (from {source})" if source else ""
    if not isinstance(name, str) or not name:
        raise UnsafeHostName(f"empty host name{origin}")
    try:
        ipaddress.ip_address(name)
        return name
    except ValueError:
        pass
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        shown = name if len(name) <= 80 else name[:77] + "..."
        raise UnsafeHostName(f"refused SSH target {shown!r}{origin}: not a host name (RFC 1123: letters, digits, "
                             "'-' and '.') or an IP address; a host name never carries a user, a port or an option")
    return name


def fingerprint(key: paramiko.PKey | bytes | str) -> str:
    """OpenSSH's SHA256 fingerprint (`SHA256:...`) of a public key: a PKey, its blob, or its base64."""
    blob = key.asbytes() if isinstance(key, paramiko.PKey) else (
        base64.b64decode(key) if isinstance(key, str) else key)
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def known_hosts_name(address: str, port: int) -> str:
    """How known_hosts names an address: bare on port 22, `[address]:port` otherwise."""
    return address if port == 22 else f"[{address}]:{port}"


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


def jump_command(target: Endpoint, command: str, *, jump_user: str, connect_timeout: float = 10.0,
                 known_hosts_file: str | None = None, host_key_alias: str | None = None) -> str:
    """The command a jump host runs to run `command` on `target`: `ssh [options] -- address 'command'`.

    The jump host's shell removes one level of quoting and its ssh sends the command to the
    target's shell, so the command is quoted once. BatchMode makes ssh fail instead of asking.
    With `known_hosts_file`, ssh checks the target's key against that file only, strictly,
    under `host_key_alias` (the host's name in our known hosts); without it, any key is accepted
    (the `accept` policy). `--` ends the options, so the address can never be read as one.
    """
    words = ["ssh", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={max(1, math.ceil(connect_timeout))}"]
    if known_hosts_file:
        words += ["-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts_file}",
                  "-o", "GlobalKnownHostsFile=/dev/null"]
        if host_key_alias:
            words += ["-o", f"HostKeyAlias={host_key_alias}"]
    else:
        words += ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
    if target.port != 22:
        words += ["-p", str(target.port)]
    if target.user != jump_user:
        words += ["-l", target.user]
    words += ["--", target.address, command]
    return " ".join(shlex.quote(word) for word in words)


def keyscan_command(target: Endpoint, timeout: float = 10.0) -> str:
    """The command a jump host runs to print `target`'s host keys (known_hosts lines)."""
    words = ["ssh-keyscan", "-T", str(max(1, math.ceil(timeout)))]
    if target.port != 22:
        words += ["-p", str(target.port)]
    words += ["--", target.address]
    return " ".join(shlex.quote(word) for word in words)


def parse_keyscan(output: str) -> dict[str, str]:
    """Key type -> base64 from ssh-keyscan's output (`name type base64` lines; comments skipped)."""
    keys: dict[str, str] = {}
    for line in output.splitlines():
        words = line.split()
        if len(words) >= 3 and not words[0].startswith("#"):
            try:
                paramiko.PKey.from_type_string(words[1], base64.b64decode(words[2], validate=True))
            except (ValueError, paramiko.SSHException, paramiko.UnknownKeyType):
                continue
            keys.setdefault(words[1], words[2])
    return keys


#: A name known_hosts reads as one plain name: no spaces, comments, patterns, lists or markers.
_KNOWN_HOSTS_NAME = re.compile(r"^[A-Za-z0-9_.:\[\]-]+$")


def known_hosts_text(keys: dict[str, dict[str, str]]) -> str:
    """known_hosts lines (`name type base64`) for host name -> key type -> base64. A name that
    known_hosts would read otherwise than as one plain name is left out (its host then fails
    the check), so no name can add lines or patterns."""
    return "".join(f"{host} {key_type} {key}\n" for host, by_type in sorted(keys.items())
                   if _KNOWN_HOSTS_NAME.match(host)
                   for key_type, key in sorted(by_type.items())
                   if _KNOWN_HOSTS_NAME.match(key_type) and re.fullmatch(r"[A-Za-z0-9+/]+=*", key))


def host_key_refusal(name: str, known: dict[str, str], shown_type: str, shown_key: str) -> str | None:
    """Why a host key is refused under strict checking, naming both fingerprints; None if it is known."""
    if known.get(shown_type) == shown_key:
        return None
    shown = f"{shown_type} {fingerprint(shown_key)}"
    if known:
        expected = ", ".join(f"{key_type} {fingerprint(key)}" for key_type, key in sorted(known.items()))
        return (f"host key of {name} has CHANGED: expected {expected}, shown {shown} (possible man-in-the-middle); "
                f"if the change is expected, check it and record it with `calipso env trust ENV --host {name}`")
    return (f"host key of {name} is unknown: expected none recorded, shown {shown}; check the fingerprint and "
            f"record it with `calipso env trust ENV --host {name}` (or set cli.host_key_policy)")


def load_private_key(text: str, password: str | None = None) -> paramiko.PKey:
    """A paramiko key from private key text (OpenSSH or PEM format; RSA, ECDSA or Ed25519)."""
    data = text.encode()
    secret = password.encode() if password else None
    # Same detection as paramiko's PKey.from_path, for text instead of a file.
    loaded: PrivateKeyTypes
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
    # strict | trust-on-first-use | accept; see the module docstring.
    host_key_policy: str = "strict"
    # host name (or, for the jump host, known_hosts_name(address, port)) -> key type -> base64
    known_host_keys: dict[str, dict[str, str]] = field(default_factory=dict)
    # Called with (host name, key type, base64) when trust-on-first-use accepts a new key.
    on_new_host_key: Callable[[str, str, str], None] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.host_key_policy not in HOST_KEY_POLICIES:
            raise ConfigError(f"host_key_policy: expected one of {', '.join(HOST_KEY_POLICIES)}, "
                              f"got {self.host_key_policy!r}")


@dataclass
class _Connection:
    transport: paramiko.Transport
    sessions: threading.BoundedSemaphore
    server_key: paramiko.PKey | None = None
    verified: set[str] = field(default_factory=set)  # names whose known key server_key was checked against

    def close(self) -> None:
        self.transport.close()


# What OpenSSH's client prints (besides `ssh: ...` lines) when it cannot reach or log in to a host.
_SSH_CLIENT_FAILURES = ("Permission denied", "Connection closed", "Connection reset", "Connection timed out",
                        "Host key verification failed")


class _Dropped(Exception):
    """The connection went away under a command; the caller reconnects once."""


class _HostKeyRejected(Exception):
    pass


#: Where the targets' known host keys go on a jump host (relative to the login directory).
JUMP_KNOWN_HOSTS_DIR = ".ssh"


class SSHTransport:
    """Runs commands over SSH with paramiko: one connection per endpoint, shared by threads."""

    def __init__(self, config: SSHConfig) -> None:
        self.config = config
        self._pkey = self._load_key(config)
        if self._pkey is None and config.password is None:
            raise ConfigError("SSHConfig needs a private_key, a key_file or a password")
        self._jump = parse_jump_host(config.jump_host, config.user) if config.jump_host else None
        if self._jump is not None:
            try:
                ssh_target(self._jump.address, "cli.jump_host")
            except UnsafeHostName as error:
                raise ConfigError(str(error)) from None
        self._lock = threading.Lock()
        self._connections: dict[Endpoint, _Connection] = {}
        self._gates: dict[Endpoint, threading.Lock] = {}  # one connect at a time per endpoint
        self._failures: dict[Endpoint, tuple[float, str]] = {}  # last failed connect: when, why
        self._closed = False
        # The known host keys, plus those trust-on-first-use learnt during this transport's life.
        self._known = {name: dict(keys) for name, keys in config.known_host_keys.items()}
        self._known_lock = threading.Lock()
        # The targets' known hosts file on the jump host: its path, and whether it holds self._known.
        self._jump_file = f"{JUMP_KNOWN_HOSTS_DIR}/calipso_known_hosts_{secrets.token_hex(8)}"
        self._jump_file_written = False
        self._jump_file_lock = threading.Lock()

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

    def target(self, host: str) -> Endpoint:
        """Where `host` is: its configured address, else its name (which must be a safe SSH target)."""
        if host in self.config.addresses:
            endpoint = parse_endpoint(self.config.addresses[host], self.config.user, self.config.port)
            ssh_target(endpoint.address, f"cli.addresses of host {host}")
            return endpoint
        ssh_target(host, f"host object {host}")
        return Endpoint(self.config.user, host, self.config.port)

    @property
    def jump_name(self) -> str | None:
        """The jump host's name in the known host keys (`address` or `[address]:port`)."""
        return known_hosts_name(self._jump.address, self._jump.port) if self._jump else None

    def route(self, host: str, command: str) -> tuple[Endpoint, str]:
        """The endpoint to connect to and the exact command line sent for `command` on `host`."""
        target = self.target(host)
        line = build_command(command, user=target.user, sudo=self.config.sudo,
                             prefix=self.config.command_prefix, prefixed_tools=self.config.prefixed_tools)
        if self._jump is None:
            return target, line
        checked = self.config.host_key_policy != "accept"
        return self._jump, jump_command(target, line, jump_user=self._jump.user,
                                        connect_timeout=self.config.connect_timeout,
                                        known_hosts_file=self._jump_file if checked else None,
                                        host_key_alias=host if checked else None)

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
                if self._jump is None:
                    self._check_connection_key(connection, host, command)
                else:
                    self._prepare_jump_target(connection, host, command, deadline, timeout)
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

    def connect_jump(self) -> None:
        """Log in to the jump host (checking its host key); TransportError if that fails."""
        if self._jump is None:
            raise ConfigError("no jump host is configured")
        self._connection(self._jump, f"jump host {self._jump}", "(login)")

    def _execute(self, connection: _Connection, line: str, deadline: float,
                 host: str, command: str, timeout: float, stdin: bytes | None = None) -> CommandResult:
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
                    if stdin is not None:
                        channel.sendall(stdin)
                        channel.shutdown_write()
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
        # Through a jump host, ssh's own failures (target unknown, unreachable, refused, host key)
        # come back as exit status 255 with an `ssh: ...` message; report them like a direct failure.
        if result.exit_status != 255:
            return
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else ""
        if "Host key verification failed" in result.stderr:
            with self._known_lock:
                known = dict(self._known.get(host, {}))
            shown = re.findall(r"SHA256:[A-Za-z0-9+/]+", result.stderr)
            expected = ", ".join(f"{key_type} {fingerprint(key)}" for key_type, key in sorted(known.items()))
            state = "has CHANGED" if known else "is unknown"
            cause = (f"host key of {host} {state}: expected {expected or 'none recorded'}, shown "
                     f"{shown[-1] if shown else 'an unknown key'} (possible man-in-the-middle; seen by ssh on jump "
                     f"host {self._jump}); if the change is expected, check it and record it with "
                     f"`calipso env trust ENV --host {host}`")
            raise TransportError(host, command, cause)
        if reason.startswith("ssh:") or any(sign in reason for sign in _SSH_CLIENT_FAILURES):
            raise TransportError(host, command, f"unreachable through jump host {self._jump}: {reason}")

    # -- host keys ----------------------------------------------------------------------------

    def _check_host_key(self, name: str, key: paramiko.PKey) -> None:
        """Accept `key` for `name` under the policy, or raise _HostKeyRejected naming both fingerprints."""
        policy = self.config.host_key_policy
        if policy == "accept":
            return
        key_type, key_text = key.get_name(), key.get_base64()
        with self._known_lock:
            known = dict(self._known.get(name, {}))
            refusal = host_key_refusal(name, known, key_type, key_text)
            if refusal is None:
                return
            if known or policy == "strict":
                raise _HostKeyRejected(refusal)
            self._known[name] = {key_type: key_text}
            self._jump_file_written = False  # the jump host's file lacks the new key
        log.warning("trust on first use: recorded the %s host key %s of %s", key_type, fingerprint(key), name)
        if self.config.on_new_host_key is not None:
            self.config.on_new_host_key(name, key_type, key_text)

    def _check_connection_key(self, connection: _Connection, host: str, command: str) -> None:
        # A connection checked for one name may serve another name at the same endpoint.
        if host in connection.verified or connection.server_key is None:
            return
        try:
            self._check_host_key(host, connection.server_key)
        except _HostKeyRejected as error:
            raise TransportError(host, command, f"host key rejected: {error}") from None
        connection.verified.add(host)

    def _prepare_jump_target(self, connection: _Connection, host: str, command: str,
                             deadline: float, timeout: float) -> None:
        """Before the jump host's ssh reaches `host`: a known key for it, in the file on the jump host."""
        if self.config.host_key_policy == "accept":
            return
        with self._known_lock:
            known = host in self._known
        if not known:
            keys = self._keyscan(connection, host, command, deadline, timeout)
            if not keys:
                raise TransportError(host, command, f"host key rejected: cannot read the host key of {host} "
                                                    f"through jump host {self._jump}")
            key_type, key_text = sorted(keys.items())[0]
            try:
                self._check_host_key(host, paramiko.PKey.from_type_string(key_type, base64.b64decode(key_text)))
            except _HostKeyRejected as error:
                raise TransportError(host, command, f"host key rejected: {error}") from None
        with self._jump_file_lock:
            with self._known_lock:
                if self._jump_file_written:
                    return
                text = known_hosts_text(self._known)
                self._jump_file_written = True
            dir_ = JUMP_KNOWN_HOSTS_DIR
            line = f"umask 077 && mkdir -p {dir_} && cat > {shlex.quote(self._jump_file)}"
            try:
                result = self._execute(connection, line, deadline, host, command, timeout, stdin=text.encode())
            except BaseException:
                with self._known_lock:
                    self._jump_file_written = False
                raise
            if result.exit_status != 0:
                with self._known_lock:
                    self._jump_file_written = False
                raise TransportError(host, command, f"cannot write the known host keys on jump host {self._jump}: "
                                                    f"exit status {result.exit_status}: {result.stderr.strip()[:200]}")

    def _keyscan(self, connection: _Connection, host: str, command: str, deadline: float,
                 timeout: float) -> dict[str, str]:
        result = self._execute(connection, keyscan_command(self.target(host), self.config.connect_timeout),
                               deadline, host, command, timeout)
        return parse_keyscan(result.stdout)

    def host_keys(self, host: str, timeout: float = 30.0) -> dict[str, str]:
        """The host key `host` shows (key type -> base64), read without logging in to it.

        Directly: the key of the SSH handshake. Through the jump host (whose own key is checked):
        `ssh-keyscan` run there. TransportError if it cannot be read.
        """
        try:
            target = self.target(host)
        except ValueError as error:
            raise TransportError(host, "(host key)", f"bad address: {error}") from None
        if self._jump is None:
            return self._handshake_key(target, host)
        connection = self._connection(self._jump, host, "(host key)")
        deadline = time.monotonic() + timeout
        keys = self._keyscan(connection, host, "(host key)", deadline, timeout)
        if not keys:
            raise TransportError(host, "(host key)", f"ssh-keyscan on jump host {self._jump} printed no key")
        return keys

    def jump_host_keys(self) -> dict[str, str]:
        """The host key the jump host shows (key type -> base64), read in the handshake only."""
        if self._jump is None:
            raise ConfigError("no jump host is configured")
        return self._handshake_key(self._jump, f"jump host {self._jump}")

    def _handshake_key(self, endpoint: Endpoint, host: str) -> dict[str, str]:
        timeout = self.config.connect_timeout
        try:
            sock = socket.create_connection((endpoint.address, endpoint.port), timeout=timeout)
            transport = paramiko.Transport(sock)
            try:
                transport.banner_timeout = transport.handshake_timeout = timeout
                transport.start_client(timeout=timeout)
                key = transport.get_remote_server_key()
            finally:
                transport.close()
        except Exception as error:  # noqa: BLE001 - every failure becomes a TransportError
            raise TransportError(host, "(host key)", _describe_connect(error, endpoint, timeout)) from None
        return {key.get_name(): key.get_base64()}

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
                connection = self._open(endpoint, host)
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
                if endpoint == self._jump:
                    self._jump_file_written = False  # a new login may be a rebuilt jump host
            if old is not None:
                old.close()
            return connection

    def _open(self, endpoint: Endpoint, host: str) -> _Connection:
        timeout = self.config.connect_timeout
        # The name the host key is known under: the jump host's address, else the host's name.
        name = self.jump_name if endpoint == self._jump else host
        sock = socket.create_connection((endpoint.address, endpoint.port), timeout=timeout)
        # Commands are small request/response exchanges: without NODELAY, Nagle's algorithm and
        # delayed ACKs add about 40 ms to each one.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport = paramiko.Transport(sock)
        transport.banner_timeout = timeout
        transport.handshake_timeout = timeout
        transport.auth_timeout = timeout
        with self._known_lock:
            known_types = list(self._known.get(name or "", {}))
        if known_types and self.config.host_key_policy != "accept":
            # Ask for the key type we know, as OpenSSH does, so that a host with several keys
            # shows the one we can check.
            options = transport.get_security_options()
            preferred = [t for t in options.key_types if t in known_types]
            options.key_types = preferred + [t for t in options.key_types if t not in preferred]
        try:
            transport.start_client(timeout=timeout)
            server_key = transport.get_remote_server_key()
            self._check_host_key(name or host, server_key)
            self._authenticate(transport, endpoint.user)
            if self.config.keepalive_interval:
                transport.set_keepalive(self.config.keepalive_interval)
        except BaseException:
            transport.close()
            raise
        log.debug("connected to %s", endpoint)
        return _Connection(transport, threading.BoundedSemaphore(self.config.max_sessions), server_key,
                           {name or host})

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
        """Close every connection (removing the known hosts file on the jump host); later calls to run() fail."""
        with self._lock:
            jump = self._connections.get(self._jump) if self._jump is not None else None
        if jump is not None and self._jump_file_written and jump.transport.is_active():
            try:
                self._execute(jump, f"rm -f {shlex.quote(self._jump_file)}", time.monotonic() + 5,
                              "jump host", "rm", 5)
            except (TransportError, _Dropped) as error:
                log.debug("could not remove %s on the jump host: %s", self._jump_file, error)
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
