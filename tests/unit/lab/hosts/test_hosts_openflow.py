"""The simulated hosts' `ovs-ofctl dump-flows`: the real tool's forms, the agent's tables from the host
model (local VLANs, l2population flooding to the peers that host each network), and the OpenFlow faults.
Read back through the scanner's parser, as a scan would."""

from __future__ import annotations

import re

import pytest

from ingest.sources.host.parsers.openflow import derive_openflow, parse_dump_flows
from lab.faults import clear_fault, inject_fault
from lab.generate import generate_world
from lab.hostmodel import LabHosts
from lab.hosts import LabResponder
from lab.world import World, WorldError


def ok(answer: LabResponder, host: str, command: str) -> str:
    status, out, err = answer(host, command)
    assert (status, err) == (0, ""), err
    return out


def world_of(type_driver: str = "vxlan") -> World:
    return generate_world(4, 2, 2, "ovs", type_driver, seed=7)


def derived(world: World, host: str):  # type: ignore[no-untyped-def]
    """What the scanner derives from the host's plain dumps, with OVSDB's port numbers."""
    answer, state = LabResponder(world), LabHosts(world).get(host)
    flows = {b.name: parse_dump_flows(ok(answer, host, f"ovs-ofctl dump-flows {b.name}")) for b in state.ovs_bridges}
    names = {b.name: {p.ofport: p.name for p in b.ports} for b in state.ovs_bridges}
    remote = {p.name: p.options.get("remote_ip") for b in state.ovs_bridges for p in b.ports}
    return derive_openflow(flows, names), remote


def test_plain_form_numbers_ports_and_has_the_header() -> None:
    world = world_of()
    answer = LabResponder(world)
    plain = ok(answer, "compute-1", "ovs-ofctl dump-flows br-tun")
    named = ok(answer, "compute-1", "ovs-ofctl --names dump-flows br-tun")
    assert plain.splitlines()[0] == "NXST_FLOW reply (xid=0x4):"
    assert all("idle_age=" in line for line in plain.splitlines()[1:]) and "idle_age=" not in named
    assert '"' not in plain and 'in_port="patch-int"' in named
    assert "in_port=1 actions=resubmit(,2)" in plain
    no_stats = ok(answer, "compute-1", "ovs-ofctl --no-stats dump-flows br-tun")
    assert "n_packets" not in no_stats and not no_stats.startswith("NXST")
    assert re.search(r"^ cookie=0x[0-9a-f]+, priority=1,in_port=1 actions=resubmit\(,2\)$", no_stats, re.M)


@pytest.mark.parametrize("type_driver", ["vxlan", "gre"])
def test_each_network_floods_to_the_peers_that_host_it(type_driver: str) -> None:
    world = world_of(type_driver)
    tunnel_ips = {h.name: h.tunnel_ip for h in world.hosts}
    checked = 0
    for host in (h.name for h in world.hosts if h.tunnel_ip):
        state = LabHosts(world).get(host)
        view, remote = derived(world, host)
        vlans = {}
        for bridge in state.ovs_bridges:
            for port in bridge.ports:
                iface = port.external_ids.get("iface-id")
                if iface and port.tag is not None:
                    vlans.setdefault(world.port(iface).network_id, port.tag)
        for network_id, vlan in vlans.items():
            network = world.network(network_id)
            if network.network_type != type_driver:
                continue  # the external network is flat: br-ex's, not the tunnels'
            assert view.tunnel_vlans[(type_driver, network.segmentation_id)] == vlan
            peers = {p.binding_host for p in world.ports if p.network_id == network_id} - {host}
            if not peers:
                assert vlan not in view.floods  # a network no peer hosts floods nowhere
                continue
            segment, ports = view.floods[vlan]
            assert segment == network.segmentation_id
            assert sorted(remote[p] for p in ports) == sorted(tunnel_ips[p] for p in peers)
            checked += 1
    assert checked >= 3


def test_flood_flow_missing_removes_one_networks_flood() -> None:
    world = world_of()
    port = world.port(world.instances[0].port_ids[0])
    host, network = port.binding_host, world.network(port.network_id)
    before, _ = derived(world, host)
    vlan = before.tunnel_vlans[("vxlan", network.segmentation_id)]
    assert vlan in before.floods
    inject_fault(world, "flood_flow_missing", f"{host}/{network.id}")
    after, _ = derived(world, host)
    assert vlan not in after.floods and after.tunnel_vlans == before.tunnel_vlans
    assert {v: f for v, f in after.floods.items()} == {v: f for v, f in before.floods.items() if v != vlan}
    clear_fault(world, "flood_flow_missing", f"{host}/{network.id}")
    assert derived(world, host)[0] == before


def test_tunnel_port_missing_removes_the_port_and_its_flows() -> None:
    world = world_of()
    host, peer = world.hosts[1], world.hosts[2]
    inject_fault(world, "tunnel_port_missing", f"{host.name}/{peer.name}")
    view, remote = derived(world, host.name)
    assert peer.tunnel_ip not in remote.values()
    assert all(peer.tunnel_ip not in [remote[p] for p in ports] for _, ports in view.floods.values())
    peer_view, peer_remote = derived(world, peer.name)
    assert host.tunnel_ip in peer_remote.values()  # the peer still has its port back: asymmetric


def test_openflow_faults_refuse_what_they_cannot_break() -> None:
    world = world_of()
    with pytest.raises(WorldError, match="no port on network"):
        inject_fault(world, "flood_flow_missing", f"{world.hosts[1].name}/no-such-network")
    with pytest.raises(WorldError, match="unknown host"):
        inject_fault(world, "tunnel_port_missing", f"{world.hosts[1].name}/nohost")
    lxb = generate_world(3, 1, 2, "lxb", "vxlan", seed=7)
    with pytest.raises(WorldError, match="no OVS tunnel bridge"):
        inject_fault(lxb, "tunnel_port_missing", f"{lxb.hosts[1].name}/{lxb.hosts[2].name}")
