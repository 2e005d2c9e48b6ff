"""Clique types: the most specific variant wins, the walk's steps, validation of users' types (pure)."""

from __future__ import annotations

import pytest

from graphmodel.schema import CLIQUE_TYPES, CliqueType
from queries.clique import CliqueError, match_clique_type, reachable_types, validate_clique_type, walk_steps


def name_of(focal: str, distribution: str | None, mechanism: str | None, type_driver: str | None) -> str | None:
    found = match_clique_type(CLIQUE_TYPES, focal, distribution, mechanism, type_driver)
    return found.name if found else None


@pytest.mark.parametrize(("mechanism", "type_driver", "expected"), [
    ("ovs", "vxlan", "instance-ovs-tunnel"),
    ("ovs", "gre", "instance-ovs-tunnel"),
    ("ovs", "vlan", "instance-ovs-vlan"),
    ("ovs", "flat", "instance-ovs-flat"),
    ("openvswitch", "vlan", "instance-ovs-vlan"),  # Neutron's name for the driver
    ("lxb", "vxlan", "instance-lxb-vxlan"),
    ("lxb", "vlan", "instance-lxb"),
    ("vpp", "vlan", "instance-vpp"),
    ("sriov", "vlan", "instance-sriov"),
    ("sriov", "vxlan", "instance"),  # no SR-IOV type for tunnels: the ANY fallback
    (None, None, "instance"),
])
def test_the_most_specific_instance_type_wins(mechanism: str, type_driver: str, expected: str) -> None:
    assert name_of("instance", "Devstack", mechanism, type_driver) == expected


def test_distribution_counts_and_outranks_the_drivers() -> None:
    kolla = CliqueType("instance-kolla", "instance", ("instance-vnic",), distribution="Kolla")
    kolla_ovs = CliqueType("instance-kolla-ovs", "instance", ("instance-vnic",), distribution="Kolla",
                           mechanism_driver="ovs")
    types = (*CLIQUE_TYPES, kolla, kolla_ovs)
    assert match_clique_type(types, "instance", "kolla", "ovs", "vxlan").name == "instance-kolla-ovs"  # type: ignore[union-attr]
    # one exact field each: the distribution wins over the mechanism driver
    assert match_clique_type((*CLIQUE_TYPES, kolla), "instance", "Kolla", "lxb", "vlan").name == "instance-kolla"  # type: ignore[union-attr]
    only_one = (kolla, CliqueType("i-lxb", "instance", ("instance-vnic",), mechanism_driver="lxb"))
    assert match_clique_type(only_one, "instance", "Kolla", "lxb", "vlan").name == "instance-kolla"  # type: ignore[union-attr]
    assert match_clique_type(types, "instance", "Devstack", "ovs", "vxlan").name == "instance-ovs-tunnel"  # type: ignore[union-attr]


def test_no_type_for_a_focal_type_is_none() -> None:
    assert name_of("host_pnic", None, "ovs", "vxlan") is None
    assert name_of("network", None, "ovs", "vlan") == "network"


def test_reachable_types_in_walk_order() -> None:
    ovs = next(t for t in CLIQUE_TYPES if t.name == "instance-ovs-tunnel")
    assert reachable_types("instance", ovs.link_types) == ["instance", "vnic", "vconnector",
                                                               "vconnector_member", "vedge_port", "vedge",
                                                           "otep", "host_pnic", "network"]
    network = next(t for t in CLIQUE_TYPES if t.name == "network")
    assert reachable_types("network", network.link_types)[:2] == ["network", "host_pnic"]
    assert set(reachable_types("network", network.link_types)) >= {"instance", "vservice", "vnic"}
    assert reachable_types("instance", ("vedge-otep", "instance-vnic")) == ["instance", "vnic"]


def test_walk_steps_name_relationships_and_end_types() -> None:
    assert walk_steps(("vnic-vedge",)) == [{"relationship": "VNIC_VEDGE", "source_type": "vnic",
                                            "target_type": "vedge"}]


def test_every_declared_clique_type_is_valid() -> None:
    from queries.clique import clique_type_document
    for declared in CLIQUE_TYPES:
        assert validate_clique_type(clique_type_document(declared, builtin=True)) == declared


def test_a_bad_user_type_names_each_problem() -> None:
    with pytest.raises(CliqueError) as error:
        validate_clique_type({"name": "mine", "focal_point_type": "vm", "link_types": ["instance-vnic", "vm-tap"],
                              "colour": "red"})
    text = str(error.value)
    assert "focal_point_type: 'vm' is not an object type" in text
    assert "link_types.1: 'vm-tap' is not a link type" in text
    assert "colour: unknown key" in text
    assert "link_types.0" not in text


def test_a_user_type_that_never_starts_is_refused() -> None:
    with pytest.raises(CliqueError, match="never start"):
        validate_clique_type({"name": "x", "focal_point_type": "host_pnic", "link_types": ["instance-vnic"]})
    ok = validate_clique_type({"name": "pnic", "focal_point_type": "host_pnic", "link_types": ["host_pnic-network"],
                               "mechanism_driver": "linuxbridge"})
    assert ok.mechanism_driver == "lxb" and ok.constraints == ("network",)


def test_the_variant_comes_from_the_environment_then_the_graph() -> None:
    from queries.clique import choose_variant
    focal = {"mechanism": "lxb", "network_types": ["vlan", "vlan", "flat"]}
    assert choose_variant({}, focal) == choose_variant({"mechanism_drivers": ["ovs", "lxb"]}, focal)
    assert choose_variant({}, focal).mechanism == "lxb" and choose_variant({}, focal).type_driver == "vlan"
    chosen = choose_variant({"distribution": "Kolla", "mechanism_drivers": ["openvswitch"], "type_drivers": ["vxlan"]},
                            focal)
    assert (chosen.distribution, chosen.mechanism, chosen.type_driver) == ("Kolla", "ovs", "vxlan")
    assert choose_variant({"mechanism_drivers": ["sriov", "ovs"]}, {}).mechanism == "sriov"
    assert choose_variant({}, {}).mechanism is None and choose_variant({}, {}).type_driver is None
