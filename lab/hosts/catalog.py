"""The commands the reference system runs on a host (REFERENCE.md, DESIGN.md §4), per host.

Used by the tests that check every simulated host answers them, in process and over SSH.
"""

from __future__ import annotations

from lab.hostmodel import HostState
from lab.world import Host

EVERYWHERE = ["ip link show", "ip -d link show", "ip -d -j link", "ip -details -json link show", "ip -j addr",
              "ip address show", "ip a", "ip netns list", "ip netns", "bridge fdb show", "bridge -j fdb show",
              "bridge link show", "brctl show", "ls -l /sys/class/net"]
OVS = ["ovs-vsctl show", "ovs-dpctl show", "ovs-appctl dpif/show", "ovs-vsctl --format=json list Interface",
       "ovs-vsctl --format=json list Port", "ovs-vsctl --format=json list Bridge", "ovs-vsctl list-br",
       "ovs-vsctl --format=json --columns=_uuid,name,type,options,external_ids,link_state list Interface"]
VPP = ["vppctl show ver", "vppctl show int", "vppctl show mode", "vppctl show hardware-interfaces",
       "vppctl show runtime", "vppctl show bridge-domain"]


def commands(host: Host, state: HostState) -> tuple[list[str], list[str]]:
    """(commands that must succeed, commands whose tool the host lacks)."""
    good = list(EVERYWHERE)
    missing = ["teamdctl team0 state"]
    for device in state.in_namespace(None):
        good += [f"ip address show {device.name}", f"ip -d link show {device.name}"]
        if device.kind != "loopback":
            good.append(f"ethtool {device.name}")
        if device.kind == "bond":
            good.append(f"cat /proc/net/bonding/{device.name}")
        if device.kind == "bridge":
            good.append(f"brctl showmacs {device.name}")
    for namespace in state.namespaces:
        good += [f"ip netns exec {namespace} ip address show", f"ip netns exec {namespace} ip -j -d link",
                 f"ip netns pids {namespace}", f"ip netns exec {namespace} ip neigh"]
    (good if state.mechanism == "ovs" else missing).extend(OVS)
    if state.mechanism == "ovs":
        good += [f"ovs-ofctl dump-flows {bridge.name}" for bridge in state.ovs_bridges]
        good += [f"ovs-vsctl list-ports {bridge.name}" for bridge in state.ovs_bridges]
    (good if state.mechanism == "vpp" else missing).extend(VPP)
    if "compute" in host.roles:
        good.append("virsh list --all")
        for domain in state.domains:
            good += [f"virsh dumpxml {domain.name}", f"virsh domstate {domain.name}"]
    else:
        missing.append("virsh list --all")
    return good, missing
