"""OpenFlow on the real lab: the flows lab/real/flows.py programs into each host's real Open vSwitch, read
by the scanner's fetch (`ovs-ofctl dump-flows BRIDGE table=N` in the host's namespace) and turned into the
vedge's `local_vlans` and `flood_tunnels`, equal the ground truth; faults made with real commands
(`ovs-ofctl del-flows`, `ovs-vsctl del-port`) change exactly what they should, and the agent's resync
(restore_agent_flows) puts the flows back.

Needs root and the packages of scripts/install-system-packages.sh (a missing one fails the test naming it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from ingest.hierarchy import fetch_host
from ingest.sources.host.openflow import openflow_attributes
from ingest.transport import CallableTransport
from lab.generate import generate_world
from lab.real import RealLab, missing_prerequisites, real_lab_world
from lab.real.flows import restore_agent_flows
from lab.truth import compute_truth
from lab.world import World

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def lab() -> Iterator[RealLab]:
    missing = missing_prerequisites()
    if missing:
        pytest.fail("the real lab needs " + "; ".join(missing) + " — run scripts/install-system-packages.sh as root")
    world = real_lab_world(generate_world(3, 1, 2, "ovs", "vxlan", seed=7, name="real-openflow", firewall="hybrid"))
    real = RealLab(world, f"of-{os.getpid()}")
    real.up()
    try:
        yield real
    finally:
        real.down()


def networks(world: World) -> dict[str, dict[str, Any]]:
    """The Neutron networks as the OpenStack source gives them (the fields the mapping reads)."""
    return {n.id: {"id": n.id, "network_type": n.network_type, "segmentation_id": n.segmentation_id,
                   "physical_network": n.physical_network} for n in world.networks}


def scanned(lab: RealLab, host: str) -> dict[str, Any]:
    facts = fetch_host(CallableTransport(lab.execute), host)
    assert not [f for f in facts.failures if "ovs-ofctl" in f.command], facts.failures
    agent = next(a for a in lab.world.agents if a.host == host and a.binary == "neutron-openvswitch-agent")
    return openflow_attributes(facts, networks(lab.world), agent.configurations)


def expected(lab: RealLab, host: str) -> dict[str, Any]:
    attributes = compute_truth(lab.world).objects[f"{host}/vedge-ovs"].attributes
    return {key: attributes[key] for key in ("local_vlans", "flood_tunnels")}


def test_the_real_flows_read_as_the_truth(lab: RealLab) -> None:
    for host in (h.name for h in lab.world.hosts):
        found = scanned(lab, host)
        assert found == expected(lab, host), host
    assert any(found["flood_tunnels"].values()) and found["local_vlans"]


def test_a_deleted_flood_flow_and_the_agents_resync(lab: RealLab) -> None:
    host = "compute-1"
    before = scanned(lab, host)
    network, peers = next((n, ips) for n, ips in before["flood_tunnels"].items() if ips)
    vlan = before["local_vlans"][network]
    lab.run(host, f"ovs-ofctl del-flows br-tun table=22,dl_vlan={vlan}")
    after = scanned(lab, host)
    assert network not in after["flood_tunnels"] and after["local_vlans"] == before["local_vlans"]
    assert {n: ips for n, ips in after["flood_tunnels"].items()} == \
        {n: ips for n, ips in before["flood_tunnels"].items() if n != network}
    restore_agent_flows(lab, host)
    assert scanned(lab, host) == before


def test_a_deleted_tunnel_port_is_flooded_to_no_more(lab: RealLab) -> None:
    host = "compute-2"
    before = scanned(lab, host)
    peer_ip = before["flood_tunnels"][next(iter(before["flood_tunnels"]))][0]
    port = "vxlan-" + "".join(f"{int(octet):02x}" for octet in peer_ip.split("."))
    lab.run(host, f"ovs-vsctl del-port br-tun {port}")
    after = scanned(lab, host)
    # the flood flows still name the deleted port's number: flooding there reaches nobody
    assert after["flood_tunnels"] == {n: [ip for ip in ips if ip != peer_ip]
                                      for n, ips in before["flood_tunnels"].items()}
