"""Monitoring checks, declared per object type of the schema (graphmodel/schema.py).

Each check names the object types it speaks about, the host command whose output it reads and
its default interval (`calipso monitor` runs a check on a host when its interval has passed;
CALIPSO_MONITOR_CHECK_INTERVALS or --check-interval override it). `ingest/monitoring` runs them:
one batched shell invocation per host and round with the sections of the checks due, every
section parsed by a pure function into results per object; an object's status is the worst of
its checks' latest results. Adding a check is one declaration here plus its parser there.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Result states, best first: an object's status is the worst of its checks' results.
STATUSES: tuple[str, ...] = ("ok", "unknown", "warning", "critical")
DEFAULT_INTERVAL_S = 60


@dataclass(frozen=True)
class CheckType:
    """One kind of check: what it looks at, on which object types, through which command."""

    name: str
    object_types: tuple[str, ...]
    command: str  # as sent to the host ({placeholders} filled per object)
    description: str
    mechanisms: tuple[str, ...] = ()  # empty: every host; else only hosts whose vedge is one of these
    interval_s: int = DEFAULT_INTERVAL_S


CHECK_TYPES: tuple[CheckType, ...] = (
    CheckType("link_state", ("host_pnic", "vnic", "vconnector"), "ip -s -j link",
              "the device exists, is administratively up and has carrier (operstate, LOWER_UP); a bond is "
              "degraded while a member has no carrier; a VM's device is not larger (MTU) than its network"),
    CheckType("error_counters", ("host_pnic", "vnic"), "ip -s -j link",
              "a NIC's, bond member's or VM tap's rx/tx errors and drops do not grow between two runs (a warning "
              "when they do; the first run records them)"),
    CheckType("bridge_membership", ("vnic",), "ip -s -j link",
              "a VM's tap (or OVS's qvo) is enslaved to the bridge the inventory links it to (`master`)"),
    CheckType("ovs_interface", ("vnic", "vedge", "vedge_port"),
              "ovs-vsctl --format=json --columns=name,ofport,link_state,admin_state,error,external_ids "
              "list Interface",
              "the Neutron port's interface is on the switch (external_ids:iface-id), with an ofport, link_state "
              "and admin_state up and no error (marked on its OVS port, else its vNIC); ovsdb answers",
              mechanisms=("ovs",)),
    CheckType("vpp_interface", ("host_pnic", "vnic", "vedge"), "vppctl show int; vppctl show hardware-interfaces",
              "on a VPP host: the NICs VPP drives and the VMs' interfaces (by MAC) are up in VPP (admin state) with "
              "link; vppctl answers. Their Linux-side checks do not apply there: VPP's NICs, vhost-user "
              "interfaces and bridge domains are no kernel devices", mechanisms=("vpp",)),
    CheckType("ovs_vlan_tag", ("vnic", "vedge_port"), "ovs-vsctl --format=json --columns=name,tag list Port",
              "the port's local VLAN tag is the one its network has on that switch", mechanisms=("ovs",)),
    CheckType("tunnel_peers", ("otep",), "ping -c 2 -W 1 -i 0.2 -I {ip_address} {remote_ip}",
              "each tunnel peer answers over the underlay from the endpoint's address (loss, RTT); the address "
              "is configured"),
    CheckType("namespace", ("vservice",), "ip netns list",
              "the DHCP or router namespace exists"),
    CheckType("agent_service", ("network_agent",), "systemctl is-active {binary}",
              "the Neutron agent's service on the host is active"),
)

CHECK_TYPES_BY_NAME = {check.name: check for check in CHECK_TYPES}


def check_intervals(overrides: dict[str, int] | None = None) -> dict[str, int]:
    """Each check type's interval in seconds: the declared one, or the override; ValueError naming an
    unknown check type or an interval below 1 s."""
    overrides = overrides or {}
    unknown = sorted(set(overrides) - set(CHECK_TYPES_BY_NAME))
    if unknown:
        raise ValueError(f"no check type {', '.join(unknown)} (there are {', '.join(CHECK_TYPES_BY_NAME)})")
    low = sorted(name for name, seconds in overrides.items() if seconds < 1)
    if low:
        raise ValueError(f"the interval of {', '.join(low)} must be at least 1 s")
    return {check.name: overrides.get(check.name, check.interval_s) for check in CHECK_TYPES}


def parse_intervals(text: str) -> dict[str, int]:
    """`link_state=30,tunnel_peers=120` (commas or spaces between) as {check type: seconds}; ValueError
    naming the part that is wrong (check names are checked by check_intervals)."""
    found: dict[str, int] = {}
    for part in text.replace(",", " ").split():
        name, sep, seconds = part.partition("=")
        if not sep or not name or not seconds.isdigit():
            raise ValueError(f"{part!r}: expected CHECK=SECONDS, e.g. link_state=30")
        found[name] = int(seconds)
    return found


def checks_for(object_type: str) -> list[CheckType]:
    """The checks that speak about objects of a type."""
    return [check for check in CHECK_TYPES if object_type in check.object_types]


def worst(statuses: list[str]) -> str:
    """The worst of some result states (ok when there are none)."""
    return max(statuses, key=STATUSES.index, default="ok")
