"""/sys/class/net, /proc/net/bonding and ethtool on simulated hosts."""

from __future__ import annotations

import re

from lab.faults import inject_fault
from lab.generate import generate_world
from lab.hostmodel import LabHosts
from lab.hosts import LabResponder

# ethtool 6.1, run as root on a name no device has (recorded on Debian 12).
REAL_ETHTOOL_NO_DEVICE = ("netlink error: no device matches name (offset 24)\n"
                          "netlink error: No such device\n") * 5


def ok(answer: LabResponder, host: str, command: str) -> str:
    status, out, err = answer(host, command)
    assert (status, err) == (0, ""), err
    return out


def test_ls_sys_class_net_tells_physical_from_virtual() -> None:
    world = generate_world(3, 2, 2, "ovs", "vlan", seed=31)
    answer = LabResponder(world)
    text = ok(answer, "controller-1", "ls -l /sys/class/net")
    lines = text.splitlines()
    assert lines[0] == "total 0"
    links = {}
    for line in lines[1:]:
        match = re.fullmatch(r"lrwxrwxrwx 1 root root 0 \w{3} [ \d]\d \d\d:\d\d (\S+) -> (\S+)", line)
        if match:
            links[match.group(1)] = match.group(2)
        else:
            assert re.fullmatch(r"-rw-r--r-- 1 root root 4096 \w{3} [ \d]\d \d\d:\d\d bonding_masters", line)
    nics = {n.name for n in world.host("controller-1").nics}
    for name, target in links.items():
        if name in nics:
            assert re.fullmatch(rf"\.\./\.\./devices/pci0000:00/0000:00:[0-9a-f]{{2}}\.0/0000:[0-9a-f]{{2}}:00\.\d/"
                                rf"net/{name}", target)
        else:
            assert target == f"../../devices/virtual/net/{name}"
    assert list(links) == sorted(links) and {"bond0", "br-int", "ovs-system", "lo"} <= set(links)
    assert ok(answer, "controller-1", "ls /sys/class/net").split() == sorted([*links, "bonding_masters"])


def test_cat_attributes_follow_the_device_state() -> None:
    world = generate_world(3, 1, 2, "ovs", "vxlan", seed=32)
    answer = LabResponder(world)
    nic = world.host("compute-1").nics[1]
    assert ok(answer, "compute-1", f"cat /sys/class/net/{nic.name}/carrier") == "1\n"
    assert ok(answer, "compute-1", f"cat /sys/class/net/{nic.name}/operstate") == "up\n"
    assert ok(answer, "compute-1", f"cat /sys/class/net/{nic.name}/address") == f"{nic.mac}\n"
    assert ok(answer, "compute-1", f"cat /sys/class/net/{nic.name}/mtu") == f"{nic.mtu}\n"
    assert ok(answer, "compute-1", f"cat /sys/class/net/{nic.name}/speed") == f"{nic.speed_mbps}\n"
    inject_fault(world, "nic_down", f"compute-1/{nic.name}")
    assert ok(answer, "compute-1", f"cat /sys/class/net/{nic.name}/carrier") == "0\n"
    assert ok(answer, "compute-1", f"cat /sys/class/net/{nic.name}/operstate") == "down\n"
    assert ok(answer, "compute-1", f"cat /sys/class/net/{nic.name}/speed") == "-1\n"
    # br-int is administratively down: the kernel refuses to report its carrier
    assert answer("compute-1", "cat /sys/class/net/br-int/carrier") == (
        1, "", "cat: /sys/class/net/br-int/carrier: Invalid argument\n")
    assert answer("compute-1", "cat /sys/class/net/nosuch/carrier") == (
        1, "", "cat: /sys/class/net/nosuch/carrier: No such file or directory\n")


