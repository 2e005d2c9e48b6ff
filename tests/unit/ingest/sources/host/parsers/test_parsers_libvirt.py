"""libvirt parsers on recorded samples (tests/fixtures/real/libvirt): no libvirt runs on this machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.sources.host.parsers.errors import ParseError
from ingest.sources.host.parsers.libvirt import domain_fact, parse_virsh_dumpxml, parse_virsh_list

FIXTURES = Path(__file__).resolve().parents[5] / "fixtures" / "real" / "libvirt"


def real(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_virsh_list_old_layout_recorded_by_opnfv_calipso() -> None:
    domains = parse_virsh_list(real("sample-virsh-list-opnfv-calipso.txt"))
    assert [(d.id, d.name, d.state) for d in domains][:2] == [(2, "instance-00000002", "running"),
                                                              (27, "instance-0000001c", "running")]
    assert len(domains) == 4


def test_virsh_list_vsh_table_layout_with_shut_off_domains() -> None:
    domains = parse_virsh_list(real("sample-virsh-list-all-libvirt9.txt"))
    assert [(d.id, d.name, d.state) for d in domains] == [
        (1, "instance-0000000c", "running"), (2, "instance-0000000d", "paused"),
        (None, "instance-00000007", "shut off"), (None, "instance-0000000a", "shut off")]


def test_virsh_list_with_no_domains_and_empty_output() -> None:
    assert parse_virsh_list(" Id   Name   State\n--------------------\n\n") == []
    assert parse_virsh_list("") == []


def test_dumpxml_hybrid_plug_recorded_by_opnfv_calipso() -> None:
    domain = parse_virsh_dumpxml(real("sample-virsh-dumpxml-opnfv-calipso-liberty.xml"))
    assert (domain.uuid, domain.name, domain.display_name) == (
        "bf0cb914-b316-486c-a4ce-f22deb453c52", "instance-00000026", "test")
    assert domain.project_id == "75c0eb79ff4a42b0ae4973c8375ddf40"
    (vnic,) = domain.interfaces
    assert (vnic.type, vnic.mac, vnic.target, vnic.source_bridge) == (
        "bridge", "fa:16:3e:e8:7f:04", "tap1f72bd15-8a", "qbr1f72bd15-8a")
    assert vnic.virtualport_type is None and vnic.alias == "net0"


def test_dumpxml_openvswitch_vhostuser_and_sriov_vifs() -> None:
    domain = parse_virsh_dumpxml(real("sample-virsh-dumpxml-ovs-vhostuser-sriov.xml"))
    assert domain.display_name == "web-1"
    ovs, vhost, vf = domain.interfaces
    assert (ovs.source_bridge, ovs.virtualport_type, ovs.interface_id, ovs.target, ovs.mtu) == (
        "br-int", "openvswitch", "7c0a9e1d-2f3b-4c5d-8e6f-7a8b9c0d1e2f", "tap7c0a9e1d-2f", 1450)
    assert (vhost.type, vhost.vhost_socket, vhost.vhost_mode, vhost.target) == (
        "vhostuser", "/var/run/vpp/vhost-user-3a4b5c6d-7e", "server", None)
    assert (vf.type, vf.mac, vf.hostdev_pci, vf.vlan) == ("hostdev", "fa:16:3e:00:a3:01", "0000:05:10.6", 1000)


def test_dumpxml_without_nova_metadata() -> None:
    domain = parse_virsh_dumpxml("<domain type='kvm'><name>plain</name><uuid>1234</uuid><devices/></domain>")
    assert (domain.name, domain.display_name, domain.interfaces) == ("plain", None, [])


BOMB = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        "<domain><name>&lol2;</name><uuid>1</uuid></domain>")


@pytest.mark.parametrize(("parse", "command", "text"), [
    (parse_virsh_list, "virsh list --all", "<html><body>error</body></html>"),
    (parse_virsh_list, "virsh list --all", real("sample-virsh-dumpxml-opnfv-calipso-liberty.xml")),
    (parse_virsh_list, "virsh list --all", " Id    Name    State\n----------\n x y\n"),
    (parse_virsh_dumpxml, "virsh dumpxml", ""),  # an unknown domain prints nothing on stdout
    (parse_virsh_dumpxml, "virsh dumpxml", real("sample-virsh-dumpxml-opnfv-calipso-liberty.xml")[:900]),
    (parse_virsh_dumpxml, "virsh dumpxml", "<html><body><p>Not a domain</p></body></html>"),
    (parse_virsh_dumpxml, "virsh dumpxml", real("sample-virsh-list-opnfv-calipso.txt")),
    (parse_virsh_dumpxml, "virsh dumpxml", "<domain type='kvm'><name>x</name></domain>"),  # no uuid
    (parse_virsh_dumpxml, "virsh dumpxml", BOMB),
    (parse_virsh_dumpxml, "virsh dumpxml",
     "<domain><name>x</name><uuid>1</uuid><devices><interface type='hostdev'><source>"
     "<address type='pci' bus='zz'/></source></interface></devices></domain>"),
])
def test_malformed_input_raises_parse_error_naming_the_command(parse, command: str, text: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert f"`{command}`" in str(caught.value)


def test_domain_fact_keeps_the_nics_that_have_a_mac() -> None:
    xml = real("sample-virsh-dumpxml-ovs-vhostuser-sriov.xml")
    fact = domain_fact(parse_virsh_dumpxml(xml), "running")
    assert (fact.name, fact.uuid, fact.state) == ("instance-0000000c", "5e1f7b2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "running")
    assert [(i.type, i.mac, i.source_bridge, i.interface_id, i.vlan, i.mtu) for i in fact.interfaces] == [
        ("bridge", "fa:16:3e:2a:4b:6c", "br-int", "7c0a9e1d-2f3b-4c5d-8e6f-7a8b9c0d1e2f", None, 1450),
        ("vhostuser", "fa:16:3e:5d:6e:7f", None, None, None, 1500),
        ("hostdev", "fa:16:3e:00:a3:01", None, None, 1000, None)]
    without_mac = domain_fact(parse_virsh_dumpxml(xml.replace("<mac address='fa:16:3e:5d:6e:7f'/>", "")), "paused")
    assert [i.mac for i in without_mac.interfaces] == ["fa:16:3e:2a:4b:6c", "fa:16:3e:00:a3:01"]
