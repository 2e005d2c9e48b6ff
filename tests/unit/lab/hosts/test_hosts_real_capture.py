"""The simulator against real output: the same devices as a real capture, printed the same way.

The constants at the end were captured from iproute2 6.1, bridge-utils 1.7.1 and ethtool 6.1 on
Debian 12 (kernel 6.18), in a network namespace holding: lo; a bridge brq0 (10.0.0.11/16) with a
veth end vethx, a veth end tapd whose peer nsd (172.16.0.2/24) is in namespace calireal2, and
vxlan-1000 (VNI 1000, local 192.168.0.11 over ethx, port 8472); ethx (192.168.0.11/16) is vethx's
peer. MACs were set by hand. `capture_host()` builds the same devices as a HostState.

Values the kernel makes up as it runs (bridge timers, veth queue counts, which depend on the CPU
count) are masked; everything else must match byte for byte.
"""

# ruff: noqa: E501

from __future__ import annotations

import json
import re

import pytest

from lab.generate import generate_world
from lab.hostmodel import HostState, Interface
from lab.hosts.shell import SimulatedHost


def capture_host() -> SimulatedHost:
    world = generate_world(2, 0, 1, "lxb", "vxlan", seed=1)
    state = HostState(name=world.hosts[0].name, mechanism="lxb", namespaces=["calireal2"])
    state.interfaces = [
        Interface("lo", "loopback", "00:00:00:00:00:00", 65536, index=1, addresses=["127.0.0.1/8"]),
        Interface("brq0", "bridge", "fe:00:00:00:00:01", 1450, index=2, addresses=["10.0.0.11/16"]),
        Interface("ethx", "veth", "fe:00:00:00:00:03", 1500, index=3, peer="vethx", addresses=["192.168.0.11/16"]),
        Interface("vethx", "veth", "fe:00:00:00:00:02", 1500, index=4, peer="ethx", master="brq0"),
        Interface("tapd", "veth", "fe:00:00:00:00:04", 1500, index=6, peer="nsd", peer_namespace="calireal2",
                  master="brq0"),
        Interface("vxlan-1000", "vxlan", "fe:00:00:00:00:06", 1450, index=7, master="brq0", vxlan_id=1000,
                  vxlan_local="192.168.0.11", link="ethx", vxlan_port=8472),
        Interface("lo", "loopback", "00:00:00:00:00:00", 65536, index=1, namespace="calireal2"),
        Interface("nsd", "veth", "fa:16:3e:00:00:05", 1500, index=5, peer="tapd", namespace="calireal2",
                  addresses=["172.16.0.2/24"]),
    ]
    return SimulatedHost(state, world)


def run(command: str) -> str:
    status, out, err = capture_host().run(command)
    assert (status, err) == (0, ""), err
    return out


_VOLATILE = re.compile(r"(gc_timer|forward_delay_timer|numtxqueues|numrxqueues) +[\d.]+")


def masked(text: str) -> str:
    return _VOLATILE.sub(r"\1 N", text)


@pytest.mark.parametrize(("command", "real"), [
    ("ip link show", "LINK"), ("ip address show", "ADDR"), ("bridge link show", "BRIDGE_LINK"),
    ("brctl show", "BRCTL_SHOW"), ("ip route", "ROUTE"), ("ethtool vethx", "ETHTOOL_VETH"),
    ("ethtool brq0", "ETHTOOL_BRIDGE"), ("ethtool vxlan-1000", "ETHTOOL_VXLAN"),
])
def test_text_output_is_byte_for_byte_the_real_one(command: str, real: str) -> None:
    assert run(command) == globals()[real]


def test_details_match_the_real_ones_but_for_timers_and_queue_counts() -> None:
    mine = run("ip -d link show")
    assert masked(mine) == masked(DETAILS)
    assert mine != masked(mine)  # the mask did hide something: the comparison above is not vacuous


def test_namespace_view_matches_but_for_the_unnamed_root_namespace() -> None:
    # On a real host the peer of a namespace's veth is in the root namespace, which has no name:
    # iproute2 prints its nsid. In the capture the "root" was itself a named namespace.
    expected = NS_ADDR.replace("link-netns calireal", "link-netnsid 0")
    assert run("ip netns exec calireal2 ip address show") == expected


