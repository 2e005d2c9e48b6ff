import pytest

from lab.faults import FAULT_KINDS, clear_fault, inject_fault
from lab.generate import generate_world
from lab.hostmodel import LabHosts
from lab.truth import compute_truth
from lab.world import WorldError


def vm_port(world, number: int = 0):  # type: ignore[no-untyped-def]
    return world.port(world.instances[number].port_ids[0])


def targets(world) -> dict[str, str]:  # type: ignore[no-untyped-def]
    compute = world.instances[0].host
    return {
        "nic_down": f"{compute}/eth1", "bond_member_down": f"{compute}/eth1", "ovs_port_down": vm_port(world).id,
        "ovs_port_missing": vm_port(world).id, "bridge_member_missing": vm_port(world).id,
        "tunnel_unreachable": compute, "agent_dead": world.agents[0].id,
        "dhcp_namespace_gone": world.networks[0].id, "vlan_tag_mismatch": vm_port(world).id,
        "mtu_mismatch": vm_port(world).id,
        "flood_flow_missing": f"{compute}/{vm_port(world).network_id}",
        "tunnel_port_missing": f"{compute}/{next(h.name for h in world.hosts if h.tunnel_ip and h.name != compute)}",
    }


@pytest.mark.parametrize("kind", [k.name for k in FAULT_KINDS])
def test_every_fault_changes_the_truth_and_clear_restores_the_world(kind: str) -> None:
    world = generate_world(3, 2, 2, "ovs", "vxlan", seed=9)
    pristine = world.model_copy(deep=True)
    before = compute_truth(world)
    fault = inject_fault(world, kind, targets(world)[kind])
    after = compute_truth(world)
    assert world.faults == [fault]
    assert fault.root_cause
    assert before.to_json() != after.to_json()
    clear_fault(world, kind, fault.target)
    assert world == pristine


def test_nic_down_of_a_bond_member_degrades_and_both_members_down_cuts() -> None:
    world = generate_world(3, 2, 2, "ovs", "vlan", seed=9)
    host = "compute-1"
    vms = sorted(i.id for i in world.instances if i.host == host)
    first = inject_fault(world, "bond_member_down", f"{host}/eth1")
    assert first.degraded == vms and first.down == []
    second = inject_fault(world, "nic_down", f"{host}/eth2")
    assert second.down == vms
    links = [l for l in compute_truth(world).links.values() if l.source_id == f"{host}/bond0"
             or l.target_id == f"{host}/bond0"]
    assert links and {l.state for l in links} == {"down"}


def test_port_faults_show_on_the_host() -> None:
    world = generate_world(3, 2, 2, "ovs", "vxlan", seed=9)
    port = vm_port(world)
    inject_fault(world, "ovs_port_down", port.id)
    state = LabHosts(world).get(port.binding_host)
    qvo = next(p for b in state.ovs_bridges for p in b.ports if p.name == f"qvo{port.id[:11]}")
    assert qvo.link_state == "down"


def test_tunnel_unreachable_removes_the_address_and_the_endpoint_link() -> None:
    world = generate_world(3, 2, 2, "lxb", "vxlan", seed=9)
    host = world.hosts[1]
    fault = inject_fault(world, "tunnel_unreachable", host.name)
    bond = LabHosts(world).get(host.name).interface("bond0")
    assert bond is not None and bond.addresses == []
    assert not [l for l in compute_truth(world).links.values() if l.source_id == fault.root_cause
                and l.link_type == "otep-host_pnic"]
    assert fault.down == sorted(i.id for i in world.instances if i.host == host.name)


@pytest.mark.parametrize(("kind", "target", "message"), [
    ("nic_down", "compute-1/eth9", "has no NIC 'eth9'"),
    ("nic_down", "nohost/eth1", "unknown host 'nohost'"),
    ("bond_member_down", "compute-1/eth0", "is not a bond member"),
    ("ovs_port_down", "not-a-port", "unknown port"),
    ("melt", "compute-1", "unknown fault kind 'melt'"),
])
def test_bad_targets_are_named(kind: str, target: str, message: str) -> None:
    world = generate_world(3, 2, 2, "ovs", "vxlan", seed=9)
    with pytest.raises(WorldError, match=message):
        inject_fault(world, kind, target)
    assert world.faults == []


def test_clearing_a_fault_that_is_not_there_is_an_error() -> None:
    world = generate_world(3, 2, 2, "ovs", "vxlan", seed=9)
    with pytest.raises(WorldError, match="no fault"):
        clear_fault(world, "nic_down", "compute-1/eth1")
