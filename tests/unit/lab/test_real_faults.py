"""The real lab's faults planned from the host model (lab/real/faults.py): which devices each kind fits,
the commands and their undoing, the expected root cause and the VMs a fault breaks. Nothing is built or
run here (a RealLab handle builds nothing until up()); tests/integration/lab/test_real_lab_scan.py
makes faults on a real lab."""

from __future__ import annotations

import pytest

from graphmodel import conventions as names
from lab.generate import generate_world
from lab.real import RealLab, real_lab_world
from lab.real.faults import (
    LOW_MTU,
    REAL_FAULT_KINDS,
    WRONG_TAG,
    RealFaultError,
    broken_vms,
    fault_targets,
    plan_fault,
)
from lab.truth import compute_truth


@pytest.fixture(scope="module")
def ovs() -> RealLab:
    return RealLab(real_lab_world(generate_world(3, 1, 2, "ovs", "vxlan", seed=5, firewall="hybrid")), "unit-ovs")


@pytest.fixture(scope="module")
def lxb() -> RealLab:
    return RealLab(real_lab_world(generate_world(3, 1, 2, "lxb", "vxlan", seed=5)), "unit-lxb")


def vm_port(lab: RealLab, host: str):  # type: ignore[no-untyped-def]
    return next(p for p in lab.world.ports if p.binding_host == host and p.device_owner.startswith("compute:"))


def test_every_kind_has_targets_in_an_ovs_or_a_linux_bridge_world(ovs: RealLab, lxb: RealLab) -> None:
    assert len(REAL_FAULT_KINDS) >= 12
    for kind in REAL_FAULT_KINDS:
        assert fault_targets(ovs, kind.name) or fault_targets(lxb, kind.name), kind.name
    assert "compute-1/eth1" in fault_targets(ovs, "nic_down")
    assert all("/qvo" in t or "/tap" in t for t in fault_targets(ovs, "ovs_port_deleted"))
    assert not fault_targets(lxb, "ovs_tag_changed")  # no Open vSwitch on a Linux bridge host


def test_commands_undo_and_root_causes_follow_the_model(ovs: RealLab) -> None:
    port = vm_port(ovs, "compute-1")
    qvo, qvb, qbr = names.qvo_name(port.id), names.qvb_name(port.id), names.qbr_name(port.id)
    tag = next(p.tag for b in ovs.model.get("compute-1").ovs_bridges for p in b.ports if p.name == qvo)

    fault = plan_fault(ovs, "ovs_tag_changed", f"compute-1/{qvo}")
    assert fault.commands == [f"ovs-vsctl set Port {qvo} tag={WRONG_TAG}"]
    assert fault.undo == [f"ovs-vsctl set Port {qvo} tag={tag}"]

    deleted = plan_fault(ovs, "ovs_port_deleted", f"compute-1/{qvo}")
    assert deleted.commands == [f"ovs-vsctl del-port br-int {qvo}"]
    assert deleted.undo[0].startswith(f"ovs-vsctl add-port br-int {qvo} tag={tag}")
    assert f"external_ids:iface-id={port.id}" in deleted.undo[0]

    nic = plan_fault(ovs, "mtu_lowered", "compute-1/eth1")
    mtu = next(i.mtu for i in ovs.model.get("compute-1").interfaces if i.name == "eth1")
    assert (nic.commands, nic.undo) == ([f"ip link set eth1 mtu {LOW_MTU}"], [f"ip link set eth1 mtu {mtu}"])
    assert nic.root_cause == "compute-1/eth1"

    known = set(compute_truth(ovs.world).objects)
    # the device's own object when the inventory has one, else the nearest that it has
    assert plan_fault(ovs, "tap_down", f"compute-1/{names.tap_name(port.id)}").root_cause == \
        f"compute-1/{port.mac_address}"
    assert plan_fault(ovs, "bridge_deleted", f"compute-1/{qbr}").root_cause == f"compute-1/{qbr}"
    assert plan_fault(ovs, "address_removed", "compute-1/eth1").root_cause == "compute-1/otep-vxlan"
    qvb_cause = plan_fault(ovs, "veth_down", f"compute-1/{qvb}", known).root_cause
    assert qvb_cause in known and qvb_cause in (f"compute-1/{qbr}/{qvb}", f"compute-1/br-int/{qvo}", f"compute-1/{qbr}")
    assert plan_fault(ovs, "veth_down", f"compute-1/{qvb}", known={f"compute-1/{qbr}"}).root_cause == \
        f"compute-1/{qbr}"


