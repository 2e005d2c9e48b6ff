"""The pure parts of SSH targets and host keys: which names may reach ssh, fingerprints, the
messages that refuse a key, ssh-keyscan output, and the known hosts store's key checks."""

from __future__ import annotations

import shlex

import pytest

from core.errors import ConfigError
from core.known_hosts import check_key
from core.known_hosts import fingerprint as stored_fingerprint
from ingest.transport import (
    Endpoint,
    SSHConfig,
    SSHTransport,
    TransportError,
    UnsafeHostName,
    fingerprint,
    host_key_refusal,
    jump_command,
    keyscan_command,
    known_hosts_name,
    known_hosts_text,
    parse_keyscan,
    ssh_target,
)

# A key made with `ssh-keygen -t ed25519`; its fingerprint as `ssh-keygen -lf` printed it.
OPENSSH_KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIOhdq0neQjWvT+SFn6Tvg7WkM/DS1KSq1abS6qPdpY3J"
OPENSSH_FINGERPRINT = "SHA256:ElA4PE/02vtIMbn/HzMG6XKt6xTMFuJjCQ4nypHABOs"
OTHER_KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIBVz6m9uGkF0cYl1M1qg2m2oTn9wXk8kq3m3xHq1n4bN"


# -- ssh_target ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["compute-1", "node01.cloud.example.org", "a", "10.0.0.7", "fd00::1", "::1",
                                  "x" * 63, "ctl-1.region-2"])
def test_host_names_and_addresses_are_accepted(name: str) -> None:
    assert ssh_target(name) == name


@pytest.mark.parametrize("name", [
    "-oProxyCommand=touch /tmp/pwned",  # an ssh option
    "-compute",  # a label starting with '-'
    "root@elsewhere",  # a user
    "root@elsewhere:2222",  # a user and a port
    "elsewhere:2222",  # a port
    "[fd00::1]:22",  # a bracketed address with a port
    "compute 1",  # a space
    "compute-1;reboot", "compute-1|id", "$(id)", "`id`", "compute-1&", "a'b", 'a"b', "a\nb", "a\tb",
    "compute_1",  # not RFC 1123
    "", ".", "compute..1", "compute-1-", "x" * 64, ("a" * 60 + ".") * 5,
    "1.2.3.999",  # looks like an address, is neither
])
def test_other_names_are_refused_naming_the_object(name: str) -> None:
    with pytest.raises(UnsafeHostName) as raised:
        ssh_target(name, "hypervisor hv-7")
    assert "hypervisor hv-7" in str(raised.value)


def test_a_refused_name_never_reaches_the_command_line() -> None:
    transport = SSHTransport(SSHConfig(user="root", password="pw", jump_host="lab@bastion:2222"))
    with pytest.raises(TransportError) as raised:
        transport.run("-oProxyCommand=sh -c id", "ip -j link")
    assert raised.value.host == "-oProxyCommand=sh -c id"
    assert "host object -oProxyCommand=sh -c id" in str(raised.value)
    assert "RFC 1123" in str(raised.value)


def test_a_configured_address_is_checked_too() -> None:
    transport = SSHTransport(SSHConfig(user="root", password="pw", addresses={"compute-1": "-oProxyCommand=x"}))
    with pytest.raises(ValueError, match="cli.addresses of host compute-1"):
        transport.route("compute-1", "ls")
    # A configured address may carry a user and a port (the operator wrote it), a cloud name never.
    assert transport.route("compute-2", "ls")[0] == Endpoint("root", "compute-2", 22)
    with pytest.raises(ValueError, match="host object root@compute-3:2222"):
        transport.route("root@compute-3:2222", "ls")


def test_the_destination_follows_a_double_dash() -> None:
    words = shlex.split(jump_command(Endpoint("lab", "compute-1", 22), "ls", jump_user="lab"))
    assert words[-3:] == ["--", "compute-1", "ls"]
    assert shlex.split(keyscan_command(Endpoint("lab", "10.0.0.7", 2222), 4))[-4:] == ["-p", "2222", "--",
                                                                                        "10.0.0.7"]


