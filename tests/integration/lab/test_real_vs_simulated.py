"""Format honesty: the simulator's hosts against the same world built from real kernel objects.

For each variant the real lab can build here (Open vSwitch with the hybrid plug over VXLAN, and
the Linux bridge agent over VXLAN), a 3-host world (a controller/network node and two computes,
one VM each, two networks, a router) is built with lab.real.RealLab: namespaces as hosts, veth
cables to a fabric namespace, Linux bridges, taps held open as QEMU does, veth pairs, VXLAN
devices, a private Open vSwitch per host with the userspace datapath. Every reference command
runs on the real host and on the simulated one (lab.hosts.LabResponder), and both outputs go
through the scanner's parsers (ingest.sources.host.parsers, and fetch_host for the whole
host); the parsed structures must be equal for every object that exists in both.

What this machine cannot build, and so is not compared here (its formats are covered by recorded
real samples in tests/fixtures/real/ and the simulator's unit tests):
- bonds (no bonding module): the world's data bond is replaced by its first NIC (lab.real.real_lab_world);
- VLAN sub-interfaces (no 8021q module): no vlan world is built; VPP and SR-IOV need hardware;
- so neither is the tunnel IP on a bridge over a bond's VLAN sub-interface (world spec tunnel_bridge);
- the kernel datapath (no openvswitch module): `ovs-dpctl show` fails here, so the simulator's
  kernel-datapath listing is compared with `ovs-appctl dpctl/show` of the userspace datapath;
- libvirt (not installed): `virsh` is not compared.

Normalisations, each because the value is legitimately machine- or datapath-specific:
- ifindexes, peer ifindexes, OVS row uuids: numbers the kernel and ovsdb-server hand out;
- counters and timers (OVS statistics, link_resets, bridge timers, datapath hit/miss): traffic;
- a host's physical NICs are veth cables here: their kind, bus, peer and NIC driver facts;
- kernel datapath versus userspace datapath: ovs-system and vxlan_sys_4789 (kernel) and
  ovs-netdev (userspace) are the datapaths' own devices; internal ports are `openvswitch` devices
  on the kernel datapath and taps on the userspace one; the kernel datapath enslaves its ports to
  ovs-system, the userspace one enslaves nothing and sets promiscuity as a user flag (PROMISC);
  datapath port numbers and the datapath name/type differ; an internal port moved into a
  namespace is out of the userspace ovs-vswitchd's sight (no state, MAC, MTU or driver status);
- ovs-vswitchd chooses the MAC of a bridge's own port (from its ports, or at random) and of
  patch and tunnel ports (at random);
- nobody connects to the OVS manager and controller here (no Neutron agent): is_connected;
- learned forwarding entries depend on the traffic that happened to flow;
- a Linux bridge's IPv6 link-local address (and its solicited-node multicast entry) is derived
  from the random MAC the bridge had when it came up, before its ports joined and it took the
  lowest of their MACs;
- `ip netns list` order is readdir order of /run/netns, which depends on its filesystem.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import pytest

from ingest.hierarchy import fetch_host
from ingest.sources.host import parsers
from ingest.sources.host.parsers import openflow
from ingest.sources.host.parsers.iproute import Link
from ingest.transport import CallableTransport
from lab.generate import generate_world
from lab.hostmodel import HostState, LabHosts
from lab.hosts import LabResponder
from lab.real import RealLab, missing_prerequisites, real_lab_world
from lab.world import World

pytestmark = pytest.mark.integration

HOSTS = ("controller-1", "compute-1", "compute-2")
# tag -> (mechanism, type driver, firewall)
VARIANTS = {
    "ovs-hybrid-vxlan": ("ovs", "vxlan", "hybrid"), "ovs-native-gre": ("ovs", "gre", "native"),
    "ovs-hybrid-flat": ("ovs", "flat", "hybrid"), "lxb-vxlan": ("lxb", "vxlan", "hybrid"),
    "lxb-flat": ("lxb", "flat", "hybrid"),
}
OVS_VARIANTS = sorted(tag for tag, (mechanism, _, _) in VARIANTS.items() if mechanism == "ovs")
LXB_VARIANTS = sorted(tag for tag, (mechanism, _, _) in VARIANTS.items() if mechanism == "lxb")
KERNEL_DATAPATH_DEVICES = {"ovs-system", "vxlan_sys_4789", "gre_sys"}
USERSPACE_DATAPATH_DEVICES = {"ovs-netdev"}


@dataclass
class Pair:
    """One world, built for real and simulated."""

    world: World
    real: RealLab
    simulated: LabResponder
    model: LabHosts

    def outputs(self, host: str, command: str) -> tuple[str, str]:
        """(real output, simulated output) of a command both must run successfully."""
        status, real, error = self.real.execute(host, command)
        assert status == 0, f"real {host}: `{command}` exited {status}: {error}"
        status, simulated, error = self.simulated(host, command)
        assert status == 0, f"simulated {host}: `{command}` exited {status}: {error}"
        return real, simulated

    def state(self, host: str) -> HostState:
        return self.model.get(host)


@pytest.fixture(scope="module")
def labs() -> Iterator[dict[str, Pair]]:
    """The variants built so far, each once for the whole module; all torn down at its end."""
    built: dict[str, Pair] = {}
    try:
        yield built
    finally:
        for pair in built.values():
            pair.real.down()


def _pair(labs: dict[str, Pair], tag: str) -> Pair:
    if tag not in labs:
        missing = missing_prerequisites()
        if missing:
            pytest.fail("the real lab needs " + "; ".join(missing)
                        + " — run scripts/install-system-packages.sh as root")
        mechanism, type_driver, firewall = VARIANTS[tag]
        world = real_lab_world(generate_world(3, 1, 1 if type_driver == "flat" else 2, mechanism, type_driver,
                                              seed=7, name=f"real-{tag}", firewall=firewall))
        lab = RealLab(world, f"{tag}-{os.getpid()}")  # concurrent test runs must not share a lab
        labs[tag] = Pair(world, lab, LabResponder(world), LabHosts(world))
        lab.up()
        _settle(lab)
    return labs[tag]


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def pair(request: pytest.FixtureRequest, labs: dict[str, Pair]) -> Pair:
    return _pair(labs, request.param)


@pytest.fixture(scope="module", params=OVS_VARIANTS)
def ovs_pair(request: pytest.FixtureRequest, labs: dict[str, Pair]) -> Pair:
    return _pair(labs, request.param)


@pytest.fixture(scope="module", params=LXB_VARIANTS)
def lxb_pair(request: pytest.FixtureRequest, labs: dict[str, Pair]) -> Pair:
    return _pair(labs, request.param)


def _settle(lab: RealLab) -> None:
    """Wait (at most 5 s) until IPv6 duplicate address detection is over, so addresses are final."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not any("tentative" in lab.run(host, "ip address show") for host in HOSTS):
            return
        time.sleep(0.2)


