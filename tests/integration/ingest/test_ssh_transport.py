"""SSHTransport against the lab's real SSH server on loopback, and LocalTransport on this machine."""

from __future__ import annotations

import io
import shlex
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ingest.transport import (
    CommandResult,
    Endpoint,
    LocalTransport,
    SSHConfig,
    SSHTransport,
    TransportError,
    fingerprint,
    jump_command,
    keyscan_command,
    known_hosts_text,
    parse_keyscan,
)
from lab.ssh_server import LabSSHServer, UnknownHost, generate_host_key

HOSTS = [f"compute-{number}" for number in range(1, 6)]
PASSWORD = "never-shown-pw"

pytestmark = pytest.mark.timeout(60)


def new_client_key() -> tuple[str, paramiko.PKey]:
    """Private key text (what SSHConfig takes) and the matching paramiko key."""
    text = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()).decode()
    return text, paramiko.Ed25519Key.from_private_key(io.StringIO(text))


class Hosts:
    """A responder: each host echoes what it was asked; `false` fails; `block` waits for release."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def __call__(self, host: str, command: str) -> tuple[int, str, str]:
        if host not in HOSTS:
            raise UnknownHost(host)
        if command == "false":
            return 1, "", f"{host}: false failed\n"
        if command == "block":
            self.release.wait(30)
        return 0, f"{host} ran: {command}\n", ""


@pytest.fixture(scope="module")
def client_key() -> tuple[str, paramiko.PKey]:
    return new_client_key()


@pytest.fixture
def hosts() -> Iterator[Hosts]:
    responder = Hosts()
    yield responder
    responder.release.set()


@pytest.fixture
def server(hosts: Hosts, client_key: tuple[str, paramiko.PKey]) -> Iterator[LabSSHServer]:
    with LabSSHServer(hosts, authorized_keys=[client_key[1]]) as started:
        yield started


def known_keys(server: LabSSHServer, names: list[str] | None = None) -> dict[str, dict[str, str]]:
    """The server's key as the known key of its jump host name and of every simulated host."""
    key = {server.host_key.get_name(): server.host_key.get_base64()}
    return {name: dict(key) for name in [f"[127.0.0.1]:{server.port}", *(names or HOSTS + ["compute-9"])]}


def direct(server: LabSSHServer, key_text: str, **options: object) -> SSHTransport:
    """A transport that logs in to each simulated host with the host's name as user name."""
    addresses = {host: f"{host}@127.0.0.1:{server.port}" for host in HOSTS + ["compute-9"]}
    options.setdefault("known_host_keys", known_keys(server))
    config = SSHConfig(user="calipso", private_key=key_text, addresses=addresses, **options)  # type: ignore[arg-type]
    return SSHTransport(config)


def jumped(server: LabSSHServer, key_text: str, **options: object) -> SSHTransport:
    """A transport that reaches every host through the lab's jump user."""
    options.setdefault("known_host_keys", known_keys(server))
    return SSHTransport(SSHConfig(user="lab", private_key=key_text, jump_host=f"127.0.0.1:{server.port}",
                                  **options))  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- output and exit status ----------------------------------------------------------------------

def test_output_and_exit_status_come_back(server: LabSSHServer, client_key: tuple[str, paramiko.PKey]) -> None:
    with direct(server, client_key[0]) as transport:
        assert transport.run("compute-1", "ovs-vsctl show") == CommandResult(0, "compute-1 ran: ovs-vsctl show\n", "")
        assert transport.run("compute-2", "false") == CommandResult(1, "", "compute-2: false failed\n")


def test_large_output_on_both_streams(client_key: tuple[str, paramiko.PKey]) -> None:
    big = "x" * 3_000_000  # larger than paramiko's 2 MB channel window

    def responder(host: str, command: str) -> tuple[int, str, str]:
        return 0, big, big

    with LabSSHServer(responder, [client_key[1]]) as started, direct(started, client_key[0]) as transport:
        result = transport.run("compute-1", "dump")
    assert (len(result.stdout), len(result.stderr)) == (len(big), len(big))


