"""iproute2 6.1 (`ip`, `bridge`) as on Debian 12: text, -d details, -j/-p JSON, -br, -o.

Formats were copied from the real tools run on real devices (veth, bridge, tun, vxlan, namespaces)
and, for devices this machine cannot create (bond, vlan, openvswitch, SR-IOV), from iproute2's
sources and recorded outputs of real hosts. Trailing spaces are where iproute2 prints them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lab.hostmodel import Interface
from lab.hosts.jsonw import Raw, dumps
from lab.hosts.view import HostView, stable_number

Result = tuple[int, str, str]
FOREVER = 4294967295
BROADCAST = "ff:ff:ff:ff:ff:ff"
# Kinds the kernel reports in IFLA_INFO_KIND (physical NICs and loopback report none).
_INFO_KIND = {"bridge": "bridge", "veth": "veth", "tap": "tun", "vxlan": "vxlan", "vlan": "vlan", "bond": "bond",
              "openvswitch": "openvswitch", "gretap": "gretap"}
_NO_QUEUE_KINDS = (  # IFF_NO_QUEUE devices: the kernel gives them "noqueue"
    "veth", "bridge", "vxlan", "vlan", "bond", "openvswitch", "gretap", "loopback")


# -- per-device facts -----------------------------------------------------------------------------

def pci_address(view: HostView, interface: Interface) -> str:
    """Where a physical NIC sits on the PCI bus: eth0 on bus 01, data NICs in pairs from bus 05."""
    names = [n.name for n in view.host.nics]
    number = names.index(interface.name) if interface.name in names else 0
    if number == 0:
        return "0000:01:00.0"
    return f"0000:{5 + (number - 1) // 2:02x}:00.{(number - 1) % 2}"


def flags(view: HostView, interface: Interface) -> list[str]:
    """IFF_* flags in iproute2's order; NO-CARRIER first for an up device without carrier."""
    result = []
    if interface.up and not interface.carrier and interface.kind != "loopback":
        result.append("NO-CARRIER")
    result += ["LOOPBACK"] if interface.kind == "loopback" else ["BROADCAST", "MULTICAST"]
    if interface.kind == "bond":
        result.append("MASTER")
    if view.is_bond_slave(interface):
        result.append("SLAVE")
    if interface.up:
        result.append("UP")
        if interface.carrier or interface.kind == "loopback":
            result.append("LOWER_UP")
    return result


def qdisc(interface: Interface) -> str:
    if not interface.up:
        return "noop"
    if interface.kind in _NO_QUEUE_KINDS:
        return "noqueue"
    return "mq" if interface.kind == "physical" else "fq_codel"


def link_type(interface: Interface) -> str:
    return "loopback" if interface.kind == "loopback" else "ether"


def broadcast(interface: Interface) -> str:
    return "00:00:00:00:00:00" if interface.kind == "loopback" else BROADCAST


def _at_name(view: HostView, interface: Interface) -> tuple[str, dict[str, object]]:
    """`name@peer` or `name@ifN` as iproute2 prints it, and the JSON keys that go before ifname."""
    if interface.kind == "vlan" and interface.link:
        return f"{interface.name}@{interface.link}", {"link": interface.link}
    peer = view.peer(interface)
    if interface.kind == "veth" and peer is not None:
        if peer.namespace == interface.namespace:
            return f"{interface.name}@{peer.name}", {"link": peer.name}
        return f"{interface.name}@if{peer.index}", {"link_index": peer.index}
    return interface.name, {}


def _bridge_id(mac: str) -> str:
    # iproute2 prints the bridge id's MAC bytes with %x: no leading zeros.
    return "8000." + ":".join(f"{int(part, 16):x}" for part in mac.split(":"))


def _speed(interface: Interface) -> int:
    return interface.speed_mbps or 10000


def _port_cost(view: HostView, interface: Interface) -> int:
    speed = _speed(interface) if interface.kind in ("physical", "bond") else 10000
    return 2 if speed >= 10000 else 4 if speed >= 1000 else 19


# -- linkinfo (-d): (text, json) of the device kind and of the master's kind -----------------------

def _f(value: float) -> Raw:
    return Raw(f"{value:.2f}")


def _linkinfo(view: HostView, interface: Interface) -> tuple[str, dict[str, object]]:
    """The `    kind ...` and `    kind_slave ...` lines and the JSON `linkinfo` object."""
    text = ""
    info: dict[str, object] = {}
    kind = _INFO_KIND.get(interface.kind)
    if kind:
        data_text, data = _kind_data(view, interface)
        text += f"\n    {kind} {data_text}"
        info["info_kind"] = kind
        if data is not None:
            info["info_data"] = data
    slave = view.master_kind(interface)
    if slave:
        slave_text, slave_data = _slave_data(view, interface, slave)
        text += f"\n    {slave}_slave {slave_text}"
        info["info_slave_kind"] = slave
        if slave_data is not None:
            info["info_slave_data"] = slave_data
    return text, info


def _kind_data(view: HostView, interface: Interface) -> tuple[str, dict[str, object] | None]:
    if interface.kind == "bridge":
        return _bridge_data(view, interface)
    if interface.kind == "tap":
        return ("type tap pi off vnet_hdr on persist off ",
                {"type": "tap", "pi": False, "vnet_hdr": True, "multi_queue": False, "persist": False})
    if interface.kind == "vxlan":
        return _vxlan_data(interface)
    if interface.kind == "vlan":
        return (f"protocol 802.1Q id {interface.vlan_id} <REORDER_HDR> ",
                {"protocol": "802.1Q", "id": interface.vlan_id, "flags": ["REORDER_HDR"]})
    if interface.kind == "bond":
        return _bond_data(view, interface)
    if interface.kind == "gretap":
        return ("external ", {"external": True})
    return "", None  # veth and openvswitch carry no data


