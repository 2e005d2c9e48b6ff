"""Open vSwitch output of simulated hosts: ovs-vsctl, ovs-dpctl, ovs-appctl, ovs-ofctl.

Expected lines and JSON headings were taken from ovs-vsctl 3.1.0 run against a real ovsdb-server
holding the same kind of rows (a vxlan port, a patch port, a tagged qvo port).
"""

from __future__ import annotations

import ipaddress
import json
import re

import pytest

from lab.faults import inject_fault
from lab.generate import generate_world
from lab.hosts import LabResponder

# Headings of `ovs-vsctl --format=json list <table>` from OVS 3.1.0 (its schema, in its order).
REAL_HEADINGS = {
    "Interface": ["_uuid", "admin_state", "bfd", "bfd_status", "cfm_fault", "cfm_fault_status", "cfm_flap_count",
                  "cfm_health", "cfm_mpid", "cfm_remote_mpids", "cfm_remote_opstate", "duplex", "error",
                  "external_ids", "ifindex", "ingress_policing_burst", "ingress_policing_kpkts_burst",
                  "ingress_policing_kpkts_rate", "ingress_policing_rate", "lacp_current", "link_resets",
                  "link_speed", "link_state", "lldp", "mac", "mac_in_use", "mtu", "mtu_request", "name", "ofport",
                  "ofport_request", "options", "other_config", "statistics", "status", "type"],
    "Port": ["_uuid", "bond_active_slave", "bond_downdelay", "bond_fake_iface", "bond_mode", "bond_updelay",
             "cvlans", "external_ids", "fake_bridge", "interfaces", "lacp", "mac", "name", "other_config",
             "protected", "qos", "rstp_statistics", "rstp_status", "statistics", "status", "tag", "trunks",
             "vlan_mode"],
    "Bridge": ["_uuid", "auto_attach", "controller", "datapath_id", "datapath_type", "datapath_version",
               "external_ids", "fail_mode", "flood_vlans", "flow_tables", "ipfix", "mcast_snooping_enable",
               "mirrors", "name", "netflow", "other_config", "ports", "protocols", "rstp_enable", "rstp_status",
               "sflow", "status", "stp_enable"],
}
# Lines of real `ovs-vsctl show` (3.1.0) output for the same kind of ports.
REAL_VXLAN_PORT = [
    "        Port vxlan-c0a8000c",
    "            Interface vxlan-c0a8000c",
    "                type: vxlan",
    '                options: {df_default="true", egress_pkt_mark="0", in_key=flow, local_ip="192.168.0.11", '
    'out_key=flow, remote_ip="192.168.0.12"}',
]
REAL_PATCH_PORT = ["        Port patch-tun", "            Interface patch-tun", "                type: patch",
                   "                options: {peer=patch-int}"]


def responder(mechanism: str = "ovs", type_driver: str = "vxlan", hosts: int = 4,  # type: ignore[no-untyped-def]
              firewall: str = "hybrid"):
    world = generate_world(hosts, 2, 1 if type_driver == "flat" else 2, mechanism, type_driver, seed=7,
                           firewall=firewall)
    return world, LabResponder(world)


def ok(answer: LabResponder, host: str, command: str) -> str:
    status, out, err = answer(host, command)
    assert (status, err) == (0, ""), err
    return out


def bridges_of_show(text: str) -> dict[str, list[str]]:
    """Bridge name -> its lines, from `ovs-vsctl show`."""
    result: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        match = re.fullmatch(r"    Bridge (\S+)", line)
        if match:
            current = match.group(1)
            result[current] = []
        elif current and line.startswith("        "):
            result[current].append(line)
        else:
            current = None
    return result


def test_show_of_a_vxlan_world_has_one_tunnel_port_per_other_host() -> None:
    world, answer = responder()
    for host in world.hosts:
        text = ok(answer, host.name, "ovs-vsctl show")
        lines = text.splitlines()
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", lines[0])
        assert lines[1:3] == ['    Manager "ptcp:6640:127.0.0.1"', "        is_connected: true"]
        assert lines[-1] == '    ovs_version: "3.1.0"'
        bridges = bridges_of_show(text)
        remotes = re.findall(r'remote_ip="([\d.]+)"', "\n".join(bridges["br-tun"]))
        others = {h.tunnel_ip for h in world.hosts if h.name != host.name}
        assert sorted(remotes) == sorted(others)
        assert all(f'local_ip="{host.tunnel_ip}"' in line for line in bridges["br-tun"] if "options: {df" in line)
        for name, block in bridges.items():
            assert block[:4] == ['        Controller "tcp:127.0.0.1:6633"', "            is_connected: true",
                                 "        fail_mode: secure", "        datapath_type: system"], name