def test_through_the_jump_host(server: LabSSHServer, client_key: tuple[str, paramiko.PKey]) -> None:
    with jumped(server, client_key[0]) as transport:
        assert transport.run("compute-3", "ip -j link") == CommandResult(0, "compute-3 ran: ip -j link\n", "")
        assert transport.run("compute-3", "false").exit_status == 1


def test_jump_host_user_given_in_the_jump_host_string(server: LabSSHServer,
                                                     client_key: tuple[str, paramiko.PKey]) -> None:
    # Logged in to the jump host as `lab`, to the targets as root (so no sudo).
    config = SSHConfig(user="root", private_key=client_key[0], jump_host=f"lab@127.0.0.1:{server.port}", sudo=True,
                       known_host_keys=known_keys(server))
    with SSHTransport(config) as transport:
        assert transport.run("compute-4", "ovs-vsctl show").stdout == "compute-4 ran: ovs-vsctl show\n"


def test_unknown_host_through_the_jump_host_is_a_transport_error(server: LabSSHServer,
                                                                client_key: tuple[str, paramiko.PKey]) -> None:
    with jumped(server, client_key[0]) as transport, pytest.raises(TransportError) as raised:
        transport.run("compute-9", "ovs-vsctl show")
    assert raised.value.host == "compute-9"
    assert "Could not resolve hostname compute-9" in str(raised.value)


# -- translation ----------------------------------------------------------------------------------

def test_command_prefix_and_sudo_are_applied(server: LabSSHServer, client_key: tuple[str, paramiko.PKey]) -> None:
    with direct(server, client_key[0], sudo=True, command_prefix="docker exec openvswitch_vswitchd") as transport:
        assert transport.run("compute-1", "ovs-vsctl show").stdout == \
            "compute-1 ran: sudo -n docker exec openvswitch_vswitchd ovs-vsctl show\n"
    with jumped(server, client_key[0], sudo=True, command_prefix="docker exec openvswitch_vswitchd",
                prefixed_tools=frozenset({"ovs-vsctl"})) as transport:
        assert transport.run("compute-2", "ovs-vsctl show").stdout == \
            "compute-2 ran: sudo -n docker exec openvswitch_vswitchd ovs-vsctl show\n"
        assert transport.run("compute-2", "ip -j link").stdout == "compute-2 ran: sudo -n ip -j link\n"


# -- failures -----------------------------------------------------------------------------------

def test_wrong_key_is_refused(server: LabSSHServer) -> None:
    wrong_key_text, _ = new_client_key()
    with direct(server, wrong_key_text, password=PASSWORD) as transport, pytest.raises(TransportError) as raised:
        transport.run("compute-1", "ovs-vsctl show")
    assert raised.value.host == "compute-1"
    assert raised.value.command == "ovs-vsctl show"
    assert "authentication refused" in str(raised.value)
    assert PASSWORD not in str(raised.value)


@pytest.mark.timeout(15)
def test_nothing_listening_fails_quickly(client_key: tuple[str, paramiko.PKey]) -> None:
    port = free_port()
    config = SSHConfig(user="root", private_key=client_key[0], addresses={"compute-1": f"127.0.0.1:{port}"})
    with SSHTransport(config) as transport, pytest.raises(TransportError) as raised:
        transport.run("compute-1", "ovs-vsctl show")
    assert raised.value.host == "compute-1"
    assert "unreachable" in str(raised.value) and "refused" in str(raised.value)


@pytest.mark.timeout(15)
def test_a_command_that_does_not_finish_times_out(server: LabSSHServer, client_key: tuple[str, paramiko.PKey]) -> None:
    with direct(server, client_key[0]) as transport:
        with pytest.raises(TransportError, match="timed out after 0.5 s"):
            transport.run("compute-1", "block", timeout=0.5)
        # The connection is still good for the next command.
        assert transport.run("compute-1", "true").exit_status == 0


