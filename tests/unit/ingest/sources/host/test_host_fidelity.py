"""Two layouts real hosts have that the scan used to get wrong (issue 12's fidelity fixes):

- Open vSwitch installed but not running: `ovs-vsctl` exits 1, unable to reach its database. The host
  keeps every other fact; the OVS facts are absent, with one failure naming the command.
- The tunnel IP on a Linux bridge (an installer's `br-mesh`) over a VLAN sub-interface of a bond: the
  tunnel endpoint is linked to the NICs under the bridge.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.hierarchy import fetch_host, host_documents
from ingest.sources.host.facts import HostFacts, InterfaceFact
from ingest.sources.host.fetch import ovs_not_running
from ingest.sources.host.transform import OpenStackIndex, underlay_paths
from ingest.transport import CallableTransport
from lab.generate import generate_world
from lab.hosts import LabResponder

REAL = Path(__file__).resolve().parents[4] / "fixtures" / "real"
# Debian's ovs-vsctl 3.1 as root with no ovsdb-server (tests/fixtures/real/README.md).
DB_CONNECTION_FAILED = (REAL / "ovs" / "ovs-vsctl-database-connection-failed.stderr.txt").read_text()


# -- OVS installed, not running ---------------------------------------------------------------------

def test_the_real_database_connection_error_means_not_running() -> None:
    assert ovs_not_running(DB_CONNECTION_FAILED)
    stale_socket = DB_CONNECTION_FAILED.replace("No such file or directory", "Connection refused")
    assert ovs_not_running(stale_socket)


@pytest.mark.parametrize("stderr", [
    "", "bash: line 1: ovs-vsctl: command not found\n",
    "ovs-vsctl: unrecognized option '--format=json'\n",
    "ovs-vsctl: no row \"br-int\" in table Bridge\n",
])
def test_other_ovs_vsctl_errors_are_not_taken_for_a_stopped_ovs(stderr: str) -> None:
    assert not ovs_not_running(stderr)


def stopped_ovs_world():  # type: ignore[no-untyped-def]
    return generate_world(3, 2, 2, "lxb", "vxlan", seed=7, ovs_installed_stopped=True)


def test_a_host_with_ovs_stopped_keeps_its_other_facts_and_names_the_command_once() -> None:
    world = stopped_ovs_world()
    lab = LabResponder(world)
    asked: list[str] = []

    def answer(host: str, command: str) -> tuple[int, str, str]:
        asked.append(command)
        return lab(host, command)

    facts = fetch_host(CallableTransport(answer), "compute-1")
    assert lab("compute-1", "ovs-vsctl show")[2] == DB_CONNECTION_FAILED  # the simulated host says it as Debian's
    assert facts.ovs_ports is None and facts.datapath_ports is None
    assert len(facts.failures) == 1
    failure = facts.failures[0]
    assert failure.command.startswith("ovs-vsctl ")
    assert "installed but not running" in failure.reason and "database connection failed" in failure.reason
    assert "ovs-vsctl show" not in asked  # the text form would only fail the same way
    assert not any(c.startswith(("ovs-dpctl", "ovs-appctl")) for c in asked)
    clean = fetch_host(CallableTransport(LabResponder(generate_world(3, 2, 2, "lxb", "vxlan", seed=7))),
                             "compute-1")
    assert facts.interfaces == clean.interfaces and facts.domains == clean.domains
    assert {i.kind for i in facts.interfaces} >= {"bond", "bridge", "vxlan"}


# -- the tunnel IP on a bridge -------------------------------------------------------------------------

def nic(name: str, master: str | None = None) -> InterfaceFact:
    return InterfaceFact(name, None, "52:54:00:00:00:01", 9000, True, master=master, physical=True)


def mesh_facts(vlan: bool = True, second_port: bool = False) -> HostFacts:
    interfaces = [nic("eth0"), nic("eth1", "bond0"), nic("eth2", "bond0"),
                  InterfaceFact("bond0", "bond", "52:54:00:00:00:01", 9000, True, bond_members=["eth1", "eth2"])]
    if vlan:
        interfaces.append(InterfaceFact("bond0.50", "vlan", "52:54:00:00:00:01", 9000, True, master="br-mesh",
                                        vlan_id=50, parent="bond0"))
    else:
        interfaces[-1].master = "br-mesh"
    if second_port:
        interfaces.append(nic("eth3", "br-mesh"))
    interfaces.append(InterfaceFact("br-mesh", "bridge", "52:54:00:00:00:01", 9000, True,
                                    addresses=["192.168.0.12/16"]))
    for interface in interfaces:
        interface.link_detected = True if interface.kind in (None, "bond") else None
    return HostFacts("h1", interfaces, ovs_ports=None)


def test_underlay_paths_go_through_bridges_and_vlan_sub_interfaces_to_the_pnics() -> None:
    pnics = {"eth0", "eth1", "eth2", "bond0", "eth3"}
    assert underlay_paths(mesh_facts(), "br-mesh", pnics) == [["br-mesh", "bond0.50", "bond0"]]
    assert underlay_paths(mesh_facts(vlan=False), "br-mesh", pnics) == [["br-mesh", "bond0"]]
    assert underlay_paths(mesh_facts(second_port=True), "br-mesh", pnics) == [
        ["br-mesh", "bond0.50", "bond0"], ["br-mesh", "eth3"]]
    assert underlay_paths(mesh_facts(), "bond0", pnics) == [["bond0"]]
    assert underlay_paths(mesh_facts(), "bond0.50", pnics) == [["bond0.50", "bond0"]]
    assert underlay_paths(mesh_facts(), "nowhere", pnics) == []


def test_underlay_paths_stop_at_what_leads_nowhere_and_at_cycles() -> None:
    facts = mesh_facts()
    facts.interfaces.append(InterfaceFact("veth-a", "veth", None, 1500, True, master="br-x"))
    facts.interfaces.append(InterfaceFact("br-x", "bridge", None, 1500, True))
    assert underlay_paths(facts, "br-x", {"bond0"}) == []
    loop = mesh_facts()
    loop.interface("br-mesh").master = "br-mesh"  # type: ignore[union-attr]  # odd facts: a bridge in itself
    assert underlay_paths(loop, "br-mesh", {"bond0"}) == [["br-mesh", "bond0.50", "bond0"]]


def lxb_index(host: str) -> OpenStackIndex:
    network = {"type": "network", "id": "net-1", "name": "net-1", "network_type": "vxlan", "segmentation_id": 1000}
    port = {"type": "port", "id": "port-1", "network_id": "net-1", "binding_host": host, "mac_address": "fa:16:3e:00:00:09"}
    agent = {"type": "network_agent", "host": host, "binary": "neutron-linuxbridge-agent",
             "agent_type": "Linux bridge agent",
             "configurations": {"tunneling_ip": "192.168.0.12", "tunnel_types": ["vxlan"]}}
    return OpenStackIndex([network, port, agent])


@pytest.mark.parametrize(("second_port", "nics"), [(False, ["bond0"]), (True, ["bond0", "eth3"])])
def test_the_tunnel_endpoint_is_linked_to_each_nic_under_its_bridge(second_port: bool, nics: list[str]) -> None:
    result = host_documents(mesh_facts(second_port=second_port), lxb_index("h1"))
    underlay = sorted((l for l in result.links if l["link_type"] == "otep-host_pnic"), key=lambda l: l["target_id"])
    assert [l["target_id"] for l in underlay] == [f"h1/{n}" for n in nics]
    assert all(l["source_id"] == "h1/otep-vxlan" and l["state"] == "up" for l in underlay)
    assert underlay[0]["via"] == ["br-mesh", "bond0.50"] and underlay[0]["vlan_tag"] == 50
    assert "br-mesh holds the tunneling IP 192.168.0.12" in underlay[0]["provenance"]
    carried = sorted(l["source_id"] for l in result.links if l["link_type"] == "host_pnic-network")
    assert carried == [f"h1/{n}" for n in nics]  # the NICs under the endpoint carry the VXLAN network


def test_a_down_nic_under_the_bridge_makes_the_endpoint_link_down() -> None:
    facts = mesh_facts()
    bond = facts.interface("bond0")
    assert bond is not None
    bond.link_detected = False
    result = host_documents(facts, lxb_index("h1"))
    assert [l["state"] for l in result.links if l["link_type"] == "otep-host_pnic"] == ["down"]


def test_a_tunnel_ip_on_a_bond_still_links_the_bond_alone() -> None:
    facts = mesh_facts(vlan=False)
    bridge = facts.interface("br-mesh")
    bond = facts.interface("bond0")
    assert bridge is not None and bond is not None
    bond.addresses, bridge.addresses, bond.master = bridge.addresses, [], None
    links = [l for l in host_documents(facts, lxb_index("h1")).links if l["link_type"] == "otep-host_pnic"]
    assert [l["target_id"] for l in links] == ["h1/bond0"]
    assert "via" not in links[0] and "vlan_tag" not in links[0]  # as before: no change for links scanned earlier
    assert links[0]["provenance"] == "bond0 holds the tunneling IP 192.168.0.12"
