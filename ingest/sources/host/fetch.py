"""Run one host's commands over its transport and parse them into HostFacts (the I/O side).

Which commands run depends on what the host has: OVS tools only where `ovs-vsctl` answers,
VPP only where `vppctl` does, libvirt only where `virsh` does (a tool that is missing fails
with 127, as a shell says, and just means "not here"). Per-device commands (ethtool, bonding,
namespaces, domains) follow from the first answers.

Machine-readable forms come first. Where a host's tool refuses them (iproute2 before 4.14 has
no `-j`; an ovs-vsctl without `--format=json`), the text form of the same command is parsed
instead. Datapath port numbers come from `ovs-dpctl show` (the kernel datapath, what real
clouds run) or, when it fails, from `ovs-appctl dpif/show` (any datapath, e.g. the userspace one).

A command that fails (exits non-zero where the tool is expected) or prints what its parser refuses
costs only the facts it gives: it is recorded in `HostFacts.failures` (the scanner turns each into a
message naming the command) and the host's other facts are kept, e.g. one domain's `virsh dumpxml`
failing leaves the other domains. Only a host that cannot be reached at all (the transport raises
TransportError) fails the whole fetch.
"""

from __future__ import annotations

import functools
import logging
import re
import shlex
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ingest.sources.host import openflow, parsers
from ingest.sources.host.facts import (
    CommandFailure,
    DatapathPortFact,
    HostFacts,
    InterfaceFact,
    OvsPortFact,
    VppInterfaceFact,
)
from ingest.sources.host.parsers.errors import ParseError
from ingest.sources.host.parsers.openflow import parse_dump_flows
from ingest.transport import CommandResult, Transport, TransportError

log = logging.getLogger(__name__)

COMMAND_NOT_FOUND = 127

# (command, parser) in order of preference; a later form is tried when the host refuses an earlier one.
Forms = Sequence[tuple[str, Callable[..., Any]]]
LINK_FORMS: Forms = (("ip -d -j link", parsers.parse_ip_link_json), ("ip -d link show", parsers.parse_ip_link_text))
ADDRESS_FORMS: Forms = (("ip -j addr", parsers.parse_ip_addr_json), ("ip address show", parsers.parse_ip_addr_text))
FDB_FORMS: Forms = (("bridge -j fdb show", parsers.parse_bridge_fdb_json),
                    ("bridge fdb show", parsers.parse_bridge_fdb_text))
#: The OVSDB tables the scanner reads, and the columns ovs_ports uses from each. Asking for these
#: columns only keeps the answer small: a host in a full VXLAN mesh has a tunnel interface per peer,
#: and a whole Interface row (statistics, status, CFM, LACP...) is ten times the size of these.
OVS_TABLES = {"Bridge": "_uuid,name,ports", "Port": "_uuid,name,interfaces,tag",
              "Interface": "_uuid,name,type,options,external_ids,link_state,admin_state,ofport,error"}


#: The service name a host's OVS agent implies (see `ServiceNotRunning`).
OVS_SERVICE = "openvswitch"


class CommandFailed(TransportError):
    """A command ran on the host but failed (a non-zero exit where the tool is expected to answer)."""

    service_down: str | None = None


class ServiceNotRunning(CommandFailed):
    """The tool is installed, but the service it talks to is not running (ovs-vsctl without ovsdb-server)."""

    def __init__(self, host: str, command: str, cause: str, service: str) -> None:
        super().__init__(host, command, cause)
        self.service_down = service


def _failure(host: str, command: str, result: CommandResult) -> CommandFailed:
    cause = f"exited {result.exit_status}"
    return CommandFailed(host, command, f"{cause}: {result.stderr.strip()[:200]}" if result.stderr.strip() else cause)


@contextmanager
def _recorded(facts: HostFacts, step: str) -> Iterator[None]:
    """Run one step of a host fetch whose failure costs only its own facts: a failed command or refused
    output is recorded in facts.failures. A TransportError of the transport itself (unreachable host,
    timeout) still ends the fetch. Anything else is a bug, recorded too (logged with its traceback) so
    that one host's odd output never stops a scan."""
    try:
        yield
    except CommandFailed as error:
        _record(facts, CommandFailure(error.command, error.cause, service_down=error.service_down))
    except ParseError as error:
        _record(facts, CommandFailure(error.command, f"unexpected output: {error.reason}", error.excerpt))
    except TransportError:
        raise
    except Exception as error:  # noqa: BLE001 - a bug in a parser join or here; see the docstring
        log.exception("%s: %s", facts.host, step)
        _record(facts, CommandFailure(step, f"internal error ({type(error).__name__}: {error})"))


def _record(facts: HostFacts, failure: CommandFailure) -> None:
    log.warning("%s: %s", facts.host, failure)
    facts.failures.append(failure)


Collector = Callable[[Transport, str, HostFacts], None]


