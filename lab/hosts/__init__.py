"""The simulated hosts' command line: real tools' output computed from the host model.

`LabResponder(world_or_source)(host, command) -> (exit status, stdout, stderr)` is what the lab's
SSH server and the in-process transport call. It keeps the host models (lab.hostmodel.LabHosts)
of the current version of the world and rebuilds them when the world changes: a new World from
the source, or the same World object changed in place (a VM booted, a fault injected).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from lab.hostmodel import LabHosts
from lab.hosts.shell import SimulatedHost, run_command
from lab.hosts.view import WorldIndex
from lab.world import World

__all__ = ["LabResponder", "SimulatedHost", "run_command"]


def world_version(world: World) -> tuple[object, ...]:
    """A cheap fingerprint of what the host model depends on.

    Changes (lab.changes) add or remove ports, VMs, networks, subnets and routers; faults
    (lab.faults) are recorded in world.faults. A change that keeps every count (renaming a VM)
    does not alter any host's devices.
    """
    return (id(world), len(world.hosts), len(world.ports), len(world.instances), len(world.networks),
            sum(len(n.subnets) for n in world.networks), len(world.routers),
            tuple((f.kind, f.target) for f in world.faults))


#: Simulated hosts a responder keeps built (more than a scan asks at once: a full-mesh host of a
#: 1,000-host world holds ~10 MB of OVSDB rows).
KEPT_HOSTS = 16


class LabResponder:
    """Answers `command` on `host` of the current world, as the host's real tools would."""

    def __init__(self, world_or_source: World | Callable[[], World]) -> None:
        self._source: Callable[[], World] = (
            (lambda: world_or_source) if isinstance(world_or_source, World) else world_or_source)
        self._lock = threading.Lock()
        self._version: tuple[object, ...] | None = None
        self._world: World | None = None
        self._hosts: LabHosts | None = None
        self._index: WorldIndex | None = None
        # The most recently used hosts only: a host of a 1,000-host full-mesh world models a tunnel
        # port per peer, and a scan asks each host once; a host built again answers the same.
        self._shells: OrderedDict[str, SimulatedHost] = OrderedDict()

    def invalidate(self) -> None:
        """Forget the cached host models (after a change the fingerprint cannot see)."""
        with self._lock:
            self._version = None

    def host(self, host_name: str) -> SimulatedHost | None:
        """The simulated host of that name in the current world, or None."""
        world = self._source()
        version = world_version(world)
        with self._lock:
            if version != self._version:
                self._version, self._world = version, world
                self._hosts, self._index, self._shells = LabHosts(world), WorldIndex(world), OrderedDict()
            hosts = self._hosts
            assert hosts is not None
            if host_name not in hosts:
                return None
            shell = self._shells.get(host_name)
            if shell is None:
                shell = self._shells[host_name] = SimulatedHost(hosts.get(host_name), world, self._index)
                if len(self._shells) > KEPT_HOSTS:
                    forgotten, _ = self._shells.popitem(last=False)
                    hosts.forget(forgotten)
            self._shells.move_to_end(host_name)
            return shell

    def __call__(self, host_name: str, command: str) -> tuple[int, str, str]:
        shell = self.host(host_name)
        if shell is None:
            return 255, "", f"ssh: Could not resolve hostname {host_name}: Name or service not known\n"
        return shell.run(command)
