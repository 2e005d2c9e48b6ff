"""A real SSH server for the lab's simulated hosts, on paramiko's server side.

Every command is answered by a `responder(host_name, command) -> (exit_status, stdout, stderr)`.
Clients authenticate with a key (passwords are refused) and reach a simulated host in one of
two ways:

- log in with the host's name as the user name: `ssh -p PORT compute-1@127.0.0.1 'ovs-vsctl show'`
  runs `ovs-vsctl show` on compute-1;
- log in as the jump user `lab` and run `ssh [options] <host> <command>`, as on a bastion:
  `ssh -p PORT lab@127.0.0.1 ssh compute-1 ovs-vsctl show`. This is how `ingest.transport`'s
  SSHTransport uses a jump host, so the lab exercises that path too. ssh's options are skipped
  (with their arguments), `user@host` is read as `host`, and the remaining words are joined
  with spaces, as ssh does.

Host keys: the server shows `host_key`; the simulated hosts behind the jump user show the same
key unless `target_keys` gives one of their own. The jump user's ssh checks the target's key as
OpenSSH does with `-o StrictHostKeyChecking=yes -o UserKnownHostsFile=FILE [-o HostKeyAlias=NAME]`
(FILE written beforehand with `umask 077 && mkdir -p .ssh && cat > FILE`, removed with `rm -f FILE`),
and `ssh-keyscan [options] HOST` prints a target's key.

Only `exec` requests run commands; a shell request gets a message and exit status 1, and
`direct-tcpip` (port forwarding) is refused. A host the responder does not know (it raises
`UnknownHost`) answers like ssh does: exit status 255 and "Could not resolve hostname".

One thread accepts connections; each connection gets a paramiko Transport and a thread, and each
channel a thread of its own, so many clients and many channels per client run concurrently.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import logging
import re
import shlex
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

log = logging.getLogger(__name__)

Responder = Callable[[str, str], tuple[int, str, str]]

JUMP_USER = "lab"
SHELL_MESSAGE = ("lab: interactive shells are not supported; give a command, "
                 "e.g. ssh compute-1@HOST -p PORT 'ip -j link'\n")
# ssh's options that take an argument (from OpenSSH's getopt string).
_SSH_OPTIONS_WITH_ARGUMENT = set("BbcDEeFIiJLlmOoPpQRSWw")
_PUBLIC_KEY = re.compile(r"(?:^|\s)((?:ssh|ecdsa-sha2|sk)-[\w@.-]+)\s+([A-Za-z0-9+/]+={0,2})(?:\s|$)")
REQUEST_WAIT = 30.0  # how long an opened channel may wait for its exec request
CLOSE_GRACE = 0.5  # see _ChannelWorker.finish


class _QuietResets(logging.Filter):
    """Drops paramiko's ERROR record for a client that hung up without saying goodbye: in the lab
    that is every scanner closing its connections, not a fault."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Connection reset by peer" not in record.getMessage()


_TRANSPORT_LOG = "paramiko.transport.lab"
logging.getLogger(_TRANSPORT_LOG).addFilter(_QuietResets())


class UnknownHost(LookupError):
    """Raised by a responder for a host name it does not simulate."""

    def __init__(self, host: str) -> None:
        super().__init__(host)
        self.host = host


def generate_host_key() -> paramiko.PKey:
    """A fresh Ed25519 key (paramiko cannot generate Ed25519 keys itself, cryptography can)."""
    private = Ed25519PrivateKey.generate()
    text = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                 serialization.NoEncryption()).decode()
    return paramiko.Ed25519Key.from_private_key(io.StringIO(text))


def parse_public_keys(text: str) -> list[paramiko.PKey]:
    """The keys of authorized_keys-style text (`type base64 [comment]` per line, options allowed)."""
    keys = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _PUBLIC_KEY.search(line)
        if match is None:
            raise ValueError(f"line {number} of the authorized keys holds no public key")
        try:
            keys.append(paramiko.PKey.from_type_string(match.group(1), base64.b64decode(match.group(2))))
        except (binascii.Error, paramiko.SSHException, paramiko.UnknownKeyType, ValueError) as error:
            raise ValueError(f"line {number} of the authorized keys: {type(error).__name__}: {error}") from None
    return keys