def _step(step: str) -> Callable[[Collector], Collector]:
    """A collector whose failure (see _recorded) leaves the host's other facts; `step` names it when the
    failing command is not known."""
    def decorate(collect: Collector) -> Collector:
        @functools.wraps(collect)
        def wrapper(transport: Transport, host: str, facts: HostFacts) -> None:
            with _recorded(facts, step):
                collect(transport, host, facts)
        return wrapper
    return decorate


def _run(transport: Transport, host: str, command: str) -> str:
    """A command's output; any failure is a TransportError."""
    result = transport.run(host, command)
    if result.exit_status != 0:
        raise _failure(host, command, result)
    return result.stdout


def _optional(transport: Transport, host: str, command: str) -> str | None:
    """A command's output, or None when the host lacks the tool; any other failure is a TransportError."""
    result = transport.run(host, command)
    if result.exit_status not in (0, COMMAND_NOT_FOUND):
        raise _failure(host, command, result)
    return result.stdout if result.exit_status == 0 else None


def _parsed(transport: Transport, host: str, forms: Forms, prefix: str = "") -> Any:
    """The first form the host answers, parsed; when every form fails, the last failure is raised."""
    for command, parse in forms[:-1]:
        result = transport.run(host, prefix + command)
        if result.exit_status == 0:
            return parse(result.stdout, command=prefix + command)
    command, parse = forms[-1]
    return parse(_run(transport, host, prefix + command), command=prefix + command)


def _interfaces(transport: Transport, host: str, facts: HostFacts, namespace: str | None = None) -> list[InterfaceFact]:
    """The devices of one namespace (None: the host's own) with their addresses (none when the address
    listing fails: recorded)."""
    prefix = f"ip netns exec {shlex.quote(namespace)} " if namespace else ""
    links = _parsed(transport, host, LINK_FORMS, prefix)
    addresses: dict[str, list[str]] = {}
    with _recorded(facts, f"{prefix}ip addr"):
        addresses = parsers.global_addresses(_parsed(transport, host, ADDRESS_FORMS, prefix))
    result = []
    for link in links:
        interface = parsers.interface_fact(link, namespace)
        interface.addresses = addresses.get(link.name, [])
        result.append(interface)
    return result


def _nic_details(transport: Transport, host: str, facts: HostFacts) -> None:
    """Mark the PCI-backed devices physical, with ethtool's link facts; list the bonds' members. A device
    whose ethtool or bonding command fails keeps its other facts (recorded)."""
    listing = "ls -l /sys/class/net"
    physical = {d.name: d.physical for d in parsers.parse_sys_class_net(_run(transport, host, listing))}
    for interface in facts.interfaces:
        interface.physical = physical.get(interface.name, False) and interface.kind is None
        if interface.physical:
            command = f"ethtool {shlex.quote(interface.name)}"
            with _recorded(facts, command):
                settings = parsers.parse_ethtool_link(_run(transport, host, command), command=command)
                interface.link_detected, interface.speed_mbps = settings.link_detected, settings.speed
        if interface.kind == "bond":
            command = f"cat /proc/net/bonding/{shlex.quote(interface.name)}"
            with _recorded(facts, command):
                bond = parsers.parse_bonding(_run(transport, host, command), command=command)
                interface.bond_members = [slave.name for slave in bond.slaves]
                interface.link_detected = interface.carrier


def _vxlan_remotes(transport: Transport, host: str, interfaces: list[InterfaceFact]) -> None:
    """Add the remote VTEPs the forwarding database holds to the host's VXLAN devices."""
    vxlans = [i for i in interfaces if i.kind == "vxlan"]
    if not vxlans:
        return
    remotes = parsers.vxlan_remotes(_parsed(transport, host, FDB_FORMS))
    for vxlan in vxlans:
        vxlan.vxlan_remotes = sorted({*vxlan.vxlan_remotes, *remotes.get(vxlan.name, [])})


def _ovs_ports(transport: Transport, host: str) -> list[OvsPortFact] | None:
    """The switch's ports from OVSDB's JSON tables, or from `ovs-vsctl show` when --format=json is refused."""
    tables = {}
    for table, columns in OVS_TABLES.items():
        command = f"ovs-vsctl --format=json --columns={columns} list {table}"
        result = transport.run(host, command)
        if result.exit_status == COMMAND_NOT_FOUND:
            return None
        if result.exit_status != 0 and ovs_not_running(result.stderr):
            # Installed, not running (a Linux-bridge host with the packages, ovsdb-server restarting): no
            # OVS facts, one failure naming the command; `ovs-vsctl show` would only say it again.
            raise ServiceNotRunning(host, command, "Open vSwitch is installed but not running: "
                                    f"{result.stderr.strip()[:200]}", OVS_SERVICE)
        if result.exit_status != 0:
            show = _run(transport, host, "ovs-vsctl show")
            return parsers.ovs_ports_from_show(parsers.parse_ovs_vsctl_show(show))
        tables[table] = parsers.parse_ovsdb_table(result.stdout, table, command=command)
    return parsers.ovs_ports(tables["Bridge"], tables["Port"], tables["Interface"])


