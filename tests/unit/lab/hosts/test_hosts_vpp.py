"""vppctl on simulated VPP hosts, held to the column layout of the recorded real outputs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lab.generate import generate_world
from lab.hostmodel import LabHosts
from lab.hosts import LabResponder
from lab.hosts.vpp import center

# Recordings of a real VPP 16.09 (tests/fixtures/reference/README.md says where from)
FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "reference" / "vpp"

# One regex per kind of line; each must accept every line of the real recording too.
SHOW_INT = {
    "header": re.compile(r" {14}Name {15}Idx {7}State {10}Counter {10}Count {5}"),
    "row": re.compile(r"(?=.{32}.{5}.{16})\S.{31} *\d+ +(up|down) +"
                      r"(?:(?=.{16}.{16}$)[a-z][a-z -]*? +\d+|)$"),
    "continuation": re.compile(r" {53}(?=.{16}.{16}$)[a-z][a-z -]*? +\d+"),
}
SHOW_HARDWARE = {
    "header": re.compile(r" {14}Name {16}Idx {3}Link {2}Hardware"),
    "row": re.compile(r"(?=.{32}.{6}.{8})\S.{31} *\d+ +(up|down) +\S+"),
    "detail": re.compile(r"  (Ethernet address [0-9a-f:]{17}|\S.*)"),
    "carrier": re.compile(r"    (carrier (up full duplex speed \d+ mtu \d+  promisc|down )|rx queues .*|cpu socket \d+"
                          r"|extended stats:)"),
    "counter": re.compile(r"(?=.{60}$) {4}( {2})?[a-z][a-z ]*? +\d+"),
    "blank": re.compile(r""),
}
SHOW_MODE = re.compile(r"l3 \S+  |l2 bridge \S+ bd_id \d+ shg 0")


def classify(line: str, patterns: dict[str, re.Pattern[str]]) -> str:
    matches = [name for name, pattern in patterns.items() if pattern.fullmatch(line)]
    assert matches, f"no pattern for line {line!r}"
    return matches[0]


def lines(text: str) -> list[str]:
    return text.rstrip("\n").split("\n")


def check_show_int_columns(text: str) -> None:
    """Name in 32 columns, index centred in 5, state centred in 16, counter name in 16, value right in 16."""
    for line in lines(text)[1:]:
        if not line.startswith(" "):
            index, state = line[32:37].strip(), line[37:53].strip()
            assert line[32:37] == center(index, 5) and index.isdigit(), line
            assert line[37:53] == center(state, 16) and state in ("up", "down"), line
        if len(line) > 53:
            name, value = line[53:69], line[69:85]
            assert name == name.strip().ljust(16) and value == value.strip().rjust(16) and value.strip().isdigit()


def test_the_patterns_accept_the_real_recordings() -> None:
    check_show_int_columns((FIXTURES / "vppctl-show-int.txt").read_text())
    for line in lines((FIXTURES / "vppctl-show-int.txt").read_text()):
        classify(line, SHOW_INT)
    for line in lines((FIXTURES / "vppctl-show-hardware-interfaces.txt").read_text()):
        classify(line, SHOW_HARDWARE)
    for line in lines((FIXTURES / "vppctl-show-mode.txt").read_text()):
        assert SHOW_MODE.fullmatch(line), line


@pytest.fixture(params=["vlan", "vxlan"])
def vpp(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    world = generate_world(3, 2, 2, "vpp", request.param, seed=51)
    return world, LabResponder(world)


def ok(answer: LabResponder, host: str, command: str) -> str:
    status, out, err = answer(host, command)
    assert (status, err) == (0, ""), err
    return out


def test_show_version_is_the_recorded_one(vpp) -> None:  # type: ignore[no-untyped-def]
    _, answer = vpp
    assert ok(answer, "compute-1", "vppctl show ver") == (FIXTURES / "vppctl-show-ver.txt").read_text()


def test_show_int_reproduces_the_fixture_layout(vpp) -> None:  # type: ignore[no-untyped-def]
    world, answer = vpp
    text = ok(answer, "compute-1", "vppctl show int")
    real = (FIXTURES / "vppctl-show-int.txt").read_text()
    assert text.splitlines()[0] == real.splitlines()[0]
    kinds = [classify(line, SHOW_INT) for line in lines(text)]
    assert kinds[0] == "header" and kinds.count("header") == 1
    assert "continuation" in kinds
    rows = [line for line in lines(text)[1:] if not line.startswith(" ")]
    names = [row[:32].rstrip() for row in rows]
    assert names == sorted(names)  # VPP sorts by name (upper case first)
    assert f"{'local0':<32}  0  {'down':^16}" in rows  # down and without counters: 53 columns
    state = LabHosts(world).get("compute-1")
    assert set(names) == {i.name for i in state.vpp_interfaces}
    assert all(len(line) in (53, 85) for line in lines(text)[1:])
    check_show_int_columns(text)


def test_show_hardware_reproduces_the_fixture_layout(vpp) -> None:  # type: ignore[no-untyped-def]
    world, answer = vpp
    text = ok(answer, "compute-1", "vppctl show hardware-interfaces")
    assert ok(answer, "compute-1", "vppctl show hardware") == text
    real = (FIXTURES / "vppctl-show-hardware-interfaces.txt").read_text()
    assert text.splitlines()[0] == real.splitlines()[0]
    kinds = [classify(line, SHOW_HARDWARE) for line in lines(text)]
    assert kinds.count("header") == 1 and "counter" in kinds and "carrier" in kinds
    nic = next(n for n in world.host("compute-1").nics if n.role != "management")
    row = next(line for line in lines(text) if line.startswith(nic.name + " "))
    assert row == f"{nic.name:<32}{center('1', 6)}{center('up', 8)}{nic.name}"
    assert f"  Ethernet address {nic.mac}" in text


def test_show_mode_lists_bridge_domains_by_interface_index(vpp) -> None:  # type: ignore[no-untyped-def]
    world, answer = vpp
    text = ok(answer, "compute-1", "vppctl show mode")
    assert all(SHOW_MODE.fullmatch(line) for line in lines(text))
    state = LabHosts(world).get("compute-1")
    assert len(lines(text)) == len(state.vpp_interfaces)
    vhost = [i for i in state.vpp_interfaces if i.kind == "vhost-user"]
    for interface in vhost:
        assert f"l2 bridge {interface.name} bd_id {interface.bridge_domain} shg 0" in text
    domains = ok(answer, "compute-1", "vppctl show bridge-domain").splitlines()
    assert domains[0].split() == ["ID", "Index", "Learning", "U-Forwrd", "UU-Flood", "Flooding", "ARP-Term",
                                  "BVI-Intf"]
    assert {int(line.split()[0]) for line in domains[1:]} == {i.bridge_domain for i in vhost}


def test_vpp_centring_puts_the_odd_space_on_the_left() -> None:
    assert center("State", 16) == "      State     "
    assert center("5", 6) == "   5  "
    assert center("up", 16) == "       up       "


def test_vppctl_exists_only_on_vpp_hosts() -> None:
    answer = LabResponder(generate_world(2, 1, 1, "ovs", "vlan", seed=52))
    assert answer("compute-1", "vppctl show int") == (127, "", "bash: line 1: vppctl: command not found\n")