def ssh_options(command: str) -> dict[str, str]:
    """The `-o Name=value` options of an ssh command line, names lower-cased (as ssh reads them)."""
    try:
        words = shlex.split(command)
    except ValueError:
        return {}
    options: dict[str, str] = {}
    for index, word in enumerate(words):
        if word == "--":
            break
        value = word[2:] if word.startswith("-o") and len(word) > 2 else (
            words[index + 1] if word == "-o" and index + 1 < len(words) else None)
        if value is not None and "=" in value:
            name, _, setting = value.partition("=")
            options.setdefault(name.strip().lower(), setting.strip())
    return options


#: The jump user's known hosts file commands (what ingest.transport sends).
_WRITE_FILE = re.compile(r"^umask 077 && mkdir -p \.ssh && cat > '?(\.ssh/[\w.-]+)'?$")
_REMOVE_FILE = re.compile(r"^rm -f '?(\.ssh/[\w.-]+)'?$")


def known_hosts_lookup(text: str, name: str) -> dict[str, str]:
    """Key type -> base64 of `name` in known_hosts text (plain names only; no hashing or patterns)."""
    keys: dict[str, str] = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 3 and name in words[0].split(","):
            keys[words[1]] = words[2]
    return keys


def host_key_line(key: paramiko.PKey) -> str:
    """`type base64` of a public key, as authorized_keys and known_hosts write it."""
    return f"{key.get_name()} {key.get_base64()}"


def split_jump_command(command: str) -> tuple[str, str] | None:
    """(host, command) of `ssh [options] [user@]host command...`; None if it is not an ssh command.

    ValueError when ssh is given no host (ssh would print its usage).
    """
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if not words or words[0].rsplit("/", 1)[-1] != "ssh":
        return None
    index = 1
    while index < len(words) and words[index].startswith("-"):
        word = words[index]
        index += 1
        if word == "--":
            break
        # A cluster of flags such as -tt or -nT; the last letter may take the next word (-p 22)
        # unless its argument is attached (-p22, -oBatchMode=yes).
        for position, letter in enumerate(word[1:], 1):
            if letter in _SSH_OPTIONS_WITH_ARGUMENT:
                if position == len(word) - 1:
                    index += 1
                break
    if index >= len(words):
        raise ValueError("usage: ssh [options] destination [command]")
    host = words[index].rsplit("@", 1)[-1]
    return host, " ".join(words[index + 1:])


@dataclass
class _Request:
    """What a client asked of one channel: a command (exec) or a shell."""

    ready: threading.Event = field(default_factory=threading.Event)
    kind: str = ""
    command: str = ""


class _ServerSide(paramiko.ServerInterface):
    """paramiko's callbacks for one connection: key authentication and channel requests."""

    def __init__(self, authorized: set[bytes]) -> None:
        self._authorized = authorized
        self.username: str | None = None
        self._requests: dict[int, _Request] = {}
        self._lock = threading.Lock()

    def request(self, channel: paramiko.Channel) -> _Request:
        # The exec request may be handled before or after accept() hands us the channel.
        with self._lock:
            return self._requests.setdefault(channel.get_id(), _Request())

    def forget(self, channel: paramiko.Channel) -> None:
        with self._lock:
            self._requests.pop(channel.get_id(), None)

    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        if key.asbytes() in self._authorized:
            self.username = username
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_auth_password(self, username: str, password: str) -> int:
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        # Sessions only: direct-tcpip and other forwarding are refused.
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        request = self.request(channel)
        request.kind, request.command = "exec", command.decode(errors="replace")
        request.ready.set()
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        request = self.request(channel)
        request.kind = "shell"
        request.ready.set()
        return True

    def check_channel_pty_request(self, channel: paramiko.Channel, term: bytes, width: int, height: int,
                                  pixelwidth: int, pixelheight: int, modes: bytes) -> bool:
        return True  # accepted so that `ssh -t` reaches the shell message instead of failing


