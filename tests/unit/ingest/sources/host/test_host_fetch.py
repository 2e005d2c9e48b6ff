"""fetch_host on simulated hosts whose tools are older or whose datapath differs: the text forms
and the second datapath listing must give the same facts as the machine-readable forms; and what the
transform makes of the facts only they carry (datapath ports, tunnel peers)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.hierarchy import fetch_host, host_documents
from ingest.sources.host.facts import HostFacts
from ingest.sources.host.transform import OpenStackIndex
from ingest.transport import CommandResult
from lab.generate import generate_world
from lab.hosts import LabResponder

REAL = Path(__file__).resolve().parents[4] / "fixtures" / "real"
# What `ovs-dpctl show` prints on a host without the kernel datapath (captured here; it exits 1).
NO_KERNEL_DATAPATH = (REAL / "ovs" / "ovs-dpctl-show-kernel-absent.txt").read_text()


def refuse_json(command: str) -> CommandResult | None:
    """iproute2 before 4.14 and an ovs-vsctl without table formats refuse the machine-readable options."""
    words = command.split()
    tool = next((w for w in words if w in ("ip", "bridge", "ovs-vsctl")), None)
    if tool in ("ip", "bridge") and "-j" in words:
        return CommandResult(255, "", f'Option "-j" is unknown, try "{tool} -help".\n')
    if tool == "ovs-vsctl" and "--format=json" in words:
        return CommandResult(1, "", "ovs-vsctl: unrecognized option '--format=json'\n")
    return None


def userspace_datapath(command: str) -> CommandResult | None:
    return CommandResult(1, "", NO_KERNEL_DATAPATH) if command == "ovs-dpctl show" else None


def no_vswitchd(command: str) -> CommandResult | None:
    if command == "ovs-appctl dpif/show":
        return CommandResult(1, "", "2026-11-25T03:40:01Z|00001|unixctl|WARN|failed to connect to "
                                    "/var/run/openvswitch/ovs-vswitchd.pid\novs-appctl: cannot connect\n")
    return userspace_datapath(command)


class SimulatedHosts:
    """The lab's simulated hosts as a transport, with some commands answered differently."""

    def __init__(self, world_args: tuple[int, int, int, str, str],
                 differently: Callable[[str], CommandResult | None] = lambda command: None) -> None:
        self.responder = LabResponder(generate_world(*world_args, seed=31))
        self.differently = differently
        self.commands: list[str] = []

    def run(self, host: str, command: str, timeout: float = 30.0) -> CommandResult:
        self.commands.append(command)
        answer = CommandResult(*self.responder(host, command))
        if answer.exit_status == 127:
            return answer  # a tool the host lacks stays missing
        inner = command.split(" ", 4)[-1] if command.startswith("ip netns exec ") else command
        return self.differently(inner) or answer

    def close(self) -> None:
        pass


def without_ovsdb_only_facts(facts: HostFacts) -> HostFacts:
    """`ovs-vsctl show` prints neither external_ids, link and admin state, errors nor OpenFlow port numbers:
    leave them out of the comparison."""
    for port in facts.ovs_ports or []:
        port.external_ids, port.link_state, port.ofport, port.admin_state, port.error = {}, None, None, None, None
    return facts


@pytest.mark.parametrize(("mechanism", "type_driver"), [("ovs", "vxlan"), ("ovs", "vlan"), ("lxb", "vxlan"),
                                                        ("lxb", "vlan"), ("sriov", "vlan"), ("vpp", "vxlan")])
@pytest.mark.parametrize("host", ["compute-1", "controller-1"])
def test_text_forms_give_the_facts_the_json_forms_give(mechanism: str, type_driver: str, host: str) -> None:
    world = (3, 2, 2, mechanism, type_driver)
    modern = fetch_host(SimulatedHosts(world), host)
    old_hosts = SimulatedHosts(world, refuse_json)
    old = fetch_host(old_hosts, host)
    assert "ip -d link show" in old_hosts.commands and "ip address show" in old_hosts.commands
    assert old.interfaces and old == without_ovsdb_only_facts(modern)
    if mechanism == "ovs":
        assert "ovs-vsctl show" in old_hosts.commands and old.ovs_ports
    if mechanism == "lxb" and type_driver == "vxlan":
        assert "bridge fdb show" in old_hosts.commands
        assert all(i.vxlan_remotes for i in old.interfaces if i.kind == "vxlan")