@pytest.mark.parametrize(("command", "real"), [
    ("ip -j link show", "LINK_JSON"), ("ip -j address show", "ADDR_JSON"), ("bridge -j link show", "BRIDGE_LINK_JSON"),
])
def test_json_output_is_byte_for_byte_the_real_one(command: str, real: str) -> None:
    assert run(command) == globals()[real] + "\n"


def _paths(value: object, prefix: str = "") -> list[str]:
    if isinstance(value, dict):
        return [f"{prefix}.{key}" for key in value] + [p for key, item in value.items()
                                                       for p in _paths(item, f"{prefix}.{key}")]
    if isinstance(value, list):
        return [p for number, item in enumerate(value) for p in _paths(item, f"{prefix}[{number}]")]
    return []


def test_detailed_json_has_the_real_keys_in_the_real_order_and_values() -> None:
    mine, real = json.loads(run("ip -d -j link show")), json.loads(DETAILS_JSON)
    assert _paths(mine) == _paths(real)
    volatile = {"gc_timer", "forward_delay_timer", "num_tx_queues", "num_rx_queues"}

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in volatile}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    assert strip(mine) == strip(real)
    # floats keep iproute2's printf digits
    assert '"hold_timer":0.00' in run("ip -d -j link show") and '"hold_timer":0.00' in DETAILS_JSON


def test_fdb_json_has_the_real_entries_for_the_bridge_ports() -> None:
    mine = json.loads(run("bridge -j fdb show"))
    real = json.loads(FDB_JSON)
    # The real bridge got its MAC set by hand, which adds a "master brq0" entry for the bridge itself;
    # the order of a device's multicast entries depends on its up/down history. Compare as sets.
    def key(entry: dict) -> tuple:
        return tuple(sorted((k, json.dumps(v)) for k, v in entry.items()))
    real_set = {key(e) for e in real if not (e["ifname"] == "brq0" and e.get("master"))}
    assert {key(e) for e in mine} == real_set



# -- the real capture ----------------------------------------------------------------------------

LINK = (
    '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n'
    '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n'
    '2: brq0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UP mode DEFAULT group default qlen 1000\n'
    '    link/ether fe:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff\n'
    '3: ethx@vethx: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\n'
    '    link/ether fe:00:00:00:00:03 brd ff:ff:ff:ff:ff:ff\n'
    '4: vethx@ethx: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master brq0 state UP mode DEFAULT group default qlen 1000\n'
    '    link/ether fe:00:00:00:00:02 brd ff:ff:ff:ff:ff:ff\n'
    '6: tapd@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master brq0 state UP mode DEFAULT group default qlen 1000\n'
    '    link/ether fe:00:00:00:00:04 brd ff:ff:ff:ff:ff:ff link-netns calireal2\n'
    '7: vxlan-1000: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue master brq0 state UNKNOWN mode DEFAULT group default qlen 1000\n'
    '    link/ether fe:00:00:00:00:06 brd ff:ff:ff:ff:ff:ff\n'
)