def _bridge_data(view: HostView, interface: Interface) -> tuple[str, dict[str, object]]:
    bridge_id = _bridge_id(interface.mac)
    gc_timer = stable_number(f"{view.state.name}/{interface.name}/gc", 30000) / 100
    fields: list[tuple[str, str, str, object]] = [  # (text key, text value, json key, json value)
        ("forward_delay", "1500", "forward_delay", 1500), ("hello_time", "200", "hello_time", 200),
        ("max_age", "2000", "max_age", 2000), ("ageing_time", "30000", "ageing_time", 30000),
        ("stp_state", "0", "stp_state", 0), ("priority", "32768", "priority", 32768),
        ("vlan_filtering", "0", "vlan_filtering", 0), ("bridge_id", bridge_id, "bridge_id", bridge_id),
        ("designated_root", bridge_id, "root_id", bridge_id), ("root_port", "0", "root_port", 0),
        ("root_path_cost", "0", "root_path_cost", 0), ("topology_change", "0", "topology_change", 0),
        ("topology_change_detected", "0", "topology_change_detected", 0),
        ("hello_timer", f"{0:7.2f}", "hello_timer", _f(0)), ("tcn_timer", f"{0:7.2f}", "tcn_timer", _f(0)),
        ("topology_change_timer", f"{0:7.2f}", "topology_change_timer", _f(0)),
        ("gc_timer", f"{gc_timer:7.2f}", "gc_timer", _f(gc_timer)),
        ("group_fwd_mask", "0", "group_fwd_mask", "0"),
        ("group_address", "01:80:c2:00:00:00", "group_addr", "01:80:c2:00:00:00"),
        ("mcast_snooping", "1", "mcast_snooping", 1), ("no_linklocal_learn", "0", "no_linklocal_learn", 0),
        ("mcast_vlan_snooping", "0", "mcast_vlan_snooping", 0), ("mcast_router", "1", "mcast_router", 1),
        ("mcast_query_use_ifaddr", "0", "mcast_query_use_ifaddr", 0), ("mcast_querier", "0", "mcast_querier", 0),
        ("mcast_hash_elasticity", "16", "mcast_hash_elasticity", 16),
        ("mcast_hash_max", "4096", "mcast_hash_max", 4096),
        ("mcast_last_member_count", "2", "mcast_last_member_cnt", 2),
        ("mcast_startup_query_count", "2", "mcast_startup_query_cnt", 2),
        ("mcast_last_member_interval", "100", "mcast_last_member_intvl", 100),
        ("mcast_membership_interval", "26000", "mcast_membership_intvl", 26000),
        ("mcast_querier_interval", "25500", "mcast_querier_intvl", 25500),
        ("mcast_query_interval", "12500", "mcast_query_intvl", 12500),
        ("mcast_query_response_interval", "1000", "mcast_query_response_intvl", 1000),
        ("mcast_startup_query_interval", "3124", "mcast_startup_query_intvl", 3124),
        ("mcast_stats_enabled", "0", "mcast_stats_enabled", 0), ("mcast_igmp_version", "2", "mcast_igmp_version", 2),
        ("mcast_mld_version", "1", "mcast_mld_version", 1), ("nf_call_iptables", "0", "nf_call_iptables", 0),
        ("nf_call_ip6tables", "0", "nf_call_ip6tables", 0), ("nf_call_arptables", "0", "nf_call_arptables", 0),
    ]
    return "".join(f"{k} {v} " for k, v, _, _ in fields), {k: v for _, _, k, v in fields}


def _vxlan_data(interface: Interface) -> tuple[str, dict[str, object]]:
    if interface.vxlan_id is None:  # the OVS kernel datapath's flow-based device
        return (f"external id 0 srcport 0 0 dstport {interface.vxlan_port} nolearning ttl auto ageing 300 udpcsum "
                "noudp6zerocsumtx udp6zerocsumrx ",
                {"external": True, "id": 0, "port_range": {"low": 0, "high": 0}, "port": interface.vxlan_port,
                 "learning": False, "ttl": 0, "df": "unset", "ageing": 300, "udp_csum": True,
                 "udp_zero_csum6_tx": False, "udp_zero_csum6_rx": True})
    text = f"id {interface.vxlan_id} "
    data: dict[str, object] = {"id": interface.vxlan_id}
    if interface.vxlan_local:
        text += f"local {interface.vxlan_local} "
        data["local"] = interface.vxlan_local
    if interface.link:
        text += f"dev {interface.link} "
        data["link"] = interface.link
    text += (f"srcport 0 0 dstport {interface.vxlan_port} ttl auto ageing 300 udpcsum noudp6zerocsumtx "
             "noudp6zerocsumrx ")
    data.update({"port_range": {"low": 0, "high": 0}, "port": interface.vxlan_port, "learning": True, "ttl": 0,
                 "df": "unset", "ageing": 300, "udp_csum": True, "udp_zero_csum6_tx": False,
                 "udp_zero_csum6_rx": False})
    return text, data


def active_slave(view: HostView, bond: Interface) -> Interface | None:
    """The active member of an active-backup bond: the first one with carrier."""
    return next((m for m in view.members(bond.name, bond.namespace) if m.carrier), None)