def test_reconnects_once_after_the_connection_drops(server: LabSSHServer,
                                                   client_key: tuple[str, paramiko.PKey]) -> None:
    with direct(server, client_key[0]) as transport:
        assert transport.run("compute-1", "one").exit_status == 0
        assert server.drop_connections() == 1
        assert transport.run("compute-1", "two").stdout == "compute-1 ran: two\n"


# -- host keys ----------------------------------------------------------------------------------

def fingerprint_of(key: paramiko.PKey) -> str:
    return fingerprint(key.get_base64())


def test_a_changed_host_key_is_refused_naming_both_fingerprints(hosts: Hosts,
                                                                client_key: tuple[str, paramiko.PKey]) -> None:
    first = LabSSHServer(hosts, [client_key[1]]).start()
    port = first.port
    transport = SSHTransport(SSHConfig(user="compute-1", private_key=client_key[0], port=port,
                                       addresses={"compute-1": "127.0.0.1"}, known_host_keys=known_keys(first)))
    try:
        assert transport.run("compute-1", "hello").exit_status == 0
        first.stop()
        mitm_key = generate_host_key()
        with LabSSHServer(hosts, [client_key[1]], host_key=mitm_key, port=port):
            with pytest.raises(TransportError) as raised:
                transport.run("compute-1", "hello")
        message = str(raised.value)
        assert "host key of compute-1 has CHANGED" in message
        assert f"expected ssh-ed25519 {fingerprint_of(first.host_key)}" in message
        assert f"shown ssh-ed25519 {fingerprint_of(mitm_key)}" in message
    finally:
        first.stop()
        transport.close()


def test_strict_refuses_an_unknown_host_key_naming_its_fingerprint(server: LabSSHServer,
                                                                   client_key: tuple[str, paramiko.PKey]) -> None:
    with direct(server, client_key[0], known_host_keys=known_keys(server, ["compute-2"])) as transport:
        assert transport.run("compute-2", "hello").exit_status == 0
        with pytest.raises(TransportError) as raised:
            transport.run("compute-1", "hello")
    assert raised.value.host == "compute-1"
    assert "host key of compute-1 is unknown" in str(raised.value)
    assert fingerprint_of(server.host_key) in str(raised.value)


def test_trust_on_first_use_records_a_new_key_and_refuses_a_changed_one(
        server: LabSSHServer, client_key: tuple[str, paramiko.PKey]) -> None:
    recorded: list[tuple[str, str, str]] = []
    other = generate_host_key()
    known = {"compute-2": {other.get_name(): other.get_base64()}}
    with direct(server, client_key[0], host_key_policy="trust-on-first-use", known_host_keys=known,
                on_new_host_key=lambda *key: recorded.append(key)) as transport:
        assert transport.run("compute-1", "hello").exit_status == 0
        assert transport.run("compute-1", "again").exit_status == 0
        with pytest.raises(TransportError, match="host key of compute-2 has CHANGED"):
            transport.run("compute-2", "hello")
    assert recorded == [("compute-1", "ssh-ed25519", server.host_key.get_base64())]


def test_accept_takes_any_key_and_records_nothing(server: LabSSHServer,
                                                  client_key: tuple[str, paramiko.PKey]) -> None:
    recorded: list[tuple[str, str, str]] = []
    other = generate_host_key()
    with direct(server, client_key[0], host_key_policy="accept",
                known_host_keys={"compute-1": {other.get_name(): other.get_base64()}},
                on_new_host_key=lambda *key: recorded.append(key)) as transport:
        assert transport.run("compute-1", "hello").exit_status == 0
        assert transport.run("compute-2", "hello").exit_status == 0
    with jumped(server, client_key[0], host_key_policy="accept", known_host_keys={}) as transport:
        assert transport.run("compute-3", "hello").exit_status == 0
    assert recorded == []


