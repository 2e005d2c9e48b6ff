"""VPP parsers on the recordings of a real VPP 16.09 (tests/fixtures/reference/vpp), unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.sources.host.parsers.errors import ParseError
from ingest.sources.host.parsers.vpp import parse_vpp_hardware, parse_vpp_show_int, parse_vpp_show_mode, vpp_interfaces

# Recordings of a real VPP 16.09 (tests/fixtures/reference/README.md says where from)
VPP = Path(__file__).resolve().parents[5] / "fixtures" / "reference" / "vpp"


def recorded(name: str) -> str:
    return (VPP / name).read_text()


def test_show_int_skips_counter_lines() -> None:
    interfaces = parse_vpp_show_int(recorded("vppctl-show-int.txt"))
    assert [(i.name, i.index, i.admin_up) for i in interfaces] == [
        ("TenGigabitEthernetc/0/0", 5, True), ("VirtualEthernet0/0/0", 7, True),
        ("local0", 0, False), ("pg/stream-0", 1, False)]


def test_show_int_of_a_later_release_with_an_mtu_column() -> None:
    text = ("              Name               Idx    State  MTU (L3/IP4/IP6/MPLS)     Counter          Count     \n"
            "GigabitEthernet0/8/0              1      up          9000/0/0/0     rx packets                    42\n"
            "local0                            0     down          0/0/0/0       \n")
    assert [(i.name, i.index, i.admin_up) for i in parse_vpp_show_int(text)] == [
        ("GigabitEthernet0/8/0", 1, True), ("local0", 0, False)]


def test_show_mode_bridge_domains() -> None:
    modes = parse_vpp_show_mode(recorded("vppctl-show-mode.txt"))
    assert len(modes) == 16
    bridged = [m for m in modes if m.mode == "l2 bridge"]
    assert {m.bd_id for m in bridged} == {5678}
    assert [m.interface for m in bridged][:2] == ["TenGigabitEthernetc/0/0", "VirtualEthernet0/0/0"]
    assert [m.interface for m in modes if m.mode == "l3"][:2] == ["local0", "pg/stream-0"]
    more = parse_vpp_show_mode("l2 bridge loop0 bd_id 10 bvi shg 0\nl2 xconnect GigabitEthernet0/8/0 VirtualEthernet0/0/1\n")
    assert (more[0].bvi, more[1].mode, more[1].peer) == (True, "l2 xconnect", "VirtualEthernet0/0/1")


def test_show_hardware_interfaces() -> None:
    (nic,) = parse_vpp_hardware(recorded("vppctl-show-hardware-interfaces.txt"))
    assert (nic.name, nic.index, nic.link_up, nic.mac, nic.carrier_up, nic.duplex, nic.speed, nic.mtu) == (
        "TenGigabitEthernetc/0/0", 5, True, "00:25:b5:99:00:5c", True, "full", 40000, 1500)
    assert nic.description == "Cisco VIC"


def test_show_hardware_of_a_later_release() -> None:
    text = ("              Name                Idx   Link  Hardware\n"
            "GigabitEthernet0/8/0               1    down  GigabitEthernet0/8/0\n"
            "  Link speed: 10 Gbps\n  Ethernet address 08:00:27:aa:bb:cc\n  Intel 82540EM (e1000)\n"
            "    carrier down \n    flags: admin-up pmd maybe-multiseg\n")
    (nic,) = parse_vpp_hardware(text)
    assert (nic.link_up, nic.speed, nic.mac, nic.carrier_up, nic.description) == (
        False, 10000, "08:00:27:aa:bb:cc", False, "Intel 82540EM (e1000)")


def test_empty_tables() -> None:
    assert parse_vpp_show_int("") == [] and parse_vpp_show_mode("") == [] and parse_vpp_hardware("") == []


HTML = "<html><body>Bad Gateway</body></html>"


@pytest.mark.parametrize(("parse", "command", "text"), [
    (parse_vpp_show_int, "vppctl show int", HTML),
    (parse_vpp_show_int, "vppctl show int", recorded("vppctl-show-mode.txt")),
    (parse_vpp_show_int, "vppctl show int", recorded("vppctl-show-hardware-interfaces.txt")),
    (parse_vpp_show_mode, "vppctl show mode", HTML),
    (parse_vpp_show_mode, "vppctl show mode", recorded("vppctl-show-int.txt")),
    (parse_vpp_hardware, "vppctl show hardware-interfaces", HTML),
    (parse_vpp_hardware, "vppctl show hardware-interfaces", recorded("vppctl-show-int.txt")),
    (parse_vpp_hardware, "vppctl show hardware-interfaces",
     recorded("vppctl-show-hardware-interfaces.txt").replace("speed 40000", "speed fast")),
])
def test_malformed_input_raises_parse_error_naming_the_command(parse, command: str, text: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert f"`{command}`" in str(caught.value)


def test_vpp_interfaces_join_the_three_tables() -> None:
    merged = vpp_interfaces(parse_vpp_show_int(recorded("vppctl-show-int.txt")),
                            parse_vpp_show_mode(recorded("vppctl-show-mode.txt")),
                            parse_vpp_hardware(recorded("vppctl-show-hardware-interfaces.txt")))
    assert [v.index for v in merged] == sorted(v.index for v in merged)
    by_name = {v.name: v for v in merged}
    nic = by_name["TenGigabitEthernetc/0/0"]
    assert (nic.index, nic.up, nic.mac, nic.bridge_domain, nic.link_up) == (5, True, "00:25:b5:99:00:5c", 5678, True)
    vhost = by_name["VirtualEthernet0/0/0"]  # a vhost-user port: no hardware row
    assert (vhost.index, vhost.bridge_domain, vhost.mac, vhost.link_up) == (7, 5678, None, None)
    assert (by_name["local0"].up, by_name["local0"].bridge_domain) == (False, None)