def _bond_data(view: HostView, interface: Interface) -> tuple[str, dict[str, object]]:
    mode = interface.bond_mode or "active-backup"
    fields: list[tuple[str, str, str, object]] = [("mode", mode, "mode", mode)]
    active = active_slave(view, interface) if mode == "active-backup" else None
    if active is not None:
        fields.append(("active_slave", active.name, "active_slave", active.name))
    fields += [
        ("miimon", "100", "miimon", 100), ("updelay", "0", "updelay", 0), ("downdelay", "0", "downdelay", 0),
        ("peer_notify_delay", "0", "peer_notify_delay", 0), ("use_carrier", "1", "use_carrier", 1),
        ("arp_interval", "0", "arp_interval", 0), ("arp_validate", "none", "arp_validate", None),
        ("arp_all_targets", "any", "arp_all_targets", "any"),
        ("primary_reselect", "always", "primary_reselect", "always"),
        ("fail_over_mac", "none", "fail_over_mac", "none"),
        ("xmit_hash_policy", "layer2", "xmit_hash_policy", "layer2"), ("resend_igmp", "1", "resend_igmp", 1),
        ("num_grat_arp", "1", "num_peer_notif", 1), ("all_slaves_active", "0", "all_slaves_active", 0),
        ("min_links", "0", "min_links", 0), ("lp_interval", "1", "lp_interval", 1),
        ("packets_per_slave", "1", "packets_per_slave", 1), ("lacp_active", "on", "ad_lacp_active", "on"),
        ("lacp_rate", "slow", "ad_lacp_rate", "slow"), ("ad_select", "stable", "ad_select", "stable"),
    ]
    text = "".join(f"{k} {v} " for k, v, _, _ in fields)
    data = {k: v for _, _, k, v in fields}
    if mode == "802.3ad":
        members = view.members(interface.name, interface.namespace)
        text += (f"ad_aggregator 1 ad_num_ports {len(members)} ad_actor_key 15 ad_partner_key 1 "
                 "ad_partner_mac 00:00:00:00:00:00 ad_actor_sys_prio 65535 ad_user_port_key 0 "
                 "ad_actor_system 00:00:00:00:00:00 ")
        data["ad_info"] = {"aggregator": 1, "num_ports": len(members), "actor_key": 15, "partner_key": 1,
                           "partner_mac": "00:00:00:00:00:00"}
        data.update({"ad_actor_sys_prio": 65535, "ad_user_port_key": 0, "ad_actor_system": "00:00:00:00:00:00"})
    text += "tlb_dynamic_lb 1 "
    data["tlb_dynamic_lb"] = 1
    return text, data


def _slave_data(view: HostView, interface: Interface, slave: str) -> tuple[str, dict[str, object] | None]:
    if slave == "bridge":
        return _bridge_slave_data(view, interface)
    if slave == "bond":
        bond = view.device(interface.master or "", interface.namespace)
        active = active_slave(view, bond) if bond and (bond.bond_mode or "active-backup") == "active-backup" else None
        state = "ACTIVE" if active is None or active is interface else "BACKUP"
        mii = "UP" if interface.carrier else "DOWN"
        failures = 0 if interface.carrier else 1
        text = (f"state {state} mii_status {mii} link_failure_count {failures} perm_hwaddr {interface.mac} "
                "queue_id 0 ")
        return text, {"state": state, "mii_status": mii, "link_failure_count": failures,
                      "perm_hwaddr": interface.mac, "queue_id": 0}
    return "", None  # openvswitch_slave: no data


def bridge_port_number(view: HostView, interface: Interface) -> int:
    members = view.members(interface.master or "", interface.namespace)
    return members.index(interface) + 1


def bridge_port_state(view: HostView, interface: Interface) -> str:
    return "forwarding" if interface.up and interface.carrier else "disabled"


def _bridge_slave_data(view: HostView, interface: Interface) -> tuple[str, dict[str, object]]:
    bridge = view.device(interface.master or "", interface.namespace)
    bridge_id = _bridge_id(bridge.mac if bridge else interface.mac)
    number = bridge_port_number(view, interface)
    state = bridge_port_state(view, interface)
    cost = _port_cost(view, interface)
    text = (f"state {state} priority 32 cost {cost} hairpin off guard off root_block off fastleave off learning on "
            f"flood on port_id 0x{0x8000 + number:x} port_no 0x{number:x} designated_port {0x8000 + number} "
            f"designated_cost 0 designated_bridge {bridge_id} designated_root {bridge_id} hold_timer {0:7.2f} "
            f"message_age_timer {0:7.2f} forward_delay_timer {0:7.2f} topology_change_ack 0 config_pending 0 "
            "proxy_arp off proxy_arp_wifi off mcast_router 1 mcast_fast_leave off mcast_flood on bcast_flood on "
            "mcast_to_unicast off neigh_suppress off group_fwd_mask 0 group_fwd_mask_str 0x0 vlan_tunnel off "
            "isolated off locked off ")
    data: dict[str, object] = {
        "state": state, "priority": 32, "cost": cost, "hairpin": False, "guard": False, "root_block": False,
        "fastleave": False, "learning": True, "flood": True, "id": f"0x{0x8000 + number:x}", "no": f"0x{number:x}",
        "designated_port": 0x8000 + number, "designated_cost": 0, "bridge_id": bridge_id, "root_id": bridge_id,
        "hold_timer": _f(0), "message_age_timer": _f(0), "forward_delay_timer": _f(0), "topology_change_ack": 0,
        "config_pending": 0, "proxy_arp": False, "proxy_arp_wifi": False, "multicast_router": 1,
        "mcast_flood": True, "bcast_flood": True, "mcast_to_unicast": False, "neigh_suppress": False,
        "group_fwd_mask": "0", "group_fwd_mask_str": "0x0", "vlan_tunnel": False, "isolated": False,
        "locked": False,
    }
    return text, data


def _details(view: HostView, interface: Interface) -> tuple[list[tuple[str, object]], list[tuple[str, object]]]:
    """The -d numbers printed before and after linkinfo, as (json key, value) pairs."""
    promiscuity = 1 if interface.master or interface.kind == "openvswitch" else 0
    allmulti = 1 if view.master_kind(interface) == "bridge" else 0
    if interface.kind == "loopback":
        mtus = (0, 0)
    elif interface.kind == "tap":
        mtus = (68, 65521)
    elif interface.kind == "physical":
        mtus = (68, 9710 if _speed(interface) >= 10000 else 9216)
    else:
        mtus = (68, 65535)
    queues = {"physical": 64 if _speed(interface) >= 10000 else 8, "veth": 8}.get(interface.kind, 1)
    tso = _tso_max_size(view, interface)
    before: list[tuple[str, object]] = [("promiscuity", promiscuity), ("allmulti", allmulti), ("min_mtu", mtus[0]),
                                        ("max_mtu", mtus[1])]
    after: list[tuple[str, object]] = [
        ("inet6_addr_gen_mode", "eui64"), ("num_tx_queues", queues), ("num_rx_queues", queues),
        ("gso_max_size", 65536), ("gso_max_segs", 65535), ("tso_max_size", tso), ("tso_max_segs", 65535),
        ("gro_max_size", 65536)]
    if interface.kind == "physical":
        after += [("parentbus", "pci"), ("parentdev", pci_address(view, interface))]
    return before, after