def test_the_jump_hosts_own_key_is_checked(server: LabSSHServer, client_key: tuple[str, paramiko.PKey]) -> None:
    with jumped(server, client_key[0], known_host_keys=known_keys(server, HOSTS)) as transport:
        transport.connect_jump()
    other = generate_host_key()
    keys = {**known_keys(server, HOSTS), f"[127.0.0.1]:{server.port}": {other.get_name(): other.get_base64()}}
    with jumped(server, client_key[0], known_host_keys=keys) as transport, \
            pytest.raises(TransportError) as raised:
        transport.run("compute-1", "hello")
    assert f"host key of [127.0.0.1]:{server.port} has CHANGED" in str(raised.value)
    assert fingerprint_of(other) in str(raised.value) and fingerprint_of(server.host_key) in str(raised.value)


def test_through_the_jump_host_the_onward_ssh_checks_the_targets_keys(
        server: LabSSHServer, client_key: tuple[str, paramiko.PKey]) -> None:
    mitm = generate_host_key()
    server.target_keys["compute-2"] = mitm  # compute-2 now shows another key than the one recorded
    with jumped(server, client_key[0]) as transport:
        assert transport.run("compute-1", "hello").exit_status == 0
        with pytest.raises(TransportError) as raised:
            transport.run("compute-2", "hello")
        # The onward ssh read the targets' keys from a file the transport wrote on the jump host.
        assert len(server.jump_files) == 1
        (text,) = server.jump_files.values()
        assert f"compute-1 ssh-ed25519 {server.host_key.get_base64()}" in text
    assert server.jump_files == {}  # removed when the transport closed
    message = str(raised.value)
    assert "host key of compute-2 has CHANGED" in message
    assert fingerprint_of(server.host_key) in message and fingerprint_of(mitm) in message


def test_through_the_jump_host_an_unknown_target_is_refused_or_trusted_on_first_use(
        server: LabSSHServer, client_key: tuple[str, paramiko.PKey]) -> None:
    keys = known_keys(server, ["compute-1"])
    with jumped(server, client_key[0], known_host_keys=keys) as transport, \
            pytest.raises(TransportError, match="host key of compute-3 is unknown") as raised:
        transport.run("compute-3", "hello")
    assert fingerprint_of(server.host_key) in str(raised.value)
    recorded: list[tuple[str, str, str]] = []
    with jumped(server, client_key[0], known_host_keys=keys, host_key_policy="trust-on-first-use",
                on_new_host_key=lambda *key: recorded.append(key)) as transport:
        assert transport.run("compute-3", "hello").stdout == "compute-3 ran: hello\n"
    assert recorded == [("compute-3", "ssh-ed25519", server.host_key.get_base64())]


def test_host_keys_are_read_without_logging_in(server: LabSSHServer, client_key: tuple[str, paramiko.PKey]) -> None:
    expected = {server.host_key.get_name(): server.host_key.get_base64()}
    with direct(server, client_key[0], known_host_keys={}) as transport:
        assert transport.host_keys("compute-1") == expected  # strict, yet unknown keys can be read
    with jumped(server, client_key[0], known_host_keys=known_keys(server, [])) as transport:
        assert transport.jump_host_keys() == expected
        assert transport.host_keys("compute-4") == expected  # ssh-keyscan on the jump host


def test_run_after_close_fails(server: LabSSHServer, client_key: tuple[str, paramiko.PKey]) -> None:
    transport = direct(server, client_key[0])
    transport.run("compute-1", "hello")
    transport.close()
    with pytest.raises(TransportError, match="closed"):
        transport.run("compute-1", "hello")


# -- concurrency --------------------------------------------------------------------------------

@pytest.mark.parametrize("connect", [direct, jumped], ids=["direct", "jump"])
def test_concurrent_commands_to_five_hosts(server: LabSSHServer, client_key: tuple[str, paramiko.PKey],
                                           connect) -> None:  # type: ignore[no-untyped-def]
    jobs = [(HOSTS[number % len(HOSTS)], f"echo {number}") for number in range(20)]
    with connect(server, client_key[0], max_sessions=3) as transport, ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda job: transport.run(*job), jobs))
    assert [result.stdout for result in results] == [f"{host} ran: {command}\n" for host, command in jobs]
    assert all(result.exit_status == 0 for result in results)