def test_show_port_blocks_are_laid_out_like_the_real_tool() -> None:
    world, answer = responder(hosts=2)
    text = ok(answer, "compute-1", "ovs-vsctl show")
    remote = world.host("controller-1").tunnel_ip
    port = "vxlan-" + "".join(f"{int(o):02x}" for o in remote.split("."))
    local = world.host("compute-1").tunnel_ip
    expected = [line.replace("vxlan-c0a8000c", port).replace("192.168.0.11", "LOCAL").replace("192.168.0.12", remote)
                .replace("LOCAL", local) for line in REAL_VXLAN_PORT]
    lines = text.splitlines()
    start = lines.index(expected[0])
    assert lines[start:start + 4] == expected
    start = lines.index(REAL_PATCH_PORT[0])
    assert lines[start:start + 4] == REAL_PATCH_PORT


def test_qvo_ports_carry_their_local_vlan_tag_and_bridges_and_ports_come_in_uuid_order() -> None:
    world, answer = responder()
    text = ok(answer, "compute-1", "ovs-vsctl show")
    lines = text.splitlines()
    qvo = [i for i, line in enumerate(lines) if line.startswith("        Port qvo")]
    assert qvo and all(re.fullmatch(r"            tag: \d+", lines[i + 1]) for i in qvo)


def test_show_walks_bridges_and_ports_in_uuid_order_like_the_real_tool() -> None:
    world, answer = responder("ovs", "vlan", hosts=3)
    for host in world.hosts:
        text = ok(answer, host.name, "ovs-vsctl show")
        uuids = {}
        for table in ("Bridge", "Port"):
            rows = json.loads(ok(answer, host.name, f"ovs-vsctl --format=json --columns=_uuid,name list {table}"))
            uuids[table] = {row[1]: row[0][1] for row in rows["data"]}
        shown = re.findall(r"^    Bridge (\S+)$", text, re.M)
        assert shown == sorted(uuids["Bridge"], key=lambda name: uuids["Bridge"][name])
        for name, block in bridges_of_show(text).items():
            ports = [line.split()[1] for line in block if line.startswith("        Port ")]
            assert ports == sorted(ports, key=lambda port: uuids["Port"][port]), name
    assert len(bridges_of_show(ok(answer, "controller-1", "ovs-vsctl show"))) == 3


def test_json_tables_have_the_real_headings_and_ovsdb_atoms() -> None:
    world, answer = responder()
    for table, headings in REAL_HEADINGS.items():
        document = json.loads(ok(answer, "compute-1", f"ovs-vsctl --format=json list {table}"))
        assert list(document) == ["data", "headings"]
        assert document["headings"] == headings
        assert all(len(row) == len(headings) for row in document["data"])
        assert all(row[0][0] == "uuid" for row in document["data"])
    interfaces = json.loads(ok(answer, "compute-1", "ovs-vsctl --format=json list Interface"))
    rows = [dict(zip(interfaces["headings"], row, strict=True)) for row in interfaces["data"]]
    vm_ports = {p.id: p for p in world.ports_on_host("compute-1")}
    qvo = [r for r in rows if r["name"].startswith("qvo")]
    assert len(qvo) == len(vm_ports)
    for row in qvo:
        external = dict(row["external_ids"][1])
        assert row["external_ids"][0] == "map"
        port = vm_ports[external["iface-id"]]
        assert external["attached-mac"] == port.mac_address and external["vm-uuid"] == port.device_id
        assert isinstance(row["ofport"], int) and row["ofport"] > 0 and row["type"] == ""
    vxlan = [r for r in rows if r["type"] == "vxlan"]
    assert vxlan and all(dict(r["options"][1])["remote_ip"] for r in vxlan)
    empty_sets = [r["bfd"] for r in rows]
    assert all(value == ["map", []] for value in empty_sets)
    ports = json.loads(ok(answer, "compute-1", "ovs-vsctl --format=json list Port"))
    tags = [row[ports["headings"].index("tag")] for row in ports["data"]]
    assert ["set", []] in tags and any(isinstance(tag, int) for tag in tags)