def _tso_max_size(view: HostView, interface: Interface) -> int:
    """A bridge offers the smallest TSO size of its ports; software devices offer the most."""
    if interface.kind == "bridge":
        members = view.members(interface.name, interface.namespace)
        return min((_tso_max_size(view, m) for m in members), default=65536)
    return 524280 if interface.kind in ("loopback", "veth", "vxlan") else 65536


_DETAIL_TEXT = {"min_mtu": "minmtu", "max_mtu": "maxmtu", "inet6_addr_gen_mode": "addrgenmode",
                "num_tx_queues": "numtxqueues", "num_rx_queues": "numrxqueues"}


# -- ip link / ip address: text ------------------------------------------------------------------

def _header_line(view: HostView, interface: Interface, link_mode: bool) -> str:
    name, _ = _at_name(view, interface)
    master = f"master {interface.master} " if interface.master else ""
    mode = "mode DEFAULT " if link_mode else ""
    return (f"{interface.index}: {name}: <{','.join(flags(view, interface))}> mtu {interface.mtu} "
            f"qdisc {qdisc(interface)} {master}state {view.operstate(interface)} {mode}group default qlen 1000")


def _link_line(view: HostView, interface: Interface, details: bool) -> str:
    line = f"    link/{link_type(interface)} {interface.mac} brd {broadcast(interface)}"
    netns = view.link_netns(interface)
    if netns is not None:
        line += f" link-netns {netns[0]}" if netns[0] else f" link-netnsid {netns[1]}"
    if details:
        before, after = _details(view, interface)
        values = dict(before)
        line += (f" promiscuity {values['promiscuity']}  allmulti {values['allmulti']} minmtu {values['min_mtu']} "
                 f"maxmtu {values['max_mtu']} ")
        info_text, _ = _linkinfo(view, interface)
        line += info_text
        line += "".join(f"{_DETAIL_TEXT.get(key, key)} {value} " for key, value in after)
    return line


def _vf_lines(interface: Interface) -> list[str]:
    lines = []
    for vf in interface.vfs:
        line = f"    vf {vf.index}     link/ether {vf.mac} brd {BROADCAST}"
        if vf.vlan:
            line += f", vlan {vf.vlan}"
        line += (f", spoof checking {'on' if vf.spoofchk else 'off'}, link-state {vf.link_state}, "
                 f"trust {'on' if vf.trust else 'off'}")
        lines.append(line)
    return lines


def link_text(view: HostView, interface: Interface, details: bool) -> str:
    lines = [_header_line(view, interface, link_mode=True), _link_line(view, interface, details)]
    lines += _vf_lines(interface)
    return "\n".join(lines) + "\n"


@dataclass
class Address:
    family: str  # inet, inet6
    local: str
    prefixlen: int
    scope: str
    broadcast: str | None = None
    label: str | None = None


def addresses(view: HostView, interface: Interface) -> list[Address]:
    """A device's addresses as the kernel lists them: IPv4 first, then IPv6 (link-local last)."""
    result = []
    cidrs = list(interface.addresses)
    if interface.kind == "loopback" and interface.up and not cidrs:
        cidrs = ["127.0.0.1/8"]  # the kernel gives loopback its address when it comes up
    for cidr in cidrs:
        network = ipaddress.ip_interface(cidr)
        if network.version == 4:
            loopback = network.ip.is_loopback
            brd = None if loopback or network.network.prefixlen >= 31 else str(network.network.broadcast_address)
            result.append(Address("inet", str(network.ip), network.network.prefixlen, "host" if loopback else "global",
                                  brd, interface.name))
    for cidr in cidrs:
        network = ipaddress.ip_interface(cidr)
        if network.version == 6:
            result.append(Address("inet6", str(network.ip), network.network.prefixlen, "global"))
    if interface.kind == "loopback" and interface.up:
        result.append(Address("inet6", "::1", 128, "host"))
    link_local = view.link_local(interface)
    if link_local:
        result.append(Address("inet6", link_local, 64, "link"))
    return result


def _address_lines(address: Address) -> list[str]:
    if address.family == "inet":
        brd = f" brd {address.broadcast}" if address.broadcast else ""
        first = f"    inet {address.local}/{address.prefixlen}{brd} scope {address.scope} {address.label}"
    else:
        first = f"    inet6 {address.local}/{address.prefixlen} scope {address.scope} "
    return [first, "       valid_lft forever preferred_lft forever"]


def address_text(view: HostView, interface: Interface, family: str | None, details: bool) -> str:
    lines = [_header_line(view, interface, link_mode=False), _link_line(view, interface, details)]
    for address in addresses(view, interface):
        if family is None or address.family == family:
            lines += _address_lines(address)
    return "\n".join(lines) + "\n"


# -- ip link / ip address: JSON ------------------------------------------------------------------