# -- normalisation ----------------------------------------------------------------------------------

def _nics(pair: Pair, host: str) -> set[str]:
    return {nic.name for nic in pair.world.host(host).nics}


def _ovs_internal(pair: Pair, host: str) -> set[str]:
    return {port.name for bridge in pair.state(host).ovs_bridges for port in bridge.ports if port.type == "internal"}


def _ovs_bridges(pair: Pair, host: str) -> set[str]:
    return {bridge.name for bridge in pair.state(host).ovs_bridges}


def _comparable(name: str) -> bool:
    return name not in KERNEL_DATAPATH_DEVICES | USERSPACE_DATAPATH_DEVICES


@dataclass
class Roles:
    """Which of a host's devices play a part that differs between this machine and a cloud host."""

    nics: set[str]  # veth cables here
    ovs_ports: set[str]  # in the userspace datapath here
    ovs_internal: set[str]  # taps here
    ovs_bridges: set[str]  # their MAC is ovs-vswitchd's choice


def roles(pair: Pair, host: str) -> Roles:
    ports = {port.name for bridge in pair.state(host).ovs_bridges for port in bridge.ports}
    return Roles(_nics(pair, host), ports, _ovs_internal(pair, host), _ovs_bridges(pair, host))


def link_view(link: Link, roles: Roles) -> dict[str, Any]:
    """What the scanner's parser made of a device, without what is machine- or datapath-specific."""
    view = asdict(link)
    for key in ("ifindex", "link_index"):  # numbers the kernel hands out
        view.pop(key)
    if link.name in roles.ovs_bridges:
        view["mac"] = None  # ovs-vswitchd chooses a bridge's MAC
    if link.name in roles.ovs_ports:  # userspace OVS sets its ports' promiscuity as a user flag
        view["flags"] = [flag for flag in link.flags if flag != "PROMISC"]
    if link.master == "ovs-system":  # the kernel datapath enslaves its ports; the userspace one does not
        view["master"] = view["slave_kind"] = None
    if link.name in roles.ovs_internal and link.kind == "tun":  # userspace datapath: internal ports are taps
        view["kind"], view["tun_type"] = "openvswitch", None
    if link.name in roles.nics:  # physical NICs are veth cables to the fabric here
        for key in ("kind", "parent_bus", "parent_dev", "link", "link_netnsid", "link_netns", "permanent_mac",
                    "bond_slave"):
            view.pop(key)
    return view