def test_proc_net_bonding_active_backup_and_failover() -> None:
    world = generate_world(3, 1, 2, "lxb", "vlan", seed=33)
    answer = LabResponder(world)
    host = world.host("compute-1")
    members = [n for n in host.nics if n.bond == "bond0"]
    text = ok(answer, "compute-1", "cat /proc/net/bonding/bond0")
    assert text.splitlines()[:10] == [
        f"Ethernet Channel Bonding Driver: v{host.kernel}", "", "Bonding Mode: fault-tolerance (active-backup)",
        "Primary Slave: None", f"Currently Active Slave: {members[0].name}", "MII Status: up",
        "MII Polling Interval (ms): 100", "Up Delay (ms): 0", "Down Delay (ms): 0", "Peer Notification Delay (ms): 0"]
    blocks = text.split("\n\n")[2:]
    assert len(blocks) == len(members)
    for block, member in zip(blocks, members, strict=True):
        assert block.splitlines() == [f"Slave Interface: {member.name}", "MII Status: up", "Speed: 10000 Mbps",
                                      "Duplex: full", "Link Failure Count: 0", f"Permanent HW addr: {member.mac}",
                                      "Slave queue ID: 0"]
    inject_fault(world, "bond_member_down", f"compute-1/{members[0].name}")
    text = ok(answer, "compute-1", "cat /proc/net/bonding/bond0")
    assert f"Currently Active Slave: {members[1].name}\nMII Status: up\n" in text
    assert (f"Slave Interface: {members[0].name}\nMII Status: down\nSpeed: Unknown\nDuplex: unknown\n"
            "Link Failure Count: 1\n") in text
    inject_fault(world, "nic_down", f"compute-1/{members[1].name}")
    text = ok(answer, "compute-1", "cat /proc/net/bonding/bond0")
    assert "Currently Active Slave: None\nMII Status: down\n" in text
    assert answer("compute-1", "cat /proc/net/bonding/nosuch") == (
        1, "", "cat: /proc/net/bonding/nosuch: No such file or directory\n")


def test_ethtool_of_physical_nics_reports_speed_and_link() -> None:
    world = generate_world(3, 1, 2, "ovs", "vxlan", seed=34)
    answer = LabResponder(world)
    text = ok(answer, "compute-1", "ethtool eth1")
    lines = text.splitlines()
    assert lines[0] == "Settings for eth1:"
    assert "\tSpeed: 10000Mb/s" in lines and "\tDuplex: Full" in lines and lines[-1] == "\tLink detected: yes"
    assert all(line.startswith("\t") or line.startswith("        ") for line in lines[1:])
    management = ok(answer, "compute-1", "ethtool eth0")
    assert "\tSupported link modes:   10baseT/Half 10baseT/Full\n\t                        100baseT/Half " \
           "100baseT/Full\n\t                        1000baseT/Full\n" in management
    assert "\tSpeed: 1000Mb/s\n" in management
    inject_fault(world, "nic_down", "compute-1/eth1")
    down = ok(answer, "compute-1", "ethtool eth1")
    assert "\tSpeed: Unknown!\n\tDuplex: Unknown! (255)\n" in down and down.endswith("\tLink detected: no\n")
    bond = ok(answer, "compute-1", "ethtool bond0")
    assert "\tSpeed: 10000Mb/s\n" in bond and bond.endswith("\tLink detected: yes\n")  # eth2 took over


def test_ethtool_of_virtual_devices_and_of_nothing() -> None:
    world = generate_world(2, 1, 1, "ovs", "vxlan", seed=35)
    answer = LabResponder(world)
    state = LabHosts(world).get("compute-1")
    tap = next(i.name for i in state.interfaces if i.kind == "tap")
    text = ok(answer, "compute-1", f"ethtool {tap}")
    assert "\tPort: Twisted Pair\n\tPHYAD: 0\n\tTransceiver: internal\n\tMDI-X: Unknown\n" in text
    assert "        Current message level: 0x00000000 (0)\n" + " " * 30 + "\n" in text
    assert ok(answer, "compute-1", "ethtool br-int") == "Settings for br-int:\n\tLink detected: no\n"
    assert answer("compute-1", "ethtool nosuch") == (75, "No data available\n", REAL_ETHTOOL_NO_DEVICE)
    driver = ok(answer, "compute-1", "ethtool -i eth1")
    assert driver.splitlines()[0] == "driver: ixgbe" and "bus-info: 0000:05:00.0\n" in driver
