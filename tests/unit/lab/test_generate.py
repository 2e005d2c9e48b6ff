import ipaddress

import pytest

from lab.generate import generate_world
from lab.world import VARIANTS


@pytest.mark.parametrize(("mechanism", "type_driver"), VARIANTS)
def test_every_variant_generates_a_consistent_world(mechanism: str, type_driver: str) -> None:
    networks = 1 if type_driver == "flat" else 3
    world = generate_world(4, 3, networks, mechanism, type_driver, seed=11)
    assert len(world.instances) == 3 * 3  # VMs only on the 3 compute hosts
    assert {i.host for i in world.instances} == {"compute-1", "compute-2", "compute-3"}
    macs = [p.mac_address for p in world.ports]
    assert len(macs) == len(set(macs))
    for port in world.ports:
        for fixed in port.fixed_ips:
            subnet = next(s for n in world.networks for s in n.subnets if s.id == fixed.subnet_id)
            assert ipaddress.ip_address(fixed.ip_address) in ipaddress.ip_network(subnet.cidr)
    ips = [(f.subnet_id, f.ip_address) for p in world.ports for f in p.fixed_ips]
    assert len(ips) == len(set(ips))
    dhcp = [p for p in world.ports if p.device_owner == "network:dhcp"]
    assert len(dhcp) == sum(1 for n in world.networks for s in n.subnets if s.enable_dhcp)
    assert all(p.binding_host == "controller-1" for p in dhcp)


def test_same_seed_same_world_other_seed_other_ids() -> None:
    assert generate_world(3, 2, 2, seed=4) == generate_world(3, 2, 2, seed=4)
    assert generate_world(3, 2, 2, seed=4).instances[0].id != generate_world(3, 2, 2, seed=5).instances[0].id


def test_large_worlds_get_subnets_big_enough() -> None:
    world = generate_world(101, 20, 2, "ovs", "vxlan", seed=1)
    assert len(world.instances) == 2000
    assert all(ipaddress.ip_network(s.cidr).num_addresses > 1000 for n in world.networks if not n.external
               for s in n.subnets)


@pytest.mark.parametrize(("arguments", "message"), [
    ({"hosts": 1}, "at least 2 hosts"),
    ({"type_driver": "flat", "networks": 2}, "exactly 1 tenant network"),
    ({"mechanism": "sriov", "type_driver": "vxlan"}, "SR-IOV worlds use VLAN"),
])
def test_impossible_worlds_are_refused(arguments: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate_world(**arguments)
