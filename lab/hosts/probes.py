"""The monitoring checks' probes on a simulated host: `ping` (iputils) over the underlay and
`systemctl is-active` for the Neutron agents' services.

Formats: iputils 20221126 as captured in tests/fixtures/real/ping (reachable, all lost, source
address missing: `ping: bind: Cannot assign requested address`, exit 2); `systemctl is-active UNIT`
prints the unit's active state (`active`, exit 0; `failed` or `inactive`, exit 3), as systemctl(1)
documents it.

A peer answers when the destination is some host's tunneling IP, that host still holds it
(fault tunnel_unreachable takes it away) and one of its tunnel NICs has carrier, and the source
device holding `-I ADDRESS` is up with carrier on this host.
"""

from __future__ import annotations

import ipaddress

from lab.hosts.view import HostView, stable_number
from lab.world import Host, World

Result = tuple[int, str, str]


def _source_device_up(view: HostView, address: str) -> bool | None:
    """Whether the device holding `address` in the root namespace is up; None if no device holds it."""
    for interface in view.state.in_namespace(None):
        if any(cidr.split("/")[0] == address for cidr in interface.addresses):
            return interface.up and interface.carrier
    return None


def _answers(world: World, address: str) -> bool:
    """Whether some host of the world answers ICMP on `address` over the underlay."""
    host: Host | None = next((h for h in world.hosts if h.tunnel_ip == address or h.ip_address == address), None)
    if host is None:
        return False
    if host.tunnel_ip == address:
        if not host.tunnel_ip_configured:
            return False
        tunnel_nics = [n for n in host.nics if n.role == "tunnel"]
        return not tunnel_nics or any(n.carrier for n in tunnel_nics)
    return True


def run_ping(view: HostView, world: World, args: list[str]) -> Result:
    """`ping [-c N] [-W S] [-i S] [-I ADDRESS] DESTINATION` as iputils prints it."""
    count, interval, source, destination = 1, 1.0, None, None
    words = iter(args)
    for word in words:
        if word in ("-c", "-W", "-i", "-I", "-w", "-s"):
            value = next(words, None)
            if value is None:
                return 2, "", f"ping: option requires an argument -- '{word[1]}'\n"
            if word == "-c":
                count = max(1, int(value))
            elif word == "-i":
                interval = float(value)
            elif word == "-I":
                source = value
        elif word.startswith("-"):
            continue
        else:
            destination = word
    if destination is None:
        return 2, "", "ping: usage error: Destination address required\n"
    try:
        ipaddress.ip_address(destination)
    except ValueError:
        return 2, "", f"ping: {destination}: Name or service not known\n"
    source_up: bool | None = True
    if source is not None:
        source_up = _source_device_up(view, source)
        if source_up is None:
            return 2, "", "ping: bind: Cannot assign requested address\n"
    header = f"PING {destination} ({destination}) " + (f"from {source} " if source else "") + ": 56(84) bytes of data.\n"
    received = count if source_up and _answers(world, destination) else 0
    elapsed = int((count - 1) * interval * 1000) + 3 + stable_number(f"{destination}/{count}", 8)
    lines = [header]
    times = []
    for seq in range(1, received + 1):
        rtt = 0.030 + stable_number(f"{view.state.name}/{destination}/{seq}", 400) / 1000
        times.append(rtt)
        lines.append(f"64 bytes from {destination}: icmp_seq={seq} ttl=64 time={rtt:.3f} ms\n")
    lines.append(f"\n--- {destination} ping statistics ---\n")
    loss = round(100 * (count - received) / count)
    lines.append(f"{count} packets transmitted, {received} received, {loss}% packet loss, time {elapsed}ms\n")
    if times:
        mean = sum(times) / len(times)
        mdev = (sum((t - mean) ** 2 for t in times) / len(times)) ** 0.5
        lines.append(f"rtt min/avg/max/mdev = {min(times):.3f}/{mean:.3f}/{max(times):.3f}/{mdev:.3f} ms\n")
    else:
        lines.append("\n")
    return (0 if received else 1), "".join(lines), ""


def run_systemctl(view: HostView, world: World, args: list[str]) -> Result:
    """`systemctl is-active UNIT...`: a Neutron agent's service is active while the agent is alive."""
    words = [a for a in args if not a.startswith("-")]
    if not words or words[0] != "is-active":
        return 1, "", f"Unknown command verb {words[0] if words else ''}.\n"
    quiet = "--quiet" in args or "-q" in args
    agents = {a.binary: a for a in world.agents if a.host == view.state.name}
    out, status = [], 3
    for unit in words[1:]:
        agent = agents.get(unit.removesuffix(".service"))
        state = "inactive" if agent is None else "active" if agent.alive else "failed"
        status = 0 if state == "active" else status
        out.append(f"{state}\n")
    return status, "" if quiet else "".join(out), ""
