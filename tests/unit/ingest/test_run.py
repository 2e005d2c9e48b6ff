"""Command translation for containerised distributions (pure)."""

from __future__ import annotations

from core.environments import CommandTranslation
from ingest.run import translate

KOLLA = CommandTranslation(prefix="docker exec {container}",
                           containers={"compute": "openvswitch_vswitchd", "network": "neutron_l3_agent"},
                           tools=["ovs-vsctl", "ovs-appctl", "ip"])


def test_the_container_of_the_hosts_first_listed_role_is_used() -> None:
    assert translate("ovs-vsctl show", ["Compute"], KOLLA) == "docker exec openvswitch_vswitchd ovs-vsctl show"
    assert translate("ip netns list", ["Controller", "Network"], KOLLA) == "docker exec neutron_l3_agent ip netns list"


def test_tools_outside_the_list_and_roles_without_a_container_run_natively() -> None:
    assert translate("virsh list --all", ["Compute"], KOLLA) == "virsh list --all"
    assert translate("ovs-vsctl show", ["Controller"], KOLLA) == "ovs-vsctl show"


def test_a_default_container_and_a_plain_prefix() -> None:
    default = CommandTranslation(prefix="docker exec {container}", containers={"default": "tools"})
    assert translate("ethtool eth0", ["Compute"], default) == "docker exec tools ethtool eth0"
    assert translate("ethtool eth0", [], CommandTranslation(prefix="nsenter -t 1 -n")) == "nsenter -t 1 -n ethtool eth0"
    assert translate("ethtool eth0", ["Compute"], None) == "ethtool eth0"
