"""virsh on simulated compute hosts: list tables, domain XML per VIF type, domstate, errors."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from lab.generate import generate_world
from lab.hosts import LabResponder
from lab.hosts.libvirt import table


def ok(answer: LabResponder, host: str, command: str) -> str:
    status, out, err = answer(host, command)
    assert (status, err) == (0, ""), err
    return out


def test_table_layout_is_vsh_tables() -> None:
    # virsh 9: " Id   Name       State" with a dash rule three wider per column, then the rows.
    assert table([["Id", "Name", "State"], ["1", "ubuntu22", "running"], ["-", "win10", "shut off"]]) == (
        " Id   Name       State\n"
        "---------------------------\n"
        " 1    ubuntu22   running\n"
        " -    win10      shut off\n")


def test_list_all_shows_running_domains_numbered_then_shut_off_ones() -> None:
    world = generate_world(2, 3, 1, "ovs", "vxlan", seed=41)
    world.instances[1].power_state = 4  # shut off
    answer = LabResponder(world)
    text = ok(answer, "compute-1", "virsh list --all")
    assert text.endswith("\n\n")  # virsh prints an empty line after each command
    lines = text.splitlines()
    assert lines[0] == " Id   Name                State"
    assert lines[1] == "-" * (5 + 20 + 11)
    assert lines[2:5] == [f" 1    {world.instances[0].libvirt_name}   running",
                          f" 2    {world.instances[2].libvirt_name}   running",
                          f" -    {world.instances[1].libvirt_name}   shut off"]
    running = ok(answer, "compute-1", "virsh list")
    assert world.instances[1].libvirt_name not in running
    assert ok(answer, "compute-1", "virsh list --all --name").splitlines() == \
        [world.instances[i].libvirt_name for i in (0, 2, 1)] + [""]
    assert ok(answer, "compute-1", f"virsh domstate {world.instances[1].libvirt_name}") == "shut off\n\n"
    assert ok(answer, "compute-1", f"virsh domstate {world.instances[0].id} --reason") == "running (booted)\n\n"


@pytest.mark.parametrize(("mechanism", "type_driver", "firewall", "interface_type"), [
    ("ovs", "vxlan", "hybrid", "bridge"), ("ovs", "vlan", "native", "bridge"), ("lxb", "vxlan", "hybrid", "bridge"),
    ("vpp", "vlan", "hybrid", "vhostuser"), ("sriov", "vlan", "hybrid", "hostdev"),
])
def test_dumpxml_describes_each_vif_type(mechanism: str, type_driver: str, firewall: str, interface_type: str) -> None:
    world = generate_world(2, 2, 1, mechanism, type_driver, seed=42, firewall=firewall)
    answer = LabResponder(world)
    instance = world.instances[0]
    port = world.port(instance.port_ids[0])
    network = world.network(port.network_id)
    text = ok(answer, instance.host, f"virsh dumpxml {instance.libvirt_name}")
    assert text.endswith("</domain>\n\n")
    assert ok(answer, instance.host, f"virsh dumpxml {instance.id}") == text  # by UUID too
    domain = ET.fromstring(text)
    assert domain.get("type") == "kvm" and domain.get("id") == "1"
    assert domain.findtext("name") == instance.libvirt_name and domain.findtext("uuid") == instance.id
    nova = {"nova": "http://openstack.org/xmlns/libvirt/nova/1.1"}
    assert domain.find("metadata/nova:instance/nova:name", nova).text == instance.name
    interfaces = domain.findall("devices/interface")
    assert len(interfaces) == 1
    interface = interfaces[0]
    assert interface.get("type") == interface_type
    assert interface.find("mac").get("address") == port.mac_address
    tap = "tap" + port.id[:11]
    if interface_type == "bridge":
        assert interface.find("target").get("dev") == tap
        assert interface.find("model").get("type") == "virtio"
        assert interface.find("mtu").get("size") == str(network.mtu)
        bridge = interface.find("source").get("bridge")
        if firewall == "native":
            assert bridge == "br-int"
            assert interface.find("virtualport").get("type") == "openvswitch"
            assert interface.find("virtualport/parameters").get("interfaceid") == port.id
        else:
            assert bridge == ("qbr" if mechanism == "ovs" else "brq") + (port.id if mechanism == "ovs"
                                                                         else network.id)[:11]
    elif interface_type == "vhostuser":
        source = interface.find("source")
        assert source.get("type") == "unix" and source.get("mode") == "server"
        assert re.fullmatch(r"/var/run/vpp/vhost-[0-9a-f-]{11}\.sock", source.get("path"))
    else:
        assert interface.find("vlan/tag").get("id") == str(network.segmentation_id)
        assert interface.find("source/address").get("bus") == "0x05"
        assert interface.find("mtu") is None
    iflist = ok(answer, instance.host, f"virsh domiflist {instance.libvirt_name}")
    assert iflist.splitlines()[0].split() == ["Interface", "Type", "Source", "Model", "MAC"]
    assert port.mac_address in iflist


def test_errors_and_hosts_without_libvirt() -> None:
    world = generate_world(2, 1, 1, "ovs", "vxlan", seed=43)
    answer = LabResponder(world)
    assert answer("compute-1", "virsh dumpxml nosuch") == (1, "", "error: failed to get domain 'nosuch'\n")
    assert answer("compute-1", "virsh domstate nosuch") == (1, "", "error: failed to get domain 'nosuch'\n")
    assert answer("controller-1", "virsh list --all") == (127, "", "bash: line 1: virsh: command not found\n")
    quiet = ok(answer, "compute-1", "virsh -q list --all")
    # without the header, the columns are only as wide as the cells (vsh-table.c skips row 0)
    assert quiet == f" 1   {world.instances[0].libvirt_name}   running\n"
