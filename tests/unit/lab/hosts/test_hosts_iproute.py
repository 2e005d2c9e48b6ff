"""iproute2 output of generated worlds: every device with the right kind, masters, namespaces, VFs."""

from __future__ import annotations

import ipaddress
import json
import re

import pytest

from lab.faults import inject_fault
from lab.generate import generate_world
from lab.hostmodel import LabHosts
from lab.hosts import LabResponder
from lab.hosts.jsonw import Raw, dumps
from lab.world import VARIANTS

KIND_OF = {"bridge": "bridge", "veth": "veth", "tap": "tun", "vxlan": "vxlan", "vlan": "vlan", "bond": "bond",
           "openvswitch": "openvswitch", "physical": None, "loopback": None}


def ok(answer: LabResponder, host: str, command: str) -> str:
    status, out, err = answer(host, command)
    assert (status, err) == (0, ""), err
    return out


@pytest.mark.parametrize(("mechanism", "type_driver"), VARIANTS)
def test_detailed_json_lists_every_device_with_its_kind_and_master(mechanism: str, type_driver: str) -> None:
    world = generate_world(3, 2, 1 if type_driver == "flat" else 2, mechanism, type_driver, seed=3)
    answer, hosts = LabResponder(world), LabHosts(world)
    for host in world.hosts:
        state = hosts.get(host.name)
        for namespace in [None, *state.namespaces]:
            prefix = f"ip netns exec {namespace} " if namespace else ""
            links = json.loads(ok(answer, host.name, prefix + "ip -d -j link show"))
            by_name = {link["ifname"]: link for link in links}
            for device in state.in_namespace(namespace):
                link = by_name[device.name]
                assert link["ifindex"] == device.index and link["address"] == device.mac
                assert link["mtu"] == device.mtu
                assert link.get("linkinfo", {}).get("info_kind") == KIND_OF[device.kind], device.name
                assert link.get("master") == device.master
                if device.master == "ovs-system":
                    assert link["linkinfo"]["info_slave_kind"] == "openvswitch"
                elif device.master and device.master.startswith(("brq", "qbr")):
                    assert link["linkinfo"]["info_slave_kind"] == "bridge"
                    assert link["linkinfo"]["info_slave_data"]["state"] in ("forwarding", "disabled")
                elif device.master and device.master.startswith("bond"):
                    assert link["linkinfo"]["info_slave_kind"] == "bond"
            indexes = [link["ifindex"] for link in links]
            assert indexes == sorted(indexes)


def test_veth_ends_point_at_each_other_across_namespaces() -> None:
    world = generate_world(3, 1, 2, "lxb", "vxlan", seed=5)
    answer = LabResponder(world)
    root = {link["ifname"]: link for link in json.loads(ok(answer, "controller-1", "ip -j link"))}
    namespaces = ok(answer, "controller-1", "ip netns list").splitlines()
    assert namespaces and all(re.fullmatch(r"q(dhcp|router)-[0-9a-f-]{36} \(id: \d+\)", n) for n in namespaces)
    ids = {n.split()[0]: int(n.split("(id: ")[1][:-1]) for n in namespaces}
    dhcp = next(n for n in ids if n.startswith("qdhcp-"))
    inside = json.loads(ok(answer, "controller-1", f"ip netns exec {dhcp} ip -j addr"))
    ns_port = next(link for link in inside if link["ifname"].startswith("ns-"))
    assert ns_port["link_netnsid"] == 0  # the root namespace, seen from inside
    tap = root["tap" + ns_port["ifname"].removeprefix("ns-")]  # the Linux bridge agent names both ends by port
    assert tap["link_index"] == ns_port["ifindex"]
    assert tap["link_netnsid"] == ids[dhcp] and tap["master"].startswith("brq")
    assert ns_port["link_index"] == tap["ifindex"]
    text = ok(answer, "controller-1", f"ip link show {tap['ifname']}")
    assert f"{tap['ifname']}@if{ns_port['ifindex']}:" in text and f" link-netns {dhcp}\n" in text
    inside_text = ok(answer, "controller-1", f"ip netns exec {dhcp} ip address show")
    assert f"{ns_port['ifname']}@if{tap['ifindex']}:" in inside_text and " link-netnsid 0\n" in inside_text
    addresses = [a for a in ns_port["addr_info"] if a["family"] == "inet"]
    assert addresses and ipaddress.ip_address(addresses[0]["local"])