def test_the_vms_a_fault_breaks(ovs: RealLab, lxb: RealLab) -> None:
    port = vm_port(ovs, "compute-1")
    vm = next(i.id for i in ovs.world.instances if port.id in i.port_ids)
    assert broken_vms(ovs, f"compute-1/{names.tap_name(port.id)}") == [vm]
    assert broken_vms(ovs, "compute-1/eth1") == sorted(i.id for i in ovs.world.instances if i.host == "compute-1")
    assert broken_vms(ovs, "controller-1/eth1") == sorted(i.id for i in ovs.world.instances)  # no VM there
    lxb_port = vm_port(lxb, "compute-2")
    brq = names.brq_name(lxb_port.network_id)
    on_network = [i.id for i in lxb.world.instances if i.host == "compute-2" and lxb_port.id in i.port_ids]
    assert broken_vms(lxb, f"compute-2/{brq}") == on_network


def test_bad_targets_are_refused_with_the_reason(ovs: RealLab) -> None:
    with pytest.raises(RealFaultError, match="unknown real fault kind"):
        plan_fault(ovs, "unplug", "compute-1/eth1")
    with pytest.raises(RealFaultError, match="expected HOST/DEVICE"):
        plan_fault(ovs, "nic_down", "nosuch/eth1")
    with pytest.raises(RealFaultError, match="has no device"):
        plan_fault(ovs, "nic_down", "compute-1/eth9")
    with pytest.raises(RealFaultError, match="is not a host NIC"):
        plan_fault(ovs, "nic_down", "compute-1/br-int")


def test_a_native_tap_down_is_its_ovs_port_and_its_mtu_the_vnics() -> None:
    native = RealLab(real_lab_world(generate_world(3, 1, 2, "ovs", "vxlan", seed=5, firewall="native")), "unit-nat")
    port = vm_port(native, "compute-1")
    tap = names.tap_name(port.id)
    assert plan_fault(native, "tap_down", f"compute-1/{tap}").root_cause == f"compute-1/br-int/{tap}"
    assert plan_fault(native, "mtu_lowered", f"compute-1/{tap}").root_cause == f"compute-1/{port.mac_address}"
    # a router's port is an OVS internal port too, but its carrier is read in its namespace: the vNIC
    router_port = next(p for p in native.world.ports if p.device_owner == "network:router_interface")
    qr = names.router_interface_name(router_port.id)
    assert plan_fault(native, "service_port_down", f"{router_port.binding_host}/{qr}").root_cause == \
        f"{router_port.binding_host}/{router_port.mac_address}"


def test_a_flat_worlds_spare_nic_carries_no_network() -> None:
    flat = real_lab_world(generate_world(3, 1, 1, "lxb", "flat", seed=5))
    nics = {n.name: n for n in next(h for h in flat.hosts if h.name == "compute-1").nics}
    assert nics["eth1"].physical_network and nics["eth2"].physical_network is None
    assert broken_vms(RealLab(flat, "unit-flat"), "compute-1/eth2") == []


def test_a_nic_no_vm_traffic_crosses_breaks_no_vm(ovs: RealLab) -> None:
    assert broken_vms(ovs, "compute-1/eth0") == []  # management
    assert broken_vms(ovs, "compute-1/eth2") == []  # a spare NIC (the bond's other member)
    assert broken_vms(ovs, "compute-1/eth1")  # the tunnel's
    assert broken_vms(ovs, "compute-1/br-int") == []  # the switch's own port