DETAILS = (
    '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n'
    '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00 promiscuity 0  allmulti 0 minmtu 0 maxmtu 0 addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 \n'
    '2: brq0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UP mode DEFAULT group default qlen 1000\n'
    '    link/ether fe:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 \n'
    '    bridge forward_delay 1500 hello_time 200 max_age 2000 ageing_time 30000 stp_state 0 priority 32768 vlan_filtering 0 bridge_id 8000.fe:0:0:0:0:1 designated_root 8000.fe:0:0:0:0:1 root_port 0 root_path_cost 0 topology_change 0 topology_change_detected 0 hello_timer    0.00 tcn_timer    0.00 topology_change_timer    0.00 gc_timer  255.46 group_fwd_mask 0 group_address 01:80:c2:00:00:00 mcast_snooping 1 no_linklocal_learn 0 mcast_vlan_snooping 0 mcast_router 1 mcast_query_use_ifaddr 0 mcast_querier 0 mcast_hash_elasticity 16 mcast_hash_max 4096 mcast_last_member_count 2 mcast_startup_query_count 2 mcast_last_member_interval 100 mcast_membership_interval 26000 mcast_querier_interval 25500 mcast_query_interval 12500 mcast_query_response_interval 1000 mcast_startup_query_interval 3124 mcast_stats_enabled 0 mcast_igmp_version 2 mcast_mld_version 1 nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0 addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 \n'
    '3: ethx@vethx: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\n'
    '    link/ether fe:00:00:00:00:03 brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 \n'
    '    veth addrgenmode eui64 numtxqueues 2 numrxqueues 2 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 \n'
    '4: vethx@ethx: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master brq0 state UP mode DEFAULT group default qlen 1000\n'
    '    link/ether fe:00:00:00:00:02 brd ff:ff:ff:ff:ff:ff promiscuity 1  allmulti 1 minmtu 68 maxmtu 65535 \n'
    '    veth \n'
    '    bridge_slave state forwarding priority 32 cost 2 hairpin off guard off root_block off fastleave off learning on flood on port_id 0x8001 port_no 0x1 designated_port 32769 designated_cost 0 designated_bridge 8000.fe:0:0:0:0:1 designated_root 8000.fe:0:0:0:0:1 hold_timer    0.00 message_age_timer    0.00 forward_delay_timer   10.98 topology_change_ack 0 config_pending 0 proxy_arp off proxy_arp_wifi off mcast_router 1 mcast_fast_leave off mcast_flood on bcast_flood on mcast_to_unicast off neigh_suppress off group_fwd_mask 0 group_fwd_mask_str 0x0 vlan_tunnel off isolated off locked off addrgenmode eui64 numtxqueues 2 numrxqueues 2 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 \n'
    '6: tapd@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master brq0 state UP mode DEFAULT group default qlen 1000\n'
    '    link/ether fe:00:00:00:00:04 brd ff:ff:ff:ff:ff:ff link-netns calireal2 promiscuity 1  allmulti 1 minmtu 68 maxmtu 65535 \n'
    '    veth \n'
    '    bridge_slave state forwarding priority 32 cost 2 hairpin off guard off root_block off fastleave off learning on flood on port_id 0x8002 port_no 0x2 designated_port 32770 designated_cost 0 designated_bridge 8000.fe:0:0:0:0:1 designated_root 8000.fe:0:0:0:0:1 hold_timer    0.00 message_age_timer    0.00 forward_delay_timer    0.00 topology_change_ack 0 config_pending 0 proxy_arp off proxy_arp_wifi off mcast_router 1 mcast_fast_leave off mcast_flood on bcast_flood on mcast_to_unicast off neigh_suppress off group_fwd_mask 0 group_fwd_mask_str 0x0 vlan_tunnel off isolated off locked off addrgenmode eui64 numtxqueues 2 numrxqueues 2 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 \n'
    '7: vxlan-1000: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue master brq0 state UNKNOWN mode DEFAULT group default qlen 1000\n'
    '    link/ether fe:00:00:00:00:06 brd ff:ff:ff:ff:ff:ff promiscuity 1  allmulti 1 minmtu 68 maxmtu 65535 \n'
    '    vxlan id 1000 local 192.168.0.11 dev ethx srcport 0 0 dstport 8472 ttl auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx \n'
    '    bridge_slave state forwarding priority 32 cost 2 hairpin off guard off root_block off fastleave off learning on flood on port_id 0x8003 port_no 0x3 designated_port 32771 designated_cost 0 designated_bridge 8000.fe:0:0:0:0:1 designated_root 8000.fe:0:0:0:0:1 hold_timer    0.00 message_age_timer    0.00 forward_delay_timer    0.00 topology_change_ack 0 config_pending 0 proxy_arp off proxy_arp_wifi off mcast_router 1 mcast_fast_leave off mcast_flood on bcast_flood on mcast_to_unicast off neigh_suppress off group_fwd_mask 0 group_fwd_mask_str 0x0 vlan_tunnel off isolated off locked off addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 \n'
)