def test_address_json_and_text_agree() -> None:
    world = generate_world(2, 1, 1, "ovs", "vxlan", seed=6)
    answer = LabResponder(world)
    records = json.loads(ok(answer, "compute-1", "ip -j addr"))
    text = ok(answer, "compute-1", "ip addr")
    for record in records:
        assert "linkmode" not in record  # ip address leaves the link mode out
        assert re.search(rf"^{record['ifindex']}: {re.escape(record['ifname'])}[@:]", text, re.M)
        for address in record["addr_info"]:
            assert f"{address['local']}/{address['prefixlen']}" in text
    bond = next(r for r in records if r["ifname"] == "bond0")
    tunnel = world.host("compute-1").tunnel_ip
    assert bond["addr_info"][0] == {"family": "inet", "local": tunnel, "prefixlen": 16,
                                    "broadcast": "192.168.255.255", "scope": "global", "label": "bond0",
                                    "valid_life_time": 4294967295, "preferred_life_time": 4294967295}
    only_v4 = json.loads(ok(answer, "compute-1", "ip -4 -j addr show dev bond0"))[0]["addr_info"]
    assert [a["family"] for a in only_v4] == ["inet"]


def test_sriov_pf_lists_its_vfs_with_vlan() -> None:
    world = generate_world(3, 2, 2, "sriov", "vlan", seed=8)
    answer = LabResponder(world)
    text = ok(answer, "compute-1", "ip link show eth1")
    vf_lines = [line for line in text.splitlines() if line.startswith("    vf ")]
    ports = [p for p in world.ports_on_host("compute-1") if p.vnic_type == "direct"]
    assert len(vf_lines) == len(ports) == 2
    for number, (line, port) in enumerate(zip(vf_lines, ports, strict=True)):
        vlan = world.network(port.network_id).segmentation_id
        assert line == (f"    vf {number}     link/ether {port.mac_address} brd ff:ff:ff:ff:ff:ff, vlan {vlan}, "
                        "spoof checking on, link-state auto, trust off")
    detail = json.loads(ok(answer, "compute-1", "ip -d -j link show eth1"))[0]
    assert [vf["address"] for vf in detail["vfinfo_list"]] == [p.mac_address for p in ports]
    assert detail["vfinfo_list"][0]["vlan_list"] == [{"vlan": world.network(ports[0].network_id).segmentation_id}]
    assert detail["parentbus"] == "pci" and detail["parentdev"] == "0000:05:00.0"
    inject_fault(world, "ovs_port_down", ports[0].id)
    assert "link-state disable" in ok(answer, "compute-1", "ip link show eth1")


def test_bond_slave_and_vlan_details() -> None:
    world = generate_world(3, 1, 2, "lxb", "vlan", seed=9)
    answer = LabResponder(world)
    inject_fault(world, "bond_member_down", "compute-1/eth1")
    details = ok(answer, "compute-1", "ip -d link show")
    assert re.search(r"^    bond mode active-backup active_slave eth2 miimon 100 ", details, re.M)
    assert re.search(r"^    bond_slave state BACKUP mii_status DOWN link_failure_count 1 perm_hwaddr ", details, re.M)
    assert re.search(r"^    bond_slave state ACTIVE mii_status UP ", details, re.M)
    vlan = world.networks[0].segmentation_id
    assert re.search(rf"^\d+: bond0\.{vlan}@bond0: .* master brq", details, re.M)
    assert f"    vlan protocol 802.1Q id {vlan} <REORDER_HDR> \n" in details
    eth1 = ok(answer, "compute-1", "ip link show eth1")
    assert eth1.startswith(f"{eth1.split(':')[0]}: eth1: <NO-CARRIER,BROADCAST,MULTICAST,SLAVE,UP> mtu 9000 qdisc mq "
                           "master bond0 state DOWN ")


def test_type_and_master_filters_and_errors() -> None:
    world = generate_world(2, 2, 1, "lxb", "vxlan", seed=10)
    answer = LabResponder(world)
    vxlans = json.loads(ok(answer, "compute-1", "ip -d -j link show type vxlan"))
    real = [v for v in vxlans if v]
    assert [v["ifname"] for v in real] == ["vxlan-1000"]
    assert real[0]["linkinfo"]["info_data"]["port"] == 8472
    assert {} in vxlans  # iproute2 6.1 prints an empty object for every device the type filter drops
    bridge = next(link["ifname"] for link in real if link) and real[0]["master"]
    members = ok(answer, "compute-1", f"ip link show master {bridge}")
    assert "vxlan-1000" in members and all(f"master {bridge}" in line for line in members.splitlines()[::2])
    assert answer("compute-1", "ip link show nosuch") == (1, "", 'Device "nosuch" does not exist.\n')
    assert answer("compute-1", "ip addr show dev nosuch") == (1, "", 'Device "nosuch" does not exist.\n')
    assert answer("compute-1", "ip foo") == (255, "", 'Object "foo" is unknown, try "ip help".\n')
    assert answer("compute-1", "ip -x link") == (255, "", 'Option "-x" is unknown, try "ip -help".\n')
    assert answer("compute-1", "ip netns exec nosuch ip a") == (
        255, "", 'Cannot open network namespace "nosuch": No such file or directory\n')