def test_datapath_ports_come_from_dpif_show_when_there_is_no_kernel_datapath() -> None:
    kernel = fetch_host(SimulatedHosts((3, 2, 2, "ovs", "vxlan")), "compute-1")
    userspace = fetch_host(SimulatedHosts((3, 2, 2, "ovs", "vxlan"), userspace_datapath), "compute-1")
    assert kernel.datapath_ports and userspace.datapath_ports
    numbers = {p.name: p.number for p in kernel.datapath_ports}
    from_dpif = {p.name: p.number for p in userspace.datapath_ports}
    tunnels = {p.name for p in userspace.ovs_ports or [] if p.type == "vxlan"}
    assert tunnels and tunnels <= set(from_dpif)  # dpif names the tunnel ports themselves
    assert {n: from_dpif[n] for n in set(from_dpif) - tunnels} == {n: numbers[n] for n in set(from_dpif) - tunnels}
    assert userspace.interfaces == kernel.interfaces and userspace.ovs_ports == kernel.ovs_ports


def test_a_switch_without_vswitchd_still_gives_its_ovsdb_facts() -> None:
    facts = fetch_host(SimulatedHosts((3, 2, 2, "ovs", "vxlan"), no_vswitchd), "compute-1")
    assert facts.datapath_ports is None and facts.ovs_ports and facts.domains


def agent(host: str, binary: str, configurations: dict) -> dict:  # type: ignore[type-arg]
    return {"type": "network_agent", "id": f"agent-{host}", "host": host, "binary": binary,
            "agent_type": binary, "configurations": configurations}


def test_the_ovs_vedge_gets_its_datapath_and_tunnel_ports_and_the_otep_its_peers() -> None:
    facts = fetch_host(SimulatedHosts((3, 2, 2, "ovs", "vxlan"), userspace_datapath), "compute-1")
    tunnels = [p for p in facts.ovs_ports or [] if p.type == "vxlan"]
    local_ip = tunnels[0].options["local_ip"]
    index = OpenStackIndex([agent("compute-1", "neutron-openvswitch-agent",
                                  {"tunneling_ip": local_ip, "tunnel_types": ["vxlan"]})])
    docs = {d["type"]: d for d in host_documents(facts, index).objects if d["type"] in ("vedge", "otep")}
    ports = docs["vedge"]["ports"]
    assert [p["port_no"] for p in ports] == sorted(p["port_no"] for p in ports)
    assert {p["name"] for p in ports} == {p.name for p in facts.datapath_ports or []}
    assert docs["otep"]["remote_ips"] == sorted({p.options["remote_ip"] for p in tunnels})
    assert sorted(t["remote_ip"] for t in docs["vedge"]["tunnel_ports"]) == sorted(p.options["remote_ip"] for p in tunnels)
    assert all(t["local_ip"] == local_ip and t["type"] == "vxlan" for t in docs["vedge"]["tunnel_ports"])
    assert local_ip not in docs["otep"]["remote_ips"] and len(docs["otep"]["remote_ips"]) >= 1


def test_the_linux_bridge_otep_gets_the_vteps_of_the_forwarding_database() -> None:
    facts = fetch_host(SimulatedHosts((3, 2, 2, "lxb", "vxlan"), refuse_json), "compute-1")
    vxlans = [i for i in facts.interfaces if i.kind == "vxlan" and i.namespace is None]
    index = OpenStackIndex([agent("compute-1", "neutron-linuxbridge-agent",
                                  {"tunneling_ip": vxlans[0].vxlan_local, "tunnel_types": ["vxlan"]})])
    (otep,) = [d for d in host_documents(facts, index).objects if d["type"] == "otep"]
    assert otep["remote_ips"] == sorted({r for i in vxlans for r in i.vxlan_remotes})
    assert otep["remote_ips"] and vxlans[0].vxlan_local not in otep["remote_ips"]
