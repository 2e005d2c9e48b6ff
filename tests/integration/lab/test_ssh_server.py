"""The lab's SSH server, reached by paramiko's client and by the system's OpenSSH client."""

from __future__ import annotations

import io
import shutil
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lab.ssh_server import (
    SHELL_MESSAGE,
    LabSSHServer,
    UnknownHost,
    generate_host_key,
    host_key_line,
    known_hosts_lookup,
    parse_public_keys,
    split_jump_command,
    ssh_options,
)

HOSTS = {"compute-1", "compute-2", "network-1"}

pytestmark = pytest.mark.timeout(60)


def new_key() -> tuple[bytes, paramiko.PKey]:
    """An Ed25519 key as OpenSSH private key bytes and as a paramiko key."""
    text = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
    return text, paramiko.Ed25519Key.from_private_key(io.StringIO(text.decode()))


class Recorder:
    """A responder that echoes and records what each host was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, host: str, command: str) -> tuple[int, str, str]:
        if host not in HOSTS:
            raise UnknownHost(host)
        with self._lock:
            self.calls.append((host, command))
        if command == "crash":
            raise RuntimeError("simulated bug")
        if command.startswith("exit "):
            return int(command.split()[1]), "", f"{host}: exiting\n"
        return 0, f"{host}: {command}\n", ""


@pytest.fixture(scope="module")
def key() -> tuple[bytes, paramiko.PKey]:
    return new_key()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def server(recorder: Recorder, key: tuple[bytes, paramiko.PKey]) -> Iterator[LabSSHServer]:
    with LabSSHServer(recorder, authorized_keys=[key[1]]) as started:
        yield started


def connect(server: LabSSHServer, user: str, pkey: paramiko.PKey | None = None,
            password: str | None = None) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # a throwaway lab server
    client.connect("127.0.0.1", port=server.port, username=user, pkey=pkey, password=password,
                   allow_agent=False, look_for_keys=False, timeout=10)
    return client


def run(client: paramiko.SSHClient, command: str) -> tuple[int, str, str]:
    _, stdout, stderr = client.exec_command(command, timeout=10)
    out, err = stdout.read().decode(), stderr.read().decode()
    return stdout.channel.recv_exit_status(), out, err


# -- the two ways to reach a host ---------------------------------------------------------------

def test_user_name_is_the_host(server: LabSSHServer, key: tuple[bytes, paramiko.PKey], recorder: Recorder) -> None:
    with connect(server, "compute-1", key[1]) as client:
        assert run(client, "ovs-vsctl show") == (0, "compute-1: ovs-vsctl show\n", "")
        assert run(client, "exit 3") == (3, "", "compute-1: exiting\n")
    assert recorder.calls == [("compute-1", "ovs-vsctl show"), ("compute-1", "exit 3")]


def test_jump_user_runs_ssh_host_command(server: LabSSHServer, key: tuple[bytes, paramiko.PKey],
                                         recorder: Recorder) -> None:
    with connect(server, "lab", key[1]) as client:
        assert run(client, "ssh compute-2 ip -j link") == (0, "compute-2: ip -j link\n", "")
        assert run(client, "ssh -o BatchMode=yes -o ConnectTimeout=5 root@network-1 'ip netns'") == \
            (0, "network-1: ip netns\n", "")
    assert recorder.calls == [("compute-2", "ip -j link"), ("network-1", "ip netns")]


def test_jump_user_without_ssh_is_told_how_to_use_it(server: LabSSHServer, key: tuple[bytes, paramiko.PKey]) -> None:
    with connect(server, "lab", key[1]) as client:
        status, _, stderr = run(client, "ip link")
        assert status == 127 and "only runs `ssh <host> <command>`" in stderr
        assert run(client, "ssh -o BatchMode=yes")[0] == 255


@pytest.mark.parametrize(("user", "command"), [("compute-9", "ip link"), ("lab", "ssh compute-9 ip link")])
def test_unknown_host_answers_like_ssh(server: LabSSHServer, key: tuple[bytes, paramiko.PKey],
                                       user: str, command: str) -> None:
    with connect(server, user, key[1]) as client:
        assert run(client, command) == (
            255, "", "ssh: Could not resolve hostname compute-9: Name or service not known\n")


def test_a_failing_responder_gives_exit_status_1(server: LabSSHServer, key: tuple[bytes, paramiko.PKey]) -> None:
    with connect(server, "compute-1", key[1]) as client:
        status, _, stderr = run(client, "crash")
        assert status == 1 and "simulated bug" in stderr
        assert run(client, "still alive")[0] == 0


# -- authentication -----------------------------------------------------------------------------

def test_wrong_key_is_refused(server: LabSSHServer) -> None:
    with pytest.raises(paramiko.AuthenticationException):
        connect(server, "compute-1", new_key()[1])


def test_passwords_are_refused(server: LabSSHServer) -> None:
    with pytest.raises(paramiko.AuthenticationException):  # BadAuthenticationType is one
        connect(server, "compute-1", password="anything")


def test_authorized_keys_as_text(recorder: Recorder, key: tuple[bytes, paramiko.PKey]) -> None:
    other = new_key()[1]
    text = (f"# the scanner\nno-pty {key[1].get_name()} {key[1].get_base64()} scanner@calipso\n\n"
            f"{other.get_name()} {other.get_base64()}\n")
    assert [parsed.asbytes() for parsed in parse_public_keys(text)] == [key[1].asbytes(), other.asbytes()]
    with LabSSHServer(recorder, authorized_keys=text) as started, connect(started, "compute-1", key[1]) as client:
        assert run(client, "uptime")[0] == 0


def test_malformed_authorized_keys_are_refused(recorder: Recorder) -> None:
    with pytest.raises(ValueError, match="line 1"):
        LabSSHServer(recorder, authorized_keys="not a key at all")


# -- what else a client may ask -----------------------------------------------------------------

def test_shell_request_gets_a_message(server: LabSSHServer, key: tuple[bytes, paramiko.PKey]) -> None:
    with connect(server, "compute-1", key[1]) as client:
        channel = client.invoke_shell()
        assert channel.recv_exit_status() == 1
        assert channel.recv_stderr(4096).decode() == SHELL_MESSAGE


def test_port_forwarding_is_refused(server: LabSSHServer, key: tuple[bytes, paramiko.PKey]) -> None:
    with connect(server, "lab", key[1]) as client:
        transport = client.get_transport()
        assert transport is not None
        with pytest.raises(paramiko.ChannelException):
            transport.open_channel("direct-tcpip", ("compute-1", 22), ("127.0.0.1", 0), timeout=10)


# -- concurrency and lifecycle ------------------------------------------------------------------

def test_many_connections_and_channels_at_once(server: LabSSHServer, key: tuple[bytes, paramiko.PKey]) -> None:
    hosts = sorted(HOSTS)
    clients = [connect(server, hosts[number % len(hosts)], key[1]) for number in range(6)]
    try:
        jobs = [(number % len(clients), f"echo {number}") for number in range(48)]
        with ThreadPoolExecutor(12) as pool:
            results = list(pool.map(lambda job: run(clients[job[0]], job[1]), jobs))
        assert results == [(0, f"{hosts[index % len(hosts)]}: {command}\n", "") for index, command in jobs]
    finally:
        for client in clients:
            client.close()


def test_stop_closes_connections(recorder: Recorder, key: tuple[bytes, paramiko.PKey]) -> None:
    server = LabSSHServer(recorder, authorized_keys=[key[1]]).start()
    client = connect(server, "compute-1", key[1])
    try:
        assert run(client, "hello")[0] == 0
        server.stop()
        with pytest.raises((paramiko.SSHException, EOFError, OSError)):
            run(client, "hello")
    finally:
        client.close()
        server.stop()


# -- ssh's command line, as the jump user reads it -----------------------------------------------

@pytest.mark.parametrize(("command", "expected"), [
    ("ssh compute-1 ovs-vsctl show", ("compute-1", "ovs-vsctl show")),
    ("ssh -o BatchMode=yes -o ConnectTimeout=10 compute-1 'ovs-vsctl show'", ("compute-1", "ovs-vsctl show")),
    ("ssh -oBatchMode=yes -p2222 -l root -tt 10.0.0.7 ip -j link", ("10.0.0.7", "ip -j link")),
    ("/usr/bin/ssh -nTq -i /keys/id root@compute-2 'cat /proc/net/bonding/bond0'",
     ("compute-2", "cat /proc/net/bonding/bond0")),
    ("ssh -- compute-1 uptime", ("compute-1", "uptime")),
    ("ssh compute-1", ("compute-1", "")),
    ("ip link", None),
    ("sshd -t", None),
])
def test_split_jump_command(command: str, expected: tuple[str, str] | None) -> None:
    assert split_jump_command(command) == expected


def test_split_jump_command_without_host() -> None:
    with pytest.raises(ValueError, match="usage"):
        split_jump_command("ssh -o BatchMode=yes")


# -- the system's OpenSSH client ----------------------------------------------------------------

@pytest.fixture
def ssh_command(server: LabSSHServer, key: tuple[bytes, paramiko.PKey], tmp_path: Path) -> list[str]:
    ssh = shutil.which("ssh")
    if ssh is None:
        pytest.skip("the OpenSSH client (`ssh`, Debian package openssh-client) is not installed")
    key_file = tmp_path / "id_ed25519"
    key_file.write_bytes(key[0])
    key_file.chmod(0o600)
    return [ssh, "-F", "/dev/null", "-i", str(key_file), "-p", str(server.port),
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
            "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR"]


def openssh(ssh_command: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(ssh_command + list(args), capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)


def test_openssh_client_as_the_host(ssh_command: list[str]) -> None:
    result = openssh(ssh_command, "compute-1@127.0.0.1", "ovs-vsctl show")
    assert (result.returncode, result.stdout, result.stderr) == (0, "compute-1: ovs-vsctl show\n", "")
    result = openssh(ssh_command, "compute-1@127.0.0.1", "exit 4")
    assert (result.returncode, result.stderr) == (4, "compute-1: exiting\n")


def test_openssh_client_through_the_jump_user(ssh_command: list[str]) -> None:
    result = openssh(ssh_command, "lab@127.0.0.1", "ssh", "-o", "BatchMode=yes", "network-1", "ip", "netns")
    assert (result.returncode, result.stdout) == (0, "network-1: ip netns\n")
    result = openssh(ssh_command, "lab@127.0.0.1", "ssh", "nowhere", "true")
    assert result.returncode == 255
    assert "Could not resolve hostname nowhere" in result.stderr


def test_openssh_client_with_an_unknown_key_is_refused(ssh_command: list[str], tmp_path: Path) -> None:
    wrong = tmp_path / "wrong"
    wrong.write_bytes(new_key()[0])
    wrong.chmod(0o600)
    command = list(ssh_command)
    command[command.index("-i") + 1] = str(wrong)
    result = openssh(command, "compute-1@127.0.0.1", "true")
    assert result.returncode == 255
    assert "Permission denied (publickey)" in result.stderr


# -- the jump user's host key checks ------------------------------------------------------------

def test_ssh_options_are_read_as_ssh_reads_them() -> None:
    command = ("ssh -o BatchMode=yes -oStrictHostKeyChecking=yes -o 'UserKnownHostsFile=.ssh/k h' "
               "-o HostKeyAlias=compute-1 -p 22 -- -oProxyCommand=x ls")
    assert ssh_options(command) == {"batchmode": "yes", "stricthostkeychecking": "yes",
                                    "userknownhostsfile": ".ssh/k h", "hostkeyalias": "compute-1"}


def test_known_hosts_lookup_reads_plain_names_only() -> None:
    text = "compute-1 ssh-ed25519 AAAA\ncompute-10,10.0.0.10 ssh-rsa BBBB\n# compute-2 ssh-ed25519 CCCC\n"
    assert known_hosts_lookup(text, "compute-1") == {"ssh-ed25519": "AAAA"}
    assert known_hosts_lookup(text, "10.0.0.10") == {"ssh-rsa": "BBBB"}
    assert known_hosts_lookup(text, "compute-2") == {}


def test_the_jump_user_refuses_a_target_whose_key_is_not_in_the_file(server: LabSSHServer) -> None:
    key = server.target_key("compute-1")
    server.jump_files[".ssh/k"] = f"compute-1 {host_key_line(key)}\n"
    strict = "ssh -o StrictHostKeyChecking=yes -o UserKnownHostsFile=.ssh/k -o HostKeyAlias={} -- compute-1 ls"
    assert server.answer("lab", strict.format("compute-1"))[0] == 0
    status, _, stderr = server.answer("lab", strict.format("compute-2"))  # no key under that alias
    assert status == 255 and "No ED25519 host key is known for compute-2" in stderr
    server.target_keys["compute-1"] = generate_host_key()
    status, _, stderr = server.answer("lab", strict.format("compute-1"))
    assert status == 255 and "REMOTE HOST IDENTIFICATION HAS CHANGED" in stderr
    assert "Host key verification failed." in stderr
    status, stdout, _ = server.answer("lab", "ssh-keyscan -T 5 -- compute-1")
    assert (status, stdout) == (0, f"compute-1 {host_key_line(server.target_keys['compute-1'])}\n")
    assert server.answer("lab", "rm -f .ssh/k")[0] == 0 and server.jump_files == {}
