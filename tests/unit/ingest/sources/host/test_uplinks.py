"""Uplinks learned from what a deployment declares (ingest/sources/host/uplinks.py), and the host
transform counting them as pNICs when sysfs shows no PCI device behind them."""

from __future__ import annotations

from ingest.hierarchy import vnic_path_finder
from ingest.sources.host.facts import HostFacts, InterfaceFact, OvsPortFact
from ingest.sources.host.transform import HostBuilder, OpenStackIndex
from ingest.sources.host.uplinks import agent_uplinks, declared_uplinks, lower_devices, setting_uplinks


def nic(name: str, kind: str | None = "veth", **facts: object) -> InterfaceFact:
    return InterfaceFact(name=name, kind=kind, mac=None, mtu=1500, carrier=True, **facts)  # type: ignore[arg-type]


def host(name: str = "compute-1") -> HostFacts:
    """A host whose NICs are veth cables: eth0 (management), eth1 under br-mesh over eth1.30, eth2 on br-ex,
    eth3 in a Linux bridge agent's mapping; plus devices that are never uplinks."""
    return HostFacts(host=name, interfaces=[
        nic("eth0", addresses=["10.0.0.12/24"]),
        nic("eth1"), nic("eth1.30", "vlan", parent="eth1"),
        nic("br-mesh", "bridge", addresses=["192.168.0.12/24"]), nic("dummy-port", "veth", master="br-mesh"),
        nic("eth2"), nic("eth3"),
        nic("br-ex", "openvswitch", addresses=["172.24.4.2/24"]), nic("qvo1", "veth"), nic("vxlan-1", "vxlan"),
        nic("tap1", "tun"), nic("eth9", "veth", namespace="qdhcp-x"),
    ], ovs_ports=[OvsPortFact("eth2", "br-ex"), OvsPortFact("phy-br-ex", "br-ex", type="patch"),
                  OvsPortFact("br-ex", "br-ex", type="internal"), OvsPortFact("qvo1", "br-int")])


def with_vlan_under_bridge(facts: HostFacts) -> HostFacts:
    facts.interface("eth1.30").master = "br-mesh"  # type: ignore[union-attr]
    return facts


def test_the_tunneling_ip_is_followed_down_through_bridges_and_vlans() -> None:
    facts = with_vlan_under_bridge(host())
    assert lower_devices(facts, "br-mesh") == ["dummy-port", "eth1"]
    assert agent_uplinks(facts, {"tunneling_ip": "192.168.0.12"}) == {"dummy-port", "eth1"}
    assert agent_uplinks(facts, {"local_ip": "10.0.0.12"}) == {"eth0"}
    assert agent_uplinks(facts, {"tunneling_ip": "192.168.9.9"}) == set()  # held by nobody here


def test_mappings_name_the_plain_ports_of_mapped_bridges_and_the_mapped_interfaces() -> None:
    facts = host()
    assert agent_uplinks(facts, {"bridge_mappings": {"external": "br-ex"}}) == {"eth2"}  # not patch or internal
    assert agent_uplinks(facts, {"interface_mappings": {"physnet1": "eth3"}}) == {"eth3"}
    assert agent_uplinks(facts, {"interface_mappings": "physnet1:eth3,external:eth2"}) == {"eth2", "eth3"}
    assert agent_uplinks(facts, {"bridge_mappings": {}, "interface_mappings": None}) == set()


def test_the_setting_takes_host_and_device_patterns() -> None:
    facts = host("compute-7")
    assert setting_uplinks(facts, {"compute-*": ["eth[01]"]}) == {"eth0", "eth1"}
    assert setting_uplinks(facts, {"*": "eth3"}) == {"eth3"}
    assert setting_uplinks(facts, {"controller-*": ["eth*"]}) == set()
    assert "eth9" not in setting_uplinks(facts, {"*": ["eth*"]})  # inside a namespace: not the host's NIC


def test_only_devices_that_can_be_nics_are_declared() -> None:
    facts = host()
    declared = declared_uplinks(facts, {"tunneling_ip": "172.24.4.2"}, {"*": ["br-*", "vxlan-*", "tap*", "qvo*",
                                                                            "eth1*"]})
    assert declared == {"eth1", "qvo1"}  # the bridge, OVS port, VXLAN device, tap and VLAN are not NICs
    assert declared_uplinks(facts, None) == set()


def test_declared_uplinks_become_pnics_and_carry_the_tunnel() -> None:
    facts = host()
    agent = {"id": "a1", "type": "network_agent", "host": "compute-1", "binary": "neutron-linuxbridge-agent",
             "configurations": {"tunneling_ip": "192.168.0.12", "interface_mappings": {"physnet1": "eth3"},
                                "tunnel_types": ["vxlan"]}}
    facts.interface("dummy-port").master = None  # type: ignore[union-attr]
    facts.interface("eth1.30").master = "br-mesh"  # type: ignore[union-attr]

    def pnics(uplinks: dict[str, list[str]] | None) -> set[str]:
        builder = HostBuilder(facts, OpenStackIndex([agent], uplinks), vnic_path_finder)
        builder.pnics()
        return {d["name"] for d in builder.result.objects if d["type"] == "host_pnic"}

    assert pnics(None) == {"eth1", "eth3"}  # from the agent: the tunnel's NIC, the mapped interface
    assert pnics({"compute-1": ["eth0"]}) == {"eth0", "eth1", "eth3"}
    facts.interface("eth0").physical = True  # type: ignore[union-attr]  # what sysfs says still counts
    assert pnics(None) == {"eth0", "eth1", "eth3"}