def link_json(view: HostView, interface: Interface, details: bool, link_mode: bool = True) -> dict[str, object]:
    _, before_name = _at_name(view, interface)
    record: dict[str, object] = {"ifindex": interface.index, **before_name, "ifname": interface.name,
                                 "flags": flags(view, interface), "mtu": interface.mtu, "qdisc": qdisc(interface)}
    if interface.master:
        record["master"] = interface.master
    record["operstate"] = view.operstate(interface)
    if link_mode:
        record["linkmode"] = "DEFAULT"
    record.update({"group": "default", "txqlen": 1000, "link_type": link_type(interface), "address": interface.mac,
                   "broadcast": broadcast(interface)})
    netns = view.link_netns(interface)
    if netns is not None:
        record["link_netnsid"] = netns[1]
    if details:
        before, after = _details(view, interface)
        record.update(before)
        _, info = _linkinfo(view, interface)
        if info:
            record["linkinfo"] = info
        record.update(after)
    if interface.vfs and (link_mode or details):
        record["vfinfo_list"] = [_vf_json(vf) for vf in interface.vfs]
    return record


def _vf_json(vf) -> dict[str, object]:
    return {"vf": vf.index, "link_type": "ether", "address": vf.mac, "broadcast": BROADCAST,
            "vlan_list": [{"vlan": vf.vlan} if vf.vlan else {}], "rate": {"max_tx": 0, "min_tx": 0},
            "spoofchk": vf.spoofchk, "link_state": vf.link_state, "trust": vf.trust}


def address_json(view: HostView, interface: Interface, family: str | None, details: bool) -> dict[str, object]:
    record = link_json(view, interface, details, link_mode=False)
    infos = []
    for address in addresses(view, interface):
        if family is not None and address.family != family:
            continue
        info: dict[str, object] = {"family": address.family, "local": address.local, "prefixlen": address.prefixlen}
        if address.broadcast:
            info["broadcast"] = address.broadcast
        info["scope"] = address.scope
        if address.label:
            info["label"] = address.label
        info.update({"valid_life_time": FOREVER, "preferred_life_time": FOREVER})
        infos.append(info)
    record["addr_info"] = infos
    return record


# -- brief and oneline ---------------------------------------------------------------------------

def link_brief(view: HostView, interface: Interface) -> str:
    name, _ = _at_name(view, interface)
    return f"{name:<16} {view.operstate(interface):<14} {interface.mac} <{','.join(flags(view, interface))}> \n"


def address_brief(view: HostView, interface: Interface, family: str | None) -> str:
    name, _ = _at_name(view, interface)
    found = "".join(f"{a.local}/{a.prefixlen} " for a in addresses(view, interface)
                    if family is None or a.family == family)
    return f"{name:<16} {view.operstate(interface):<14} {found}\n"


def address_oneline(view: HostView, interface: Interface, family: str | None) -> str:
    lines = []
    for address in addresses(view, interface):
        if family is None or address.family == family:
            first, second = _address_lines(address)
            lines.append(f"{interface.index}: {interface.name}{first}\\{second}\n")
    return "".join(lines)


# -- ip route / ip neigh -------------------------------------------------------------------------

@dataclass
class Route:
    dst: str
    dev: str
    gateway: str | None = None
    protocol: str = "kernel"
    scope: str | None = "link"
    prefsrc: str | None = None


def routes(view: HostView, namespace: str | None) -> list[Route]:
    """Connected routes of every up IPv4 address, and a default route via the subnet's gateway."""
    result: list[Route] = []
    default: Route | None = None
    for interface in view.in_namespace(namespace):
        if not interface.up or not interface.carrier or interface.kind == "loopback":
            continue
        for cidr in interface.addresses:
            network = ipaddress.ip_interface(cidr)
            if network.version != 4:
                continue
            result.append(Route(str(network.network), interface.name, prefsrc=str(network.ip)))
            gateway = _gateway(view, namespace, interface, network)
            if gateway and default is None:
                default = Route("default", interface.name, gateway=gateway, protocol="static", scope=None)
    return ([default] if default else []) + result


def _gateway(view: HostView, namespace: str | None, interface: Interface,
             network: ipaddress.IPv4Interface) -> str | None:
    if namespace is None:
        # The management network's router: its first address.
        return str(network.network[1]) if interface.name == "eth0" and network.network.num_addresses > 2 else None
    wanted = "qg-" if namespace.startswith("qrouter-") else ""
    if not interface.name.startswith(wanted):
        return None
    for net in view.world.networks:
        for subnet in net.subnets:
            if subnet.gateway_ip and ipaddress.ip_address(subnet.gateway_ip) in network.network \
                    and subnet.gateway_ip != str(network.ip):
                return subnet.gateway_ip
    return None


def route_text(route: Route) -> str:
    text = route.dst + " "
    if route.gateway:
        text += f"via {route.gateway} "
    text += f"dev {route.dev} proto {route.protocol} "
    if route.scope:
        text += f"scope {route.scope} "
    if route.prefsrc:
        text += f"src {route.prefsrc} "
    return text + "\n"


def route_json(route: Route) -> dict[str, object]:
    record: dict[str, object] = {"dst": route.dst}
    if route.gateway:
        record["gateway"] = route.gateway
    record.update({"dev": route.dev, "protocol": route.protocol})
    if route.scope:
        record["scope"] = route.scope
    if route.prefsrc:
        record["prefsrc"] = route.prefsrc
    record["flags"] = []
    return record


def neighbours(view: HostView, namespace: str | None) -> list[tuple[str, str, str, str]]:
    """(ip, device, mac, state): a DHCP namespace knows the VMs of its network that renewed a lease."""
    if namespace is None or not namespace.startswith("qdhcp-"):
        return []
    network_id = namespace.removeprefix("qdhcp-")
    device = next((i.name for i in view.in_namespace(namespace) if i.kind != "loopback"), None)
    if device is None:
        return []
    instances = view.world_index.instances
    found = []
    for port in view.world_index.ports_by_network.get(network_id, []):
        instance = instances.get(port.device_id)
        running = instance is not None and instance.power_state == 1
        if port.device_owner.startswith("compute:") and running and port.switch_port == "up" \
                and not port.vlan_tag_offset:
            for fixed in port.fixed_ips:
                found.append((fixed.ip_address, device, port.mac_address, "STALE"))
    return found