ADDR = (
    '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n'
    '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n'
    '    inet 127.0.0.1/8 scope host lo\n'
    '       valid_lft forever preferred_lft forever\n'
    '    inet6 ::1/128 scope host \n'
    '       valid_lft forever preferred_lft forever\n'
    '2: brq0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UP group default qlen 1000\n'
    '    link/ether fe:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff\n'
    '    inet 10.0.0.11/16 brd 10.0.255.255 scope global brq0\n'
    '       valid_lft forever preferred_lft forever\n'
    '    inet6 fe80::fc00:ff:fe00:1/64 scope link \n'
    '       valid_lft forever preferred_lft forever\n'
    '3: ethx@vethx: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000\n'
    '    link/ether fe:00:00:00:00:03 brd ff:ff:ff:ff:ff:ff\n'
    '    inet 192.168.0.11/16 brd 192.168.255.255 scope global ethx\n'
    '       valid_lft forever preferred_lft forever\n'
    '    inet6 fe80::fc00:ff:fe00:3/64 scope link \n'
    '       valid_lft forever preferred_lft forever\n'
    '4: vethx@ethx: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master brq0 state UP group default qlen 1000\n'
    '    link/ether fe:00:00:00:00:02 brd ff:ff:ff:ff:ff:ff\n'
    '    inet6 fe80::fc00:ff:fe00:2/64 scope link \n'
    '       valid_lft forever preferred_lft forever\n'
    '6: tapd@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master brq0 state UP group default qlen 1000\n'
    '    link/ether fe:00:00:00:00:04 brd ff:ff:ff:ff:ff:ff link-netns calireal2\n'
    '    inet6 fe80::fc00:ff:fe00:4/64 scope link \n'
    '       valid_lft forever preferred_lft forever\n'
    '7: vxlan-1000: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue master brq0 state UNKNOWN group default qlen 1000\n'
    '    link/ether fe:00:00:00:00:06 brd ff:ff:ff:ff:ff:ff\n'
    '    inet6 fe80::fc00:ff:fe00:6/64 scope link \n'
    '       valid_lft forever preferred_lft forever\n'
)


BRIDGE_LINK = (
    '4: vethx@ethx: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master brq0 state forwarding priority 32 cost 2 \n'
    '6: tapd@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master brq0 state forwarding priority 32 cost 2 \n'
    '7: vxlan-1000: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 master brq0 state forwarding priority 32 cost 2 \n'
)


BRCTL_SHOW = (
    'bridge name\tbridge id\t\tSTP enabled\tinterfaces\n'
    'brq0\t\t8000.fe0000000001\tno\t\ttapd\n'
    '\t\t\t\t\t\t\tvethx\n'
    '\t\t\t\t\t\t\tvxlan-1000\n'
)


ROUTE = (
    '10.0.0.0/16 dev brq0 proto kernel scope link src 10.0.0.11 \n'
    '192.168.0.0/16 dev ethx proto kernel scope link src 192.168.0.11 \n'
)


ETHTOOL_VETH = (
    'Settings for vethx:\n'
    '\tSupported ports: [  ]\n'
    '\tSupported link modes:   Not reported\n'
    '\tSupported pause frame use: No\n'
    '\tSupports auto-negotiation: No\n'
    '\tSupported FEC modes: Not reported\n'
    '\tAdvertised link modes:  Not reported\n'
    '\tAdvertised pause frame use: No\n'
    '\tAdvertised auto-negotiation: No\n'
    '\tAdvertised FEC modes: Not reported\n'
    '\tSpeed: 10000Mb/s\n'
    '\tDuplex: Full\n'
    '\tAuto-negotiation: off\n'
    '\tPort: Twisted Pair\n'
    '\tPHYAD: 0\n'
    '\tTransceiver: internal\n'
    '\tMDI-X: Unknown\n'
    '\tLink detected: yes\n'
)


ETHTOOL_BRIDGE = (
    'Settings for brq0:\n'
    '\tSupported ports: [  ]\n'
    '\tSupported link modes:   Not reported\n'
    '\tSupported pause frame use: No\n'
    '\tSupports auto-negotiation: No\n'
    '\tSupported FEC modes: Not reported\n'
    '\tAdvertised link modes:  Not reported\n'
    '\tAdvertised pause frame use: No\n'
    '\tAdvertised auto-negotiation: No\n'
    '\tAdvertised FEC modes: Not reported\n'
    '\tSpeed: 10000Mb/s\n'
    '\tDuplex: Unknown! (255)\n'
    '\tAuto-negotiation: off\n'
    '\tPort: Other\n'
    '\tPHYAD: 0\n'
    '\tTransceiver: internal\n'
    '\tLink detected: yes\n'
)