def links_by_name(links: list[Link], roles: Roles) -> dict[str, dict[str, Any]]:
    return {link.name: link_view(link, roles) for link in links if _comparable(link.name)}


def assert_same(real: dict[str, Any], simulated: dict[str, Any], what: str) -> None:
    """Same keys; then each entry equal (the message names the first entries that differ)."""
    assert real, f"{what}: nothing to compare"
    assert sorted(real, key=str) == sorted(simulated, key=str), f"{what}: different objects"
    differing = {key: {"real": real[key], "simulated": simulated[key]} for key in real if real[key] != simulated[key]}
    assert not differing, f"{what}: {len(differing)} differ, e.g. {dict(list(differing.items())[:2])}"


def _namespaces(pair: Pair, host: str) -> list[str | None]:
    return [None, *pair.state(host).namespaces]


def _in(namespace: str | None, command: str) -> str:
    return f"ip netns exec {namespace} {command}" if namespace else command


# -- iproute2 -------------------------------------------------------------------------------------

@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize(("command", "parse"), [("ip -d -j link", parsers.parse_ip_link_json),
                                                ("ip -d link show", parsers.parse_ip_link_text)])
def test_links_parse_the_same(pair: Pair, host: str, command: str, parse) -> None:  # type: ignore[no-untyped-def]
    """Names, kinds, MACs, MTUs, flags, state, masters, veth peers, VXLAN and bridge port data,
    in the host and in each of its namespaces."""
    host_roles = roles(pair, host)
    for namespace in _namespaces(pair, host):
        real, simulated = pair.outputs(host, _in(namespace, command))
        assert_same(links_by_name(parse(real), host_roles), links_by_name(parse(simulated), host_roles),
                    f"{host} {namespace or 'root'} `{command}`")


def _bridges(pair: Pair, host: str) -> set[str]:
    return {i.name for i in pair.state(host).interfaces if i.kind == "bridge"}


def _addresses(devices: list[parsers.iproute.InterfaceAddresses], bridges: set[str],
               ovs_bridges: set[str]) -> dict[str, Any]:
    def kept(device: parsers.iproute.InterfaceAddresses, address: parsers.iproute.Address) -> bool:
        return not (device.name in bridges and address.scope == "link")  # from the bridge's first, random MAC
    return {d.name: {"mac": None if d.name in ovs_bridges else d.mac,  # ovs-vswitchd chooses a bridge's MAC
                     "addresses": sorted((a.cidr, a.family, a.scope) for a in d.addresses if kept(d, a))}
            for d in devices if _comparable(d.name)}


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize(("command", "parse"), [("ip -j addr", parsers.parse_ip_addr_json),
                                                ("ip address show", parsers.parse_ip_addr_text)])
def test_addresses_parse_the_same(pair: Pair, host: str, command: str, parse) -> None:  # type: ignore[no-untyped-def]
    """Every address, link-local ones included (the kernel derives them from the MAC)."""
    for namespace in _namespaces(pair, host):
        real, simulated = pair.outputs(host, _in(namespace, command))
        bridges = _bridges(pair, host)
        ovs_bridges = _ovs_bridges(pair, host)
        assert_same(_addresses(parse(real), bridges, ovs_bridges), _addresses(parse(simulated), bridges, ovs_bridges),
                    f"{host} {namespace or 'root'} `{command}`")


@pytest.mark.parametrize("host", HOSTS)
def test_namespace_lists_parse_the_same(pair: Pair, host: str) -> None:
    real, simulated = pair.outputs(host, "ip netns list")
    assert sorted(map(asdict, parsers.parse_netns_list(real)), key=str) == \
        sorted(map(asdict, parsers.parse_netns_list(simulated)), key=str)
    assert len(parsers.parse_netns_list(real)) == len(pair.state(host).namespaces)