# -- bridge fdb / bridge link ----------------------------------------------------------------------

@dataclass
class FdbEntry:
    mac: str
    dev: str
    master: str | None = None
    dst: str | None = None
    self_: bool = False
    state: str = "permanent"  # "" for learned entries


def _multicast_macs(view: HostView, interface: Interface) -> list[str]:
    """The multicast addresses a device joined (all-hosts, and the solicited-node of its link-local)."""
    if interface.kind == "vxlan":
        return []  # a VXLAN device lists its own forwarding table instead (see _l2pop_entries)
    if not interface.up:
        return ["33:33:00:00:00:01"]
    macs = ["33:33:00:00:00:01", "01:00:5e:00:00:01"]
    if interface.kind == "bridge":  # a bridge also joins the multicast-router groups
        macs[1:1] = ["01:00:5e:00:00:6a", "33:33:00:00:00:6a"]
    link_local = view.link_local(interface)
    if link_local:
        tail = ipaddress.IPv6Address(link_local).packed[-3:]
        macs.append("33:33:ff:" + ":".join(f"{b:02x}" for b in tail))
    return macs


def learned_macs(view: HostView, interface: Interface) -> list[str]:
    """MACs a bridge learned on a port: the VM behind a tap, the namespace end of a veth."""
    if not interface.carrier or not interface.up:
        return []
    if interface.kind == "tap":
        return ["fa" + interface.mac[2:]]
    peer = view.peer(interface)
    if peer is not None and peer.up:
        return [peer.mac]
    return []


def _l2pop_entries(view: HostView, interface: Interface) -> list[FdbEntry]:
    """Linux bridge agent with l2population: a flood entry per remote endpoint and the remote VMs' MACs."""
    if interface.kind != "vxlan" or interface.vxlan_id is None:
        return []
    network = next((n for n in view.world.networks if n.segmentation_id == interface.vxlan_id
                    and n.network_type == "vxlan"), None)
    if network is None:
        return []
    tunnel_ips = view.world_index.tunnel_ips
    entries: list[FdbEntry] = []
    remotes: list[str] = []
    macs: list[FdbEntry] = []
    for port in view.world_index.ports_by_network.get(network.id, []):
        remote = tunnel_ips.get(port.binding_host)
        if remote is None or port.binding_host == view.state.name:
            continue
        if remote not in remotes:
            remotes.append(remote)
        macs.append(FdbEntry(port.mac_address, interface.name, dst=remote, self_=True))
    entries += macs
    entries += [FdbEntry("00:00:00:00:00:00", interface.name, dst=remote, self_=True) for remote in remotes]
    return entries


def fdb_entries(view: HostView, namespace: str | None) -> list[FdbEntry]:
    """`bridge fdb show`: per device (ifindex order) its bridge entries, then its own multicast list."""
    entries: list[FdbEntry] = []
    for interface in view.in_namespace(namespace):
        if interface.kind == "loopback":
            continue
        if view.master_kind(interface) == "bridge":
            entries += [FdbEntry(mac, interface.name, master=interface.master, state="")
                        for mac in learned_macs(view, interface)]
            entries.append(FdbEntry(interface.mac, interface.name, master=interface.master))
        entries += _l2pop_entries(view, interface)
        entries += [FdbEntry(mac, interface.name, self_=True) for mac in _multicast_macs(view, interface)]
    return entries


def fdb_text(entry: FdbEntry, with_dev: bool) -> str:
    text = f"{entry.mac} "
    if with_dev:
        text += f"dev {entry.dev} "
    if entry.dst:
        text += f"dst {entry.dst} "
    if entry.master:
        text += f"master {entry.master} "
    if entry.self_:
        text += "self "
    if entry.state:
        text += f"{entry.state}"
    return text + "\n"


def fdb_json(entry: FdbEntry, with_dev: bool) -> dict[str, object]:
    record: dict[str, object] = {"mac": entry.mac}
    if with_dev:
        record["ifname"] = entry.dev
    if entry.dst:
        record["dst"] = entry.dst
    record["flags"] = ["self"] if entry.self_ else []
    if entry.master:
        record["master"] = entry.master
    record["state"] = entry.state
    return record


def bridge_ports(view: HostView, namespace: str | None) -> list[Interface]:
    return [i for i in view.in_namespace(namespace) if view.master_kind(i) == "bridge"]


def bridge_link_text(view: HostView, interface: Interface) -> str:
    name, _ = _at_name(view, interface)
    return (f"{interface.index}: {name}: <{','.join(flags(view, interface))}> mtu {interface.mtu} master "
            f"{interface.master} state {bridge_port_state(view, interface)} priority 32 cost "
            f"{_port_cost(view, interface)} \n")


def bridge_link_json(view: HostView, interface: Interface) -> dict[str, object]:
    _, before = _at_name(view, interface)
    if "link_index" in before:
        before = {"link": f"if{before['link_index']}"}
    return {"ifindex": interface.index, **before, "ifname": interface.name, "flags": flags(view, interface),
            "mtu": interface.mtu, "master": interface.master, "state": bridge_port_state(view, interface),
            "priority": 32, "cost": _port_cost(view, interface)}


# -- command lines -------------------------------------------------------------------------------

# ip's global options, in the order ip.c tries them (so "-b" is -batch and "-br" is -brief).
_IP_OPTIONS = ("-loops", "-family", "-4", "-6", "-0", "-human", "-human-readable", "-iec", "-stats", "-statistics",
               "-details", "-resolve", "-oneline", "-timestamp", "-tshort", "-batch", "-rcvbuf", "-color",
               "-help", "-netns", "-Numeric", "-all", "-brief", "-json", "-pretty")
