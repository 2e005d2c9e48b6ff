"""What the Neutron OVS agent's flows mean on a host, from the world spec alone (for the ground truth).

The agent gives each network with a port plugged on the host a local VLAN (in order of first use) and
programs it: on br-tun, tunnel id <-> local VLAN for overlay networks, and a flood flow to the tunnel
ports of the peers that host the network (l2population; none when no peer does); on br-int, the
translation of a mapped provider bridge's VLAN (or untagged traffic, flat) to the local VLAN. The
truth states it in the model's terms, as the vedge's attributes `local_vlans` {network id: local
VLAN} and `flood_tunnels` {network id: [remote tunneling IPs]}; the faults flood_flow_missing and
tunnel_port_missing take their part out. Never derived from the simulator's flows or the parser.
"""

from __future__ import annotations

from typing import Any

from lab.world import Host, World

OVERLAYS = ("vxlan", "gre")


def agent_flow_attributes(world: World, host: Host, configurations: dict[str, Any]) -> dict[str, Any]:
    """The vedge's `local_vlans` and `flood_tunnels` on an OVS agent host."""
    networks = {n.id: n for n in world.networks}
    mine = [p for p in world.ports if p.binding_host == host.name]
    order: dict[str, int] = {}
    for port in mine:
        order.setdefault(port.network_id, len(order) + 1)
    plugged = {p.network_id for p in mine if p.switch_port != "missing"
               and (p.device_owner != "network:dhcp" or networks[p.network_id].dhcp_namespace_present)}
    tunnels = world.type_driver in OVERLAYS and bool(host.tunnel_ip)
    mapped = set(configurations.get("bridge_mappings") or {})
    local: dict[str, int] = {}
    for network_id in plugged:
        network = networks[network_id]
        if network.network_type in OVERLAYS and tunnels:
            local[network_id] = order[network_id]
        elif network.network_type in ("vlan", "flat") and network.physical_network in mapped \
                and (network.physical_network == "external" or not tunnels):
            local[network_id] = order[network_id]
    attributes: dict[str, Any] = {"local_vlans": dict(sorted(local.items()))}
    if tunnels:
        reachable = {h.name: h.tunnel_ip for h in world.hosts if h.tunnel_ip and h.name != host.name
                     and h.tunnel_ip != host.tunnel_ip and h.tunnel_ip not in host.tunnel_ports_missing}
        floods = {}
        for network_id in local:
            if networks[network_id].network_type not in OVERLAYS or network_id in host.flood_flows_missing:
                continue
            peers = sorted({reachable[p.binding_host] for p in world.ports
                            if p.network_id == network_id and p.binding_host in reachable})
            if peers:
                floods[network_id] = peers
        attributes["flood_tunnels"] = dict(sorted(floods.items()))
    return attributes
