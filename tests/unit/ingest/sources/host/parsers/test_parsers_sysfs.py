"""/sys/class/net, ethtool and bonding parsers: real captures where this machine has them, samples otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.sources.host.parsers.errors import ParseError
from ingest.sources.host.parsers.sysfs import parse_bonding, parse_ethtool_link, parse_sys_class_net

FIXTURES = Path(__file__).resolve().parents[5] / "fixtures" / "real"


def real(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_sys_class_net_tells_hardware_from_virtual_devices() -> None:
    devices = {d.name: d for d in parse_sys_class_net(real("sysfs/ls-l-sys-class-net.txt"))}
    assert devices["eth0"].physical and devices["eth0"].pci_address == "0000:00:03.0"  # virtio on PCI
    assert not devices["lo"].physical and devices["lo"].pci_address is None
    assert not devices["ifb0"].physical
    namespace = parse_sys_class_net(real("sysfs/ls-l-sys-class-net-calfix.txt"))
    assert len(namespace) == 12 and not any(d.physical for d in namespace)
    recorded = parse_sys_class_net(real("sysfs/sample-ls-l-sys-class-net-opnfv-calipso.txt"))
    assert [(d.name, d.physical, d.pci_address) for d in recorded] == [
        ("eno16777728", True, "0000:02:00.0"), ("eno33554952", True, "0000:02:01.0")]


def test_sys_class_net_passes_over_the_bonding_control_file() -> None:
    text = real("sysfs/ls-l-sys-class-net.txt")
    with_bonding = text + "-rw-r--r-- 1 root root 4096 Nov 25 03:34 bonding_masters\n"
    assert parse_sys_class_net(with_bonding) == parse_sys_class_net(text)


def test_ethtool_on_virtual_devices_captured_here() -> None:
    veth = parse_ethtool_link(real("ethtool/ethtool-veth.txt"))
    assert (veth.interface, veth.speed, veth.duplex, veth.port, veth.auto_negotiation, veth.link_detected) == (
        "qvbcalfix", 10000, "full", "Twisted Pair", False, True)
    tap = parse_ethtool_link(real("ethtool/ethtool-tap.txt"))
    assert (tap.interface, tap.link_detected) == ("tapcalfix0", False)  # no process attached to the tap
    bridge = parse_ethtool_link(real("ethtool/ethtool-bridge.txt"))
    assert (bridge.duplex, bridge.port) == (None, "Other")  # "Duplex: Unknown! (255)"
    virtio = parse_ethtool_link(real("ethtool/ethtool-virtio.txt"))
    assert (virtio.speed, virtio.duplex, virtio.link_detected) == (None, None, True)  # "Speed: Unknown!"


def test_ethtool_on_physical_nics_samples() -> None:
    fibre = parse_ethtool_link(real("ethtool/sample-ethtool-ixgbe-10g.txt"))
    assert (fibre.interface, fibre.speed, fibre.duplex, fibre.port, fibre.auto_negotiation, fibre.link_detected) == (
        "eth4", 10000, "full", "FIBRE", True, True)
    assert fibre.supported_ports == ["FIBRE"] and fibre.transceiver == "external"
    copper = parse_ethtool_link(real("ethtool/sample-ethtool-tg3-1g-no-link-line.txt"))
    # run without privileges, ethtool leaves out "Link detected"
    assert (copper.speed, copper.port, copper.link_detected) == (1000, "Twisted Pair", None)


def test_ethtool_link_detected_with_reason_and_warnings_first() -> None:
    text = ("Cannot get wake-on-lan settings: Operation not permitted\nSettings for ens16f1np1:\n"
            "\tSpeed: Unknown!\n\tLink detected: no (Cable issue, Unsupported cable)\n")
    result = parse_ethtool_link(text, command="ethtool ens16f1np1")
    assert (result.interface, result.speed, result.link_detected) == ("ens16f1np1", None, False)


def test_bonding_active_backup() -> None:
    bond = parse_bonding(real("bonding/sample-proc-net-bonding-active-backup.txt"))
    assert (bond.mode, bond.primary, bond.active_slave, bond.mii_status, bond.mii_polling_ms) == (
        "active-backup", "eth1", "eth1", "up", 100)
    assert [(s.name, s.mii_status, s.speed, s.duplex, s.link_failure_count, s.permanent_hw_addr) for s in bond.slaves] == [
        ("eth1", "up", 1000, "full", 0, "08:00:27:99:e7:e7"), ("eth2", "up", 1000, "full", 0, "08:00:27:d1:fc:5b")]


def test_bonding_802_3ad_ignores_lacp_details() -> None:
    bond = parse_bonding(real("bonding/sample-proc-net-bonding-802.3ad.txt"))
    assert (bond.mode, bond.active_slave, bond.transmit_hash_policy) == ("802.3ad", None, "layer3+4")
    assert [(s.name, s.speed, s.link_failure_count, s.aggregator_id) for s in bond.slaves] == [
        ("eth0", 25000, 0, 1), ("eth1", 25000, 17, 1)]


def test_bonding_with_a_failed_slave() -> None:
    text = ("Ethernet Channel Bonding Driver: v3.7.1 (April 27, 2011)\n\nBonding Mode: load balancing (round-robin)\n"
            "MII Status: up\n\nSlave Interface: eno1\nMII Status: down\nSpeed: Unknown\nDuplex: Unknown\n"
            "Link Failure Count: 4\nPermanent HW addr: 2C:44:FD:80:5C:F8\n")
    bond = parse_bonding(text, command="cat /proc/net/bonding/bond0")
    (slave,) = bond.slaves
    assert (bond.mode, slave.mii_status, slave.speed, slave.duplex, slave.permanent_hw_addr) == (
        "balance-rr", "down", None, None, "2c:44:fd:80:5c:f8")


HTML = "<html><head><title>404</title></head><body>Not Found</body></html>"


@pytest.mark.parametrize(("parse", "command", "text"), [
    (parse_sys_class_net, "ls -l /sys/class/net", HTML),
    (parse_sys_class_net, "ls -l /sys/class/net", "ls: cannot access '/sys/class/net': No such file or directory"),
    (parse_sys_class_net, "ls -l /sys/class/net", real("ethtool/ethtool-veth.txt")),
    (parse_ethtool_link, "ethtool", ""),
    (parse_ethtool_link, "ethtool", HTML),
    (parse_ethtool_link, "ethtool", "netlink error: no device matches name (offset 24)\nnetlink error: No such device\n"),
    (parse_ethtool_link, "ethtool", real("bonding/sample-proc-net-bonding-active-backup.txt")),
    (parse_bonding, "cat /proc/net/bonding", ""),
    (parse_bonding, "cat /proc/net/bonding", HTML),
    (parse_bonding, "cat /proc/net/bonding", "cat: /proc/net/bonding/bond0: No such file or directory"),
    (parse_bonding, "cat /proc/net/bonding", real("ethtool/sample-ethtool-ixgbe-10g.txt")),
    (parse_bonding, "cat /proc/net/bonding", "Bonding Mode: quantum entanglement\n"),
    (parse_bonding, "cat /proc/net/bonding",
     "Bonding Mode: adaptive load balancing\nSlave Interface: eth0\nLink Failure Count: many\n"),
])
def test_malformed_input_raises_parse_error_naming_the_command(parse, command: str, text: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert f"`{command}`" in str(caught.value)