def test_brief_oneline_and_pretty_forms() -> None:
    world = generate_world(2, 1, 1, "ovs", "vlan", seed=11)
    answer = LabResponder(world)
    brief = ok(answer, "compute-1", "ip -br link")
    assert brief.splitlines()[0] == "lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> "
    oneline = ok(answer, "compute-1", "ip -o link")
    assert len(oneline.splitlines()) == len(json.loads(ok(answer, "compute-1", "ip -j link")))
    assert "\\    link/ether " in oneline
    pretty = ok(answer, "compute-1", "ip -j -p link show lo")
    assert pretty.startswith('[ {\n        "ifindex": 1,\n        "ifname": "lo",\n        "flags": [ "LOOPBACK","UP"')
    assert json.loads(pretty) == json.loads(ok(answer, "compute-1", "ip -j link show lo"))


def test_json_writer_keeps_printf_floats_and_iproute2_pretty_layout() -> None:
    assert dumps([{"a": Raw("0.00"), "b": [1, 2], "c": {}}]) == '[{"a":0.00,"b":[1,2],"c":{}}]'
    assert dumps([{"a": [], "b": [{"x": None}]}], pretty=True) == (
        '[ {\n        "a": [ ],\n        "b": [ {\n                "x": null\n            } ]\n    } ]')


def test_bridge_fdb_shows_learned_macs_and_l2population_entries() -> None:
    world = generate_world(3, 1, 1, "lxb", "vxlan", seed=12)
    answer = LabResponder(world)
    port = world.port(world.instances[0].port_ids[0])
    host = port.binding_host
    fdb = ok(answer, host, "bridge fdb show")
    tap = "tap" + port.id[:11]
    bridge = "brq" + port.network_id[:11]
    assert f"{port.mac_address} dev {tap} master {bridge} \n" in fdb  # learned: no state word, a trailing space
    assert re.search(rf"^fe:16:3e:\S+ dev {tap} master {bridge} permanent$", fdb, re.M)
    others = {h.tunnel_ip for h in world.hosts if h.name != host}
    floods = set(re.findall(r"^00:00:00:00:00:00 dev vxlan-\d+ dst (\S+) self permanent$", fdb, re.M))
    assert floods and floods <= others
    entries = json.loads(ok(answer, host, "bridge -j fdb show dev vxlan-1000"))
    assert entries and all("ifname" not in e for e in entries)
    assert {"mac": "00:00:00:00:00:00", "dst": sorted(floods)[0], "flags": ["self"], "state": "permanent"} in entries
    links = ok(answer, host, "bridge link show")
    assert re.search(rf"^\d+: {tap}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu \d+ master {bridge} state forwarding "
                     r"priority 32 cost 2 $", links, re.M)


def test_dhcp_namespace_routes_neighbours_and_pids() -> None:
    world = generate_world(3, 2, 1, "ovs", "vxlan", seed=13)
    answer = LabResponder(world)
    network = next(n for n in world.networks if not n.external)
    namespace = f"qdhcp-{network.id}"
    routes = ok(answer, "controller-1", f"ip netns exec {namespace} ip route")
    assert routes.splitlines()[0] == f"default via {network.subnets[0].gateway_ip} dev " \
        f"{routes.split(' dev ')[1].split()[0]} proto static "
    neighbours = ok(answer, "controller-1", f"ip netns exec {namespace} ip neigh")
    vm_macs = [p.mac_address for p in world.ports
               if p.network_id == network.id and p.device_owner.startswith("compute")]
    assert vm_macs and all(f"lladdr {mac} STALE \n" in neighbours for mac in vm_macs)
    pids = ok(answer, "controller-1", f"ip netns pids {namespace}").split()
    assert pids and all(pid.isdigit() for pid in pids)
    inject_fault(world, "dhcp_namespace_gone", network.id)
    assert namespace not in ok(answer, "controller-1", "ip netns")
