"""The vedge's OpenFlow attributes (local_vlans, flood_tunnels) from a host's flows, and their fetch.

The pure part reads the real captures of tests/fixtures/ovs/ (README.md there describes the host: networks
A = VXLAN 101 on local VLAN 1, B = VXLAN 102 on 2, a flat external network on 3; tunnels to .21 and .22).
The fetch runs against the lab's simulated hosts, one command of which is made to print garbage.
"""

from __future__ import annotations

from pathlib import Path

from ingest.hierarchy import fetch_host
from ingest.sources.host.facts import CommandFailure, HostFacts, OvsPortFact
from ingest.sources.host.openflow import dump_commands, openflow_attributes
from ingest.sources.host.parsers.openflow import parse_dump_flows
from ingest.transport import CallableTransport
from lab.generate import generate_world
from lab.hosts import LabResponder

FIXTURES = Path(__file__).resolve().parents[4] / "fixtures" / "ovs"
NETWORKS = {
    "net-a": {"id": "net-a", "network_type": "vxlan", "segmentation_id": 101, "physical_network": None},
    "net-b": {"id": "net-b", "network_type": "vxlan", "segmentation_id": 102, "physical_network": None},
    "net-ext": {"id": "net-ext", "network_type": "flat", "segmentation_id": None, "physical_network": "external"},
    "net-c": {"id": "net-c", "network_type": "vxlan", "segmentation_id": 103, "physical_network": None},
}
CONFIG = {"bridge_mappings": {"external": "br-ex"}, "tunneling_ip": "192.168.0.20", "tunnel_types": ["vxlan"]}


def ports(with_ofport: bool = True) -> list[OvsPortFact]:
    """The capture host's ports (ovs-vsctl-format-json-list-Interface.json there gives the same ofports)."""
    def port(name: str, bridge: str, ofport: int, kind: str = "", **options: str) -> OvsPortFact:
        return OvsPortFact(name, bridge, kind, options=options, ofport=ofport if with_ofport else None)
    return [port("patch-tun", "br-int", 1, "patch"), port("int-br-ex", "br-int", 2, "patch"),
            port("qvoaaaa1111-11", "br-int", 3), port("qvobbbb2222-22", "br-int", 4),
            port("tapdddd4444-44", "br-int", 5, "internal"), port("patch-int", "br-tun", 1, "patch"),
            port("vxlan-c0a80015", "br-tun", 2, "vxlan", remote_ip="192.168.0.21"),
            port("vxlan-c0a80016", "br-tun", 3, "vxlan", remote_ip="192.168.0.22"),
            port("phy-br-ex", "br-ex", 1, "patch")]


def facts(prefix: str = "ovs-ofctl-", with_ofport: bool = True, bridges: tuple[str, ...] = ("br-int", "br-tun")) \
        -> HostFacts:
    flows = {b: parse_dump_flows((FIXTURES / f"{prefix}dump-flows-{b}.txt").read_text()) for b in bridges}
    return HostFacts("compute-x", ovs_ports=ports(with_ofport), openflow=flows)


def test_local_vlans_and_flooding_of_the_captured_host() -> None:
    attributes = openflow_attributes(facts(), NETWORKS, CONFIG)
    assert attributes == {"local_vlans": {"net-a": 1, "net-b": 2, "net-ext": 3},
                          "flood_tunnels": {"net-a": ["192.168.0.21", "192.168.0.22"], "net-b": ["192.168.0.21"]}}


def test_named_dumps_need_no_port_numbers() -> None:
    named = openflow_attributes(facts("ovs-ofctl-names-", with_ofport=False), NETWORKS, CONFIG)
    assert named == openflow_attributes(facts(), NETWORKS, CONFIG)


def test_flooding_through_unnamed_port_numbers_is_unknown_not_empty() -> None:
    attributes = openflow_attributes(facts(with_ofport=False), NETWORKS, CONFIG)
    assert "flood_tunnels" not in attributes and attributes["local_vlans"]["net-a"] == 1


def test_flooding_to_a_deleted_port_reaches_nobody() -> None:
    host = facts()
    host.ovs_ports = [p for p in ports() if p.name != "vxlan-c0a80016"]  # ofport 3 deleted, the flows left
    assert openflow_attributes(host, NETWORKS, CONFIG)["flood_tunnels"] == {
        "net-a": ["192.168.0.21"], "net-b": ["192.168.0.21"]}


def test_what_the_flows_do_not_say_is_left_out() -> None:
    # no br-tun dump (it failed): no flooding known, overlay networks not mapped; the provider one is
    only_int = openflow_attributes(facts(bridges=("br-int",)), NETWORKS, CONFIG)
    assert only_int == {"local_vlans": {"net-ext": 3}}
    # a provider bridge the agent does not map, and segments no Neutron network has, name nothing
    unmapped = openflow_attributes(facts(), {k: v for k, v in NETWORKS.items() if k != "net-b"},
                                   {"bridge_mappings": {}})
    assert unmapped["local_vlans"] == {"net-a": 1} and set(unmapped["flood_tunnels"]) == {"net-a"}
    assert openflow_attributes(HostFacts("h", ovs_ports=ports()), NETWORKS, CONFIG) == {}


def test_dump_commands_ask_each_bridge_for_the_agent_tables_only() -> None:
    assert dump_commands(ports()) == {
        "br-ex": ["ovs-ofctl dump-flows br-ex table=0"], "br-int": ["ovs-ofctl dump-flows br-int table=0"],
        "br-tun": [f"ovs-ofctl dump-flows br-tun table={n}" for n in (3, 4, 6, 22)]}
    assert dump_commands([]) == {}


class Corrupting:
    """The lab's host, but one command prints what ovs-ofctl never does."""

    def __init__(self, answer: LabResponder, command: str, output: str) -> None:
        self.answer, self.command, self.output = answer, command, output

    def __call__(self, host: str, command: str) -> tuple[int, str, str]:
        if command == self.command:
            return 0, self.output, ""
        return self.answer(host, command)


def test_fetch_reads_every_bridge_and_records_a_bad_dump_naming_the_line() -> None:
    answer = LabResponder(generate_world(3, 2, 2, "ovs", "vxlan", seed=31))
    clean = fetch_host(CallableTransport(answer), "compute-1")
    assert clean.failures == [] and set(clean.openflow or {}) == {"br-int", "br-tun"}
    # the tables the mapping reads, not the unicast table 20 (a flow per remote port)
    assert {f.table for f in clean.openflow["br-tun"]} == {3, 4, 6, 22}  # type: ignore[index]
    assert {f.table for f in clean.openflow["br-int"]} == {0}  # type: ignore[index]
    bad = " cookie=0x1, duration=1.0s, table=22, n_packets=0, n_bytes=0, priority=1,dl_vlan=1 actions=drop\ngarbage\n"
    corrupt = Corrupting(answer, "ovs-ofctl dump-flows br-tun table=22", bad)
    broken = fetch_host(CallableTransport(corrupt), "compute-1")
    assert set(broken.openflow or {}) == {"br-int"}
    assert broken.openflow["br-int"] == clean.openflow["br-int"]  # type: ignore[index]
    [failure] = broken.failures
    assert isinstance(failure, CommandFailure) and failure.command == "ovs-ofctl dump-flows br-tun table=22"
    assert "line 2 is not a flow" in failure.reason and failure.excerpt == "garbage"
    assert broken.ovs_ports == clean.ovs_ports  # the host's other facts stand