_EXACT_OPTIONS = ("-4", "-6", "-0")
# ip's objects, in the order of ip.c's table (so "n" is neighbor and "l" is link).
_IP_OBJECTS = ("address", "addrlabel", "maddress", "route", "rule", "neighbor", "neighbour", "ntable", "link",
               "l2tp", "fou", "ila", "macsec", "tunnel", "tuntap", "token", "tcpmetrics", "monitor", "xfrm",
               "mroute", "mrule", "netns", "netconf", "vrf", "sr", "nexthop", "mptcp", "ioam", "stats", "help")


def matches(word: str, pattern: str) -> bool:
    """iproute2's matches(): `word` is a prefix of `pattern`."""
    return 0 < len(word) <= len(pattern) and pattern.startswith(word)


@dataclass
class _Options:
    details: bool = False
    json: bool = False
    pretty: bool = False
    oneline: bool = False
    brief: bool = False
    family: str | None = None
    netns: str | None = None


def _parse_options(args: list[str], tool: str) -> tuple[_Options, list[str]] | Result:
    options = _Options()
    while args and args[0].startswith("-") and args[0] != "-":
        opt = args.pop(0)
        if opt.startswith("--"):
            opt = opt[1:]
        name = next((o for o in _IP_OPTIONS if (opt == o if o in _EXACT_OPTIONS else matches(opt, o))), None)
        if name is None:
            return 255, "", f'Option "{opt}" is unknown, try "{tool} -help".\n'
        if name == "-details":
            options.details = True
        elif name == "-json":
            options.json = True
        elif name == "-pretty":
            options.pretty = True
        elif name == "-oneline":
            options.oneline = True
        elif name == "-brief":
            options.brief = True
        elif name in ("-4", "-6"):
            options.family = "inet" if name == "-4" else "inet6"
        elif name == "-family":
            if not args:
                return 255, "", "Command line is not complete. Try option \"help\"\n"
            value = args.pop(0)
            options.family = {"inet": "inet", "inet6": "inet6"}.get(value)
        elif name == "-netns":
            if not args:
                return 255, "", "Command line is not complete. Try option \"help\"\n"
            options.netns = args.pop(0)
    return options, args


def _json_out(records: Sequence[object], options: _Options) -> str:
    return dumps(records, options.pretty) + "\n"


def run_ip(view: HostView, namespace: str | None, args: list[str]) -> Result:
    """`ip [OPTIONS] OBJECT [COMMAND [ARGS]]` in one namespace of the host."""
    parsed = _parse_options(list(args), "ip")
    if isinstance(parsed[0], int):
        return parsed
    options, rest = parsed
    if options.netns is not None:
        if options.netns not in view.state.namespaces:
            return 255, "", f'Cannot open network namespace "{options.netns}": No such file or directory\n'
        namespace = options.netns
    if not rest:
        return 255, "", _IP_USAGE
    obj = next((o for o in _IP_OBJECTS if matches(rest[0], o)), None)
    handler = _IP_HANDLERS.get(obj or "")
    if handler is None:
        return 255, "", f'Object "{rest[0]}" is unknown, try "ip help".\n'
    return handler(view, namespace, options, rest[1:])


_IP_USAGE = ("Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n"
             "       ip [ -force ] -batch filename\n")


def _is_show(word: str) -> bool:
    return matches(word, "show") or matches(word, "list") or word == "lst"


def _show_filters(view: HostView, namespace: str | None, args: list[str], help_name: str
                  ) -> tuple[list[Interface], str | None] | Result:
    """Parse `show [dev] NAME | type KIND | master NAME | up` into the devices to print."""
    if args and not _is_show(args[0]):
        return 255, "", f'Command "{args[0]}" is unknown, try "ip {help_name} help".\n'
    args = args[1:]
    devices = view.in_namespace(namespace)
    kind_filter: str | None = None
    while args:
        word = args.pop(0)
        if word in ("dev", "type", "master", "group", "vrf", "scope", "label", "to"):
            if not args:
                return 255, "", "Command line is not complete. Try option \"help\"\n"
            value = args.pop(0)
        elif word == "up":
            devices = [d for d in devices if d.up]
            continue
        else:
            word, value = "dev", word
        if word == "dev":
            found = view.device(value, namespace)
            if found is None:
                return 1, "", f'Device "{value}" does not exist.\n'
            devices = [d for d in devices if d is found]
        elif word == "master":
            if view.device(value, namespace) is None:
                return 1, "", f'Device "{value}" does not exist.\n'
            devices = [d for d in devices if d.master == value]
        elif word == "type":
            kind_filter = value
    return devices, kind_filter


def _kind_matches(view: HostView, interface: Interface, kind: str) -> bool:
    if kind.endswith("_slave"):
        return view.master_kind(interface) == kind.removesuffix("_slave")
    return _INFO_KIND.get(interface.kind) == kind


def _ip_link(view: HostView, namespace: str | None, options: _Options, args: list[str]) -> Result:
    found = _show_filters(view, namespace, list(args), "link")
    if isinstance(found[0], int):
        return found
    devices, kind = found
    if options.json:
        records: list[object] = []
        for device in devices:
            if kind and not _kind_matches(view, device, kind):
                records.append({})  # iproute2 6.1 opens an object even for a device the type filter drops
            elif options.brief:
                records.append(_brief_json(view, device))
            else:
                records.append(link_json(view, device, options.details))
        return 0, _json_out(records, options), ""
    devices = [d for d in devices if not kind or _kind_matches(view, d, kind)]
    if options.brief:
        return 0, "".join(link_brief(view, d) for d in devices), ""
    text = [link_text(view, d, options.details) for d in devices]
    if options.oneline:
        text = [t.rstrip("\n").replace("\n", "\\") + "\n" for t in text]
    return 0, "".join(text), ""


def _brief_json(view: HostView, interface: Interface) -> dict[str, object]:
    _, before = _at_name(view, interface)
    return {**before, "ifname": interface.name, "operstate": view.operstate(interface), "address": interface.mac,
            "flags": flags(view, interface)}


