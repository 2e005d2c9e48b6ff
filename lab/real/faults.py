"""Faults made with real commands on a running real lab, each with the object RCA should name first.

`calipso lab fault --real KIND HOST/DEVICE [--clear]` runs the fault's commands (`ip`, `ovs-vsctl`)
on the host of the real lab `calipso lab up --real` serves, and records the fault in the lab's state
directory (real-faults.json) with its expected root cause; `--clear` runs the commands that undo it
(from the host model: the device's MAC, MTU, master, addresses, VLAN tag and OVS settings as built)
and drops the record.

The expected root cause is the broken device's own object where the inventory has one (a pNIC, a vNIC,
a Linux bridge, an OVS port, a bridge member), else the nearest object that does (see `_candidates`):
which objects exist is read from the ground truth of the world (lab/truth.py), which follows the model.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from graphmodel import conventions as names
from graphmodel.schema import host_pnic_id, otep_id, vedge_id, vnic_id
from lab.hostmodel import HostState, Interface, OvsPort
from lab.real.lab import RealLab, RealLabError, _finish_device, _kernel_device, _l2population, add_port_args
from lab.truth import compute_truth
from lab.world import Host, Port, World

FAULTS_FILE = "real-faults.json"
WRONG_TAG = 4000  # a local VLAN no network uses
LOW_MTU = 1280  # below every network's MTU, above IPv6's minimum


@dataclass(frozen=True)
class RealFaultKind:
    name: str
    devices: str  # which devices of a host it applies to
    description: str


REAL_FAULT_KINDS = (
    RealFaultKind("nic_down", "a host NIC (eth*)", "ip link set NIC down: the cable's end goes down"),
    RealFaultKind("tap_down", "a VM's tap", "ip link set TAP down"),
    RealFaultKind("veth_down", "a hybrid plug's qvb/qvo veth end", "ip link set VETH down"),
    RealFaultKind("bridge_down", "a Linux bridge (qbr, brq)", "ip link set BRIDGE down"),
    RealFaultKind("vxlan_down", "a Linux bridge agent's VXLAN device", "ip link set vxlan-N down"),
    RealFaultKind("service_port_down", "a DHCP/router port inside its namespace", "ip -n NS link set DEV down"),
    RealFaultKind("mtu_lowered", "any device in the host's namespace", f"ip link set DEV mtu {LOW_MTU}"),
    RealFaultKind("address_removed", "the device holding the tunneling IP", "ip address del TUNNEL_IP dev DEV"),
    RealFaultKind("bridge_deleted", "a Linux bridge (qbr, brq)", "ip link del BRIDGE (its members stay, unplugged)"),
    RealFaultKind("bridge_member_removed", "a member of a Linux bridge", "ip link set DEV nomaster"),
    RealFaultKind("ovs_port_deleted", "a VM's port on br-int (qvo or tap)", "ovs-vsctl del-port br-int PORT"),
    RealFaultKind("ovs_tag_changed", "a tagged port on br-int", f"ovs-vsctl set Port PORT tag={WRONG_TAG}"),
    RealFaultKind("patch_port_deleted", "a patch port (patch-tun, int-br-ex, ...)", "ovs-vsctl del-port BRIDGE PATCH"),
    RealFaultKind("tunnel_port_deleted", "a tunnel port on br-tun (vxlan-*, gre-*)", "ovs-vsctl del-port br-tun PORT"),
    RealFaultKind("vxlan_deleted", "a Linux bridge agent's VXLAN device", "ip link del vxlan-N"),
)
REAL_FAULT_KINDS_BY_NAME = {kind.name: kind for kind in REAL_FAULT_KINDS}


class RealFaultError(RealLabError):
    """A real fault cannot be made or cleared; the message says why."""


@dataclass
class RealFault:
    """A fault made on the real lab: what was run, how to undo it, what RCA should name first."""

    kind: str
    target: str  # HOST/DEVICE
    root_cause: str  # object id
    commands: list[str] = field(default_factory=list)
    undo: list[str] = field(default_factory=list)


# -- where the running real lab is ----------------------------------------------------------------

def attach(record: dict[str, str]) -> RealLab:
    """The running real lab of a `calipso lab up --real` record (tag, base, world_file): a handle that runs
    commands on its hosts (it builds nothing)."""
    from lab.world import load_world

    return RealLab(load_world(record["world_file"]), record["tag"], Path(record["base"]))


def recorded_faults(state_dir: Path) -> list[RealFault]:
    """The faults injected on the running real lab and not cleared."""
    try:
        return [RealFault(**f) for f in json.loads((state_dir / FAULTS_FILE).read_text())]
    except (OSError, ValueError):
        return []


def _save(state_dir: Path, faults: list[RealFault]) -> None:
    (state_dir / FAULTS_FILE).write_text(json.dumps([asdict(f) for f in faults], indent=1))


def inject_real_fault(lab: RealLab, state_dir: Path, kind: str, target: str,
                      known: set[str] | None = None) -> RealFault:
    """Make the fault on the lab and record it; RealFaultError for an unknown kind or unfit target."""
    faults = recorded_faults(state_dir)
    if any(f.kind == kind and f.target == target for f in faults):
        raise RealFaultError(f"fault {kind} on {target} is already injected")
    fault = plan_fault(lab, kind, target, known)
    host = target.split("/", 1)[0]
    try:
        lab.run(host, "set -e\n" + "\n".join(fault.commands))
    except RealLabError as exc:
        raise RealFaultError(f"{kind} on {target}: {exc}") from None
    _save(state_dir, [*faults, fault])
    return fault


def clear_real_fault(lab: RealLab, state_dir: Path, kind: str, target: str) -> RealFault:
    """Undo a recorded fault and drop its record."""
    faults = recorded_faults(state_dir)
    fault = next((f for f in faults if f.kind == kind and f.target == target), None)
    if fault is None:
        raise RealFaultError(f"no fault {kind} on {target} is injected on the real lab")
    try:
        lab.run(target.split("/", 1)[0], "set -e\n" + "\n".join(fault.undo))
    except RealLabError as exc:
        raise RealFaultError(f"clearing {kind} on {target}: {exc}") from None
    _save(state_dir, [f for f in faults if f is not fault])
    return fault


# -- the faults ---------------------------------------------------------------------------------

@dataclass
class _Target:
    lab: RealLab
    host: str
    state: HostState
    device: str
    interface: Interface | None
    ovs_port: OvsPort | None

    @property
    def world(self) -> World:
        return self.lab.world

    def need(self, condition: bool, what: str) -> None:
        if not condition:
            raise RealFaultError(f"{self.host}/{self.device} is not {what}")


def plan_fault(lab: RealLab, kind: str, target: str, known: set[str] | None = None) -> RealFault:
    """The commands of a fault, their undoing and the expected root cause, from the lab's host model (pure:
    nothing is run). `known`: the object ids the inventory has (default: the world's ground truth)."""
    if kind not in REAL_FAULT_KINDS_BY_NAME:
        raise RealFaultError(f"unknown real fault kind {kind!r}; choose from {', '.join(REAL_FAULT_KINDS_BY_NAME)}")
    host, _, device = target.partition("/")
    if host not in lab.model or not device:
        raise RealFaultError(f"target {target!r}: expected HOST/DEVICE with HOST one of "
                             f"{', '.join(h.name for h in lab.world.hosts)}")
    state = lab.model.get(host)
    interface = next((i for i in state.interfaces if i.name == device), None)
    ovs_port = next((p for b in state.ovs_bridges for p in b.ports if p.name == device and p.name != b.name), None)
    if interface is None and ovs_port is None:
        raise RealFaultError(f"{host} has no device {device!r}")
    spec = _Target(lab, host, state, device, interface, ovs_port)
    commands, undo = _FAULTS[kind](spec)
    known = known if known is not None else set(compute_truth(lab.world).objects)
    candidates = _candidates(spec, kind)
    root_cause = next((c for c in candidates if c in known), candidates[-1])
    return RealFault(kind, target, root_cause, commands, undo)


def _ip(interface: Interface) -> str:
    return f"ip -n {shlex.quote(interface.namespace)}" if interface.namespace else "ip"


def _set_down(spec: _Target) -> tuple[list[str], list[str]]:
    assert spec.interface is not None
    name = shlex.quote(spec.device)
    return [f"{_ip(spec.interface)} link set {name} down"], [f"{_ip(spec.interface)} link set {name} up"]


def _kernel(spec: _Target, kinds: tuple[str, ...], what: str, prefixes: tuple[str, ...] = ()) -> Interface:
    interface = spec.interface
    spec.need(interface is not None and interface.kind in kinds and interface.namespace is None
              and spec.device.startswith(prefixes or ("",)), what)
    assert interface is not None
    return interface


def _nic_down(spec: _Target) -> tuple[list[str], list[str]]:
    _kernel(spec, ("physical",), "a host NIC")
    return _set_down(spec)


def _tap_down(spec: _Target) -> tuple[list[str], list[str]]:
    _kernel(spec, ("tap",), "a VM's tap")
    return _set_down(spec)


def _veth_down(spec: _Target) -> tuple[list[str], list[str]]:
    _kernel(spec, ("veth",), "a hybrid plug's veth (qvb, qvo)", ("qvb", "qvo"))
    return _set_down(spec)


def _bridge_down(spec: _Target) -> tuple[list[str], list[str]]:
    _kernel(spec, ("bridge",), "a Linux bridge of Neutron (qbr, brq)", ("qbr", "brq"))
    return _set_down(spec)


def _vxlan_down(spec: _Target) -> tuple[list[str], list[str]]:
    _kernel(spec, ("vxlan",), "a VXLAN device")
    return _set_down(spec)


def _service_port_down(spec: _Target) -> tuple[list[str], list[str]]:
    spec.need(spec.interface is not None and spec.interface.namespace is not None
              and spec.interface.namespace.startswith(("qdhcp-", "qrouter-")), "a port inside a qdhcp/qrouter namespace")
    return _set_down(spec)


def _mtu_lowered(spec: _Target) -> tuple[list[str], list[str]]:
    interface = spec.interface
    spec.need(interface is not None and interface.kind != "loopback", "a kernel device")
    assert interface is not None
    name = shlex.quote(spec.device)
    return [f"{_ip(interface)} link set {name} mtu {LOW_MTU}"], [f"{_ip(interface)} link set {name} mtu {interface.mtu}"]


def _tunnel_ip_cidr(spec: _Target) -> str | None:
    tunnel_ip = next((h.tunnel_ip for h in spec.world.hosts if h.name == spec.host), None)
    interface = spec.interface
    return next((c for c in (interface.addresses if interface else []) if c.split("/")[0] == tunnel_ip), None)


def _address_removed(spec: _Target) -> tuple[list[str], list[str]]:
    cidr = _tunnel_ip_cidr(spec)
    spec.need(cidr is not None, "the device holding the host's tunneling IP")
    name = shlex.quote(spec.device)
    # VXLAN devices and OVS tunnel ports over the address stay (unusable), as do forwarding entries
    return [f"ip address del {cidr} dev {name}"], [f"ip address add {cidr} dev {name}"]


def _bridge_deleted(spec: _Target) -> tuple[list[str], list[str]]:
    bridge = _kernel(spec, ("bridge",), "a Linux bridge of Neutron (qbr, brq)", ("qbr", "brq"))
    members = [i for i in spec.state.interfaces if i.master == bridge.name and i.namespace is None]
    undo = _kernel_device(bridge, spec.state) + _finish_device(bridge, spec.state)
    undo += [f"ip link set {shlex.quote(m.name)} master {shlex.quote(bridge.name)}" for m in members]
    return [f"ip link del {shlex.quote(bridge.name)}"], undo


def _bridge_member_removed(spec: _Target) -> tuple[list[str], list[str]]:
    interface = spec.interface
    spec.need(interface is not None and interface.namespace is None and interface.master is not None
              and any(i.name == interface.master and i.kind == "bridge" for i in spec.state.interfaces),
              "a member of a Linux bridge")
    assert interface is not None and interface.master is not None
    name = shlex.quote(spec.device)
    return [f"ip link set {name} nomaster"], [f"ip link set {name} master {shlex.quote(interface.master)}"]


def _add_port(spec: _Target, port: OvsPort) -> str:
    """The ovs-vsctl command that puts an OVS port back as the lab built it (lab/real/lab.py add_port_args)."""
    return "ovs-vsctl " + " ".join(shlex.quote(a) for a in add_port_args(spec.world, port))


def _ovs(spec: _Target, types: tuple[str, ...], what: str) -> OvsPort:
    port = spec.ovs_port
    spec.need(port is not None and port.type in types, what)
    assert port is not None
    return port


def _ovs_port_deleted(spec: _Target) -> tuple[list[str], list[str]]:
    port = _ovs(spec, ("",), "a VM's port on an OVS bridge")
    spec.need(_port_of_device(spec) is not None, "a Neutron port's device on an OVS bridge")
    return [f"ovs-vsctl del-port {shlex.quote(port.bridge)} {shlex.quote(port.name)}"], [_add_port(spec, port)]


def _ovs_tag_changed(spec: _Target) -> tuple[list[str], list[str]]:
    port = spec.ovs_port
    spec.need(port is not None and port.tag is not None, "a tagged OVS port")
    assert port is not None
    name = shlex.quote(port.name)
    return [f"ovs-vsctl set Port {name} tag={WRONG_TAG}"], [f"ovs-vsctl set Port {name} tag={port.tag}"]


def _patch_port_deleted(spec: _Target) -> tuple[list[str], list[str]]:
    port = _ovs(spec, ("patch",), "an OVS patch port")
    return [f"ovs-vsctl del-port {shlex.quote(port.bridge)} {shlex.quote(port.name)}"], [_add_port(spec, port)]


def _tunnel_port_deleted(spec: _Target) -> tuple[list[str], list[str]]:
    port = _ovs(spec, ("vxlan", "gre", "geneve"), "an OVS tunnel port")
    return [f"ovs-vsctl del-port {shlex.quote(port.bridge)} {shlex.quote(port.name)}"], [_add_port(spec, port)]


def _vxlan_deleted(spec: _Target) -> tuple[list[str], list[str]]:
    device = _kernel(spec, ("vxlan",), "a VXLAN device")
    undo = _kernel_device(device, spec.state) + _finish_device(device, spec.state)
    undo += [line for line in _l2population(spec.world, _host(spec), spec.state)
             if f" dev {device.name} " in line]
    return [f"ip link del {shlex.quote(device.name)}"], undo


_FAULTS: dict[str, Callable[[_Target], tuple[list[str], list[str]]]] = {
    "nic_down": _nic_down, "tap_down": _tap_down, "veth_down": _veth_down, "bridge_down": _bridge_down,
    "vxlan_down": _vxlan_down, "service_port_down": _service_port_down, "mtu_lowered": _mtu_lowered,
    "address_removed": _address_removed, "bridge_deleted": _bridge_deleted,
    "bridge_member_removed": _bridge_member_removed, "ovs_port_deleted": _ovs_port_deleted,
    "ovs_tag_changed": _ovs_tag_changed, "patch_port_deleted": _patch_port_deleted,
    "tunnel_port_deleted": _tunnel_port_deleted, "vxlan_deleted": _vxlan_deleted,
}


def _host(spec: _Target) -> Host:
    return next(h for h in spec.world.hosts if h.name == spec.host)


# -- the expected root cause ----------------------------------------------------------------------

def _port_of_device(spec: _Target) -> Port | None:
    """The Neutron port a device is named after (tap, qbr, qvb, qvo, ns-, qr-, qg- + the port id's start)."""
    for port in spec.world.ports:
        if spec.device in (names.tap_name(port.id), names.qbr_name(port.id), names.qvb_name(port.id),
                           names.qvo_name(port.id), names.ns_port_name(port.id),
                           names.router_interface_name(port.id), names.router_gateway_name(port.id)):
            return port
    return None


def _candidates(spec: _Target, kind: str) -> list[str]:
    """Object ids that may stand for the broken device, the device's own first, the nearest last-resort
    last (the host's vedge, or the host)."""
    host, device = spec.host, spec.device
    mechanism = spec.state.mechanism or spec.world.mechanism_driver
    vedge = vedge_id(host, mechanism)
    otep = otep_id(host, spec.world.type_driver)
    port = _port_of_device(spec)
    vnic = [vnic_id(host, port.mac_address)] if port is not None else []
    interface = spec.interface
    if kind == "address_removed":
        return [otep, host_pnic_id(host, device), vedge]
    if spec.ovs_port is not None and (interface is None or kind.startswith(("ovs_", "patch_", "tunnel_"))):
        port_object = f"{host}/{spec.ovs_port.bridge}/{device}"
        if spec.ovs_port.type in ("vxlan", "gre", "geneve"):
            return [port_object, otep, vedge]
        if spec.ovs_port.type == "patch":
            return [port_object, vedge]
        return [port_object, *vnic, vedge]
    if interface is None:
        return [vedge, host]
    if interface.kind == "physical":
        return [host_pnic_id(host, device), host]
    if interface.kind == "bridge":
        return [f"{host}/{device}", vedge]
    if interface.kind == "vxlan":
        bridge = [f"{host}/{interface.master}"] if interface.master else []
        members = [f"{host}/{interface.master}/{device}"] if interface.master else []
        return [*members, otep, *bridge, vedge]
    if interface.kind == "veth" and device.startswith("qvo"):
        ovs = [f"{host}/{b.name}/{device}" for b in spec.state.ovs_bridges if any(p.name == device for p in b.ports)]
        qbr = [f"{host}/{names.qbr_name(port.id)}"] if port is not None else []
        return [*ovs, *qbr, *vnic, vedge]
    if interface.kind == "veth" and interface.master:
        # a qvb is one end of the qvb-qvo cable: its OVS end is its nearest object, then its bridge
        peer = [f"{host}/{b.name}/{interface.peer}" for b in spec.state.ovs_bridges
                if any(p.name == interface.peer for p in b.ports)]
        return [f"{host}/{interface.master}/{device}", *peer, f"{host}/{interface.master}", *vnic, vedge]
    if spec.ovs_port is not None:  # a tap or internal port that is an OVS port (native firewall, services)
        # a VM's tap: its state is the OVS port's (OVSDB's admin and link state), its MTU the vNIC's; a
        # namespace's device: its carrier is read in the namespace, the vNIC's
        ovs_port = f"{host}/{spec.ovs_port.bridge}/{device}"
        return [ovs_port, *vnic, vedge] if kind == "tap_down" else [*vnic, ovs_port, vedge]
    return [*vnic, *([f"{host}/{interface.master}"] if interface.master else []), vedge]


def fault_targets(lab: RealLab, kind: str) -> list[str]:
    """Every HOST/DEVICE of the lab a fault of `kind` can be made on (for benchmarks and tests)."""
    known = set(compute_truth(lab.world).objects)
    targets = []
    for host in lab.world.hosts:
        state = lab.model.get(host.name)
        devices = [i.name for i in state.interfaces] + [p.name for b in state.ovs_bridges for p in b.ports]
        for device in dict.fromkeys(devices):
            try:
                plan_fault(lab, kind, f"{host.name}/{device}", known)
            except RealFaultError:
                continue
            targets.append(f"{host.name}/{device}")
    return targets


def broken_vms(lab: RealLab, target: str) -> list[str]:
    """The VMs (instance ids) a fault on HOST/DEVICE breaks, where a user would start RCA from (none for a
    host NIC that carries no VM traffic, or an OVS bridge's own port): the VM whose
    port the device is; the VMs on the network of a DHCP/router port or of a Linux bridge agent's bridge or
    VXLAN device on the host; else (or when that network has no VM) every VM on the host, and for a host
    without VMs (the network node) every VM."""
    host, _, device = target.partition("/")
    world = lab.world
    state = lab.model.get(host)
    spec = _Target(lab, host, state, device, next((i for i in state.interfaces if i.name == device), None), None)
    port = _port_of_device(spec)
    instances = world.instances
    if spec.interface is not None and spec.interface.kind == "physical" and not _carries_vm_traffic(spec):
        return []  # a management NIC, or a spare one: no VM's traffic crosses it
    if any(b.name == device for b in state.ovs_bridges):
        return []  # a switch's own internal port: no VM's traffic crosses it, its MTU limits nothing
    if port is not None and port.device_owner.startswith("compute:"):
        return sorted(i.id for i in instances if port.id in i.port_ids)
    network = port.network_id if port is not None else None
    if network is None:
        network = next((n.id for n in world.networks if device in (names.brq_name(n.id),)
                        or (n.network_type == "vxlan" and n.segmentation_id is not None
                            and device == names.lxb_vxlan_name(n.segmentation_id))), None)
    if network is not None:
        on_network = {p.id for p in world.ports if p.network_id == network}
        local = [i.id for i in instances if i.host == host and on_network & set(i.port_ids)]
        found = local or [i.id for i in instances if on_network & set(i.port_ids)]
        if found:
            return sorted(found)
    # a network without VMs (the external one behind a router's gateway) breaks what it serves: the rest
    return sorted([i.id for i in instances if i.host == host] or [i.id for i in instances])


def _carries_vm_traffic(spec: _Target) -> bool:
    """Whether a host NIC carries tenant traffic: it holds the tunneling IP or is a provider network's."""
    host = _host(spec)
    nic = next((n for n in host.nics if n.name == spec.device), None)
    return _tunnel_ip_cidr(spec) is not None or (nic is not None and nic.physical_network is not None)