ETHTOOL_VXLAN = (
    'Settings for vxlan-1000:\n'
    '\tSupported ports: [  ]\n'
    '\tSupported link modes:   Not reported\n'
    '\tSupported pause frame use: No\n'
    '\tSupports auto-negotiation: No\n'
    '\tSupported FEC modes: Not reported\n'
    '\tAdvertised link modes:  Not reported\n'
    '\tAdvertised pause frame use: No\n'
    '\tAdvertised auto-negotiation: No\n'
    '\tAdvertised FEC modes: Not reported\n'
    '\tSpeed: 10000Mb/s\n'
    '\tDuplex: Full\n'
    '\tAuto-negotiation: off\n'
    '\tPort: Twisted Pair\n'
    '\tPHYAD: 0\n'
    '\tTransceiver: internal\n'
    '\tMDI-X: Unknown\n'
    '\tLink detected: yes\n'
)


NS_ADDR = (
    '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n'
    '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n'
    '    inet 127.0.0.1/8 scope host lo\n'
    '       valid_lft forever preferred_lft forever\n'
    '    inet6 ::1/128 scope host \n'
    '       valid_lft forever preferred_lft forever\n'
    '5: nsd@if6: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000\n'
    '    link/ether fa:16:3e:00:00:05 brd ff:ff:ff:ff:ff:ff link-netns calireal\n'
    '    inet 172.16.0.2/24 brd 172.16.0.255 scope global nsd\n'
    '       valid_lft forever preferred_lft forever\n'
    '    inet6 fe80::f816:3eff:fe00:5/64 scope link \n'
    '       valid_lft forever preferred_lft forever\n'
)


LINK_JSON = '[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"qdisc":"noqueue","operstate":"UNKNOWN","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"loopback","address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00"},{"ifindex":2,"ifname":"brq0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1450,"qdisc":"noqueue","operstate":"UP","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address":"fe:00:00:00:00:01","broadcast":"ff:ff:ff:ff:ff:ff"},{"ifindex":3,"link":"vethx","ifname":"ethx","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UP","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address":"fe:00:00:00:00:03","broadcast":"ff:ff:ff:ff:ff:ff"},{"ifindex":4,"link":"ethx","ifname":"vethx","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","master":"brq0","operstate":"UP","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address":"fe:00:00:00:00:02","broadcast":"ff:ff:ff:ff:ff:ff"},{"ifindex":6,"link_index":5,"ifname":"tapd","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","master":"brq0","operstate":"UP","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address":"fe:00:00:00:00:04","broadcast":"ff:ff:ff:ff:ff:ff","link_netnsid":0},{"ifindex":7,"ifname":"vxlan-1000","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1450,"qdisc":"noqueue","master":"brq0","operstate":"UNKNOWN","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address":"fe:00:00:00:00:06","broadcast":"ff:ff:ff:ff:ff:ff"}]'