def _fdb(entries: list[parsers.bridge.FdbEntry], bridges: set[str]) -> list[tuple[Any, ...]]:
    # learned entries (no state) come and go with traffic; a bridge's solicited-node group follows
    # its link-local address (see the module docstring)
    return sorted((e.mac, e.dev, e.master, e.vlan, e.dst, e.state, tuple(e.flags)) for e in entries
                  if e.state is not None and e.dev and _comparable(e.dev)
                  and not (e.dev in bridges and e.mac.startswith("33:33:ff:")))


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize(("command", "parse"), [("bridge -j fdb show", parsers.parse_bridge_fdb_json),
                                                ("bridge fdb show", parsers.parse_bridge_fdb_text)])
def test_forwarding_databases_parse_the_same(pair: Pair, host: str, command: str, parse) -> None:  # type: ignore[no-untyped-def]
    """Permanent entries (bridges' own MACs, multicast groups, l2population's VXLAN remotes) and
    the VXLAN devices' remote endpoints the scanner takes from them."""
    real, simulated = (parse(text) for text in pair.outputs(host, command))
    assert _fdb(real, _bridges(pair, host)) == _fdb(simulated, _bridges(pair, host))
    assert parsers.vxlan_remotes(real) == parsers.vxlan_remotes(simulated)


# -- bridge-utils, ethtool, sysfs -----------------------------------------------------------------

def brctl_table(text: str) -> dict[str, tuple[str, str, list[str]]]:
    """`brctl show` (the scanner reads bridges from `ip -d -j link`; this only checks the layout):
    bridge -> (bridge id, STP enabled, interfaces)."""
    lines = text.splitlines()
    if not lines:
        return {}  # no bridge: bridge-utils prints nothing at all
    assert lines[0].split("\t") == ["bridge name", "bridge id", "", "STP enabled", "interfaces"]
    bridges: dict[str, tuple[str, str, list[str]]] = {}
    current = None
    for line in lines[1:]:
        fields = line.split("\t")
        if fields[0]:
            name, bridge_id, stp, interface = [f for f in fields if f] + [""] * (4 - len([f for f in fields if f]))
            current = bridges[name] = (bridge_id, stp, [interface] if interface else [])
        else:
            assert current is not None and re.fullmatch(r"\t{7}\S+", line), line
            current[2].append(fields[-1])
    return bridges


@pytest.mark.parametrize("host", HOSTS)
def test_brctl_show_reads_the_same(pair: Pair, host: str) -> None:
    real, simulated = pair.outputs(host, "brctl show")
    assert brctl_table(real) == brctl_table(simulated)


def _ethtool_devices(pair: Pair, host: str) -> list[str]:
    kinds = ("veth", "tap", "bridge", "vxlan")
    return [i.name for i in pair.state(host).in_namespace(None) if i.kind in kinds and i.name not in _nics(pair, host)]


@pytest.mark.parametrize("host", HOSTS)
def test_ethtool_reads_the_same(pair: Pair, host: str) -> None:
    """Speed, duplex, port, auto-negotiation and `Link detected` of veths, taps, bridges, VXLAN devices."""
    devices = _ethtool_devices(pair, host)
    if not devices:
        pytest.skip(f"{host} has no veth, tap, bridge or VXLAN device in its root namespace")
    for device in devices:
        real, simulated = pair.outputs(host, f"ethtool {device}")
        assert asdict(parsers.parse_ethtool_link(real)) == asdict(parsers.parse_ethtool_link(simulated)), device


@pytest.mark.parametrize("host", HOSTS)
def test_sys_class_net_reads_the_same(pair: Pair, host: str) -> None:
    """Every device is listed, virtual ones as virtual (NICs are veth cables here: not compared)."""
    nics = _nics(pair, host)
    real, simulated = (
        {d.name: d.physical for d in parsers.parse_sys_class_net(text) if _comparable(d.name) and d.name not in nics}
        for text in pair.outputs(host, "ls -l /sys/class/net"))
    assert_same(real, simulated, f"{host} ls -l /sys/class/net")
    assert set(real) | nics >= {i.name for i in pair.state(host).in_namespace(None)}


# -- Open vSwitch ---------------------------------------------------------------------------------

@pytest.mark.parametrize("host", HOSTS)
def test_linux_bridge_hosts_have_no_open_vswitch_in_both(lxb_pair: Pair, host: str) -> None:
    """On a Linux bridge world the OVS tools are missing (bash's exit 127) on the real and the simulated host."""
    for command in ("ovs-vsctl show", "ovs-appctl dpif/show"):
        assert lxb_pair.real.execute(host, command)[0] == lxb_pair.simulated(host, command)[0] == 127


