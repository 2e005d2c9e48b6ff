"""Open vSwitch parsers on real captures (private ovsdb-server + ovs-vswitchd, tests/fixtures/real/ovs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.sources.host.parsers.errors import ParseError
from ingest.sources.host.parsers.ovs import (
    decode_atom,
    dpctl_ports,
    dpif_ports,
    ovs_ports,
    ovs_ports_from_show,
    parse_ovs_dpctl_show,
    parse_ovs_dpif_show,
    parse_ovs_vsctl_show,
    parse_ovsdb_table,
)

FIXTURES = Path(__file__).resolve().parents[5] / "fixtures" / "real" / "ovs"


def real(name: str) -> str:
    return (FIXTURES / name).read_text()


# -- ovs-vsctl show --------------------------------------------------------------------------------

def test_show_bridges_ports_interfaces() -> None:
    show = parse_ovs_vsctl_show(real("ovs-vsctl-show.txt"))
    assert (show.uuid, show.ovs_version) == ("d3951996-760b-4fb5-8803-b56708c603c9", "3.1.0")
    bridges = {b.name: b for b in show.bridges}
    assert list(bridges) == ["br-int", "br-tun", "br-ex"]
    br_int = bridges["br-int"]
    assert (br_int.fail_mode, br_int.datapath_type) == ("secure", "netdev")
    assert [(c.target, c.is_connected) for c in br_int.controllers] == [("tcp:127.0.0.1:6633", True)]
    ports = {p.name: p for p in br_int.ports}
    assert ports["qvocalfix"].tag == 3 and ports["tap9f8e7d6c-5b"].tag == 4
    assert ports["int-br-ex"].trunks == [100, 200] and ports["int-br-ex"].tag is None
    assert ports["patch-tun"].interfaces[0].options == {"peer": "patch-int"}
    assert ports["tap9f8e7d6c-5b"].interfaces[0].type == "internal" and ports["qvocalfix"].interfaces[0].type == ""
    assert ports["qvo1a2b3c4d-5e"].interfaces[0].error == "could not open network device qvo1a2b3c4d-5e (No such device)"
    vxlan = {p.name: p for p in bridges["br-tun"].ports}["vxlan-c0a8320c"].interfaces[0]
    assert vxlan.type == "vxlan"
    assert vxlan.options == {"df_default": "true", "dst_port": "4789", "egress_pkt_mark": "0", "in_key": "flow",
                             "local_ip": "192.168.50.11", "out_key": "flow", "remote_ip": "192.168.50.12"}
    assert bridges["br-ex"].controllers == [] and bridges["br-ex"].fail_mode is None


def test_show_with_a_manager() -> None:
    text = real("ovs-vsctl-show.txt").replace(
        "    Bridge br-int", '    Manager "ptcp:6640:127.0.0.1"\n        is_connected: true\n    Bridge br-int', 1)
    show = parse_ovs_vsctl_show(text)
    assert [(m.target, m.is_connected) for m in show.managers] == [("ptcp:6640:127.0.0.1", True)]
    assert [b.name for b in show.bridges] == ["br-int", "br-tun", "br-ex"]


def test_show_without_vswitchd_and_old_quoted_names() -> None:
    bare = parse_ovs_vsctl_show(real("ovs-vsctl-show-no-vswitchd.txt"))
    assert bare.ovs_version is None and [p.tag for p in bare.bridges[0].ports] == [None, 1]
    old = parse_ovs_vsctl_show(real("sample-ovs-vsctl-show-opnfv-calipso.txt"))
    ports = old.bridges[0].ports
    assert [(p.name, p.tag, p.interfaces[0].name) for p in ports] == [
        ("qr-bb9b8340-72", 3, "qr-bb9b8340-72"), ("qr-8733cc5d-b3", 4, "qr-8733cc5d-b3")]


# -- ovs-vsctl --format=json list ------------------------------------------------------------------

def test_json_list_interface_decodes_atoms() -> None:
    rows = {r["name"]: r for r in parse_ovsdb_table(real("ovs-vsctl-format-json-list-Interface.json"), "Interface")}
    assert len(rows) == 12
    qvo = rows["qvocalfix"]
    assert qvo["ofport"] == 4 and qvo["type"] == "" and qvo["link_state"] == "up"
    assert qvo["external_ids"] == {"attached-mac": "fa:16:3e:44:55:66", "iface-id": "0d1e2f30-4152-4637-8899-aabbccddeeff",
                                   "iface-status": "active", "vm-uuid": "8c2f3e5a-1b2c-4d5e-8f90-abcdef012345"}
    assert rows["vxlan-c0a8320c"]["options"]["remote_ip"] == "192.168.50.12"
    assert rows["eth1"]["ofport"] == -1 and rows["eth1"]["error"].startswith("could not open")
    assert rows["br-int"]["ofport"] == 65534 and rows["br-int"]["mtu"] == 1500
    assert rows["eth1"]["mtu"] is None and rows["eth1"]["mac_in_use"] is None  # empty optional columns
    assert isinstance(rows["eth1"]["_uuid"], str) and len(rows["eth1"]["_uuid"]) == 36


def test_json_list_interface_before_vswitchd_has_no_ofport() -> None:
    rows = {r["name"]: r for r in parse_ovsdb_table(real("ovs-vsctl-format-json-list-Interface-no-vswitchd.json"),
                                                   "Interface")}
    assert rows["tap0a1b2c3d-4e"]["ofport"] is None
    assert rows["tap0a1b2c3d-4e"]["external_ids"] == {"iface-id": "0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9"}


def test_json_list_port_bridge_open_vswitch_controller() -> None:
    ports = {r["name"]: r for r in parse_ovsdb_table(real("ovs-vsctl-format-json-list-Port.json"), "Port")}
    assert ports["qvocalfix"]["tag"] == 3 and ports["eth1"]["tag"] is None
    assert ports["int-br-ex"]["trunks"] == [100, 200] and ports["eth1"]["trunks"] == []
    assert len(ports["eth1"]["interfaces"]) == 1  # a one-element set printed as a bare uuid, still a list
    bridges = {r["name"]: r for r in parse_ovsdb_table(real("ovs-vsctl-format-json-list-Bridge.json"), "Bridge")}
    assert len(bridges["br-tun"]["ports"]) == 3 and bridges["br-tun"]["fail_mode"] == "secure"
    assert len(bridges["br-int"]["controller"]) == 1 and bridges["br-ex"]["controller"] == []
    every_port = {p["_uuid"] for p in ports.values()}
    assert {u for b in bridges.values() for u in b["ports"]} == every_port
    (root,) = parse_ovsdb_table(real("ovs-vsctl-format-json-list-Open_vSwitch.json"), "Open_vSwitch")
    assert root["ovs_version"] == "3.1.0" and len(root["bridges"]) == 3
    controllers = parse_ovsdb_table(real("ovs-vsctl-format-json-list-Controller.json"), "Controller")
    assert [(c["target"], c["is_connected"], c["status"]["state"]) for c in controllers] == [
        ("tcp:127.0.0.1:6633", True, "ACTIVE")] * 2


def test_decode_atom() -> None:
    assert decode_atom(["uuid", "abc"]) == "abc" and decode_atom(["named-uuid", "row1"]) == "row1"
    assert decode_atom(["map", [["a", 1], ["b", ["uuid", "x"]]]]) == {"a": 1, "b": "x"}
    assert decode_atom(["set", []]) is None and decode_atom(["set", []], many=True) == []
    assert decode_atom(["set", [1, 2]]) == [1, 2] and decode_atom(7, many=True) == [7]
    with pytest.raises(ValueError):
        decode_atom(["bogus", 1])


# -- datapaths and flows ---------------------------------------------------------------------------

def test_dpctl_show_userspace_capture_and_kernel_samples() -> None:
    (netdev,) = parse_ovs_dpctl_show(real("ovs-appctl-dpctl-show.txt"), command="ovs-appctl dpctl/show")
    assert (netdev.type, netdev.name) == ("netdev", "ovs-netdev")
    ports = {p.name: p for p in netdev.ports}
    assert (ports["vxlan_sys_4789"].number, ports["vxlan_sys_4789"].type) == (1, "vxlan")
    assert ports["vxlan_sys_4789"].options == {"packet_type": "ptap"}
    assert ports["qvocalfix"].type is None and ports["br-int"].type == "tap"
    (kernel,) = parse_ovs_dpctl_show(real("sample-ovs-dpctl-show-kernel-ovs-3.3.txt"))
    assert (kernel.type, kernel.name, len(kernel.ports)) == ("system", "ovs-system", 11)
    assert {p.name: p.number for p in kernel.ports}["tap9113df4c-ca"] == 10
    (old,) = parse_ovs_dpctl_show(real("sample-ovs-dpctl-show-opnfv-calipso.txt"))  # tab-indented
    assert [(p.number, p.name, p.type) for p in old.ports] == [
        (0, "ovs-system", "internal"), (1, "qr-bb9b8340-72", "internal"), (2, "qr-8733cc5d-b3", "internal")]


def test_dpctl_show_without_kernel_module_is_a_parse_error() -> None:
    # on a userspace-datapath host ovs-dpctl prints only its log lines: that is not a datapath list
    with pytest.raises(ParseError, match="`ovs-dpctl show`"):
        parse_ovs_dpctl_show(real("ovs-dpctl-show-kernel-absent.txt"))


def test_dpif_show() -> None:
    (datapath,) = parse_ovs_dpif_show(real("ovs-appctl-dpif-show.txt"))
    assert (datapath.type, datapath.name) == ("netdev", "ovs-netdev")
    bridges = {b.name: {p.name: p for p in b.ports} for b in datapath.bridges}
    assert list(bridges) == ["br-ex", "br-int", "br-tun"]
    qvo = bridges["br-int"]["qvocalfix"]
    assert (qvo.ofport, qvo.dp_port, qvo.type) == (4, 6, "system")
    patch = bridges["br-int"]["patch-tun"]
    assert (patch.dp_port, patch.type, patch.options) == (None, "patch", {"peer": "patch-int"})
    vxlan = bridges["br-tun"]["vxlan-c0a8320c"]
    assert (vxlan.ofport, vxlan.dp_port, vxlan.options["remote_ip"]) == (2, 1, "192.168.50.12")


def test_empty_outputs() -> None:
    assert parse_ovsdb_table("", "Interface") == []
    assert parse_ovsdb_table('{"data":[],"headings":["name"]}', "Interface") == []
    assert parse_ovs_dpctl_show("") == [] and parse_ovs_dpif_show("") == []


HTML = "<!doctype html><html><body>Service Unavailable</body></html>"


@pytest.mark.parametrize(("parse", "command", "text"), [
    (parse_ovs_vsctl_show, "ovs-vsctl show", ""),
    (parse_ovs_vsctl_show, "ovs-vsctl show", HTML),
    (parse_ovs_vsctl_show, "ovs-vsctl show", real("ovs-appctl-dpif-show.txt")),
    (parse_ovs_vsctl_show, "ovs-vsctl show", real("ovs-vsctl-show.txt").replace("options: {peer=patch-int}",
                                                                                  "options: {peer=patch-int")),
    (parse_ovs_vsctl_show, "ovs-vsctl show", real("ovs-vsctl-show.txt").replace("tag: 4", "tag: four")),
    (parse_ovsdb_table, "ovs-vsctl --format=json list", real("ovs-vsctl-format-json-list-Interface.json")[:500]),
    (parse_ovsdb_table, "ovs-vsctl --format=json list", HTML),
    (parse_ovsdb_table, "ovs-vsctl --format=json list", '[{"name": "br-int"}]'),
    (parse_ovsdb_table, "ovs-vsctl --format=json list", '{"headings": ["a", "b"], "data": [[1]]}'),
    (parse_ovsdb_table, "ovs-vsctl --format=json list", '{"headings": ["a"], "data": [[["weird", 1]]]}'),
    (parse_ovs_dpctl_show, "ovs-dpctl show", HTML),
    (parse_ovs_dpctl_show, "ovs-dpctl show", real("ovs-appctl-dpif-show.txt")),
    (parse_ovs_dpif_show, "ovs-appctl dpif/show", real("ovs-vsctl-show.txt")),
])
def test_malformed_input_raises_parse_error_naming_the_command(parse, command: str, text: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert f"`{command}`" in str(caught.value)


def test_table_name_can_be_named_in_the_message() -> None:
    with pytest.raises(ParseError, match="`ovs-vsctl --format=json list Port`"):
        parse_ovsdb_table("{", "Port", command="ovs-vsctl --format=json list Port")


# -- the scanner's facts ---------------------------------------------------------------------------------

def test_ovs_ports_from_the_json_tables_and_from_show_agree() -> None:
    tables = [parse_ovsdb_table(real(f"ovs-vsctl-format-json-list-{table}.json"), table)
              for table in ("Bridge", "Port", "Interface")]
    from_json = ovs_ports(*tables)
    from_show = ovs_ports_from_show(parse_ovs_vsctl_show(real("ovs-vsctl-show.txt")))

    def shape(ports):  # type: ignore[no-untyped-def]
        return sorted((p.bridge, p.name, p.type, p.tag, sorted(p.options.items())) for p in ports)

    assert shape(from_json) == shape(from_show)
    assert len(from_json) == 12  # br-int's own port and five more, br-tun's and two more, br-ex's and two more
    # only the JSON tables carry Neutron's external_ids and the link state
    assert all(p.external_ids == {} and p.link_state is None for p in from_show)
    ports = {p.name: p for p in from_json}
    qvo = ports["qvocalfix"]
    assert (qvo.bridge, qvo.type, qvo.tag, qvo.link_state) == ("br-int", "", 3, "up")
    assert qvo.external_ids["iface-id"] == "0d1e2f30-4152-4637-8899-aabbccddeeff"
    assert ports["qvo1a2b3c4d-5e"].link_state is None  # no such device: OVSDB has no state for it
    vxlan = ports["vxlan-c0a8320c"]
    assert (vxlan.bridge, vxlan.type, vxlan.options["remote_ip"]) == ("br-tun", "vxlan", "192.168.50.12")
    assert ports["int-br-ex"].options == {"peer": "phy-br-ex"} and ports["int-br-ex"].tag is None


def test_datapath_ports_from_dpctl_and_dpif_agree() -> None:
    dpctl = dpctl_ports(parse_ovs_dpctl_show(real("ovs-appctl-dpctl-show.txt")))
    dpif = dpif_ports(parse_ovs_dpif_show(real("ovs-appctl-dpif-show.txt")))
    numbers = {p.name: p.number for p in dpctl}
    shared = {p.name: p.number for p in dpif if p.name in numbers}
    assert shared == {name: numbers[name] for name in ("br-ex", "br-int", "br-tun", "qvocalfix", "tap9f8e7d6c-5b")}
    # dpif names a tunnel by its OVS port, dpctl by the datapath device all VXLAN ports share
    assert {p.name: p.number for p in dpif}["vxlan-c0a8320c"] == numbers["vxlan_sys_4789"]
    assert not {"patch-tun", "patch-int", "int-br-ex", "phy-br-ex"} & {p.name for p in dpif}  # not in the datapath
    assert {p.name: p.type for p in dpctl}["qvocalfix"] == "system" and numbers["ovs-netdev"] == 0