def ovs_not_running(stderr: str) -> bool:
    """Whether ovs-vsctl's error says its database cannot be reached: ovsdb-server is not running (no socket:
    "No such file or directory"; a stale one: "Connection refused")."""
    return re.search(r"^ovs-vsctl: \S+: database connection failed \(", stderr, re.MULTILINE) is not None


def _datapath_ports(transport: Transport, host: str) -> list[DatapathPortFact] | None:
    """The datapath's numbered ports: the kernel datapath's listing, else ovs-vswitchd's own."""
    dpctl = transport.run(host, "ovs-dpctl show")
    if dpctl.exit_status == 0:
        ports = parsers.dpctl_ports(parsers.parse_ovs_dpctl_show(dpctl.stdout))
        if ports:
            return ports
    dpif = transport.run(host, "ovs-appctl dpif/show")
    if dpif.exit_status == 0:
        return parsers.dpif_ports(parsers.parse_ovs_dpif_show(dpif.stdout))
    # Neither answers when ovs-vswitchd is down: OVSDB still describes the switch, so go on without.
    log.warning("%s: no datapath listing (ovs-dpctl show: %s; ovs-appctl dpif/show: %s)", host,
                dpctl.stderr.strip()[:200], dpif.stderr.strip()[:200])
    return None


def _vpp_interfaces(transport: Transport, host: str) -> list[VppInterfaceFact] | None:
    show_int = _optional(transport, host, "vppctl show int")
    if show_int is None:
        return None
    return parsers.vpp_interfaces(parsers.parse_vpp_show_int(show_int),
                                  parsers.parse_vpp_show_mode(_run(transport, host, "vppctl show mode")),
                                  parsers.parse_vpp_hardware(_run(transport, host, "vppctl show hardware-interfaces")))


# -- collectors: each fills part of a HostFacts; ingest/hierarchy.py declares them and their order --------
# A collector that fails leaves its facts empty (None where None means "unknown") and records why.

@_step("ip link")
def collect_interfaces(transport: Transport, host: str, facts: HostFacts) -> None:
    """The root namespace's devices with their addresses."""
    facts.interfaces = _interfaces(transport, host, facts)


@_step("NIC details")
def collect_nic_details(transport: Transport, host: str, facts: HostFacts) -> None:
    _nic_details(transport, host, facts)


@_step("bridge fdb show")
def collect_vxlan_remotes(transport: Transport, host: str, facts: HostFacts) -> None:
    _vxlan_remotes(transport, host, facts.interfaces)


@_step("ip netns list")
def collect_namespaces(transport: Transport, host: str, facts: HostFacts) -> None:
    """The network namespaces and the devices inside each (a namespace whose listing fails is left out)."""
    facts.namespaces = [n.name for n in parsers.parse_netns_list(_run(transport, host, "ip netns list"))]
    for namespace in facts.namespaces:
        with _recorded(facts, f"ip netns exec {shlex.quote(namespace)} ip link"):
            facts.interfaces += _interfaces(transport, host, facts, namespace)


@_step("ovs-vsctl")
def collect_ovs(transport: Transport, host: str, facts: HostFacts) -> None:
    facts.ovs_ports = _ovs_ports(transport, host)


@_step("ovs-dpctl show")
def collect_datapath(transport: Transport, host: str, facts: HostFacts) -> None:
    if facts.ovs_ports is not None:  # only where Open vSwitch answered
        facts.datapath_ports = _datapath_ports(transport, host)


@_step("ovs-ofctl dump-flows")
def collect_openflow(transport: Transport, host: str, facts: HostFacts) -> None:
    """The OVS agent's tables of each bridge that the vedge's mapping reads (openflow.dump_commands: one table
    each, so a big cloud's unicast flows are not read), where Open vSwitch answered. A bridge any of whose
    dumps fails or does not parse is left out, recorded with the line; its mapping is then unknown."""
    if facts.ovs_ports is None:
        return
    facts.openflow = {}
    for bridge, commands in openflow.dump_commands(facts.ovs_ports).items():
        with _recorded(facts, commands[0]):
            facts.openflow[bridge] = [flow for command in commands
                                      for flow in parse_dump_flows(_run(transport, host, command), command=command)]


@_step("virsh list --all")
def collect_domains(transport: Transport, host: str, facts: HostFacts) -> None:
    """The libvirt domains and their interfaces (none where virsh is missing; a domain whose XML cannot
    be had is left out)."""
    listing = _optional(transport, host, "virsh list --all")
    for domain in parsers.parse_virsh_list(listing) if listing is not None else []:
        command = f"virsh dumpxml {shlex.quote(domain.name)}"
        with _recorded(facts, command):
            xml = parsers.parse_virsh_dumpxml(_run(transport, host, command), command=command)
            facts.domains.append(parsers.domain_fact(xml, domain.state))


@_step("vppctl")
def collect_vpp(transport: Transport, host: str, facts: HostFacts) -> None:
    facts.vpp_interfaces = _vpp_interfaces(transport, host)