def _show_view(text: str) -> dict[str, Any]:
    show = parsers.parse_ovs_vsctl_show(text)
    return {
        "managers": sorted(m.target for m in show.managers),  # is_connected: nobody connects here
        "version": show.ovs_version,
        "bridges": {b.name: {"fail_mode": b.fail_mode, "controllers": sorted(c.target for c in b.controllers),
                             "other": b.other,
                             "ports": {p.name: asdict(p) for p in b.ports}}  # show orders ports by uuid
                    for b in show.bridges},
    }


@pytest.mark.parametrize("host", HOSTS)
def test_ovs_vsctl_show_parses_the_same(ovs_pair: Pair, host: str) -> None:
    """Bridges, fail mode, controllers, ports, VLAN tags, interfaces, types and options
    (datapath_type is system in the simulator and netdev here: the datapath)."""
    real, simulated = ovs_pair.outputs(host, "ovs-vsctl show")
    assert _show_view(real) == _show_view(simulated)
    assert {b.datapath_type for b in parsers.parse_ovs_vsctl_show(real).bridges} == {"netdev"}


# Columns each OVSDB table may legitimately differ in (see the module docstring), all rows.
OVS_VOLATILE = {
    "Bridge": {"_uuid", "datapath_type", "datapath_id", "datapath_version", "ports", "controller"},
    "Port": {"_uuid", "interfaces", "statistics"},
    "Interface": {"_uuid", "ifindex", "statistics", "link_resets", "status"},
}
# Interface columns that only ovs-vswitchd's view of the device fills in: the physical NICs are
# veths here, internal ports of the userspace datapath are taps (driver, speed), and internal
# ports moved into a namespace are out of the userspace datapath's sight.
OVS_DEVICE_COLUMNS = {"admin_state", "link_state", "mac_in_use", "mtu", "link_speed", "duplex"}


def _rows(text: str, table: str) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in parsers.parse_ovsdb_table(text, table)}


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("table", ["Bridge", "Port", "Interface"])
def test_ovsdb_tables_parse_the_same(ovs_pair: Pair, host: str, table: str) -> None:
    """Every column of every row: ofport, type, options, external_ids (iface-id, attached-mac,
    vm-uuid), tags, names of a bridge's ports and a port's interfaces, MACs, MTUs, link states."""
    command = f"ovs-vsctl --format=json list {table}"
    real_text, simulated_text = ovs_pair.outputs(host, command)
    real, simulated = _rows(real_text, table), _rows(simulated_text, table)
    assert sorted(real) == sorted(simulated)
    real_headings = set(next(iter(real.values())))
    assert real_headings == set(next(iter(simulated.values()))), "different columns"
    ports = {u: r["name"] for t in ("Port", "Interface") for r in
             parsers.parse_ovsdb_table(ovs_pair.real.run(host, f"ovs-vsctl --format=json list {t}"), t)
             for u in [r["_uuid"]]}
    sim_ports = {u: r["name"] for t in ("Port", "Interface") for r in
                 parsers.parse_ovsdb_table(ovs_pair.simulated(host, f"ovs-vsctl --format=json list {t}")[1], t)
                 for u in [r["_uuid"]]}
    internal_in_namespace = {i.name for i in ovs_pair.state(host).interfaces if i.kind == "openvswitch" and i.namespace}
    device_specific = _nics(ovs_pair, host) | internal_in_namespace | {b.name for b in ovs_pair.state(host).ovs_bridges}
    differing = {}
    for name, row in real.items():
        other = simulated[name]
        skip = OVS_VOLATILE[table] | (OVS_DEVICE_COLUMNS if name in device_specific else set())
        if row.get("type") in ("patch", "vxlan", "gre"):
            skip = skip | {"mac_in_use"}  # ovs-vswitchd makes these up at random
        for column in real_headings - skip:
            if row[column] != other[column]:
                differing[f"{name}.{column}"] = {"real": row[column], "simulated": other[column]}
        for column, names in (("ports", ports), ("interfaces", ports)):
            if column in row:
                assert sorted(names[u] for u in row[column]) == sorted(sim_ports[u] for u in other[column]), name
    assert not differing, differing