DETAILS_JSON = '[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"qdisc":"noqueue","operstate":"UNKNOWN","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"loopback","address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00","promiscuity":0,"allmulti":0,"min_mtu":0,"max_mtu":0,"inet6_addr_gen_mode":"eui64","num_tx_queues":1,"num_rx_queues":1,"gso_max_size":65536,"gso_max_segs":65535,"tso_max_size":524280,"tso_max_segs":65535,"gro_max_size":65536},{"ifindex":2,"ifname":"brq0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1450,"qdisc":"noqueue","operstate":"UP","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address":"fe:00:00:00:00:01","broadcast":"ff:ff:ff:ff:ff:ff","promiscuity":0,"allmulti":0,"min_mtu":68,"max_mtu":65535,"linkinfo":{"info_kind":"bridge","info_data":{"forward_delay":1500,"hello_time":200,"max_age":2000,"ageing_time":30000,"stp_state":0,"priority":32768,"vlan_filtering":0,"bridge_id":"8000.fe:0:0:0:0:1","root_id":"8000.fe:0:0:0:0:1","root_port":0,"root_path_cost":0,"topology_change":0,"topology_change_detected":0,"hello_timer":0.00,"tcn_timer":0.00,"topology_change_timer":0.00,"gc_timer":255.46,"group_fwd_mask":"0","group_addr":"01:80:c2:00:00:00","mcast_snooping":1,"no_linklocal_learn":0,"mcast_vlan_snooping":0,"mcast_router":1,"mcast_query_use_ifaddr":0,"mcast_querier":0,"mcast_hash_elasticity":16,"mcast_hash_max":4096,"mcast_last_member_cnt":2,"mcast_startup_query_cnt":2,"mcast_last_member_intvl":100,"mcast_membership_intvl":26000,"mcast_querier_intvl":25500,"mcast_query_intvl":12500,"mcast_query_response_intvl":1000,"mcast_startup_query_intvl":3124,"mcast_stats_enabled":0,"mcast_igmp_version":2,"mcast_mld_version":1,"nf_call_iptables":0,"nf_call_ip6tables":0,"nf_call_arptables":0}},"inet6_addr_gen_mode":"eui64","num_tx_queues":1,"num_rx_queues":1,"gso_max_size":65536,"gso_max_segs":65535,"tso_max_size":524280,"tso_max_segs":65535,"gro_max_size":65536},{"ifindex":3,"link":"vethx","ifname":"ethx","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UP","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address":"fe:00:00:00:00:03","broadcast":"ff:ff:ff:ff:ff:ff","promiscuity":0,"allmulti":0,"min_mtu":68,"max_mtu":65535,"linkinfo":{"info_kind":"veth"},"inet6_addr_gen_mode":"eui64","num_tx_queues":2,"num_rx_queues":2,"gso_max_size":65536,"gso_max_segs":65535,"tso_max_size":524280,"tso_max_segs":65535,"gro_max_size":65536},{"ifindex":4,"link":"ethx","ifname":"vethx","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","master":"brq0","operstate":"UP","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address":"fe:00:00:00:00:02","broadcast":"ff:ff:ff:ff:ff:ff","promiscuity":1,"allmulti":1,"min_mtu":68,"max_mtu":65535,"linkinfo":{"info_kind":"veth","info_slave_kind":"bridge","info_slave_data":{"state":"forwarding","priority":32,"cost":2,"hairpin":false,"guard":false,"root_block":false,"fastleave":false,"learning":true,"flood":true,"id":"0x8001","no":"0x1","designated_port":32769,"designated_cost":0,"bridge_id":"8000.fe:0:0:0:0:1","root_id":"8000.fe:0:0:0:0:1","hold_timer":0.00,"message_age_timer":0.00,"forward_delay_timer":10.97,"topology_change_ack":0,"config_pending":0,"proxy_arp":false,"proxy_arp_wifi":false,"multicast_router":1,"mcast_flood":true,"bcast_flood":true,"mcast_to_unicast":false,"neigh_suppress":false,"group_fwd_mask":"0","group_fwd_mask_str":"0x0","vlan_tunnel":false,"isolated":false,"locked":false}},"inet6_addr_gen_mode":"eui64","num_tx_queues":2,"num_rx_queues":2,"gso_max_size":65536,"gso_max_segs":65535,"tso_max_size":524280,"tso_max_segs":65535,"gro_max_size":65536},{"ifindex":6,"link_index":5,"ifname":"tapd","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","master":"brq0","operstate":"UP","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address":"fe:00:00:00:00:04","broadcast":"ff:ff:ff:ff:ff:ff","link_netnsid":0,"promiscuity":1,"allmulti":1,"min_mtu":68,"max_mtu":65535,"linkinfo":{"info_kind":"veth","info_slave_kind":"bridge","info_slave_data":{"state":"forwarding","priority":32,"cost":2,"hairpin":false,"guard":false,"root_block":false,"fastleave":false,"learning":true,"flood":true,"id":"0x8002","no":"0x2","designated_port":32770,"designated_cost":0,"bridge_id":"8000.fe:0:0:0:0:1","root_id":"8000.fe:0:0:0:0:1","hold_timer":0.00,"message_age_timer":0.00,"forward_delay_timer":0.00,"topology_change_ack":0,"config_pending":0,"proxy_arp":false,"proxy_arp_wifi":false,"multicast_router":1,"mcast_flood":true,"bcast_flood":true,"mcast_to_unicast":false,"neigh_suppress":false,"group_fwd_mask":"0","group_fwd_mask_str":"0x0","vlan_tunnel":false,"isolated":false,"locked":false}},"inet6_addr_gen_mode":"eui64","num_tx_queues":2,"num_rx_queues":2,"gso_max_size":65536,"gso_max_segs":65535,"tso_max_size":524280,"tso_max_segs":65535,"gro_max_size":65536},{"ifindex":7,"ifname":"vxlan-1000","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1450,"qdisc":"noqueue","master":"brq0","operstate":"UNKNOWN","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address":"fe:00:00:00:00:06","broadcast":"ff:ff:ff:ff:ff:ff","promiscuity":1,"allmulti":1,"min_mtu":68,"max_mtu":65535,"linkinfo":{"info_kind":"vxlan","info_data":{"id":1000,"local":"192.168.0.11","link":"ethx","port_range":{"low":0,"high":0},"port":8472,"learning":true,"ttl":0,"df":"unset","ageing":300,"udp_csum":true,"udp_zero_csum6_tx":false,"udp_zero_csum6_rx":false},"info_slave_kind":"bridge","info_slave_data":{"state":"forwarding","priority":32,"cost":2,"hairpin":false,"guard":false,"root_block":false,"fastleave":false,"learning":true,"flood":true,"id":"0x8003","no":"0x3","designated_port":32771,"designated_cost":0,"bridge_id":"8000.fe:0:0:0:0:1","root_id":"8000.fe:0:0:0:0:1","hold_timer":0.00,"message_age_timer":0.00,"forward_delay_timer":0.00,"topology_change_ack":0,"config_pending":0,"proxy_arp":false,"proxy_arp_wifi":false,"multicast_router":1,"mcast_flood":true,"bcast_flood":true,"mcast_to_unicast":false,"neigh_suppress":false,"group_fwd_mask":"0","group_fwd_mask_str":"0x0","vlan_tunnel":false,"isolated":false,"locked":false}},"inet6_addr_gen_mode":"eui64","num_tx_queues":1,"num_rx_queues":1,"gso_max_size":65536,"gso_max_segs":65535,"tso_max_size":524280,"tso_max_segs":65535,"gro_max_size":65536}]'


