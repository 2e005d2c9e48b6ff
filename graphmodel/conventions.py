"""OpenStack's device naming conventions (Nova and Neutron's, not ours).

The lab uses them to build hosts, the scanner to recognise what it finds: a tap device
"tap" + the first 11 characters of the Neutron port id, and so on.
"""

from __future__ import annotations

DEVICE_ID_LENGTH = 11  # Neutron truncates ids so that names fit IFNAMSIZ (15)


def short_id(uuid: str) -> str:
    return uuid[:DEVICE_ID_LENGTH]


def tap_name(port_id: str) -> str:
    """The VM's tap device (OVS, LXB) and the DHCP port's device in the qdhcp namespace (OVS)."""
    return f"tap{short_id(port_id)}"


def qbr_name(port_id: str) -> str:
    """OVS hybrid plug: the per-port Linux bridge holding the tap and the qvb end of the veth."""
    return f"qbr{short_id(port_id)}"


def qvb_name(port_id: str) -> str:
    """OVS hybrid plug: the veth end in the qbr bridge."""
    return f"qvb{short_id(port_id)}"


def qvo_name(port_id: str) -> str:
    """OVS hybrid plug: the veth end plugged into br-int."""
    return f"qvo{short_id(port_id)}"


def brq_name(network_id: str) -> str:
    """Linux bridge agent: one bridge per network."""
    return f"brq{short_id(network_id)}"


def ns_port_name(port_id: str) -> str:
    """Linux bridge agent: the DHCP port's device inside the qdhcp namespace."""
    return f"ns-{short_id(port_id)}"


def router_interface_name(port_id: str) -> str:
    return f"qr-{short_id(port_id)}"


def router_gateway_name(port_id: str) -> str:
    return f"qg-{short_id(port_id)}"


def dhcp_namespace(network_id: str) -> str:
    return f"qdhcp-{network_id}"


def router_namespace(router_id: str) -> str:
    return f"qrouter-{router_id}"


def lxb_vxlan_name(segmentation_id: int) -> str:
    """Linux bridge agent: the VXLAN device of a network."""
    return f"vxlan-{segmentation_id}"


def ovs_tunnel_port_name(overlay: str, remote_ip: str) -> str:
    """OVS agent: br-tun's port to a remote endpoint, e.g. vxlan-c0a86416 for 192.168.100.22."""
    return f"{overlay}-" + "".join(f"{int(octet):02x}" for octet in remote_ip.split("."))


def libvirt_name(sequence: int) -> str:
    """Nova's libvirt domain name for the n-th instance of a cell."""
    return f"instance-{sequence:08x}"