def _dpif_view(text: str) -> dict[str, dict[str, Any]]:
    internal = {"tap": "internal"}  # the userspace datapath's internal ports are taps
    return {bridge.name: {p.name: (p.ofport, p.dp_port is None, internal.get(p.type or "", p.type), p.options)
                          for p in bridge.ports}
            for datapath in parsers.parse_ovs_dpif_show(text) for bridge in datapath.bridges}


@pytest.mark.parametrize("host", HOSTS)
def test_dpif_show_parses_the_same(ovs_pair: Pair, host: str) -> None:
    """Each bridge's ports with OpenFlow port numbers, whether they are in the datapath (patch ports
    are not), types and tunnel options; datapath port numbers belong to the datapath."""
    real, simulated = ovs_pair.outputs(host, "ovs-appctl dpif/show")
    assert _dpif_view(real) == _dpif_view(simulated)


# Flow statistics: how long a flow has been there and the traffic it saw (`hard_age` once a flow is changed).
FLOW_VOLATILE = re.compile(r" (duration=[0-9.]+s|n_packets=\d+|n_bytes=\d+|idle_age=\d+|hard_age=\d+),")


def _flow_lines(text: str) -> list[str]:
    """A dump's lines with the statistics out, sorted: ovs-ofctl prints a table's flows in classifier order."""
    return sorted(FLOW_VOLATILE.sub("", line) for line in text.splitlines())


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("form", ["", "--names ", "--no-stats ", "table"])
def test_dump_flows_print_the_same(ovs_pair: Pair, host: str, form: str) -> None:
    """`ovs-ofctl dump-flows` of every bridge, as a pipe gets it (header, idle_age, port numbers), with
    --names, with --no-stats, and of one table as the scanner asks (`table=N`: br-tun's flooding table 22,
    the others' table 0): the same lines but for the statistics (cookies are the lab's, the same in both),
    the same flows parsed, and the same local VLANs, segments and flood ports derived."""
    bridges = [b.name for b in ovs_pair.state(host).ovs_bridges]
    parsed = {}
    for bridge in bridges:
        command = (f"ovs-ofctl dump-flows {bridge} table={22 if bridge == 'br-tun' else 0}" if form == "table"
                   else f"ovs-ofctl {form}dump-flows {bridge}")
        real, simulated = ovs_pair.outputs(host, command)
        assert _flow_lines(real) == _flow_lines(simulated), bridge
        flows = [openflow.parse_dump_flows(text) for text in (real, simulated)]
        for one in flows:
            for flow in one:
                flow.n_packets = None
        assert sorted(flows[0], key=repr) == sorted(flows[1], key=repr), bridge
        parsed[bridge] = flows
    names = {b.name: {p.ofport: p.name for p in b.ports} for b in ovs_pair.state(host).ovs_bridges}
    derived = [openflow.derive_openflow({b: parsed[b][n] for b in bridges}, names) for n in (0, 1)]
    assert derived[0] == derived[1]
    if ovs_pair.world.type_driver in ("vxlan", "gre") and ovs_pair.state(host).domains:
        assert derived[0].floods and (derived[0].tunnel_vlans or form == "table")  # the agent's tables are there to compare


@pytest.mark.parametrize("host", HOSTS)
def test_kernel_datapath_listing_names_the_same_ports(ovs_pair: Pair, host: str) -> None:
    """`ovs-dpctl show` reads the kernel datapath, absent here (it fails, as on any userspace-datapath
    host); the simulator prints a kernel datapath. `ovs-appctl dpctl/show` prints the userspace
    datapath in the same format: the same ports but for each datapath's own device."""
    status, _, error = ovs_pair.real.execute(host, "ovs-dpctl show")
    assert status != 0 and "kernel module" in error
    real = parsers.parse_ovs_dpctl_show(ovs_pair.real.run(host, "ovs-appctl dpctl/show"))
    status, simulated_text, _ = ovs_pair.simulated(host, "ovs-dpctl show")
    simulated = parsers.parse_ovs_dpctl_show(simulated_text)
    assert [(d.type, d.name) for d in real] == [("netdev", "ovs-netdev")]
    assert [(d.type, d.name) for d in simulated] == [("system", "ovs-system")]

    def ports(datapaths: list[parsers.ovs.Datapath]) -> dict[str, tuple[str | None, dict[str, str]]]:
        kinds = {"tap": "internal"}
        return {p.name: (kinds.get(p.type or "", p.type), p.options) for d in datapaths for p in d.ports
                if p.name not in ("ovs-system", "ovs-netdev")}
    assert ports(real) == ports(simulated)