ADDR_JSON = '[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"qdisc":"noqueue","operstate":"UNKNOWN","group":"default","txqlen":1000,"link_type":"loopback","address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"::1","prefixlen":128,"scope":"host","valid_life_time":4294967295,"preferred_life_time":4294967295}]},{"ifindex":2,"ifname":"brq0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1450,"qdisc":"noqueue","operstate":"UP","group":"default","txqlen":1000,"link_type":"ether","address":"fe:00:00:00:00:01","broadcast":"ff:ff:ff:ff:ff:ff","addr_info":[{"family":"inet","local":"10.0.0.11","prefixlen":16,"broadcast":"10.0.255.255","scope":"global","label":"brq0","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"fe80::fc00:ff:fe00:1","prefixlen":64,"scope":"link","valid_life_time":4294967295,"preferred_life_time":4294967295}]},{"ifindex":3,"link":"vethx","ifname":"ethx","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UP","group":"default","txqlen":1000,"link_type":"ether","address":"fe:00:00:00:00:03","broadcast":"ff:ff:ff:ff:ff:ff","addr_info":[{"family":"inet","local":"192.168.0.11","prefixlen":16,"broadcast":"192.168.255.255","scope":"global","label":"ethx","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"fe80::fc00:ff:fe00:3","prefixlen":64,"scope":"link","valid_life_time":4294967295,"preferred_life_time":4294967295}]},{"ifindex":4,"link":"ethx","ifname":"vethx","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","master":"brq0","operstate":"UP","group":"default","txqlen":1000,"link_type":"ether","address":"fe:00:00:00:00:02","broadcast":"ff:ff:ff:ff:ff:ff","addr_info":[{"family":"inet6","local":"fe80::fc00:ff:fe00:2","prefixlen":64,"scope":"link","valid_life_time":4294967295,"preferred_life_time":4294967295}]},{"ifindex":6,"link_index":5,"ifname":"tapd","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","master":"brq0","operstate":"UP","group":"default","txqlen":1000,"link_type":"ether","address":"fe:00:00:00:00:04","broadcast":"ff:ff:ff:ff:ff:ff","link_netnsid":0,"addr_info":[{"family":"inet6","local":"fe80::fc00:ff:fe00:4","prefixlen":64,"scope":"link","valid_life_time":4294967295,"preferred_life_time":4294967295}]},{"ifindex":7,"ifname":"vxlan-1000","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1450,"qdisc":"noqueue","master":"brq0","operstate":"UNKNOWN","group":"default","txqlen":1000,"link_type":"ether","address":"fe:00:00:00:00:06","broadcast":"ff:ff:ff:ff:ff:ff","addr_info":[{"family":"inet6","local":"fe80::fc00:ff:fe00:6","prefixlen":64,"scope":"link","valid_life_time":4294967295,"preferred_life_time":4294967295}]}]'


