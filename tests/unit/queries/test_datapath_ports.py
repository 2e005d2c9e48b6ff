"""The datapath walk through OVS ports and Linux-bridge members (pure): a summary link that a port or member
details is walked through it, so a route names it and losing it cuts the way; the switch's own way out
stays; which ports and members are failing by their own state."""

from __future__ import annotations

from typing import Any

from queries.datapath import Removal, build_datapath, node_failing, reach, routes_out


def node(id_: str, type_: str, **attributes: Any) -> dict[str, Any]:
    return {"id": id_, "type": type_, "host": "h", **attributes}


def link(source: str, target: str, relationship: str, **attributes: Any) -> dict[str, Any]:
    return {"source": source, "target": target, "relationship": relationship, "state": "up", **attributes}


def rows(nodes: list[dict[str, Any]], links: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"node": n, "links": [lk for lk in links if lk["source"] == n["id"]]} for n in nodes]


NET = "net-1"
OVS_NODES = [node("vm", "instance"), node("h/vnic", "vnic", network_id=NET), node("h/qbr1", "vconnector"),
             node("h/br-int/qvo1", "vedge_port", port_type="system", link_state="up"),
             node("h/vedge-ovs", "vedge"), node("h/br-tun/vxlan-0a000002", "vedge_port", port_type="vxlan"),
             node("h/otep-vxlan", "otep"), node("h/eth1", "host_pnic")]
OVS_LINKS = [link("vm", "h/vnic", "INSTANCE_VNIC"), link("h/vnic", "h/qbr1", "VNIC_VCONNECTOR", network=NET),
             link("h/qbr1", "h/vedge-ovs", "VCONNECTOR_VEDGE", network=NET, vlan_tag=1),
             link("h/qbr1", "h/br-int/qvo1", "VCONNECTOR_VEDGE_PORT", network=NET),
             link("h/br-int/qvo1", "h/vedge-ovs", "VEDGE_PORT_VEDGE", network=NET, vlan_tag=1),
             link("h/vedge-ovs", "h/otep-vxlan", "VEDGE_OTEP"),
             link("h/vedge-ovs", "h/br-tun/vxlan-0a000002", "VEDGE_VEDGE_PORT"),
             link("h/br-tun/vxlan-0a000002", "h/otep-vxlan", "VEDGE_PORT_OTEP"),
             link("h/otep-vxlan", "h/eth1", "OTEP_HOST_PNIC"), link("h/eth1", NET, "HOST_PNIC_NETWORK")]


def test_the_way_out_passes_the_vms_ovs_port_and_losing_it_cuts_it() -> None:
    datapath = build_datapath(rows(OVS_NODES, OVS_LINKS))
    (route,) = routes_out(datapath, "h/vnic")
    # the hybrid bridge's summary link to the switch is walked through the qvo port; the switch's own link to
    # its tunnel endpoint stays the way out (a tunnel port reaches one peer only)
    assert route.hops == ["h/vnic", "h/qbr1", "h/br-int/qvo1", "h/vedge-ovs", "h/otep-vxlan", "h/eth1"]
    assert routes_out(datapath, "h/vnic", Removal(objects={"h/br-int/qvo1"})) == []
    assert routes_out(datapath, "h/vnic", Removal(objects={"h/br-tun/vxlan-0a000002"}))[0].hops == route.hops
    # root cause still sees the tunnel port beside the way out
    assert reach(datapath, "h/vnic")["h/br-tun/vxlan-0a000002"] == 4


