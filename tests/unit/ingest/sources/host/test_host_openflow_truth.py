"""The vedge's OpenFlow attributes, fetched from the lab's simulated hosts (`ovs-ofctl dump-flows` through the
scanner's fetch and parser), against the ground truth (lab/agentflows.py, from the spec alone), on every
OVS variant and with the faults that change the agent's tables or the ports they serve. The SSH scan test
(tests/integration/ingest/test_scan_lab.py) checks the same on clean worlds of every variant end to end."""

from __future__ import annotations

import pytest

from ingest.hierarchy import fetch_host
from ingest.sources.host.openflow import openflow_attributes
from ingest.transport import CallableTransport
from lab.faults import inject_fault
from lab.generate import generate_world
from lab.hosts import LabResponder
from lab.truth import compute_truth
from lab.world import World


def assert_flows_equal_truth(world: World) -> int:
    """Compare every OVS vedge; the number compared."""
    truth, answer = compute_truth(world), LabResponder(world)
    networks = {n.id: {"id": n.id, "network_type": n.network_type, "segmentation_id": n.segmentation_id,
                       "physical_network": n.physical_network} for n in world.networks}
    compared = 0
    for agent in (a for a in world.agents if a.binary == "neutron-openvswitch-agent"):
        facts = fetch_host(CallableTransport(answer), agent.host)
        assert facts.failures == []
        found = openflow_attributes(facts, networks, agent.configurations)
        expected = truth.objects[f"{agent.host}/vedge-ovs"].attributes
        assert found.get("local_vlans") == expected["local_vlans"], agent.host
        assert found.get("flood_tunnels") == expected.get("flood_tunnels"), agent.host
        compared += 1
    return compared


@pytest.mark.parametrize(("type_driver", "firewall"), [("vxlan", "hybrid"), ("vxlan", "native"), ("gre", "hybrid"),
                                                       ("vlan", "hybrid"), ("flat", "native")])
def test_every_ovs_variant(type_driver: str, firewall: str) -> None:
    world = generate_world(4, 2, 1 if type_driver == "flat" else 2, "ovs", type_driver, seed=13, firewall=firewall)
    assert assert_flows_equal_truth(world) == 4


def test_sriov_network_node() -> None:
    assert assert_flows_equal_truth(generate_world(3, 2, 2, "sriov", "vlan", seed=13)) >= 1


@pytest.mark.parametrize("kinds", [("flood_flow_missing",), ("tunnel_port_missing",), ("vlan_tag_mismatch",),
                                   ("ovs_port_missing",), ("dhcp_namespace_gone",),
                                   ("flood_flow_missing", "tunnel_port_missing", "ovs_port_down")])
def test_faulted_worlds(kinds: tuple[str, ...]) -> None:
    world = generate_world(4, 2, 2, "ovs", "vxlan", seed=13)
    port = world.port(world.instances[0].port_ids[0])
    peer = next(h.name for h in world.hosts if h.tunnel_ip and h.name != port.binding_host)
    targets = {"flood_flow_missing": f"{port.binding_host}/{port.network_id}",
               "tunnel_port_missing": f"{port.binding_host}/{peer}", "dhcp_namespace_gone": port.network_id}
    before = compute_truth(world).objects[f"{port.binding_host}/vedge-ovs"].attributes
    for kind in kinds:
        inject_fault(world, kind, targets.get(kind, port.id))
    after = compute_truth(world).objects[f"{port.binding_host}/vedge-ovs"].attributes
    if {"flood_flow_missing", "tunnel_port_missing"} & set(kinds):
        assert after != before  # the truth moved with the fault: the comparison is not vacuous
    assert assert_flows_equal_truth(world) == 4