# -- the scanner's view of the whole host ---------------------------------------------------------

@pytest.mark.parametrize("host", HOSTS)
def test_the_scanner_fetches_the_same_facts(pair: Pair, host: str) -> None:
    """fetch_host over both hosts: the same interfaces (kind, MAC, MTU, carrier, master,
    namespace, addresses, peer, VXLAN data and remotes), namespaces and OVS ports."""
    real = fetch_host(CallableTransport(pair.real.execute), host)
    simulated = fetch_host(CallableTransport(pair.simulated), host)
    nics, internal = _nics(pair, host), _ovs_internal(pair, host)

    def interfaces(facts) -> dict[tuple[str, str | None], dict[str, Any]]:  # type: ignore[no-untyped-def]
        found = {}
        for interface in facts.interfaces:
            if not _comparable(interface.name):
                continue
            view = asdict(interface)
            if view["master"] == "ovs-system":
                view["master"] = None
            if interface.name in _ovs_bridges(pair, host):
                view["mac"] = None  # ovs-vswitchd chooses a bridge's MAC
            if interface.name in internal and interface.kind == "tun":
                view["kind"] = "openvswitch"
            if interface.name in nics:
                for key in ("kind", "physical", "link_detected", "speed_mbps"):
                    view.pop(key)
            found[(interface.name, interface.namespace)] = view
        return found
    assert_same(interfaces(real), interfaces(simulated), f"{host} interfaces")
    assert sorted(real.namespaces) == sorted(simulated.namespaces)
    assert (real.ovs_ports is None) == (simulated.ovs_ports is None)
    if real.ovs_ports is not None:
        key = lambda port: (port.bridge, port.name)  # noqa: E731
        in_namespace = {i.name for i in pair.state(host).interfaces if i.kind == "openvswitch" and i.namespace}
        # ovs-vswitchd cannot see an internal port's device in another namespace: its link and admin state
        # there are not the simulator's (the scanner reads that device's state in the namespace instead)
        unseen = {"link_state": None, "admin_state": None}
        real_ports = sorted((asdict(p) | (unseen if p.name in in_namespace else {})
                             for p in real.ovs_ports), key=str)
        simulated_ports = sorted((asdict(p) | (unseen if p.name in in_namespace else {})
                                  for p in simulated.ovs_ports), key=str)
        assert real_ports == simulated_ports
        assert sorted(map(key, real.ovs_ports)) == sorted(map(key, simulated.ovs_ports))


_OVS_LOG_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|", re.MULTILINE)


@pytest.mark.parametrize("host", HOSTS)
def test_open_vswitch_installed_but_stopped_fails_alike_in_both(lxb_pair: Pair, host: str) -> None:
    """World spec ovs_installed_stopped: Debian's real OVS tools with no daemon behind them (a run directory
    nothing listens in) and the simulated host exit and complain alike, and the fetch records the same
    single failure. Normalised: the real lab's private run directory, and the tools' log timestamps."""
    spec = lxb_pair.world.host(host)
    spec.ovs_installed_stopped = True  # read live by both hosts' tool tables
    run_dir = str(lxb_pair.real.base / host / "ovs")

    def normalised(text: str) -> str:
        return _OVS_LOG_TIME.sub("T|", text.replace(run_dir, "/var/run/openvswitch"))
    try:
        for command in ("ovs-vsctl show", "ovs-vsctl --format=json --columns=_uuid,name,ports list Bridge",
                        "ovs-appctl dpif/show", "ovs-dpctl show"):
            real_status, real_out, real_err = lxb_pair.real.execute(host, command)
            simulated_status, simulated_out, simulated_err = lxb_pair.simulated(host, command)
            assert (real_status, real_out) == (simulated_status, simulated_out) == (1, ""), command
            assert normalised(real_err) == normalised(simulated_err), command
        real = fetch_host(CallableTransport(lxb_pair.real.execute), host)
        simulated = fetch_host(CallableTransport(lxb_pair.simulated), host)
        assert real.ovs_ports is None and simulated.ovs_ports is None
        assert [(f.command, normalised(f.reason)) for f in real.failures] == \
            [(f.command, normalised(f.reason)) for f in simulated.failures]
        assert len(real.failures) == 1 and "installed but not running" in real.failures[0].reason
    finally:
        spec.ovs_installed_stopped = False