def test_an_ovs_hybrid_plug_passes_its_qvb_bridge_member_and_losing_it_cuts_the_way() -> None:
    nodes = [*OVS_NODES, node("h/qbr1/qvb1", "vconnector_member", member_type="veth", link_state="up")]
    links = [*OVS_LINKS, link("h/qbr1", "h/qbr1/qvb1", "VCONNECTOR_VCONNECTOR_MEMBER", network=NET),
             link("h/qbr1/qvb1", "h/br-int/qvo1", "VCONNECTOR_MEMBER_VEDGE_PORT", network=NET)]
    datapath = build_datapath(rows(nodes, links))
    (route,) = routes_out(datapath, "h/vnic")
    assert route.hops == ["h/vnic", "h/qbr1", "h/qbr1/qvb1", "h/br-int/qvo1", "h/vedge-ovs", "h/otep-vxlan", "h/eth1"]
    assert routes_out(datapath, "h/vnic", Removal(objects={"h/qbr1/qvb1"})) == []  # out of the bridge: no way out
    assert node_failing({**nodes[-1], "link_state": "down"}) == "bridge member down"
    # a Linux bridge set down forwards nothing though its members keep carrier; one without carrier (all its
    # members down) is not the culprit itself
    assert node_failing(node("h/qbr1", "vconnector", admin_state="down", link_state="down"))
    assert node_failing(node("h/qbr1", "vconnector", admin_state="up", link_state="down")) is None


def test_a_scan_without_port_objects_keeps_the_summary_link() -> None:
    nodes = [n for n in OVS_NODES if n["type"] != "vedge_port"]
    links = [lk for lk in OVS_LINKS if "VEDGE_PORT" not in lk["relationship"]]
    (route,) = routes_out(build_datapath(rows(nodes, links)), "h/vnic")
    assert route.hops == ["h/vnic", "h/qbr1", "h/vedge-ovs", "h/otep-vxlan", "h/eth1"]


def test_a_linux_bridge_leaves_through_its_vxlan_device() -> None:
    nodes = [node("vm", "instance"), node("h/vnic", "vnic", network_id=NET), node("h/brq1", "vconnector"),
             node("h/brq1/vxlan-5", "vconnector_member", link_state="up"), node("h/otep-vxlan", "otep"),
             node("h/eth1", "host_pnic")]
    links = [link("vm", "h/vnic", "INSTANCE_VNIC"), link("h/vnic", "h/brq1", "VNIC_VCONNECTOR", network=NET),
             link("h/otep-vxlan", "h/brq1", "OTEP_VCONNECTOR", network=NET),
             link("h/brq1", "h/brq1/vxlan-5", "VCONNECTOR_VCONNECTOR_MEMBER", network=NET),
             link("h/brq1/vxlan-5", "h/otep-vxlan", "VCONNECTOR_MEMBER_OTEP", network=NET),
             link("h/otep-vxlan", "h/eth1", "OTEP_HOST_PNIC"), link("h/eth1", NET, "HOST_PNIC_NETWORK")]
    datapath = build_datapath(rows(nodes, links))
    (route,) = routes_out(datapath, "h/vnic")
    assert route.hops == ["h/vnic", "h/brq1", "h/brq1/vxlan-5", "h/otep-vxlan", "h/eth1"]
    assert routes_out(datapath, "h/vnic", Removal(objects={"h/brq1/vxlan-5"})) == []


def test_which_ports_and_members_fail_by_their_own_state() -> None:
    port = {"type": "vedge_port", "port_type": "system", "admin_state": "up"}
    assert node_failing({**port, "link_state": "up"}) is None
    assert node_failing({**port, "link_state": "down"}) == "OVS port link down"
    assert "administratively" in str(node_failing({**port, "link_state": "down", "admin_state": "down"}))
    assert node_failing({**port, "link_state": "up", "error": "could not open network device qvo1 (No such "
                         "device)"}).startswith("OVS interface error")  # type: ignore[union-attr]
    # a provider bridge's NIC port follows the NIC's carrier: the NIC is to blame, not its port
    assert node_failing({**port, "link_state": "down", "pnic": "h/eth1"}) is None
    member = {"type": "vconnector_member", "member_type": "vlan"}
    assert node_failing({**member, "link_state": "down"}) == "bridge member down"
    assert node_failing({**member, "link_state": "lowerlayerdown"}) is None  # the NIC under it is what fails