# -- local --------------------------------------------------------------------------------------

def test_local_transport_runs_commands_here() -> None:
    with LocalTransport() as transport:
        assert transport.run("localhost", "echo hi") == CommandResult(0, "hi\n", "")
        result = transport.run("localhost", "echo oops >&2; exit 3")
        assert (result.exit_status, result.stderr) == (3, "oops\n")


def test_local_transport_applies_the_prefix() -> None:
    with LocalTransport(command_prefix="env LC_ALL=C") as transport:
        assert transport.run("localhost", "echo hi").stdout == "hi\n"


@pytest.mark.timeout(15)
def test_local_transport_times_out() -> None:
    with LocalTransport() as transport, pytest.raises(TransportError, match="timed out") as raised:
        transport.run("localhost", "sleep 10 | cat", timeout=0.3)
    assert raised.value.host == "localhost"


# -- the command lines a jump host runs, with the system's OpenSSH client ------------------------

def run_openssh(line: str, key_file: Path) -> subprocess.CompletedProcess[str]:
    """Run a jump host's command line here, as the jump host's shell would (with our key, no config)."""
    words = shlex.split(line)
    words[1:1] = ["-F", "/dev/null", "-i", str(key_file), "-o", "IdentitiesOnly=yes"]
    return subprocess.run(" ".join(shlex.quote(word) for word in words), shell=True, capture_output=True,
                          text=True, timeout=30, stdin=subprocess.DEVNULL)


def test_openssh_checks_the_target_key_as_the_transport_asks(server: LabSSHServer,
                                                            client_key: tuple[str, paramiko.PKey],
                                                            tmp_path: Path) -> None:
    if shutil.which("ssh") is None or shutil.which("ssh-keyscan") is None:
        pytest.skip("the OpenSSH client (Debian package openssh-client) is not installed")
    key_file = tmp_path / "id_ed25519"
    key_file.write_text(client_key[0])
    key_file.chmod(0o600)
    known_hosts = tmp_path / "known_hosts"
    target = Endpoint("compute-1", "127.0.0.1", server.port)
    line = jump_command(target, "ovs-vsctl show", jump_user="lab", known_hosts_file=str(known_hosts),
                        host_key_alias="compute-1")
    known_hosts.write_text(known_hosts_text(known_keys(server, ["compute-1"])))
    result = run_openssh(line, key_file)
    assert (result.returncode, result.stdout) == (0, "compute-1 ran: ovs-vsctl show\n"), result.stderr

    other = generate_host_key()  # compute-1 is known with another key: a man in the middle
    known_hosts.write_text(known_hosts_text({"compute-1": {other.get_name(): other.get_base64()}}))
    result = run_openssh(line, key_file)
    assert result.returncode == 255 and "Host key verification failed" in result.stderr
    assert result.stdout == ""
    # The transport reads the shown fingerprint from what OpenSSH prints.
    transport = SSHTransport(SSHConfig(user="lab", password="pw", jump_host=f"127.0.0.1:{server.port}",
                                       known_host_keys={"compute-1": {other.get_name(): other.get_base64()}}))
    with pytest.raises(TransportError) as raised:
        transport._check_jump_result(CommandResult(255, "", result.stderr), "compute-1", "ovs-vsctl show")
    assert f"expected ssh-ed25519 {fingerprint(other.get_base64())}" in str(raised.value)
    assert f"shown {fingerprint(server.host_key.get_base64())}" in str(raised.value)

    known_hosts.write_text("")  # unknown: refused too, never added
    result = run_openssh(line, key_file)
    assert result.returncode == 255 and "Host key verification failed" in result.stderr
    assert known_hosts.read_text() == ""

    scanned = subprocess.run(keyscan_command(target, 5), shell=True, capture_output=True, text=True, timeout=30)
    assert parse_keyscan(scanned.stdout) == {server.host_key.get_name(): server.host_key.get_base64()}