def test_list_text_get_and_columns() -> None:
    _, answer = responder()
    text = ok(answer, "compute-1", "ovs-vsctl list Port patch-tun")
    assert "interfaces          : [" in text and "tag                 : []\n" in text
    assert "ingress_policing_burst" not in text
    interface = ok(answer, "compute-1", "ovs-vsctl list Interface patch-tun")
    assert "ingress_policing_burst: 0\n" in interface  # names longer than the 20-column pad are not cut
    assert "options             : {peer=patch-int}\n" in interface
    assert 'type                : patch\n' in interface
    # strings that are not identifier-like (a MAC) are quoted, as ovsdb-data.c does
    macs = re.findall(r"^mac_in_use          : (.*)$", ok(answer, "compute-1", "ovs-vsctl list Interface"), re.M)
    assert macs and all(re.fullmatch(r'"[0-9a-f:]{17}"', mac) for mac in macs)
    assert any(mac.startswith('"f') for mac in macs)
    assert ok(answer, "compute-1", "ovs-vsctl get Interface patch-tun options:peer") == "patch-int\n"
    assert ok(answer, "compute-1", "ovs-vsctl get Interface patch-tun type") == "patch\n"
    document = json.loads(ok(answer, "compute-1", "ovs-vsctl --columns=name,ofport,options -f json list Interface"))
    assert document["headings"] == ["name", "ofport", "options"]
    assert ok(answer, "compute-1", "ovs-vsctl list-br") == "br-int\nbr-tun\n"
    ports = ok(answer, "compute-1", "ovs-vsctl list-ports br-int").split()
    assert "br-int" not in ports and ports == sorted(ports) and "patch-tun" in ports
    assert answer("compute-1", "ovs-vsctl list-ports nosuch") == (1, "", "ovs-vsctl: no bridge named nosuch\n")
    assert answer("compute-1", "ovs-vsctl --format=json list Interface nosuch") == (
        1, "", 'ovs-vsctl: no row "nosuch" in table Interface\n')


def test_dpctl_show_is_the_kernel_datapath_format() -> None:
    world, answer = responder()
    text = ok(answer, "compute-1", "ovs-dpctl show")
    lines = text.splitlines()
    assert lines[0] == "system@ovs-system:"
    assert re.fullmatch(r"  lookups: hit:\d+ missed:\d+ lost:0", lines[1])
    assert re.fullmatch(r"  flows: \d+", lines[2])
    assert re.fullmatch(r"  masks: hit:\d+ total:\d+ hit/pkt:\d+\.\d\d", lines[3])
    assert re.fullmatch(r"  cache: hit:\d+ hit-rate:\d+\.\d\d%", lines[4])
    assert lines[5:7] == ["  caches:", "    masks-cache: size:256"]
    ports = lines[7:]
    assert ports[0] == "  port 0: ovs-system (internal)"
    assert [int(re.match(r"  port (\d+):", p).group(1)) for p in ports] == list(range(len(ports)))
    assert "  port 3: vxlan_sys_4789 (vxlan: packet_type=ptap)" in ports
    assert any(re.fullmatch(r"  port \d+: qvo\S+", p) for p in ports)  # system ports: no type
    assert not any("patch" in p for p in ports)  # patch ports never reach the datapath
    # the devices the datapath holds are in `ip link` too, enslaved to ovs-system
    links = ok(answer, "compute-1", "ip -j link")
    names = {d["ifname"]: d for d in json.loads(links)}
    assert names["vxlan_sys_4789"]["master"] == "ovs-system" and "ovs-system" in names


def test_gre_world_datapath_and_tunnel_tables() -> None:
    _, answer = responder("ovs", "gre", hosts=3)
    assert "  port 3: gre_sys (gre: packet_type=ptap)\n" in ok(answer, "compute-1", "ovs-dpctl show")
    flows = ok(answer, "compute-1", "ovs-ofctl --names dump-flows br-tun")
    assert re.search(r'in_port="gre-[0-9a-f]{8}" actions=resubmit\(,3\)', flows)
    assert re.search(r"table=3, .*priority=1,tun_id=0x3e8 actions=mod_vlan_vid:\d+,resubmit\(,10\)", flows)


def test_dpif_show_numbers_ports_like_the_datapath() -> None:
    _, answer = responder()
    dpif = ok(answer, "compute-1", "ovs-appctl dpif/show")
    dp = ok(answer, "compute-1", "ovs-dpctl show")
    dp_numbers = dict((name, int(n)) for n, name in re.findall(r"port (\d+): (\S+)", dp))
    assert dpif.splitlines()[0].startswith("system@ovs-system: hit:")
    for name, _ofport, odp in re.findall(r"^    (\S+) (\d+)/(\w+): ", dpif, re.M):
        if name.startswith("patch"):
            assert odp == "none"
        elif name.startswith("vxlan-"):
            assert int(odp) == dp_numbers["vxlan_sys_4789"]
        else:
            assert int(odp) == dp_numbers[name]
    assert "    br-int 65534/" in dpif


