"""OpenFlow on an OVS host: fetch each bridge's flows, and read them as the vedge's local VLANs and flooding.

Fetch (fetch.collect_openflow): `ovs-ofctl dump-flows BRIDGE table=N` for the tables of every bridge OVSDB
listed that the mapping reads (dump_commands; the plain form: it works on every OVS version, and ports come
as numbers that OVSDB's Interface `ofport` names). A bridge whose dump fails or does not parse costs only
its own flows (recorded as a failure, so the scan writes a message naming the command and the line); the
mapping is then left unknown, never guessed.

Transform (pure): the vedge gets
- `local_vlans` {network id: local VLAN}: the agent's local VLAN of each network, as its flows say
  (br-tun's tunnel -> local VLAN tables for overlay networks, br-int's translation of a provider
  bridge's VLAN or untagged traffic for VLAN and flat networks);
- `flood_tunnels` {network id: [remote tunnel IPs]}: where br-tun's table 22 floods the network's
  broadcasts (tunnel ports -> their `remote_ip`).
Networks are found by their segment in the OpenStack view (type and segmentation id; physical network
and bridge_mappings for provider networks).
"""

from __future__ import annotations

import shlex
from typing import Any

from ingest.sources.host.facts import HostFacts, OvsPortFact
from ingest.sources.host.parsers.openflow import FLOOD_TO_TUN, INT_BR_LOCAL_SWITCHING, TUN_TO_LV_TABLES, derive_openflow

Document = dict[str, Any]
TUNNEL_BRIDGE, INTEGRATION_BRIDGE = "br-tun", "br-int"


def dump_commands(ports: list[OvsPortFact]) -> dict[str, list[str]]:
    """bridge -> the `ovs-ofctl dump-flows BRIDGE table=N` commands the mapping needs: br-int's table 0
    (provider VLAN translation, dead VLAN), br-tun's tunnel -> local VLAN tables (GRE, VXLAN, Geneve: the
    agent programs them before any peer's tunnel port exists) and its flooding table 22, a provider
    bridge's table 0. One table at a time: br-tun's unicast table holds a flow per remote port of every
    network (thousands in a big cloud) and none is needed here."""
    tables: dict[str, set[int]] = {}
    for port in ports:
        wanted = tables.setdefault(port.bridge, set())
        if port.bridge == TUNNEL_BRIDGE:
            wanted.update([*TUN_TO_LV_TABLES, FLOOD_TO_TUN])
        else:
            wanted.add(INT_BR_LOCAL_SWITCHING)
    return {bridge: [f"ovs-ofctl dump-flows {shlex.quote(bridge)} table={table}" for table in sorted(numbers)]
            for bridge, numbers in sorted(tables.items())}


def _network_ids(networks: dict[str, Document], config: dict[str, Any]) -> tuple[dict[tuple[str, int], str],
                                                                                   dict[tuple[str, int | None], str]]:
    """(overlay type, segment) -> network id; (provider bridge, VLAN or None for flat) -> network id."""
    overlay: dict[tuple[str, int], str] = {}
    provider: dict[tuple[str, int | None], str] = {}
    bridge_of = {physnet: bridge for physnet, bridge in (config.get("bridge_mappings") or {}).items()}
    for network in networks.values():
        kind, segment = network.get("network_type"), network.get("segmentation_id")
        if kind in ("vxlan", "gre", "geneve") and isinstance(segment, int):
            overlay[(kind, segment)] = network["id"]
        bridge = bridge_of.get(network.get("physical_network"))
        if bridge and kind == "vlan" and isinstance(segment, int):
            provider[(bridge, segment)] = network["id"]
        elif bridge and kind == "flat":
            provider[(bridge, None)] = network["id"]
    return overlay, provider


def openflow_attributes(facts: HostFacts, networks: dict[str, Document], config: dict[str, Any]) -> Document:
    """The vedge's `local_vlans` and `flood_tunnels` from the host's flows (pure); empty when the flows
    were not read. `flood_tunnels` is left out when br-tun floods to port numbers and OVSDB gave none
    (the `ovs-vsctl show` fallback has no ofport)."""
    flows = facts.openflow
    if not flows or facts.ovs_ports is None:
        return {}
    ports: list[OvsPortFact] = facts.ovs_ports
    names: dict[str, dict[int, str]] = {}
    for port in ports:
        if port.ofport is not None and port.ofport > 0:  # -1: the interface could not be created
            names.setdefault(port.bridge, {})[port.ofport] = port.name
    derived = derive_openflow(flows, names, TUNNEL_BRIDGE, INTEGRATION_BRIDGE)
    overlay, provider = _network_ids(networks, config)
    result: Document = {}
    local: dict[str, int] = {}
    segment_network: dict[int, str] = {}
    for (kind, segment), vlan in derived.tunnel_vlans.items():
        network = overlay.get((kind, segment))
        if network is not None:
            local[network] = vlan
            segment_network[segment] = network
    for (patch, vlan_id), vlan in derived.provider_vlans.items():
        network = provider.get((patch.removeprefix("int-"), vlan_id))
        if network is not None:
            local[network] = vlan
    if INTEGRATION_BRIDGE in flows or TUNNEL_BRIDGE in flows:
        result["local_vlans"] = dict(sorted(local.items()))
    if TUNNEL_BRIDGE in flows:
        remote = {p.name: p.options.get("remote_ip") for p in ports if p.bridge == TUNNEL_BRIDGE}
        floods: dict[str, list[str]] = {}
        for flooded, outputs in derived.floods.values():
            network = segment_network.get(flooded)
            if network is None:
                continue
            if any(name.isdigit() for name in outputs) and not names.get(TUNNEL_BRIDGE):
                return result  # OVSDB gave no port numbers: where it floods is unknown, not "nowhere"
            # a number no port has is a port deleted under the flow: flooding there reaches nobody
            floods[network] = sorted({ip for ip in (remote.get(name) for name in outputs) if ip})
        result["flood_tunnels"] = dict(sorted(floods.items()))
    return result
