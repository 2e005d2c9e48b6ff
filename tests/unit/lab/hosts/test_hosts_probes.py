"""The simulated hosts' monitoring probes: `ping` over the underlay and `systemctl is-active`, in the
formats of the real tools (tests/fixtures/real/ping), changed by the lab's faults."""

from __future__ import annotations

import re
from pathlib import Path

from lab.faults import clear_fault, inject_fault
from lab.generate import generate_world
from lab.hosts import LabResponder

REAL = Path(__file__).parents[3] / "fixtures" / "real" / "ping"


def _shape(text: str) -> str:
    """The output with its numbers and addresses blanked: what must match the real tool's."""
    return re.sub(r"\d+(\.\d+)*", "N", text)


def test_ping_prints_as_iputils_and_follows_the_tunnel_fault() -> None:
    world = generate_world(3, 2, 2, "ovs", "vxlan", seed=7)
    responder = LabResponder(world)
    a, b = [h for h in world.hosts if h.tunnel_ip][:2]
    command = f"ping -c 2 -W 1 -i 0.2 -I {a.tunnel_ip} {b.tunnel_ip} 2>&1"
    status, out, _ = responder(a.name, command)
    assert status == 0 and _shape(out) == _shape((REAL / "ping-reachable.txt").read_text())
    inject_fault(world, "tunnel_unreachable", b.name)
    status, out, _ = responder(a.name, command)
    assert status == 1 and _shape(out) == _shape((REAL / "ping-lost.txt").read_text())
    status, out, _ = responder(b.name, f"ping -c 2 -W 1 -i 0.2 -I {b.tunnel_ip} {a.tunnel_ip} 2>&1")
    assert status == 2 and out == (REAL / "ping-bind-source-missing.txt").read_text()
    clear_fault(world, "tunnel_unreachable", b.name)
    assert responder(a.name, command)[0] == 0


def test_systemctl_is_active_follows_the_agent() -> None:
    world = generate_world(3, 2, 2, "ovs", "vxlan", seed=7)
    responder = LabResponder(world)
    agent = next(a for a in world.agents if a.binary == "neutron-openvswitch-agent")
    assert responder(agent.host, f"systemctl is-active {agent.binary}") == (0, "active\n", "")
    inject_fault(world, "agent_dead", agent.id)
    assert responder(agent.host, f"systemctl is-active {agent.binary}") == (3, "failed\n", "")
    assert responder(agent.host, "systemctl is-active no-such-unit") == (3, "inactive\n", "")