class LabSSHServer:
    """An SSH server on loopback whose hosts are answered by a responder function."""

    def __init__(self, responder: Responder, authorized_keys: Iterable[paramiko.PKey | str] | str,
                 host_key: paramiko.PKey | None = None, host: str = "127.0.0.1", port: int = 0,
                 *, jump_user: str = JUMP_USER) -> None:
        self.responder = responder
        self.host_key = host_key or generate_host_key()
        self.host = host
        self.jump_user = jump_user
        self._requested_port = port
        self._authorized = _public_blobs(authorized_keys)
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._stopping = threading.Event()
        self._transports: set[paramiko.Transport] = set()
        self._lock = threading.Lock()
        self.target_keys: dict[str, paramiko.PKey] = {}  # a simulated host's own key (else host_key)
        self.jump_files: dict[str, str] = {}  # the jump user's files: path -> text

    def target_key(self, host: str) -> paramiko.PKey:
        """The host key a simulated host behind the jump user shows."""
        return self.target_keys.get(host, self.host_key)

    @property
    def port(self) -> int:
        """The port listened on (the one chosen by the system when started with port 0)."""
        if self._listener is None:
            raise RuntimeError("the lab SSH server is not started")
        return self._listener.getsockname()[1]

    def start(self) -> LabSSHServer:
        """Listen and serve in background threads; returns at once."""
        listener = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self._requested_port))
        listener.listen(128)
        listener.settimeout(0.5)  # so that the accept loop notices stop()
        self._listener = listener
        self._stopping.clear()
        self._acceptor = threading.Thread(target=self._accept_loop, name=f"lab-ssh-accept-{self.port}", daemon=True)
        self._acceptor.start()
        log.info("lab SSH server listening on %s:%d", self.host, self.port)
        return self

    def stop(self) -> None:
        """Stop listening and close every connection."""
        self._stopping.set()
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() at once on Linux
            except OSError:
                pass
        if self._acceptor is not None:
            self._acceptor.join(timeout=5)
        if self._listener is not None:
            self._listener.close()
        self.drop_connections()

    def drop_connections(self) -> int:
        """Cut every client connection (the server keeps listening), as a network blip would."""
        with self._lock:
            transports = list(self._transports)
        for transport in transports:
            transport.close()
        return len(transports)

    def __enter__(self) -> LabSSHServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                client, address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stopping.is_set():
                    return
                # e.g. out of file descriptors under a large scan: wait for some to be released
                log.exception("lab SSH server: accept failed")
                time.sleep(0.1)
                continue
            client.settimeout(None)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small replies, sent at once
            threading.Thread(target=self._serve_connection, args=(client, address),
                             name=f"lab-ssh-{address[1]}", daemon=True).start()

    def _serve_connection(self, client: socket.socket, address: tuple[str, int]) -> None:
        transport = paramiko.Transport(client)
        transport.set_log_channel(_TRANSPORT_LOG)
        transport.add_server_key(self.host_key)
        server_side = _ServerSide(self._authorized)
        with self._lock:
            self._transports.add(transport)
        try:
            try:
                transport.start_server(server=server_side)
            except (paramiko.SSHException, EOFError, OSError) as error:
                log.debug("lab SSH: handshake with %s failed: %s", address, error)
                return
            while transport.is_active() and not self._stopping.is_set():
                channel = transport.accept(timeout=0.5)
                if channel is not None:
                    threading.Thread(target=self._serve_channel, args=(server_side, channel),
                                     name=f"lab-ssh-{address[1]}-{channel.get_id()}", daemon=True).start()
        finally:
            transport.close()
            with self._lock:
                self._transports.discard(transport)

    def _serve_channel(self, server_side: _ServerSide, channel: paramiko.Channel) -> None:
        request = server_side.request(channel)
        try:
            if not request.ready.wait(REQUEST_WAIT):
                return
            written = _WRITE_FILE.match(request.command) if server_side.username == self.jump_user else None
            if request.kind == "shell":
                status, stdout, stderr = 1, "", SHELL_MESSAGE
            elif written:
                status, stdout, stderr = self._write_file(channel, written.group(1))
            else:
                status, stdout, stderr = self.answer(server_side.username or "", request.command)
            if stdout:
                channel.sendall(stdout.encode())
            if stderr:
                channel.sendall_stderr(stderr.encode())
            channel.send_exit_status(status)
            channel.shutdown_write()  # EOF
            _await_client_close(channel)
        except (OSError, EOFError, paramiko.SSHException) as error:
            log.debug("lab SSH: channel %d ended early: %s", channel.get_id(), error)
        finally:
            try:
                channel.close()
            except (OSError, EOFError, paramiko.SSHException):
                pass  # the connection is already gone
            server_side.forget(channel)

    def _write_file(self, channel: paramiko.Channel, path: str) -> tuple[int, str, str]:
        """`cat > path` on the jump host: the file holds what the client sends until its EOF."""
        channel.settimeout(REQUEST_WAIT)
        data = []
        while chunk := channel.recv(65536):
            data.append(chunk)
        with self._lock:
            self.jump_files[path] = b"".join(data).decode(errors="replace")
        return 0, "", ""

    def _jump_tools(self, command: str) -> tuple[int, str, str] | None:
        """`rm -f FILE` and `ssh-keyscan ... HOST` on the jump host; None for other commands."""
        removed = _REMOVE_FILE.match(command)
        if removed:
            with self._lock:
                self.jump_files.pop(removed.group(1), None)
            return 0, "", ""
        words = shlex.split(command) if command.startswith("ssh-keyscan") else []
        if words and words[0] == "ssh-keyscan":
            host = words[-1]
            return 0, f"{host} {host_key_line(self.target_key(host))}\n", f"# {host}:22 SSH-2.0-lab\n"
        return None

    def _check_target_key(self, host: str, command: str) -> tuple[int, str, str] | None:
        """OpenSSH's strict host key check of the jump user's ssh; None when it passes (or is off)."""
        options = ssh_options(command)
        if options.get("stricthostkeychecking", "").lower() not in ("yes", "true"):
            return None
        name = options.get("hostkeyalias", host)
        with self._lock:
            text = self.jump_files.get(options.get("userknownhostsfile", "~/.ssh/known_hosts"), "")
        key = self.target_key(host)
        known = known_hosts_lookup(text, name)
        if known.get(key.get_name()) == key.get_base64():
            return None
        label = key.get_name().removeprefix("ssh-").upper()
        if known:
            return 255, "", ("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
                             "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
                             "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
                             f"The fingerprint for the {label} key sent by the remote host is\n"
                             f"{_fingerprint(key)}.\n"
                             f"Host key for {name} has changed and you have requested strict checking.\n"
                             "Host key verification failed.\n")
        return 255, "", (f"No {label} host key is known for {name} and you have requested strict checking.\n"
                         "Host key verification failed.\n")

    def answer(self, user: str, command: str) -> tuple[int, str, str]:
        """What the server replies to `command` run by `user`: (exit status, stdout, stderr)."""
        if user == self.jump_user:
            tool = self._jump_tools(command)
            if tool is not None:
                return tool
            try:
                parsed = split_jump_command(command)
            except ValueError as error:
                return 255, "", f"{error}\n"
            if parsed is not None:
                refused = self._check_target_key(parsed[0], command)
                if refused is not None:
                    return refused
            if parsed is None:
                return 127, "", (f"lab: the jump host only runs `ssh <host> <command>`; "
                                 f"log in as the host's name to run commands on it: {command}\n")
            host, command = parsed
            if not command:
                return 1, "", SHELL_MESSAGE
        else:
            host = user
        try:
            status, stdout, stderr = self.responder(host, command)
        except UnknownHost as error:
            return 255, "", f"ssh: Could not resolve hostname {error.host}: Name or service not known\n"
        except Exception as error:  # noqa: BLE001 - a responder bug must not kill the channel silently
            log.exception("lab SSH: the responder failed on %s for %r", host, command)
            return 1, "", f"lab: internal error on {host} running {command!r}: {type(error).__name__}: {error}\n"
        return int(status), stdout, stderr


def _fingerprint(key: paramiko.PKey) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


def _await_client_close(channel: paramiko.Channel) -> None:
    """Wait (briefly) for the client's EOF or close before closing the channel.

    paramiko sends its reply to the exec request from its own thread after our callback
    returns; closing the channel before that reply left would make clients such as paramiko
    fail with "Channel closed". Anything the client sends after exec (its EOF or close) is
    handled after that reply, so seeing it proves the reply went out. Clients that keep
    stdin open (interactive ssh) send nothing: they are closed after CLOSE_GRACE seconds.
    """
    channel.settimeout(CLOSE_GRACE)
    try:
        while channel.recv(4096):
            pass  # stdin the command does not read
    except TimeoutError:
        pass


def _public_blobs(keys: Iterable[paramiko.PKey | str] | str | paramiko.PKey) -> set[bytes]:
    """The public key blobs of keys given as PKeys (public or private) or authorized_keys text."""
    if isinstance(keys, (str, paramiko.PKey)):
        keys = [keys]
    blobs = set()
    for key in keys:
        for parsed in parse_public_keys(key) if isinstance(key, str) else [key]:
            blobs.add(parsed.asbytes())
    if not blobs:
        raise ValueError("the lab SSH server needs at least one authorized key")
    return blobs
