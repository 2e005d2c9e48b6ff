"""The OpenFlow rules the Neutron OVS agent would program, installed on a real lab host's bridges.

No Neutron agent runs in the real lab, so the lab programs, from the spec, what the agent would: on
br-int local VLAN translation for provider bridges and the drop of the dead VLAN 4095; on br-tun
tunnel id <-> local VLAN (tables 3/4), unicast (table 20, l2population) and flooding to the tunnel
ports of the peers that host each network (table 22); on provider bridges the VLAN rewrite. The
rules are the simulator's (lab.hosts.ovs.flows: one statement of the agent's tables for both), with
the same cookies; `ovs-ofctl replace-flows` makes a bridge's table exactly that set, so calling it
again after the world changed keeps the tables as the agent would (flows no longer meant go away).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from typing import TYPE_CHECKING

from lab.hostmodel import HostState, LabHosts
from lab.hosts.ovs import Flow, flow_cookie, flows
from lab.hosts.view import host_view
from lab.real.ovs import PrivateOvs
from lab.world import World
from stack.process import StackError

if TYPE_CHECKING:  # lab.real.lab calls program_flows
    from lab.real.lab import RealLab

# replace-flows compares table ids, an OpenFlow 1.1+ feature (the lab's bridges speak 1.0, 1.3 and 1.4)
PROTOCOL = "OpenFlow13"


def flow_spec(flow: Flow, cookie: str) -> str:
    """One flow as `ovs-ofctl add-flow` reads it."""
    match = f",{flow.match}" if flow.match else ""
    return f"table={flow.table},cookie={cookie},priority={flow.priority}{match},actions={flow.actions}"


def agent_flows(world: World, state: HostState) -> dict[str, list[str]]:
    """bridge -> the add-flow lines the OVS agent would program on it, for one host of the world."""
    view = host_view(state, world)
    return {bridge.name: [flow_spec(flow, flow_cookie(view, bridge.name)) for flow in flows(view, bridge)]
            for bridge in state.ovs_bridges}


def program_flows(ovs: PrivateOvs, world: World, state: HostState) -> None:
    """Make each of the host's bridges hold exactly the agent's flows (replace-flows)."""
    for bridge, lines in agent_flows(world, state).items():
        with tempfile.NamedTemporaryFile("w", suffix=".flows", delete=False) as handle:
            handle.write("".join(f"{line}\n" for line in lines))
        try:
            result = subprocess.run(["ovs-ofctl", "-O", PROTOCOL, "replace-flows", bridge, handle.name],
                                    capture_output=True, text=True, check=False, timeout=60,
                                    env={**os.environ, **ovs.environment()})
        finally:
            os.unlink(handle.name)
        if result.returncode != 0:
            raise StackError(f"{state.name}: ovs-ofctl replace-flows {bridge} exited {result.returncode}: "
                             f"{result.stderr.strip()[:400]}")


def restore_agent_flows(lab: RealLab, host: str) -> None:
    """The OVS agent's flows on one host of a running real lab again, for the lab's world as it is now
    (after a fault deleted some, or the world changed): what the agent does when it resyncs."""
    program_flows(lab._ovs(host), lab.world, LabHosts(lab.world).get(host))
