"""iproute2 parsers on real captures (tests/fixtures/real/iproute2) and recorded samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.sources.host.parsers.errors import ParseError
from ingest.sources.host.parsers.iproute import (
    Link,
    global_addresses,
    interface_fact,
    parse_ip_addr_json,
    parse_ip_addr_text,
    parse_ip_link_json,
    parse_ip_link_text,
    parse_netns_list,
)

FIXTURES = Path(__file__).resolve().parents[5] / "fixtures" / "real" / "iproute2"


def real(name: str) -> str:
    return (FIXTURES / name).read_text()


def by_name(links: list[Link]) -> dict[str, Link]:
    return {link.name: link for link in links}


# -- ip -d -j link (live capture of the calfix namespace) --------------------------------------------

def test_json_link_kinds_states_and_masters() -> None:
    links = by_name(parse_ip_link_json(real("ip-d-j-link.json")))
    assert links["lo"].kind == "loopback"
    assert links["brqcalfix"].kind == "bridge" and links["brqempty"].kind == "bridge"
    assert links["tapcalfix0"].kind == "tun" and links["tapcalfix0"].tun_type == "tap"
    assert links["macv0"].kind == "macvlan" and links["macv0"].link == "eth9"
    assert links["ifb9"].kind == "ifb"
    # a tap nobody reads has no carrier but is administratively up
    tap = links["tapcalfix0"]
    assert (tap.admin_up, tap.carrier, tap.oper_state, tap.master) == (True, False, "DOWN", "brqcalfix")
    assert links["ifb9"].admin_up is False
    assert links["eth9"].mtu == 1550 and links["eth9"].mac == "82:b1:f6:68:c9:b6"
    assert links["eth9"].ifindex == 11


def test_json_veth_peers_in_the_same_and_in_another_namespace() -> None:
    links = by_name(parse_ip_link_json(real("ip-d-j-link.json")))
    assert (links["qvbcalfix"].peer, links["qvocalfix"].peer) == ("qvocalfix", "qvbcalfix")
    # the peer of tapns0 lives in namespace calfix2: only its index and the nsid are known
    tapns0 = links["tapns0"]
    assert (tapns0.peer, tapns0.peer_index, tapns0.link_netnsid) == (None, 2, 0)
    peer = by_name(parse_ip_link_json(real("ip-d-j-link-calfix2.json")))["ns-calfix"]
    assert (peer.kind, peer.peer_index, peer.ifindex) == ("veth", 8, 2)
    assert peer.peer is None and links["macv0"].peer is None  # only veths have peers


def test_json_vxlan_and_bridge_ports() -> None:
    links = by_name(parse_ip_link_json(real("ip-details-json-link-show.json")))
    vxlan = links["vxlan-1001"]
    assert vxlan.vxlan is not None
    assert (vxlan.vxlan.id, vxlan.vxlan.local, vxlan.vxlan.port, vxlan.vxlan.link) == (1001, "192.168.50.11", 8472, "eth9")
    assert vxlan.slave_kind == "bridge" and vxlan.master == "brqcalfix"
    assert vxlan.bridge_slave is not None and vxlan.bridge_slave.state == "forwarding"
    assert links["tapcalfix0"].bridge_slave is not None and links["tapcalfix0"].bridge_slave.state == "disabled"
    assert [link.bridge_slave.port_no for link in links.values() if link.bridge_slave] == [1, 2, 3, 4]


def test_json_sample_sriov_bond_and_vlan() -> None:
    links = by_name(parse_ip_link_json(real("sample-ip-d-j-link-sriov-bond-vlan.json")))
    pf = links["ens785f0"]
    assert (pf.kind, pf.parent_dev, pf.slave_kind, pf.master) == ("physical", "0000:05:00.0", "openvswitch", "ovs-system")
    assert [vf.number for vf in pf.vfs] == [0, 1, 2, 3]
    vf3 = pf.vfs[3]
    assert (vf3.mac, vf3.vlan, vf3.link_state, vf3.spoofchk, vf3.trust) == ("fa:16:3e:00:a3:01", 1000, "auto", True, False)
    assert pf.vfs[0].vlan is None
    bond = links["bond0"]
    assert bond.bond is not None
    assert (bond.bond.mode, bond.bond.active_slave, bond.bond.miimon) == ("active-backup", "enp0s8", 100)
    backup = links["enp0s9"]
    assert backup.bond_slave is not None
    assert (backup.bond_slave.state, backup.bond_slave.perm_hwaddr) == ("BACKUP", "08:00:27:d8:e3:fa")
    assert backup.permanent_mac == "08:00:27:d8:e3:fa" and backup.mac == "08:00:27:86:2c:34"
    vlan = links["bond0.100"]
    assert vlan.vlan is not None
    assert (vlan.kind, vlan.vlan.id, vlan.vlan.protocol, vlan.link) == ("vlan", 100, "802.1Q", "bond0")


# -- ip -d link show / ip link show (text) -----------------------------------------------------------

def test_text_and_json_captures_agree() -> None:
    from_json = parse_ip_link_json(real("ip-d-j-link.json"))
    from_text = parse_ip_link_text(real("ip-d-link-show.txt"))
    assert [link.name for link in from_text] == [link.name for link in from_json]
    for text_link, json_link in zip(from_text, from_json, strict=True):
        # text names the peer namespace (link-netns calfix2) where JSON gives its nsid
        json_fields = vars(json_link) | {"link_netnsid": None, "link_netns": text_link.link_netns}
        assert vars(text_link) == json_fields, text_link.name
    assert by_name(from_text)["tapns0"].link_netns == "calfix2"


def test_plain_ip_link_show_has_names_macs_states_and_peers() -> None:
    links = by_name(parse_ip_link_text(real("ip-link-show.txt"), command="ip link show"))
    assert links["tapcalfix0"].carrier is False and links["tapcalfix0"].master == "brqcalfix"
    assert links["qvbcalfix"].link == "qvocalfix" and links["tapns0"].link_index == 2
    assert links["lo"].kind == "loopback" and links["brqcalfix"].kind is None  # no -d: no kinds


def test_text_sample_bond_vlan() -> None:
    links = by_name(parse_ip_link_text(real("sample-ip-d-link-show-bond-vlan.txt")))
    assert links["enp0s8"].kind == "physical" and links["enp0s8"].parent_dev == "0000:00:08.0"
    assert links["enp0s8"].bond_slave is not None and links["enp0s8"].bond_slave.state == "ACTIVE"
    assert links["bond0"].bond is not None and links["bond0"].bond.primary == "enp0s8"
    vlan = links["bond0.100"]
    assert vlan.vlan is not None and (vlan.vlan.id, vlan.link, vlan.master) == (100, "bond0", "brq5f3e2a1b-c4")
    assert vlan.bridge_slave is not None and vlan.bridge_slave.cost == 4


def test_text_sample_vf_lines_old_and_new_format() -> None:
    pf = parse_ip_link_text(real("sample-ip-d-link-show-sriov-pf.txt"))[0]
    assert pf.slave_kind == "openvswitch" and pf.master == "ovs-system"
    assert [(vf.number, vf.mac, vf.vlan) for vf in pf.vfs] == [
        (0, "52:54:00:36:57:e0", None), (1, "52:54:00:00:62:db", None),
        (2, "fa:16:3e:92:cf:12", None), (3, "fa:16:3e:00:a3:01", 1000)]
    assert all(vf.spoofchk and vf.link_state == "auto" and vf.trust is False for vf in pf.vfs)
    newer = parse_ip_link_text(real("sample-ip-link-show-vf-link-ether.txt"))[0]
    assert [(vf.number, vf.mac, vf.spoofchk) for vf in newer.vfs] == [(0, "fe:6c:b5:da:c7:7d", True)]


def test_text_sample_vfs_forced_down_and_up_without_spoof_checking() -> None:
    pf = parse_ip_link_text(real("sample-ip-link-show-vf-neutron-pci-lib.txt"), command="ip link show")[0]
    assert (pf.name, pf.carrier, pf.admin_up) == ("p7p1", False, False)
    assert [(vf.number, vf.mac, vf.vlan, vf.link_state, vf.spoofchk, vf.trust) for vf in pf.vfs] == [
        (0, "fa:16:3e:b4:81:ac", 4095, "disable", False, None), (1, "00:00:00:00:00:11", 4095, "enable", False, None),
        (2, "fa:16:3e:68:4e:79", 4095, "enable", False, None)]  # this iproute2 printed no trust
    fact = interface_fact(pf)
    assert [(vf.index, vf.link_state, vf.spoofchk, vf.trust, vf.vlan) for vf in fact.vfs][0] == (
        0, "disable", False, None, 4095)


# -- addresses ---------------------------------------------------------------------------------------

def test_addresses_json_and_text_agree() -> None:
    from_json = parse_ip_addr_json(real("ip-j-addr.json"))
    from_text = parse_ip_addr_text(real("ip-address-show.txt"))
    assert [(d.name, d.mac, [(a.cidr, a.family, a.scope) for a in d.addresses]) for d in from_json] == \
        [(d.name, d.mac, [(a.cidr, a.family, a.scope) for a in d.addresses]) for d in from_text]
    devices = {d.name: d for d in from_json}
    assert [(a.cidr, a.family, a.scope) for a in devices["brqcalfix"].addresses] == [
        ("10.10.0.1/24", "inet", "global"), ("fd00:10::1/64", "inet6", "global"),
        ("fe80::a4d6:41ff:feee:5eed/64", "inet6", "link")]
    assert devices["macv0"].addresses[0].label == "macv0"
    assert devices["tapcalfix0"].addresses == []
    text = {d.name: d for d in from_text}
    assert text["brqcalfix"].addresses[0].label == "brqcalfix"


def test_address_text_in_another_namespace() -> None:
    devices = {d.name: d for d in parse_ip_addr_text(real("ip-address-show-calfix2.txt"))}
    assert devices["ns-calfix"].mac == "22:71:c5:e4:25:0c"
    assert [a.cidr for a in devices["ns-calfix"].addresses] == ["10.10.0.2/24", "fe80::2071:c5ff:fee4:250c/64"]


def test_netns_list_with_and_without_ids() -> None:
    assert [(n.name, n.id) for n in parse_netns_list(real("ip-netns-list.txt"))] == [("calfix", None), ("calfix2", None)]
    assert [(n.name, n.id) for n in parse_netns_list(real("ip-netns-list-ids.txt"))] == [("calfix", 7), ("calfix2", None)]
    assert parse_netns_list("") == []


# -- empty and malformed input -----------------------------------------------------------------------

def test_empty_output_is_no_devices() -> None:
    assert parse_ip_link_json("") == [] and parse_ip_link_json("[]") == []
    assert parse_ip_addr_json("\n") == [] and parse_ip_link_text("") == [] and parse_ip_addr_text("") == []


HTML = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>\n"


@pytest.mark.parametrize(("parse", "command", "text"), [
    (parse_ip_link_json, "ip -d -j link", real("ip-d-j-link.json")[:700]),  # truncated JSON
    (parse_ip_link_json, "ip -d -j link", HTML),
    (parse_ip_link_json, "ip -d -j link", real("ip-d-link-show.txt")),  # the text form
    (parse_ip_link_json, "ip -d -j link", '{"ifname": "eth0"}'),  # an object, not a list
    (parse_ip_link_json, "ip -d -j link", '[{"ifindex": 1}]'),  # no ifname
    (parse_ip_link_json, "ip -d -j link", '[{"ifname": "eth0", "vfinfo_list": 5}]'),
    (parse_ip_addr_json, "ip -j addr", real("ip-j-addr.json")[:-40]),
    (parse_ip_addr_json, "ip -j addr", '[{"ifname": "eth0", "addr_info": [{"local": "10.0.0.1", "prefixlen": "x"}]}]'),
    (parse_ip_link_text, "ip -d link show", HTML),
    (parse_ip_link_text, "ip -d link show", real("ip-d-j-link.json")),
    (parse_ip_addr_text, "ip address show", "bridge name\tbridge id\t\tSTP enabled\tinterfaces\n"),
    (parse_netns_list, "ip netns list", HTML),
    (parse_netns_list, "ip netns list", real("ip-link-show.txt")),
])
def test_malformed_input_raises_parse_error_naming_the_command(parse, command: str, text: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert f"`{command}`" in str(caught.value)
    assert len(caught.value.excerpt) <= 200


# -- the scanner's facts -----------------------------------------------------------------------------

def test_interface_facts_from_json_and_text_agree() -> None:
    from_json = [interface_fact(link, "calfix") for link in parse_ip_link_json(real("ip-d-j-link.json"))]
    from_text = [interface_fact(link, "calfix") for link in parse_ip_link_text(real("ip-d-link-show.txt"))]
    assert from_json == from_text
    facts = {f.name: f for f in from_json}
    vxlan = facts["vxlan-1001"]
    assert (vxlan.kind, vxlan.vxlan_id, vxlan.vxlan_local, vxlan.vxlan_port, vxlan.master, vxlan.namespace) == (
        "vxlan", 1001, "192.168.50.11", 8472, "brqcalfix", "calfix")
    assert vxlan.vxlan_remotes == []  # no `remote`: its peers are in the forwarding database
    assert facts["qvbcalfix"].peer == "qvocalfix"
    assert facts["tapns0"].peer is None  # the peer is in another namespace, known by index only
    # carrier needs both: the tap nobody reads is up without carrier, ifb9 is down
    assert facts["tapcalfix0"].carrier is False and facts["ifb9"].carrier is False
    assert facts["eth9"].carrier is True and facts["eth9"].mtu == 1550


def test_interface_facts_of_a_pf_with_vfs_a_bond_and_a_vlan() -> None:
    facts = {link.name: interface_fact(link) for link in parse_ip_link_json(real("sample-ip-d-j-link-sriov-bond-vlan.json"))}
    pf = facts["ens785f0"]
    assert pf.kind is None and pf.master == "ovs-system"  # a plain device to the link finders
    assert [(vf.index, vf.mac, vf.vlan, vf.link_state) for vf in pf.vfs][3] == (3, "fa:16:3e:00:a3:01", 1000, "auto")
    assert pf.vfs[0].vlan is None
    vlan = facts["bond0.100"]
    assert (vlan.kind, vlan.vlan_id, vlan.parent) == ("vlan", 100, "bond0")
    assert facts["bond0"].kind == "bond" and facts["enp0s9"].master == "bond0"


def test_global_addresses_leave_out_link_local_ones() -> None:
    addresses = global_addresses(parse_ip_addr_json(real("ip-j-addr.json")))
    assert addresses["eth9"] == ["192.168.50.11/24"] and addresses["macv0"] == ["10.20.0.5/24"]
    assert addresses["brqcalfix"] == ["10.10.0.1/24", "fd00:10::1/64"]
    assert addresses["lo"] == ["127.0.0.1/8", "::1/128"]  # host scope is kept
    assert addresses["qvbcalfix"] == []  # fe80:: only
    assert global_addresses(parse_ip_addr_text(real("ip-address-show.txt"))) == addresses
