import pytest

from lab import changes
from lab.generate import generate_world
from lab.truth import compute_truth
from lab.world import World, WorldError


def world() -> World:
    return generate_world(3, 2, 2, "ovs", "vxlan", seed=21)


def still_valid(w: World) -> None:
    World.model_validate(w.model_dump())  # the cross-reference checks run again


def test_boot_vm_adds_vm_port_and_truth_and_publishes_port_then_instance_events() -> None:
    w = world()
    events = changes.boot_vm(w, "new-vm", "compute-2", "net-1")
    still_valid(w)
    vm = next(i for i in w.instances if i.name == "new-vm")
    port = w.port(vm.port_ids[0])
    assert port.binding_host == "compute-2" and port.device_id == vm.id
    assert [e.event_type for e in events] == ["port.create.end", "compute.instance.create.end"]
    assert events[1].service == "nova" and events[1].publisher == "compute.compute-2"
    truth = compute_truth(w)
    assert ("instance-vnic", vm.id, f"compute-2/{port.mac_address}") in truth.links
    taken = [f.ip_address for p in w.ports for f in p.fixed_ips if f.subnet_id == port.fixed_ips[0].subnet_id]
    assert len(taken) == len(set(taken))


def test_delete_vm_removes_it_and_its_ports() -> None:
    w = world()
    vm = w.instances[0]
    events = changes.delete_vm(w, vm.name)
    still_valid(w)
    assert vm.id not in {i.id for i in w.instances}
    assert not [p for p in w.ports if p.device_id == vm.id]
    assert [e.event_type for e in events] == ["compute.instance.delete.end", "port.delete.end"]


def test_rename_keeps_the_id() -> None:
    w = world()
    vm_id = w.instances[0].id
    changes.rename_vm(w, vm_id, "renamed")
    assert next(i for i in w.instances if i.id == vm_id).name == "renamed"
    assert compute_truth(w).objects[vm_id].name == "renamed"


def test_network_with_dhcp_then_dhcp_off_then_delete() -> None:
    w = world()
    events = changes.add_network(w, "net-new", "10.99.0.0/24")
    still_valid(w)
    net = next(n for n in w.networks if n.name == "net-new")
    assert [e.event_type for e in events] == ["network.create.end", "subnet.create.end", "port.create.end"]
    assert [p.device_owner for p in w.ports if p.network_id == net.id] == ["network:dhcp"]
    off = changes.set_subnet_dhcp(w, net.subnets[0].id, False)
    assert [e.event_type for e in off] == ["subnet.update.end", "port.delete.end"]
    assert not [p for p in w.ports if p.network_id == net.id]
    changes.delete_network(w, net.id)
    still_valid(w)
    assert net.id not in {n.id for n in w.networks}


def test_a_network_in_use_cannot_be_deleted() -> None:
    w = world()
    with pytest.raises(WorldError, match="still has"):
        changes.delete_network(w, "net-1")


def test_router_interface_and_gateway() -> None:
    w = world()
    changes.add_network(w, "net-new", "10.99.0.0/24")
    router = w.routers[0]
    events = changes.add_router_interface(w, router.id, "net-new")
    assert [e.event_type for e in events] == ["port.create.end", "router.interface.create"]
    with pytest.raises(WorldError, match="already has an interface"):
        changes.add_router_interface(w, router.id, "net-new")
    changes.remove_router_interface(w, router.id, "net-new")
    removed = changes.set_router_gateway(w, router.id, None)
    assert router.gateway_network_id is None
    assert [e.event_type for e in removed] == ["port.delete.end", "router.update.end"]
    changes.set_router_gateway(w, router.id, "public")
    still_valid(w)
    assert router.gateway_network_id == next(n.id for n in w.networks if n.name == "public")


@pytest.mark.parametrize(("call", "message"), [
    (lambda w: changes.boot_vm(w, "x", "nohost", "net-1"), "unknown host"),
    (lambda w: changes.boot_vm(w, "x", "compute-1", "nonet"), "unknown network"),
    (lambda w: changes.delete_vm(w, "ghost"), "unknown VM"),
    (lambda w: changes.add_subnet(w, "net-1", "s", "10.0.0.999/24"), "not a CIDR"),
    (lambda w: changes.set_router_gateway(w, w.routers[0].id, "net-1"), "is not external"),
])
def test_bad_changes_are_refused_with_the_reason(call, message: str) -> None:  # type: ignore[no-untyped-def]
    w = world()
    before = w.model_copy(deep=True)
    with pytest.raises(WorldError, match=message):
        call(w)
    assert w == before
