"""A service the host's network agents do not use being down is no missing fact (OVS installed on a
Linux-bridge host); on a host whose agent needs it, it is (a real fault)."""

from __future__ import annotations

from ingest.scanner import _unused_service
from ingest.sources.host.facts import CommandFailure
from ingest.sources.host.fetch import OVS_SERVICE
from ingest.sources.host.transform import OpenStackIndex


def index(*agents: tuple[str, str]) -> OpenStackIndex:
    return OpenStackIndex([{"id": f"a{i}", "type": "network_agent", "host": host, "binary": binary}
                           for i, (host, binary) in enumerate(agents)])


OVS_DOWN = CommandFailure("ovs-vsctl --format=json list Bridge", "Open vSwitch is installed but not running",
                          service_down=OVS_SERVICE)


def test_ovs_down_on_a_linux_bridge_host_hides_nothing() -> None:
    agents = index(("compute-1", "neutron-linuxbridge-agent"), ("compute-1", "neutron-dhcp-agent"))
    assert _unused_service(OVS_DOWN, agents, "compute-1")
    assert _unused_service(OVS_DOWN, agents, "no-agents-host")


def test_ovs_down_on_an_ovs_host_is_a_fault_and_other_failures_always_count() -> None:
    agents = index(("compute-1", "neutron-openvswitch-agent"), ("compute-2", "neutron-linuxbridge-agent"))
    assert not _unused_service(OVS_DOWN, agents, "compute-1")
    assert not _unused_service(CommandFailure("ip -d -j link", "exited 1"), agents, "compute-2")
