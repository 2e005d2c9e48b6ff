"""Host NICs: `ls -l /sys/class/net`, `ethtool IF`, `cat /proc/net/bonding/BOND`.

A device whose sysfs link does not lead into /devices/virtual/ is backed by hardware (a PCI
NIC, a VF, a virtio or vmbus device): that is how the reference system told host pNICs apart.
`Link detected` from ethtool drives the state of the links that end at a pNIC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.sources.host.parsers.errors import ParseError, guarded, integer, require

_PCI_ADDRESS = re.compile(r"[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]")


@dataclass
class NetDevice:
    """One entry of /sys/class/net and where its sysfs link points."""

    name: str
    target: str
    physical: bool
    pci_address: str | None = None  # the nearest PCI function on the path, e.g. 0000:00:03.0


@guarded("ls -l /sys/class/net")
def parse_sys_class_net(text: str, command: str = "ls -l /sys/class/net") -> list[NetDevice]:
    """`ls -l /sys/class/net`: every device, physical when its link does not go to /devices/virtual/."""
    devices = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("total "):
            continue
        if line.startswith("-"):
            continue  # a regular file, not a device: bonding_masters, the bonding module's control file
        require(line.startswith("l") and " -> " in line, command,
                "expected `lrwxrwxrwx ... name -> ../../devices/...` lines", line)
        left, target = line.split(" -> ", 1)
        target = target.strip()
        require("/devices/" in target, command, "a link does not point into /sys/devices", line)
        addresses = _PCI_ADDRESS.findall(target)
        devices.append(NetDevice(name=left.split()[-1], target=target, physical="/devices/virtual/" not in target,
                                 pci_address=addresses[-1].lower() if addresses else None))
    return devices


@dataclass
class Ethtool:
    """The link settings of `ethtool IF`."""

    interface: str
    speed: int | None = None  # Mb/s; None when ethtool says Unknown!
    duplex: str | None = None  # full | half; None when unknown
    port: str | None = None  # Twisted Pair, FIBRE, Direct Attach Copper, Other, ...
    auto_negotiation: bool | None = None
    link_detected: bool | None = None
    supported_ports: list[str] = field(default_factory=list)
    transceiver: str | None = None


@guarded("ethtool")
def parse_ethtool_link(text: str, command: str = "ethtool") -> Ethtool:
    """`ethtool IF`: speed, duplex, port, auto-negotiation and `Link detected`."""
    lines = text.splitlines()
    header = next((n for n, line in enumerate(lines) if line.startswith("Settings for ")), None)
    # ethtool without privileges prints "Cannot get ..." warnings first; nothing else may come before
    require(header is not None and all(not line.strip() or line.startswith(("Cannot ", "netlink error"))
                                       for line in lines[:header or 0]),
            command, "no `Settings for IF:` header", text)
    assert header is not None
    name = lines[header].removeprefix("Settings for ").strip()
    require(name.endswith(":") and len(name) > 1, command, "no `Settings for IF:` header", text)
    result = Ethtool(interface=name[:-1])
    for line in lines[header + 1:]:
        key, colon, value = line.strip().partition(":")
        if not colon:
            continue  # continuation of a multi-line value (link modes, message level)
        value = value.strip()
        if key == "Speed":
            speed = re.fullmatch(r"(\d+)\s*Mb/s", value)
            result.speed = integer(command, speed.group(1), "Speed", line) if speed else None
        elif key == "Duplex":
            result.duplex = value.lower() if value.lower() in ("full", "half") else None
        elif key == "Port":
            result.port = value
        elif key == "Auto-negotiation":
            result.auto_negotiation = value == "on" if value in ("on", "off") else None
        elif key == "Link detected":
            # newer ethtool adds a reason: "no (Cable issue, Unsupported cable)"
            result.link_detected = value.split()[0] == "yes" if value else None
        elif key == "Supported ports":
            result.supported_ports = value.strip("[] ").split()
        elif key == "Transceiver":
            result.transceiver = value
    return result


@dataclass
class BondSlave:
    """A member of /proc/net/bonding/BOND."""

    name: str
    mii_status: str | None = None  # up | down | going down | going back
    speed: int | None = None  # Mb/s
    duplex: str | None = None
    link_failure_count: int | None = None
    permanent_hw_addr: str | None = None
    aggregator_id: int | None = None  # 802.3ad


@dataclass
class Bonding:
    """The state of a Linux bond as the bonding driver reports it."""

    mode: str  # balance-rr, active-backup, balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb
    mode_text: str  # as printed, e.g. "fault-tolerance (active-backup)"
    mii_status: str | None = None
    primary: str | None = None
    active_slave: str | None = None
    mii_polling_ms: int | None = None
    transmit_hash_policy: str | None = None
    slaves: list[BondSlave] = field(default_factory=list)


# The kernel's bond_mode_name() texts.
_MODES = {"load balancing (round-robin)": "balance-rr", "fault-tolerance (active-backup)": "active-backup",
          "load balancing (xor)": "balance-xor", "fault-tolerance (broadcast)": "broadcast",
          "IEEE 802.3ad Dynamic link aggregation": "802.3ad", "transmit load balancing": "balance-tlb",
          "adaptive load balancing": "balance-alb"}


def _none(value: str) -> str | None:
    return None if value in ("", "None") else value


@guarded("cat /proc/net/bonding")
def parse_bonding(text: str, command: str = "cat /proc/net/bonding") -> Bonding:
    """`cat /proc/net/bonding/BOND`: mode, MII status, primary and active slave, and each slave."""
    bond: Bonding | None = None
    slave: BondSlave | None = None
    for line in text.splitlines():
        if not line.strip() or line[:1].isspace():
            continue  # indented lines are 802.3ad aggregator and LACP PDU details
        key, colon, value = line.partition(":")
        value = value.strip()
        if not colon:
            continue  # "802.3ad info", section titles
        if key == "Bonding Mode":
            text_mode = re.sub(r"\s*\(fail_over_mac [^)]*\)$", "", value)
            mode = next((name for label, name in _MODES.items() if text_mode.startswith(label)), None)
            require(mode is not None, command, "unknown bonding mode", line)
            assert mode is not None
            bond = Bonding(mode=mode, mode_text=value)
            continue
        if bond is None:
            require(key == "Ethernet Channel Bonding Driver", command, "no `Bonding Mode:` line first", text)
            continue
        if key == "Slave Interface":
            slave = BondSlave(name=value)
            bond.slaves.append(slave)
        elif slave is not None:
            if key == "MII Status":
                slave.mii_status = value
            elif key == "Speed":
                speed = re.fullmatch(r"(\d+)\s*Mbps", value)
                slave.speed = integer(command, speed.group(1), "Speed", line) if speed else None
            elif key == "Duplex":
                slave.duplex = value if value in ("full", "half") else None
            elif key == "Link Failure Count":
                slave.link_failure_count = integer(command, value, "Link Failure Count", line)
            elif key == "Permanent HW addr":
                slave.permanent_hw_addr = value.lower()
            elif key == "Aggregator ID":
                slave.aggregator_id = integer(command, value, "Aggregator ID", line)
        elif key == "MII Status":
            bond.mii_status = value
        elif key == "Primary Slave":
            bond.primary = _none(value.split(" (")[0])
        elif key == "Currently Active Slave":
            bond.active_slave = _none(value)
        elif key == "MII Polling Interval (ms)":
            bond.mii_polling_ms = integer(command, value, "MII Polling Interval", line)
        elif key == "Transmit Hash Policy":
            bond.transmit_hash_policy = value.split(" (")[0]
    if bond is None:
        raise ParseError(command, "no `Bonding Mode:` line", text)
    return bond
