"""World-spec options for two installer layouts (issue 12): the tunnel IP on a Linux bridge over a VLAN
sub-interface of the bond (`tunnel_bridge`), and Open vSwitch installed but stopped (`ovs_installed_stopped`):
spec checks, the generator, the simulated hosts' answers, and the ground truth."""

from __future__ import annotations

import json

import pytest

from lab.generate import generate_world
from lab.hosts import LabResponder
from lab.truth import compute_truth
from lab.world import WorldError, parse_world


def mesh_world(**options):  # type: ignore[no-untyped-def]
    return generate_world(3, 1, 2, "lxb", "vxlan", seed=9, tunnel_bridge="br-mesh", tunnel_vlan=50, **options)


def test_the_generator_moves_the_tunnel_ip_from_the_bond_to_the_bridge() -> None:
    host = mesh_world().host("compute-1")
    assert host.tunnel_bridge is not None
    assert (host.tunnel_bridge.name, host.tunnel_bridge.lower, host.tunnel_bridge.vlan) == ("br-mesh", "bond0", 50)
    assert host.tunnel_bridge.ip.split("/")[0] == host.tunnel_ip
    assert host.bonds[0].ip is None


@pytest.mark.parametrize(("options", "message"), [
    ({"tunnel_vlan": 50}, "tunnel_vlan needs tunnel_bridge"),
    ({"tunnel_bridge": "br-mesh", "type_driver": "vlan"}, "tunnel_bridge needs an overlay"),
    ({"tunnel_bridge": "br-mesh", "mechanism": "vpp"}, "not VPP"),
    ({"ovs_installed_stopped": True, "mechanism": "ovs"}, "not Open vSwitch's"),
])
def test_the_generator_refuses_options_that_do_not_fit(options: dict, message: str) -> None:  # type: ignore[type-arg]
    arguments = {"mechanism": "lxb", "type_driver": "vxlan", **options}
    with pytest.raises(ValueError, match=message):
        generate_world(3, 1, 2, **arguments)


@pytest.mark.parametrize(("change", "message"), [
    (lambda h: h["tunnel_bridge"].update(lower="eth1"), "tunnel_bridge.lower 'eth1' is not one of its NICs or bonds"),
    (lambda h: h["tunnel_bridge"].update(ip="192.168.9.9/16"), "is not the tunnel_ip"),
    (lambda h: h["tunnel_bridge"].update(ip="nonsense"), "tunnel_bridge.ip is not a CIDR"),
    (lambda h: h["tunnel_bridge"].update(name="eth0"), "tunnel_bridge.name 'eth0' is already a NIC or bond"),
    (lambda h: h["tunnel_bridge"].update(vlan=5000), "VLAN id must be 1..4094"),
])
def test_an_inconsistent_tunnel_bridge_is_rejected_naming_the_field(change, message: str) -> None:  # type: ignore[no-untyped-def]
    spec = mesh_world().model_dump(mode="json")
    change(spec["hosts"][1])
    with pytest.raises(WorldError, match=message):
        parse_world(spec)


def test_ovs_installed_stopped_is_refused_on_an_ovs_agent_host() -> None:
    spec = generate_world(3, 1, 2, "sriov", "vlan", seed=9, ovs_installed_stopped=True).model_dump(mode="json")
    assert [h["ovs_installed_stopped"] for h in spec["hosts"]] == [False, True, True]  # the network node runs OVS
    spec["hosts"][0]["ovs_installed_stopped"] = True
    with pytest.raises(WorldError, match="host controller-1: ovs_installed_stopped, but its L2 agent is Open vSwitch"):
        parse_world(spec)


def test_the_simulated_host_shows_the_bridge_over_the_vlan_over_the_bond() -> None:
    lab = LabResponder(mesh_world())
    status, out, _ = lab("compute-1", "ip -d -j link")
    devices = {d["ifname"]: d for d in json.loads(out)}
    assert status == 0
    vlan = devices["bond0.50"]
    assert (vlan["link"], vlan["master"], vlan["linkinfo"]["info_kind"], vlan["linkinfo"]["info_data"]["id"]) == (
        "bond0", "br-mesh", "vlan", 50)
    assert devices["br-mesh"]["linkinfo"]["info_kind"] == "bridge"
    addresses = {d["ifname"]: [a["local"] for a in d["addr_info"] if a.get("scope") == "global"]
                 for d in json.loads(lab("compute-1", "ip -j addr")[1])}
    assert addresses["br-mesh"] == ["192.168.0.12"] and addresses["bond0"] == []
    vxlan = next(d for d in devices.values() if d.get("linkinfo", {}).get("info_kind") == "vxlan")
    assert vxlan["linkinfo"]["info_data"]["link"] == "br-mesh"  # the agent's VXLAN leaves by local_ip's device


def test_a_host_with_ovs_stopped_answers_as_debians_tools_do() -> None:
    lab = LabResponder(mesh_world(ovs_installed_stopped=True))
    assert lab("compute-1", "ovs-vsctl show") == (
        1, "", "ovs-vsctl: unix:/var/run/openvswitch/db.sock: database connection failed (No such file or directory)\n")
    status, _, err = lab("compute-1", "ovs-appctl dpif/show")
    assert status == 1 and 'cannot read pidfile "/var/run/openvswitch/ovs-vswitchd.pid"' in err
    assert lab("compute-1", "ovs-dpctl show")[0] == 1
    assert lab("compute-1", "ovs-vsctl --version")[0] == 0
    # without the option the tools are missing, as before
    assert LabResponder(mesh_world())("compute-1", "ovs-vsctl show")[0] == 127


def test_the_truth_links_the_endpoint_to_the_bond_under_the_bridge() -> None:
    world = mesh_world()
    truth = compute_truth(world)
    link = truth.links[("otep-host_pnic", "compute-1/otep-vxlan", "compute-1/bond0")]
    assert link.attributes == {"via": ["br-mesh", "bond0.50"], "vlan_tag": 50}
    assert not any(o.name in ("br-mesh", "bond0.50") for o in truth.objects.values())  # not objects of the model
    world.host("compute-1").tunnel_ip_configured = False
    assert ("otep-host_pnic", "compute-1/otep-vxlan", "compute-1/bond0") not in compute_truth(world).links
