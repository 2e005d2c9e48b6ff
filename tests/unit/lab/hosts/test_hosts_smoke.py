"""Every command the reference system runs (REFERENCE.md, DESIGN.md §4) answers on every host of every variant.

A command of a tool the host has must succeed with nothing on stderr (JSON forms must parse);
a tool the host does not have (OVS on a Linux bridge host, VPP off VPP hosts, libvirt off
computes, teamd everywhere) must fail as bash does.
"""

from __future__ import annotations

import json

import pytest

from lab.generate import generate_world
from lab.hostmodel import HostState, LabHosts
from lab.hosts import LabResponder
from lab.world import VARIANTS, Host

EVERYWHERE = ["ip link show", "ip -d link show", "ip -d -j link", "ip -details -json link show", "ip -j addr",
              "ip address show", "ip a", "ip netns list", "ip netns", "bridge fdb show", "bridge -j fdb show",
              "bridge link show", "brctl show", "ls -l /sys/class/net"]
OVS = ["ovs-vsctl show", "ovs-dpctl show", "ovs-appctl dpif/show", "ovs-vsctl --format=json list Interface",
       "ovs-vsctl --format=json list Port", "ovs-vsctl --format=json list Bridge", "ovs-vsctl list-br"]
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


@pytest.mark.parametrize(("mechanism", "type_driver"), VARIANTS)
def test_every_reference_command_answers_on_every_host(mechanism: str, type_driver: str) -> None:
    world = generate_world(3, 2, 1 if type_driver == "flat" else 2, mechanism, type_driver, seed=71)
    answer, hosts = LabResponder(world), LabHosts(world)
    checked = 0
    for host in world.hosts:
        good, missing = commands(host, hosts.get(host.name))
        for command in good:
            status, out, err = answer(host.name, command)
            assert (status, err) == (0, ""), f"{host.name}: {command}: {err}"
            if "-j" in command or "json" in command:
                json.loads(out)
            checked += 1
        for command in missing:
            tool = command.split()[0]
            assert answer(host.name, command) == (127, "", f"bash: line 1: {tool}: command not found\n")
    assert checked > 90


@pytest.mark.parametrize(("mechanism", "type_driver"), VARIANTS)
def test_output_is_deterministic(mechanism: str, type_driver: str) -> None:
    def snapshot() -> list[str]:
        world = generate_world(2, 1, 1, mechanism, type_driver, seed=72)
        answer = LabResponder(world)
        return [answer(h.name, c)[1] for h in world.hosts for c in ("ip -d -j link", "bridge fdb show")]
    assert snapshot() == snapshot()
