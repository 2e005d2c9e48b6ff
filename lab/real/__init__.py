"""The real lab: a small world spec built from real kernel objects on this machine (root).

One network namespace per host, veth pairs to a fabric namespace as the hosts' cables, Linux
bridges, veth pairs and taps, VXLAN devices, and Open vSwitch in userspace (`datapath_type=netdev`,
a private ovsdb-server and ovs-vswitchd per host). It holds the same devices, with the same
names, MACs, MTUs, VLAN tags and external_ids, as the simulator's host model (lab/hostmodel.py),
so that the two can be compared command by command (tests/integration/lab/test_real_vs_simulated.py).
"""

from lab.real.lab import RealLab, RealLabError, sweep_abandoned
from lab.real.prerequisites import missing_prerequisites
from lab.real.world import real_lab_world, unbuildable

__all__ = ["RealLab", "RealLabError", "missing_prerequisites", "real_lab_world", "sweep_abandoned", "unbuildable"]