FDB_JSON = '[{"mac":"33:33:00:00:00:01","ifname":"brq0","flags":["self"],"state":"permanent"},{"mac":"01:00:5e:00:00:6a","ifname":"brq0","flags":["self"],"state":"permanent"},{"mac":"33:33:00:00:00:6a","ifname":"brq0","flags":["self"],"state":"permanent"},{"mac":"01:00:5e:00:00:01","ifname":"brq0","flags":["self"],"state":"permanent"},{"mac":"33:33:ff:00:00:01","ifname":"brq0","flags":["self"],"state":"permanent"},{"mac":"fe:00:00:00:00:01","ifname":"brq0","flags":[],"master":"brq0","state":"permanent"},{"mac":"01:00:5e:00:00:01","ifname":"ethx","flags":["self"],"state":"permanent"},{"mac":"33:33:00:00:00:01","ifname":"ethx","flags":["self"],"state":"permanent"},{"mac":"33:33:ff:00:00:03","ifname":"ethx","flags":["self"],"state":"permanent"},{"mac":"fe:00:00:00:00:03","ifname":"vethx","flags":[],"master":"brq0","state":""},{"mac":"fe:00:00:00:00:02","ifname":"vethx","flags":[],"master":"brq0","state":"permanent"},{"mac":"01:00:5e:00:00:01","ifname":"vethx","flags":["self"],"state":"permanent"},{"mac":"33:33:00:00:00:01","ifname":"vethx","flags":["self"],"state":"permanent"},{"mac":"33:33:ff:00:00:02","ifname":"vethx","flags":["self"],"state":"permanent"},{"mac":"fa:16:3e:00:00:05","ifname":"tapd","flags":[],"master":"brq0","state":""},{"mac":"fe:00:00:00:00:04","ifname":"tapd","flags":[],"master":"brq0","state":"permanent"},{"mac":"33:33:00:00:00:01","ifname":"tapd","flags":["self"],"state":"permanent"},{"mac":"01:00:5e:00:00:01","ifname":"tapd","flags":["self"],"state":"permanent"},{"mac":"33:33:ff:00:00:04","ifname":"tapd","flags":["self"],"state":"permanent"},{"mac":"fe:00:00:00:00:06","ifname":"vxlan-1000","flags":[],"master":"brq0","state":"permanent"}]'


BRIDGE_LINK_JSON = '[{"ifindex":4,"link":"ethx","ifname":"vethx","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"master":"brq0","state":"forwarding","priority":32,"cost":2},{"ifindex":6,"link":"if5","ifname":"tapd","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"master":"brq0","state":"forwarding","priority":32,"cost":2},{"ifindex":7,"ifname":"vxlan-1000","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1450,"master":"brq0","state":"forwarding","priority":32,"cost":2}]'
