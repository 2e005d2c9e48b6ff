"""The pure parts of ingest.transport: command lines, addresses, jump hosts, keys, error messages."""

from __future__ import annotations

import shlex

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from core.errors import ConfigError
from ingest.transport import (
    Endpoint,
    SSHConfig,
    SSHTransport,
    TransportError,
    build_command,
    jump_command,
    load_private_key,
    parse_endpoint,
    parse_jump_host,
)

KOLLA_PREFIX = "docker exec openvswitch_vswitchd"


def openssh_private_key(key) -> str:  # type: ignore[no-untyped-def]
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                             serialization.NoEncryption()).decode()


# -- build_command -----------------------------------------------------------------------------

def test_command_unchanged_without_sudo_or_prefix() -> None:
    assert build_command("ovs-vsctl show", user="calipso") == "ovs-vsctl show"


def test_prefix_translates_for_containerised_deployments() -> None:
    assert build_command("ovs-vsctl show", user="root", prefix=KOLLA_PREFIX) == \
        "docker exec openvswitch_vswitchd ovs-vsctl show"


def test_sudo_for_a_user_that_is_not_root_covers_the_prefix_too() -> None:
    assert build_command("ovs-vsctl show", user="calipso", sudo=True, prefix=KOLLA_PREFIX) == \
        "sudo -n docker exec openvswitch_vswitchd ovs-vsctl show"


def test_no_sudo_for_root() -> None:
    assert build_command("ip -j link", user="root", sudo=True) == "ip -j link"


def test_prefix_only_for_the_listed_tools() -> None:
    tools = {"ovs-vsctl", "ovs-appctl"}
    assert build_command("ovs-appctl dpif/show", user="root", prefix=KOLLA_PREFIX, prefixed_tools=tools) == \
        "docker exec openvswitch_vswitchd ovs-appctl dpif/show"
    assert build_command("ip -j link", user="root", prefix=KOLLA_PREFIX, prefixed_tools=tools) == "ip -j link"


def test_empty_command_gets_no_prefix() -> None:
    assert build_command("", user="root", prefix=KOLLA_PREFIX) == ""


# -- endpoints and jump hosts ------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("bastion", Endpoint("calipso", "bastion", 22)),
    ("bastion:2222", Endpoint("calipso", "bastion", 2222)),
    ("lab@127.0.0.1:40022", Endpoint("lab", "127.0.0.1", 40022)),
    ("ops@jump.example.org", Endpoint("ops", "jump.example.org", 22)),
    ("[fd00::1]:2200", Endpoint("calipso", "fd00::1", 2200)),
    ("admin@[fd00::1]", Endpoint("admin", "fd00::1", 22)),
    ("fd00::1", Endpoint("calipso", "fd00::1", 22)),
])
def test_parse_jump_host(text: str, expected: Endpoint) -> None:
    assert parse_jump_host(text, "calipso") == expected


@pytest.mark.parametrize("text", ["", ":22", "host:port", "host:0", "host:70000", "@host", "[fd00::1", "[::1]x"])
def test_malformed_endpoints_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_endpoint(text, "calipso")


def test_endpoint_default_port_is_the_configured_one() -> None:
    assert parse_endpoint("compute-1", "root", 2022) == Endpoint("root", "compute-1", 2022)


def test_endpoint_prints_like_ssh_destinations() -> None:
    assert str(Endpoint("lab", "127.0.0.1", 2222)) == "lab@127.0.0.1:2222"
    assert str(Endpoint("lab", "::1", 22)) == "lab@[::1]:22"


def test_jump_command_quotes_the_target_command_once() -> None:
    line = jump_command(Endpoint("lab", "compute-1", 22), "ovs-vsctl --format=json list Interface",
                        jump_user="lab", connect_timeout=5)
    assert line == ("ssh -o BatchMode=yes -o ConnectTimeout=5 -o StrictHostKeyChecking=no "
                    "-o UserKnownHostsFile=/dev/null -- compute-1 'ovs-vsctl --format=json list Interface'")
    # What the jump host's shell hands to ssh: the target's command is one word again.
    assert shlex.split(line)[-1] == "ovs-vsctl --format=json list Interface"


def test_jump_command_names_port_and_user_when_they_differ() -> None:
    line = jump_command(Endpoint("root", "10.0.0.7", 2222), "ip -j link", jump_user="ops", connect_timeout=2.5,
                        known_hosts_file=".ssh/k", host_key_alias="compute-7")
    assert shlex.split(line) == ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=3",
                                 "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=.ssh/k",
                                 "-o", "GlobalKnownHostsFile=/dev/null", "-o", "HostKeyAlias=compute-7",
                                 "-p", "2222", "-l", "root", "--", "10.0.0.7", "ip -j link"]


