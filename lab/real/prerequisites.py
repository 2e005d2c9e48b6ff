"""What the real lab needs from this machine: root, the tools (and the Debian packages that hold them)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

# tool -> the Debian package that installs it (scripts/install-system-packages.sh installs them all)
TOOLS = {
    "ip": "iproute2", "bridge": "iproute2", "brctl": "bridge-utils", "ethtool": "ethtool",
    "ovsdb-tool": "openvswitch-common", "ovs-appctl": "openvswitch-common",
    "ovs-vsctl": "openvswitch-switch", "ovsdb-server": "openvswitch-switch", "ovs-vswitchd": "openvswitch-switch",
    "unshare": "util-linux", "mount": "mount", "sysctl": "procps", "bash": "bash",
    "ping": "iputils-ping",  # the lab tests check that the hosts are cabled
}
OVS_SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")
TUN_DEVICE = Path("/dev/net/tun")


def missing_prerequisites() -> list[str]:
    """What is missing to build the real lab here, each naming the fix; empty when all is present."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root privileges (network namespaces, bridges and mounts need CAP_SYS_ADMIN and CAP_NET_ADMIN)")
    for tool, package in TOOLS.items():
        if shutil.which(tool) is None:
            missing.append(f"{tool} (Debian package {package})")
    if not OVS_SCHEMA.exists():
        missing.append(f"{OVS_SCHEMA} (Debian package openvswitch-common)")
    if not TUN_DEVICE.exists():
        missing.append(f"{TUN_DEVICE} (the kernel's tun driver, for taps and OVS's userspace datapath)")
    return missing
