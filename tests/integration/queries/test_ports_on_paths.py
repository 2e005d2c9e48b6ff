"""Every hop an object, on scanned and projected lab worlds: a VM's OVS port and a Linux bridge's VXLAN
device are hops of its path, taking one away cuts exactly the VMs behind it, a port that is down is named
first by root cause with its own state as evidence, and a Linux bridge whose last tap left is still there."""

from __future__ import annotations

from conftest import scan_and_project

from graphmodel import conventions as names
from graphmodel.inventory import OBJECTS
from graphmodel.schema import vconnector_member_id, vedge_port_id
from lab.faults import inject_fault
from lab.generate import generate_world
from queries.impact import impact
from queries.path import path
from queries.rca import rca


def test_an_ovs_port_is_a_hop_whose_loss_cuts_only_its_vm(mongo_db, neo4j_driver, env_name: str) -> None:  # type: ignore[no-untyped-def]
    world = generate_world(3, 2, 1, "ovs", "vxlan", seed=71)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    vm, other = (i for i in world.instances if i.host == world.instances[0].host)
    port = world.port(vm.port_ids[0])
    qvo = vedge_port_id(vm.host, "br-int", names.qvo_name(port.id))
    assert qvo in path(neo4j_driver, env_name, vm.id, other.id).ids()
    result = impact(neo4j_driver, env_name, [qvo])
    assert result.ids("down") == [vm.id] and result.ids("degraded") == []

    fault = inject_fault(world, "ovs_port_down", port.id)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    assert fault.root_cause == qvo
    best = rca(neo4j_driver, env_name, [vm.id]).suspects[0]
    assert best.id == qvo and best.type == "vedge_port"
    assert any(e.startswith("failing: OVS port link down") for e in best.evidence), best.evidence


def test_a_linux_bridge_leaves_by_its_vxlan_device_and_outlives_its_taps(  # type: ignore[no-untyped-def]
        mongo_db, neo4j_driver, env_name: str) -> None:
    world = generate_world(3, 2, 2, "lxb", "vxlan", seed=71)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    vm = world.instances[0]
    port = world.port(vm.port_ids[0])
    network = world.network(port.network_id)
    bridge = names.brq_name(network.id)
    vxlan = vconnector_member_id(vm.host, bridge, names.lxb_vxlan_name(network.segmentation_id or 0))
    behind = sorted({p.device_id for p in world.ports if p.binding_host == vm.host and p.network_id == network.id
                     and p.device_owner.startswith("compute:")})
    result = impact(neo4j_driver, env_name, [vxlan])
    assert result.ids("down") == behind and vm.id in behind

    # every VM port of that network on the host leaves its bridge: the bridge and its way out stay
    vm_ports = [p for p in world.ports if p.binding_host == vm.host and p.network_id == network.id
                and p.device_owner.startswith("compute:")]
    for gone in vm_ports:
        inject_fault(world, "bridge_member_missing", gone.id)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    found = {d["id"]: d for d in mongo_db[OBJECTS].find({"environment": env_name, "host": vm.host,
                                                          "id": {"$in": [f"{vm.host}/{bridge}", vxlan]}})}
    assert set(found) == {f"{vm.host}/{bridge}", vxlan}
    assert not {names.tap_name(p.id) for p in vm_ports} & set(found[f"{vm.host}/{bridge}"].get("interfaces", []))
    assert found[vxlan]["link_state"] == "up" and found[vxlan]["vni"] == network.segmentation_id


def test_a_removed_tunnel_port_is_evidence_on_its_host(mongo_db, neo4j_driver, env_name: str) -> None:  # type: ignore[no-untyped-def]
    world = generate_world(3, 2, 1, "ovs", "vxlan", seed=71)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    vm = world.instances[0]
    peer = next(h for h in world.hosts if h.name != vm.host and any(i.host == h.name for i in world.instances))
    fault = inject_fault(world, "tunnel_port_missing", f"{vm.host}/{peer.name}")
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    port = vedge_port_id(vm.host, "br-tun", names.ovs_tunnel_port_name("vxlan", str(peer.tunnel_ip)))
    result = rca(neo4j_driver, env_name, fault.down)
    suspect = next((s for s in result.suspects if s.id == port), None)
    # a tunnel port has no network: it counts for the VMs on its host
    assert suspect is not None and suspect.type == "vedge_port", result.rows()[:5]
    assert any(e.startswith("removed recently") for e in suspect.evidence) and suspect.shared_by >= 1
    assert result.top(3).count(fault.root_cause) == 1, result.rows()[:3]