def test_dump_flows_use_the_agents_local_vlans() -> None:
    world, answer = responder("ovs", "vlan", hosts=3)
    network = next(n for n in world.networks if n.network_type == "vlan")
    br_int = ok(answer, "compute-1", "ovs-ofctl --names dump-flows br-int")
    line = re.compile(r" cookie=0x[0-9a-f]+, duration=\d+\.\d{3}s, table=\d+, n_packets=\d+, n_bytes=\d+, "
                      r"priority=\d+(,\S+)? actions=\S+")
    assert all(line.fullmatch(x) for x in br_int.splitlines()), br_int
    match = re.search(rf'in_port="int-br-physnet1",dl_vlan={network.segmentation_id} '
                      r"actions=mod_vlan_vid:(\d+),resubmit\(,58\)", br_int)
    assert match
    local = int(match.group(1))
    provider = ok(answer, "compute-1", "ovs-ofctl --names dump-flows br-physnet1")
    assert f'in_port="phy-br-physnet1",dl_vlan={local} actions=mod_vlan_vid:{network.segmentation_id},NORMAL' \
        in provider
    assert provider.splitlines()[-1].endswith("priority=0 actions=NORMAL")
    tags = re.findall(r"tag: (\d+)", ok(answer, "compute-1", "ovs-vsctl show"))
    assert str(local) in tags


def test_faults_show_in_ovs_output() -> None:
    world, answer = responder()
    port = world.port(world.instances[0].port_ids[0])
    host = port.binding_host
    qvo = "qvo" + port.id[:11]
    before = ok(answer, host, "ovs-vsctl show")
    inject_fault(world, "vlan_tag_mismatch", port.id)
    after = ok(answer, host, "ovs-vsctl show")
    tag = lambda text: int(re.search(rf"Port {qvo}\n            tag: (\d+)", text).group(1))  # noqa: E731
    assert tag(after) == tag(before) + 1
    inject_fault(world, "ovs_port_missing", port.id)
    assert qvo not in ok(answer, host, "ovs-vsctl show")


def test_native_firewall_plugs_taps_into_br_int_and_ovs_is_absent_where_the_agent_is_not() -> None:
    world, answer = responder(firewall="native")
    text = ok(answer, "compute-1", "ovs-vsctl show")
    assert re.search(r"        Port tap\S+\n            tag: \d+\n            Interface tap", text)
    assert "qvo" not in text
    lxb_world = generate_world(2, 1, 1, "lxb", "vxlan", seed=2)
    status, out, err = LabResponder(lxb_world)("compute-1", "ovs-vsctl show")
    assert (status, out, err) == (127, "", "bash: line 1: ovs-vsctl: command not found\n")


def test_sriov_network_node_runs_ovs_with_the_tunnel_free_provider_bridge() -> None:
    world = generate_world(3, 1, 2, "sriov", "vlan", seed=4)
    answer = LabResponder(world)
    assert ok(answer, "controller-1", "ovs-vsctl list-br") == "br-ex\nbr-int\nbr-physnet1\n"
    assert answer("compute-1", "ovs-dpctl show")[0] == 127


@pytest.mark.parametrize("bridge", ["br-int", "br-tun"])
def test_ofctl_show_lists_every_port_with_its_ofport(bridge: str) -> None:
    _, answer = responder()
    text = ok(answer, "compute-1", f"ovs-ofctl show {bridge}")
    ports = re.findall(r"^ (\w+)\((\S+)\): addr:([0-9a-f:]{17})$", text, re.M)
    listed = set(ok(answer, "compute-1", f"ovs-vsctl list-ports {bridge}").split()) | {bridge}
    assert {name for _, name, _ in ports} == listed
    assert (next(n for n, name, _ in ports if name == bridge)) == "LOCAL"
    assert answer("compute-1", "ovs-ofctl dump-flows br-nosuch") == (
        1, "", "ovs-ofctl: br-nosuch is not a bridge or a socket\n")


def test_tunnel_ips_are_real_addresses() -> None:
    world, answer = responder()
    show = ok(answer, "compute-2", "ovs-vsctl show")
    for ip in re.findall(r'remote_ip="([^"]+)"', show):
        ipaddress.ip_address(ip)
    assert world