def test_an_unsafe_jump_host_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="cli.jump_host"):
        SSHTransport(SSHConfig(user="root", password="pw", jump_host="lab@-oProxyCommand=x"))


# -- host keys -----------------------------------------------------------------------------------

def test_fingerprints_match_openssh() -> None:
    assert fingerprint(OPENSSH_KEY) == OPENSSH_FINGERPRINT
    assert stored_fingerprint(OPENSSH_KEY) == OPENSSH_FINGERPRINT


def test_a_known_key_passes() -> None:
    assert host_key_refusal("compute-1", {"ssh-ed25519": OPENSSH_KEY}, "ssh-ed25519", OPENSSH_KEY) is None


def test_a_changed_key_names_both_fingerprints() -> None:
    refusal = host_key_refusal("compute-1", {"ssh-ed25519": OPENSSH_KEY}, "ssh-ed25519", OTHER_KEY)
    assert refusal is not None
    assert "compute-1" in refusal and "CHANGED" in refusal
    assert f"expected ssh-ed25519 {OPENSSH_FINGERPRINT}" in refusal
    assert f"shown ssh-ed25519 {fingerprint(OTHER_KEY)}" in refusal


def test_an_unknown_key_names_the_shown_fingerprint() -> None:
    refusal = host_key_refusal("compute-2", {}, "ssh-ed25519", OPENSSH_KEY)
    assert refusal is not None
    assert "compute-2 is unknown" in refusal and "expected none recorded" in refusal
    assert OPENSSH_FINGERPRINT in refusal


def test_keyscan_output_is_parsed_and_garbage_skipped() -> None:
    output = (f"# 10.0.0.7:22 SSH-2.0-OpenSSH_9.6\n10.0.0.7 ssh-ed25519 {OPENSSH_KEY}\n"
              "10.0.0.7 ssh-rsa not-base64!\n10.0.0.7 ssh-ed25519\n")
    assert parse_keyscan(output) == {"ssh-ed25519": OPENSSH_KEY}


def test_known_hosts_text_and_names() -> None:
    text = known_hosts_text({"compute-2": {"ssh-ed25519": OTHER_KEY}, "compute-1": {"ssh-ed25519": OPENSSH_KEY}})
    assert text == f"compute-1 ssh-ed25519 {OPENSSH_KEY}\ncompute-2 ssh-ed25519 {OTHER_KEY}\n"
    # A name or key that known_hosts would read as more than one plain entry is left out.
    assert known_hosts_text({"a b": {"ssh-ed25519": OPENSSH_KEY}, "*": {"ssh-ed25519": OPENSSH_KEY},
                             "x\ny": {"ssh-ed25519": OPENSSH_KEY}, "@revoked": {"ssh-ed25519": OPENSSH_KEY},
                             "h": {"ssh-ed25519": "AAAA\n* ssh-ed25519 AAAA"}}) == ""
    assert known_hosts_name("10.0.0.7", 22) == "10.0.0.7"
    assert known_hosts_name("127.0.0.1", 2222) == "[127.0.0.1]:2222"


def test_the_policy_must_be_known() -> None:
    with pytest.raises(ConfigError, match="host_key_policy: expected one of strict, trust-on-first-use, accept"):
        SSHConfig(user="root", password="pw", host_key_policy="yolo")


def test_stored_keys_are_checked() -> None:
    check_key("ssh-ed25519", OPENSSH_KEY)
    with pytest.raises(ValueError, match="unsupported host key type"):
        check_key("ssh-dss", OPENSSH_KEY)
    with pytest.raises(ValueError, match="not base64"):
        check_key("ssh-ed25519", "not base64!")
    with pytest.raises(ValueError, match="not an ssh-rsa key"):
        check_key("ssh-rsa", OPENSSH_KEY)
