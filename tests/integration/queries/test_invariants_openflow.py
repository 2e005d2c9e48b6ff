"""OpenFlow invariants on scanned lab worlds (the simulated hosts answer `ovs-ofctl dump-flows` as the OVS
agent's tables would be): a port whose tag is not its network's local VLAN in the flows, a network that
floods to no tunnel of a peer hosting it, an asymmetric tunnel mesh. Each fault is found after a rescan,
blamed on the fault's root cause with the other side in the evidence, put first by RCA from the VMs it
breaks, and gone once cleared."""

from __future__ import annotations

import pytest
from conftest import scan_and_project

from lab.faults import clear_fault, inject_fault
from lab.generate import generate_world
from lab.world import World
from queries.invariants import invariants
from queries.rca import rca

KINDS = ["tag_mismatch", "no_flood_tunnel", "asymmetric_mesh"]


def lonely_vm_port(world: World) -> str:
    """A VM port that is its network's only port on its host (no majority of ports there tells its tag)."""
    for instance in world.instances:
        port = world.port(instance.port_ids[0])
        if sum(1 for p in world.ports if p.binding_host == port.binding_host and p.network_id == port.network_id) == 1:
            return port.id
    raise AssertionError("every VM shares its network with another port on its host")


def ours(driver, environment: str, hosts: list[str] | None = None) -> list:  # type: ignore[no-untyped-def, type-arg]
    return invariants(driver, environment, KINDS, hosts=hosts).violations


@pytest.mark.parametrize(("mechanism", "type_driver"), [("ovs", "vxlan"), ("ovs", "gre"), ("ovs", "vlan"),
                                                        ("lxb", "vxlan")])
def test_clean_worlds_break_none(mechanism: str, type_driver: str, mongo_db, neo4j_driver,  # type: ignore[no-untyped-def]
                                 env_name: str) -> None:
    world = generate_world(4, 2, 2, mechanism, type_driver, seed=41)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    assert ours(neo4j_driver, env_name) == []
    if mechanism == "ovs":  # the checks had something to read
        vedges = neo4j_driver.execute_query("MATCH (e:Vedge {env: $env}) RETURN e.local_vlans AS v, "
                                            "e.flood_tunnels AS f", env=env_name).records
        assert vedges and all(r["v"] and r["v"] != "{}" for r in vedges)
        assert all(r["f"] for r in vedges) == (type_driver != "vlan")


def test_a_wrong_tag_is_blamed_on_the_port_with_the_flows_tag_as_evidence(mongo_db, neo4j_driver,  # type: ignore[no-untyped-def]
                                                                         env_name: str) -> None:
    world = generate_world(4, 2, 2, "ovs", "vxlan", seed=41)
    port = world.port(lonely_vm_port(world))
    fault = inject_fault(world, "vlan_tag_mismatch", port.id)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    [violation] = ours(neo4j_driver, env_name)
    assert violation.kind == "tag_mismatch" and fault.root_cause in violation.blamed
    assert f"{port.binding_host}/vedge-ovs" in violation.objects
    tags = neo4j_driver.execute_query(
        "MATCH (e:Vedge {env: $env, host: $host}) RETURN apoc.convert.fromJsonMap(e.local_vlans)[$net] AS tag",
        env=env_name, host=port.binding_host, net=port.network_id).records
    expected = tags[0]["tag"]
    assert f"carries local VLAN tag {expected + 1} " in violation.evidence
    assert violation.evidence.endswith(f"map network {port.network_id} to tag {expected}")
    assert rca(neo4j_driver, env_name, fault.down).top(1) == [fault.root_cause]
    clear_fault(world, "vlan_tag_mismatch", port.id)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    assert ours(neo4j_driver, env_name) == []


def test_a_missing_flood_flow_is_blamed_on_the_hosts_endpoint_naming_the_peers(  # type: ignore[no-untyped-def]
        mongo_db, neo4j_driver, env_name: str) -> None:
    world = generate_world(4, 2, 2, "ovs", "vxlan", seed=41)
    vm = world.instances[0]
    port = world.port(vm.port_ids[0])
    host, network = port.binding_host, world.network(port.network_id)
    peers = sorted({p.binding_host for p in world.ports if p.network_id == network.id} - {host})
    assert peers
    fault = inject_fault(world, "flood_flow_missing", f"{host}/{network.id}")
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    [violation] = ours(neo4j_driver, env_name)
    assert violation.kind == "no_flood_tunnel" and violation.blamed == [fault.root_cause] == [f"{host}/otep-vxlan"]
    assert network.id in violation.objects and violation.host == host
    tunnel_ips = {h.name: h.tunnel_ip for h in world.hosts}
    assert "floods to no tunnel" in violation.evidence
    assert all(f"{peer} ({tunnel_ips[peer]})" in violation.evidence for peer in peers)
    # scoped to hosts: the host sees it, a peer does not
    assert ours(neo4j_driver, env_name, [host]) == [violation]
    assert ours(neo4j_driver, env_name, [peers[0]]) == []
    assert rca(neo4j_driver, env_name, fault.down).top(1) == [fault.root_cause]
    clear_fault(world, "flood_flow_missing", fault.target)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    assert ours(neo4j_driver, env_name) == []


def test_a_one_way_tunnel_is_blamed_on_the_side_without_it(mongo_db, neo4j_driver,  # type: ignore[no-untyped-def]
                                                           env_name: str) -> None:
    world = generate_world(4, 2, 2, "ovs", "vxlan", seed=41)
    vm = world.instances[0]
    b = vm.host
    network = world.port(vm.port_ids[0]).network_id
    a = next(p.binding_host for p in world.ports if p.network_id == network and p.binding_host != b)
    fault = inject_fault(world, "tunnel_port_missing", f"{b}/{a}")
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    found = ours(neo4j_driver, env_name)
    [mesh] = [v for v in found if v.kind == "asymmetric_mesh"]
    # the invariants blame the endpoint without a tunnel back; RCA names the deleted tunnel port (the removal)
    assert mesh.blamed == [f"{b}/otep-vxlan"] and f"{a}/otep-vxlan" in mesh.objects
    assert fault.root_cause.startswith(f"{b}/br-tun/vxlan-")
    a_ip = next(h.tunnel_ip for h in world.hosts if h.name == a)
    assert mesh.evidence.startswith(f"{a} ({a_ip}) tunnels to {b} ") and mesh.evidence.endswith("has no tunnel back")
    # b's networks shared with a no longer flood to a either: the same endpoint to blame
    floods = [v for v in found if v.kind == "no_flood_tunnel"]
    assert floods and all(v.blamed == [f"{b}/otep-vxlan"] and f"{a} ({a_ip})" in v.evidence for v in floods)
    assert {v.kind for v in found} == {"asymmetric_mesh", "no_flood_tunnel"}
    assert ours(neo4j_driver, env_name, [a]) == []
    focal = [vm.id]
    # scanned only with the fault in place, the port was never seen removed: the endpoint breaking the rule is first
    assert rca(neo4j_driver, env_name, focal).top(1) == [f"{b}/otep-vxlan"]
    clear_fault(world, "tunnel_port_missing", fault.target)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    assert ours(neo4j_driver, env_name) == []
