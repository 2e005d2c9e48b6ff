"""Run one host's commands over its transport and parse them into HostFacts (the I/O side).

Which commands run depends on what the host has: OVS tools only where `ovs-vsctl` answers,
VPP only where `vppctl` does, libvirt only where `virsh` does (a tool that is missing fails
with 127, as a shell says, and just means "not here"). Per-device commands (ethtool, bonding,
namespaces, domains) follow from the first answers.
"""

from __future__ import annotations

from ingest.sources.host import parsers
from ingest.sources.host.facts import HostFacts
from ingest.transport import CommandResult, Transport, TransportError

COMMAND_NOT_FOUND = 127


def _run(transport: Transport, host: str, command: str, optional: bool = False) -> CommandResult | None:
    """Run a command; a missing optional tool gives None, any other failure a TransportError."""
    result = transport.run(host, command)
    if result.exit_status == 0:
        return result
    if optional and result.exit_status == COMMAND_NOT_FOUND:
        return None
    raise TransportError(host, command, f"exited {result.exit_status}: {result.stderr.strip()[:200]}")


def fetch_host_facts(transport: Transport, host: str) -> HostFacts:
    """Everything the link finders need to know about one host."""
    facts = HostFacts(host)
    links = parsers.parse_ip_link_json(_run(transport, host, "ip -d -j link").stdout)  # type: ignore[union-attr]
    addresses = parsers.parse_ip_addr_json(_run(transport, host, "ip -j addr").stdout)  # type: ignore[union-attr]
    physical = parsers.parse_sys_class_net(_run(transport, host, "ls -l /sys/class/net").stdout)  # type: ignore[union-attr]
    for iface in links:
        iface.addresses = addresses.get(iface.name, [])
        iface.physical = physical.get(iface.name, False) and iface.kind is None
        if iface.physical:
            output = _run(transport, host, f"ethtool {iface.name}").stdout  # type: ignore[union-attr]
            iface.link_detected, iface.speed_mbps = parsers.parse_ethtool_link(output, iface.name)
        if iface.kind == "bond":
            output = _run(transport, host, f"cat /proc/net/bonding/{iface.name}").stdout  # type: ignore[union-attr]
            iface.bond_members = parsers.parse_bonding(output, iface.name)
            iface.link_detected = iface.carrier
    facts.interfaces = links

    facts.namespaces = parsers.parse_netns_list(_run(transport, host, "ip netns list").stdout)  # type: ignore[union-attr]
    for namespace in facts.namespaces:
        prefix = f"ip netns exec {namespace} "
        inside = parsers.parse_ip_link_json(_run(transport, host, prefix + "ip -d -j link").stdout,  # type: ignore[union-attr]
                                            namespace, prefix + "ip -d -j link")
        inside_addresses = parsers.parse_ip_addr_json(_run(transport, host, prefix + "ip -j addr").stdout,  # type: ignore[union-attr]
                                                      prefix + "ip -j addr")
        for iface in inside:
            iface.addresses = inside_addresses.get(iface.name, [])
        facts.interfaces += inside

    tables = {}
    for table in ("Bridge", "Port", "Interface"):
        result = _run(transport, host, f"ovs-vsctl --format=json list {table}", optional=True)
        if result is None:
            break
        tables[table] = parsers.parse_ovsdb_table(result.stdout, table)
    if len(tables) == 3:
        facts.ovs_ports = parsers.ovs_ports(tables["Bridge"], tables["Port"], tables["Interface"])

    listing = _run(transport, host, "virsh list --all", optional=True)
    for name, state in parsers.parse_virsh_list(listing.stdout) if listing else []:
        xml = _run(transport, host, f"virsh dumpxml {name}").stdout  # type: ignore[union-attr]
        facts.domains.append(parsers.parse_virsh_dumpxml(xml, state, f"virsh dumpxml {name}"))

    show_int = _run(transport, host, "vppctl show int", optional=True)
    if show_int is not None:
        facts.vpp_interfaces = parsers.vpp_interfaces(
            parsers.parse_vpp_show_int(show_int.stdout),
            parsers.parse_vpp_show_mode(_run(transport, host, "vppctl show mode").stdout),  # type: ignore[union-attr]
            parsers.parse_vpp_hardware(_run(transport, host, "vppctl show hardware-interfaces").stdout))  # type: ignore[union-attr]
    return facts
