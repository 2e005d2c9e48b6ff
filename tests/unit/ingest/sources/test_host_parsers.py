"""The host parsers on real tool output (tests/fixtures/real, the shared VPP recordings) and on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.sources.host import parsers
from ingest.sources.host.parsers import ParseError

REAL = Path(__file__).resolve().parents[3] / "fixtures" / "real"
VPP = Path(__file__).resolve().parents[4].parent / "shared" / "fixtures" / "reference" / "vpp"


def real(name: str) -> str:
    return (REAL / name).read_text()


def test_ip_link_json_gives_kinds_masters_peers_and_vxlan() -> None:
    devices = {d.name: d for d in parsers.parse_ip_link_json(real("ip-d-j-link.json"))}
    assert devices["lo"].kind == "loopback"
    assert devices["brq1"].kind == "bridge"
    assert devices["tap1"].kind == "veth" and devices["tap1"].master == "brq1"
    vxlan = devices["vxlan-1001"]
    assert (vxlan.kind, vxlan.vxlan_id, vxlan.vxlan_local, vxlan.vxlan_port, vxlan.master) == (
        "vxlan", 1001, "192.168.50.11", 8472, "brq1")
    assert devices["eth9"].carrier is True and devices["eth9"].mtu == 1500
    assert all(d.mac for n, d in devices.items() if n != "lo")


def test_ip_link_json_in_a_namespace_names_it() -> None:
    devices = parsers.parse_ip_link_json(real("ip-d-j-link-namespace.json"), namespace="calfix2")
    ns1 = next(d for d in devices if d.name == "ns-1")
    assert ns1.namespace == "calfix2" and ns1.kind == "veth"


def test_ip_addr_json_gives_global_addresses_only() -> None:
    addresses = parsers.parse_ip_addr_json(real("ip-j-addr.json"))
    assert addresses["eth9"] == ["192.168.50.11/24"]
    assert addresses["lo"] == ["127.0.0.1/8", "::1/128"]
    assert addresses["tap1"] == []  # link-local only


def test_netns_list_with_and_without_ids() -> None:
    assert sorted(parsers.parse_netns_list(real("ip-netns-list.txt"))) == ["calfix", "calfix2"]
    assert parsers.parse_netns_list("qdhcp-1 (id: 0)\nqrouter-2 (id: 1)\n") == ["qdhcp-1", "qrouter-2"]


def test_vpp_recordings_parse_unchanged() -> None:
    show_int = parsers.parse_vpp_show_int((VPP / "vppctl-show-int.txt").read_text())
    assert show_int["TenGigabitEthernetc/0/0"] == (5, True)
    assert show_int["VirtualEthernet0/0/0"] == (7, True) and show_int["local0"] == (0, False)
    mode = parsers.parse_vpp_show_mode((VPP / "vppctl-show-mode.txt").read_text())
    assert mode["VirtualEthernet0/0/3"] == 5678 and mode["local0"] is None
    hardware = parsers.parse_vpp_hardware((VPP / "vppctl-show-hardware-interfaces.txt").read_text())
    assert hardware["TenGigabitEthernetc/0/0"] == ("00:25:b5:99:00:5c", True)
    merged = {v.name: v for v in parsers.vpp_interfaces(show_int, mode, hardware)}
    assert merged["TenGigabitEthernetc/0/0"].bridge_domain == 5678


def test_ovsdb_atoms_are_decoded() -> None:
    table = json.dumps({"headings": ["_uuid", "name", "external_ids", "tag", "options"],
                        "data": [[["uuid", "u1"], "qvo1", ["map", [["iface-id", "p1"]]], ["set", []],
                                  ["map", [["remote_ip", "10.0.0.2"]]]]]})
    row = parsers.parse_ovsdb_table(table, "Interface")[0]
    assert row == {"_uuid": "u1", "name": "qvo1", "external_ids": {"iface-id": "p1"}, "tag": [],
                   "options": {"remote_ip": "10.0.0.2"}}


@pytest.mark.parametrize(("call", "command"), [
    (lambda: parsers.parse_ip_link_json('[{"ifname": "eth0", '), "ip -d -j link"),
    (lambda: parsers.parse_ip_link_json("<html>502 Bad Gateway</html>"), "ip -d -j link"),
    (lambda: parsers.parse_ip_addr_json('{"not": "a list"}'), "ip -j addr"),
    (lambda: parsers.parse_ovsdb_table("[1, 2]", "Port"), "ovs-vsctl --format=json list Port"),
    (lambda: parsers.parse_virsh_list("error: failed to connect to the hypervisor"), "virsh list --all"),
    (lambda: parsers.parse_virsh_dumpxml("<domain><name>x", "running"), "virsh dumpxml"),
    (lambda: parsers.parse_ethtool_link("No such device", "eth7"), "ethtool eth7"),
    (lambda: parsers.parse_bonding("cat: no such file", "bond0"), "cat /proc/net/bonding/bond0"),
    (lambda: parsers.parse_vpp_show_mode("garbage line"), "vppctl show mode"),
    (lambda: parsers.parse_sys_class_net("eth0 eth1"), "ls -l /sys/class/net"),
    (lambda: parsers.parse_netns_list("two words here"), "ip netns list"),
])
def test_malformed_output_raises_a_parse_error_naming_the_command(call, command: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ParseError) as error:
        call()
    assert f"`{command}`" in str(error.value)
    assert len(error.value.excerpt) <= 200