def _ip_address(view: HostView, namespace: str | None, options: _Options, args: list[str]) -> Result:
    found = _show_filters(view, namespace, list(args), "address")
    if isinstance(found[0], int):
        return found
    devices, kind = found
    devices = [d for d in devices if not kind or _kind_matches(view, d, kind)]
    family = options.family
    if options.json:
        records: list[object] = []
        for device in devices:
            record = address_json(view, device, family, options.details)
            if family and not record["addr_info"]:
                continue  # with -4/-6 devices without such an address are left out
            records.append(record)
        return 0, _json_out(records, options), ""
    if options.brief:
        return 0, "".join(address_brief(view, d, family) for d in devices), ""
    if options.oneline:
        return 0, "".join(address_oneline(view, d, family) for d in devices), ""
    out = []
    for device in devices:
        if family and not any(a.family == family for a in addresses(view, device)):
            continue
        out.append(address_text(view, device, family, options.details))
    return 0, "".join(out), ""


def _ip_route(view: HostView, namespace: str | None, options: _Options, args: list[str]) -> Result:
    if args and not _is_show(args[0]):
        return 255, "", f'Command "{args[0]}" is unknown, try "ip route help".\n'
    found = routes(view, namespace) if options.family != "inet6" else []
    if options.json:
        return 0, _json_out([route_json(r) for r in found], options), ""
    return 0, "".join(route_text(r) for r in found), ""


def _ip_neigh(view: HostView, namespace: str | None, options: _Options, args: list[str]) -> Result:
    if args and not _is_show(args[0]):
        return 255, "", f'Command "{args[0]}" is unknown, try "ip neigh help".\n'
    found = neighbours(view, namespace) if options.family != "inet6" else []
    if options.json:
        return 0, _json_out([{"dst": ip, "dev": dev, "lladdr": mac, "state": [state]}
                             for ip, dev, mac, state in found], options), ""
    return 0, "".join(f"{ip} dev {dev} lladdr {mac} {state} \n" for ip, dev, mac, state in found), ""


def namespace_pids(view: HostView, namespace: str) -> list[int]:
    """The processes Neutron runs in a namespace: dnsmasq (+ metadata haproxy) or the router's haproxy."""
    base = 2000 + stable_number(f"{view.state.name}/{namespace}", 60000)
    if namespace.startswith("qdhcp-"):
        return [base, base + 1]
    if namespace.startswith("qrouter-"):
        return [base]
    return []


def _ip_netns(view: HostView, namespace: str | None, options: _Options, args: list[str]) -> Result:
    command = args[0] if args else "list"
    if matches(command, "list") or command == "show":
        names = list(reversed(view.state.namespaces))  # readdir order: the newest first
        ids = view.namespace_ids if namespace is None else {}
        if options.json:
            records = [{"name": n, **({"id": ids[n]} if n in ids else {})} for n in names]
            return 0, _json_out(records, options), ""
        return 0, "".join(f"{n} (id: {ids[n]})\n" if n in ids else f"{n}\n" for n in names), ""
    if command == "pids":
        if len(args) < 2:
            return 255, "", "No netns name specified\n"
        if args[1] not in view.state.namespaces:
            return 1, "", f'Cannot open network namespace "{args[1]}": No such file or directory\n'
        return 0, "".join(f"{pid}\n" for pid in namespace_pids(view, args[1])), ""
    if command == "exec":
        raise AssertionError("ip netns exec is handled by the shell")
    return 255, "", f'Command "{command}" is unknown, try "ip netns help".\n'


_IP_HANDLERS: dict[str, Callable[[HostView, str | None, _Options, list[str]], Result]] = {
    "link": _ip_link, "address": _ip_address, "route": _ip_route, "neighbor": _ip_neigh, "neighbour": _ip_neigh,
    "netns": _ip_netns,
}


# `bridge` objects, in the order of bridge.c's table.
_BRIDGE_OBJECTS = ("link", "fdb", "mdb", "vlan", "vni", "monitor")


def run_bridge(view: HostView, namespace: str | None, args: list[str]) -> Result:
    """`bridge [OPTIONS] {link | fdb} [show [dev DEV | br BRIDGE]]`."""
    parsed = _parse_options(list(args), "bridge")
    if isinstance(parsed[0], int):
        return parsed
    options, rest = parsed
    if not rest:
        return 255, "", "Usage: bridge [ OPTIONS ] OBJECT { COMMAND | help }\n"
    obj = next((o for o in _BRIDGE_OBJECTS if matches(rest[0], o)), None)
    if obj not in ("link", "fdb"):
        return 255, "", f'Object "{rest[0]}" is unknown, try "bridge help".\n'
    args = rest[1:]
    if args and (matches(args[0], "show") or matches(args[0], "list")):
        args = args[1:]
    device: str | None = None
    bridge_name: str | None = None
    while args:
        word = args.pop(0)
        value = args.pop(0) if args else ""
        if word == "dev":
            device = value
        elif word == "br":
            bridge_name = value
        else:
            return 255, "", f'Unknown bridge {obj} show argument "{word}"\n'
    for name in (device, bridge_name):
        if name is not None and view.device(name, namespace) is None:
            return 255, "", f'Cannot find device "{name}"\n'
    if obj == "link":
        ports = [p for p in bridge_ports(view, namespace) if device in (None, p.name)
                 and bridge_name in (None, p.master)]
        if options.json:
            return 0, _json_out([bridge_link_json(view, p) for p in ports], options), ""
        return 0, "".join(bridge_link_text(view, p) for p in ports), ""
    entries = fdb_entries(view, namespace)
    if device is not None:
        entries = [e for e in entries if e.dev == device]
    if bridge_name is not None:
        members = {m.name for m in view.members(bridge_name, namespace)} | {bridge_name}
        entries = [e for e in entries if e.dev in members]
    with_dev = device is None
    if options.json:
        return 0, _json_out([fdb_json(e, with_dev) for e in entries], options), ""
    return 0, "".join(fdb_text(e, with_dev) for e in entries), ""
