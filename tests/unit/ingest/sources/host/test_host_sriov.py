"""SR-IOV VFs as objects (issue 12): each VF in use is an object under its physical function, on the path
vNIC -> VF -> PF, matched to the VM's port by MAC. Facts come from real `ip link` output recorded in
OpenStack neutron's SR-IOV agent tests and kolla-ansible's documentation (tests/fixtures/real/README.md)
and from the simulated lab's `ip` commands."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from graphmodel.schema import undeclared_fields, vf_id
from ingest.hierarchy import fetch_host, host_documents
from ingest.sources.host.facts import DomainFact, DomainInterfaceFact, HostFacts, VirtualFunctionFact
from ingest.sources.host.parsers.iproute import interface_fact, parse_ip_link_text
from ingest.sources.host.transform import OpenStackIndex
from ingest.transport import CallableTransport
from lab.generate import generate_world
from lab.hosts import LabResponder

REAL = Path(__file__).resolve().parents[4] / "fixtures" / "real" / "iproute2"
HOST = "compute-9"
NETWORK = "net-physnet2"


def openstack(macs: dict[str, str]) -> OpenStackIndex:
    """An SR-IOV agent on the host mapping physnet2 to `device`, one VM with a direct port per MAC."""
    return OpenStackIndex([
        {"type": "network_agent", "id": "agent-sriov", "host": HOST, "binary": "neutron-sriov-nic-agent",
         "agent_type": "NIC Switch agent", "configurations": {"device_mappings": {"physnet2": ["p7p1"]}}},
        {"type": "instance", "id": "vm-1", "host": HOST},
        {"type": "network", "id": NETWORK, "name": "physnet2-net", "network_type": "vlan", "segmentation_id": 4095,
         "physical_network": "physnet2"},
        *({"type": "port", "id": port, "mac_address": mac, "network_id": NETWORK, "binding_host": HOST}
          for port, mac in macs.items())])


def pf_facts(name: str, vm_macs: list[str]) -> HostFacts:
    """The PF of a real `ip link show` (a PCI NIC, as sysfs would say) and a domain with a hostdev VF per MAC."""
    pf = replace(interface_fact(parse_ip_link_text((REAL / name).read_text(), command="ip link show")[0]),
                 physical=True)
    domain = DomainFact("instance-00000001", "vm-1", "running",
                        [DomainInterfaceFact("hostdev", mac, vlan=4095) for mac in vm_macs])
    return HostFacts(HOST, [pf], domains=[domain])


def by_type(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["id"]: d for d in docs if d.get("type") == kind}


def links(result: Any, link_type: str) -> dict[tuple[str, str], str]:
    return {(l["source_id"], l["target_id"]): l["state"] for l in result.links if l["link_type"] == link_type}


def test_neutrons_recorded_vfs_become_objects_under_their_pf_with_their_link_state() -> None:
    # neutron's pci_lib test output: VF 0 forced down (link-state disable), VFs 1 and 2 forced up; the PF is down
    facts = pf_facts("sample-ip-link-show-vf-neutron-pci-lib.txt", ["fa:16:3e:b4:81:ac", "fa:16:3e:68:4e:79"])
    result = host_documents(facts, openstack({"port-0": "fa:16:3e:b4:81:ac", "port-2": "fa:16:3e:68:4e:79"}))
    vfs = by_type(result.objects, "vf")
    assert sorted(vfs) == [vf_id(HOST, "p7p1", n) for n in (0, 1, 2)]
    vf0 = vfs[vf_id(HOST, "p7p1", 0)]
    assert (vf0["pf"], vf0["vf_index"], vf0["mac_address"], vf0["vlan"], vf0["link_state"], vf0["spoofchk"],
            vf0["trust"], vf0["port_id"], vf0["network_id"]) == (
        "p7p1", 0, "fa:16:3e:b4:81:ac", 4095, "disable", False, None, "port-0", NETWORK)
    assert vfs[vf_id(HOST, "p7p1", 1)]["port_id"] is None  # a MAC no Neutron port has
    assert vf0["parent_id"] == f"{HOST}/p7p1/vfs" and by_type(result.objects, "folder")[vf0["parent_id"]]
    assert [p for d in [*result.objects, *result.links] for p in undeclared_fields(d)] == []
    vnic0, vnic2 = f"{HOST}/fa:16:3e:b4:81:ac", f"{HOST}/fa:16:3e:68:4e:79"
    assert links(result, "vnic-vf") == {(vnic0, vf_id(HOST, "p7p1", 0)): "down",  # disable: the VM sees no carrier
                                        (vnic2, vf_id(HOST, "p7p1", 2)): "up"}
    assert links(result, "vnic-vedge") == {(vnic0, f"{HOST}/vedge-sriov"): "down",
                                           (vnic2, f"{HOST}/vedge-sriov"): "up"}
    # every VF leaves by its PF's port, whose link is down (no LOWER_UP)
    assert set(links(result, "vf-host_pnic").items()) == {((v, f"{HOST}/p7p1"), "down") for v in vfs}
    vnic_vf = next(l for l in result.links if l["link_type"] == "vnic-vf" and l["source_id"] == vnic2)
    assert vnic_vf["vlan_tag"] == 4095 and vnic_vf["network"] == NETWORK and "VF 2 of p7p1" in vnic_vf["provenance"]


def test_a_free_vf_is_left_out_and_a_pf_outside_the_host_pnics_has_none() -> None:
    facts = pf_facts("sample-ip-d-link-show-sriov-pf.txt", ["fa:16:3e:00:a3:01"])
    pf = facts.interfaces[0]
    pf.vfs.append(VirtualFunctionFact(4, "00:00:00:00:00:00", None))
    result = host_documents(facts, openstack({"port-3": "fa:16:3e:00:a3:01"}))
    vfs = by_type(result.objects, "vf")
    assert sorted(vfs) == [vf_id(HOST, "ens785f0", n) for n in range(4)]  # kolla's four VFs in use, not VF 4
    assert vfs[vf_id(HOST, "ens785f0", 3)]["vlan"] == 1000 and vfs[vf_id(HOST, "ens785f0", 3)]["port_id"] == "port-3"
    assert links(result, "vnic-vf") == {(f"{HOST}/fa:16:3e:00:a3:01", vf_id(HOST, "ens785f0", 3)): "up"}
    facts.interfaces[0] = replace(pf, physical=False)  # not a NIC of the host (no PCI device): no pNIC, no VFs
    assert not by_type(host_documents(facts, openstack({})).objects, "vf")


def test_the_simulated_hosts_vfs_read_through_ip_give_the_objects() -> None:
    world = generate_world(3, 2, 2, "sriov", "vlan", seed=4)
    host = next(h.name for h in world.hosts if "compute" in h.roles)
    facts = fetch_host(CallableTransport(LabResponder(world)), host)
    pf = next(i for i in facts.interfaces if i.vfs)
    assert all(vf.spoofchk is True and vf.trust is False and vf.link_state == "auto" for vf in pf.vfs)
    direct = [p for p in world.ports if p.binding_host == host and p.vnic_type == "direct"]
    assert [(vf.index, vf.mac) for vf in pf.vfs] == [(n, p.mac_address) for n, p in enumerate(direct)]