def test_jump_command_keeps_quotes_of_the_target_command() -> None:
    command = "cat '/proc/net/bonding/bond 0' | head -n 1"
    assert shlex.split(jump_command(Endpoint("lab", "h", 22), command, jump_user="lab"))[-1] == command


# -- routing (no connection is opened) -----------------------------------------------------------

def test_route_direct_uses_the_address_map() -> None:
    transport = SSHTransport(SSHConfig(user="calipso", password="pw", sudo=True, command_prefix=KOLLA_PREFIX,
                                       addresses={"compute-1": "192.0.2.11", "compute-2": "root@192.0.2.12:2200"}))
    assert transport.route("compute-1", "ovs-vsctl show") == (
        Endpoint("calipso", "192.0.2.11", 22), "sudo -n docker exec openvswitch_vswitchd ovs-vsctl show")
    assert transport.route("compute-2", "ovs-vsctl show") == (
        Endpoint("root", "192.0.2.12", 2200), "docker exec openvswitch_vswitchd ovs-vsctl show")
    assert transport.route("compute-3", "ls")[0] == Endpoint("calipso", "compute-3", 22)


def test_route_through_a_jump_host_runs_ssh_there() -> None:
    transport = SSHTransport(SSHConfig(user="root", password="pw", jump_host="lab@bastion:2222",
                                       addresses={"compute-1": "10.0.0.11"}, connect_timeout=4))
    endpoint, line = transport.route("compute-1", "ip -j addr")
    assert endpoint == Endpoint("lab", "bastion", 2222)
    words = shlex.split(line)
    # The targets' keys are checked strictly against the file the transport writes on the jump host.
    assert words[:5] == ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=4"]
    assert "StrictHostKeyChecking=yes" in words and "HostKeyAlias=compute-1" in words
    assert any(word.startswith("UserKnownHostsFile=.ssh/calipso_known_hosts_") for word in words)
    assert words[-5:] == ["-l", "root", "--", "10.0.0.11", "ip -j addr"]


# -- configuration, keys and errors ------------------------------------------------------------

def test_config_repr_hides_credentials() -> None:
    config = SSHConfig(user="calipso", password="hunter2-secret", private_key="-----BEGIN KEY-----xyz")
    assert "hunter2-secret" not in repr(config)
    assert "BEGIN KEY" not in repr(config)


def test_a_credential_is_required() -> None:
    with pytest.raises(ConfigError, match="private_key, a key_file or a password"):
        SSHTransport(SSHConfig(user="calipso"))


def test_unreadable_key_is_a_config_error_without_the_key_text() -> None:
    with pytest.raises(ConfigError) as raised:
        SSHTransport(SSHConfig(user="calipso", private_key="-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-key\n"))
    assert "not-a-key" not in str(raised.value)


@pytest.mark.parametrize("make", [
    lambda: ed25519.Ed25519PrivateKey.generate(),
    lambda: ec.generate_private_key(ec.SECP256R1()),
    lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
], ids=["ed25519", "ecdsa", "rsa"])
def test_load_private_key_of_each_type(make) -> None:  # type: ignore[no-untyped-def]
    key = make()
    loaded = load_private_key(openssh_private_key(key))
    assert loaded.can_sign()


def test_load_traditional_pem_rsa_key() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    text = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()
    assert load_private_key(text).get_name() == "ssh-rsa"


def test_transport_error_names_host_command_and_cause() -> None:
    error = TransportError("compute-1", "ovs-vsctl show", "authentication refused for user calipso at 10.0.0.1:22")
    assert (error.host, error.command) == ("compute-1", "ovs-vsctl show")
    assert str(error) == ("cannot run 'ovs-vsctl show' on compute-1: "
                          "authentication refused for user calipso at 10.0.0.1:22")


def test_transport_error_redacts_secrets_in_commands() -> None:
    error = TransportError("ctl-1", "mysql --password=topsecret -e 'select 1'", "timed out after 30 s")
    assert "topsecret" not in str(error)


def test_callable_transport_passes_results_and_turns_255_into_an_error() -> None:
    from ingest.transport import CallableTransport, TransportError

    def responder(host: str, command: str) -> tuple[int, str, str]:
        if host == "ghost":
            return 255, "", f"ssh: Could not resolve hostname {host}: Name or service not known\n"
        return (0, f"{host}:{command}\n", "") if command != "false" else (1, "", "")

    transport = CallableTransport(responder)
    assert transport.run("compute-1", "uname").stdout == "compute-1:uname\n"
    assert transport.run("compute-1", "false").exit_status == 1
    with pytest.raises(TransportError, match="ghost"):
        transport.run("ghost", "uname")
