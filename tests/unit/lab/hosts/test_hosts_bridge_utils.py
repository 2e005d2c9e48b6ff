"""brctl show / showmacs of simulated hosts, laid out as bridge-utils 1.7.1 prints them."""

from __future__ import annotations

import re

from lab.faults import inject_fault
from lab.generate import generate_world
from lab.hosts import LabResponder

HEADER = "bridge name\tbridge id\t\tSTP enabled\tinterfaces"


def ok(answer: LabResponder, host: str, command: str) -> str:
    status, out, err = answer(host, command)
    assert (status, err) == (0, ""), err
    return out


def parse_show(text: str) -> dict[str, list[str]]:
    """Bridge -> members, reading continuation lines (seven tabs) as brctl writes them."""
    lines = text.splitlines()
    assert lines[0] == HEADER
    bridges: dict[str, list[str]] = {}
    current = None
    for line in lines[1:]:
        if line.startswith("\t" * 7):
            assert current is not None
            bridges[current].append(line[7:])
            continue
        name, empty, bridge_id, stp, empty2, first = line.split("\t")
        assert (empty, stp, empty2) == ("", "no", "")
        assert re.fullmatch(r"8000\.[0-9a-f]{12}", bridge_id)
        current = name
        bridges[name] = [first] if first else []
    return bridges


def test_hybrid_plug_bridges_hold_tap_and_qvb_on_continuation_lines() -> None:
    world = generate_world(3, 2, 2, "ovs", "vxlan", seed=21)
    answer = LabResponder(world)
    text = ok(answer, "compute-1", "brctl show")
    bridges = parse_show(text)
    ports = world.ports_on_host("compute-1")
    assert sorted(bridges) == sorted("qbr" + p.id[:11] for p in ports)
    for port in ports:
        assert bridges["qbr" + port.id[:11]] == ["qvb" + port.id[:11], "tap" + port.id[:11]]
    assert re.search(r"^qbr\S+\t\t8000\.fe[0-9a-f]{10}\tno\t\tqvb\S+\n\t\t\t\t\t\t\ttap\S+$", text, re.M)


def test_linux_bridge_agent_bridges_and_a_bridge_without_members() -> None:
    world = generate_world(3, 2, 1, "lxb", "vlan", seed=22)
    answer = LabResponder(world)
    port = world.port(world.instances[0].port_ids[0])
    host = port.binding_host
    network = world.network(port.network_id)
    bridges = parse_show(ok(answer, host, "brctl show"))
    members = bridges["brq" + network.id[:11]]
    assert f"bond0.{network.segmentation_id}" in members and "tap" + port.id[:11] in members
    assert members == sorted(members)
    # a bridge whose only member is gone still prints its line, ending with the two tabs
    for other in world.ports_on_host(host):
        inject_fault(world, "bridge_member_missing", other.id)
    text = ok(answer, host, "brctl show")
    assert re.search(rf"^brq{network.id[:11]}\t\t8000\.[0-9a-f]{{12}}\tno\t\tbond0\.{network.segmentation_id}$",
                     text, re.M)


def test_showmacs_lists_local_and_learned_entries_sorted_by_mac() -> None:
    world = generate_world(2, 1, 1, "lxb", "flat", seed=23)
    answer = LabResponder(world)
    port = world.port(world.instances[0].port_ids[0])
    bridge = "brq" + port.network_id[:11]
    text = ok(answer, "compute-1", f"brctl showmacs {bridge}")
    lines = text.splitlines()
    assert lines[0] == "port no\tmac addr\t\tis local?\tageing timer"
    entries = [re.fullmatch(r"( {2}\d)\t([0-9a-f:]{17})\t(yes|no)\t\t( +\d+\.\d\d)", line) for line in lines[1:]]
    assert all(entries), lines
    macs = [e.group(2) for e in entries if e]
    assert macs == sorted(macs)
    learned = {e.group(2): e for e in entries if e and e.group(3) == "no"}
    assert port.mac_address in learned
    assert all(e.group(4) == "   0.00" for e in entries if e and e.group(3) == "yes")


def test_errors_are_the_real_ones() -> None:
    answer = LabResponder(generate_world(2, 1, 1, "lxb", "flat", seed=24))
    assert answer("compute-1", "brctl show nosuch") == (1, "", "bridge nosuch does not exist!\n")
    assert answer("compute-1", "brctl showmacs nosuch") == (1, "", "read of forward table failed: No such device\n")
    status, out, err = answer("compute-1", "brctl frobnicate")
    assert (status, err) == (1, "never heard of command [frobnicate]\n") and out.startswith("Usage: brctl [commands]")


def test_a_host_without_bridges_prints_nothing() -> None:
    # bridge-utils 1.7.1 in a namespace without bridges prints nothing, not even the header
    # (seen on the real lab, tests/integration/lab/test_real_vs_simulated.py)
    answer = LabResponder(generate_world(2, 1, 1, "ovs", "vxlan", seed=25, firewall="native"))
    assert ok(answer, "compute-1", "brctl show") == ""
