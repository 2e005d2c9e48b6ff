"""VPP: `vppctl show int`, `show mode`, `show hardware-interfaces`, and their join into one fact per
interface.

Written against the recordings of VPP 16.09 the reference system kept (shared fixtures) and
tolerant of what later releases add (an MTU column in `show int`, `Link speed:` lines).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.sources.host.facts import VppInterfaceFact
from ingest.sources.host.parsers.errors import ParseError, guarded, integer, require


@dataclass
class VppInterface:
    """A software interface of `show int` (counters are left out)."""

    name: str
    index: int
    admin_up: bool


# `show int` and `show hardware-interfaces` both start a row with name, index and state
_ROW = re.compile(r"^(\S+)\s+(\d+)\s+(up|down)\b")


def _table_lines(text: str, command: str, header: list[str]) -> list[str]:
    """The non-blank lines under a table's header row; none for empty output."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    require(lines[0].split()[:len(header)] == header, command, f"no `{' '.join(header)} ...` header", text)
    return lines[1:]


def _row(line: str, command: str) -> tuple[str, int, bool]:
    match = _ROW.match(line)
    require(match is not None, command, "a row is not `name index up|down ...`", line)
    assert match is not None
    return match.group(1), integer(command, match.group(2), "index", line), match.group(3) == "up"


@guarded("vppctl show int")
def parse_vpp_show_int(text: str, command: str = "vppctl show int") -> list[VppInterface]:
    """`vppctl show int`: interfaces by name with index and admin state; counter lines are skipped."""
    result = []
    for line in _table_lines(text, command, ["Name", "Idx", "State"]):
        if line[:1].isspace():
            continue  # further counters of the interface above
        result.append(VppInterface(*_row(line, command)))
    return result


@dataclass
class VppMode:
    """How an interface forwards: l3, or l2 in a bridge domain (or cross-connected to a peer)."""

    interface: str
    mode: str  # "l3" | "l2 bridge" | "l2 xconnect"
    bd_id: int | None = None
    bvi: bool = False
    peer: str | None = None


_MODE_BRIDGE = re.compile(r"^l2 bridge (\S+) bd_id (\d+)(.*)$")
_MODE_XCONNECT = re.compile(r"^l2 xconnect (\S+) (\S+)")
_MODE_L3 = re.compile(r"^l3 (\S+)\s*$")


@guarded("vppctl show mode")
def parse_vpp_show_mode(text: str, command: str = "vppctl show mode") -> list[VppMode]:
    """`vppctl show mode`: one line per interface; bridge-domain members give the vconnectors."""
    result = []
    for line in text.splitlines():
        content = line.strip()
        if not content:
            continue
        if match := _MODE_BRIDGE.match(content):
            result.append(VppMode(match.group(1), "l2 bridge", bd_id=integer(command, match.group(2), "bd_id", line),
                                  bvi=" bvi" in match.group(3)))
        elif match := _MODE_XCONNECT.match(content):
            result.append(VppMode(match.group(1), "l2 xconnect", peer=match.group(2)))
        elif match := _MODE_L3.match(content):
            result.append(VppMode(match.group(1), "l3"))
        else:
            raise ParseError(command, "a line is neither `l3 IF` nor `l2 bridge IF bd_id N` nor `l2 xconnect`", line)
    return result


@dataclass
class VppHardwareInterface:
    """A hardware interface of `show hardware-interfaces`."""

    name: str
    index: int
    link_up: bool
    mac: str | None = None
    carrier_up: bool | None = None
    duplex: str | None = None
    speed: int | None = None  # Mb/s
    mtu: int | None = None
    description: str | None = None  # the device line, e.g. "Cisco VIC"


_SPEED_UNITS = {"kbps": 0.001, "mbps": 1, "gbps": 1000}


def _number_after(words: list[str], key: str, command: str, line: str) -> int | None:
    """The number that follows `key` in `carrier up full duplex speed 10000 mtu 1500`; None without `key`."""
    if key not in words:
        return None
    at = words.index(key) + 1
    require(at < len(words), command, f"no number after `{key}`", line)
    return integer(command, words[at], key, line)


def _link_speed(value: str, unit: str, command: str, line: str) -> int:
    """`Link speed: 10 Gbps` -> 10000 (Mb/s)."""
    try:
        speed = float(value) * _SPEED_UNITS[unit.lower()]
    except ValueError:
        raise ParseError(command, f"Link speed {value!r:.30} is not a number", line) from None
    require(speed == speed and abs(speed) < 2**63, command, f"Link speed {value:.30} is out of range", line)
    return int(speed)


def _apply_hw_detail(interface: VppHardwareInterface, content: str, command: str) -> None:
    if content.startswith("Ethernet address "):
        interface.mac = content.split()[-1].lower()
    elif content.startswith("carrier "):
        words = content.split()
        interface.carrier_up = words[1] == "up"
        if "duplex" in words and words.index("duplex") > 1:
            interface.duplex = words[words.index("duplex") - 1]
        speed = _number_after(words, "speed", command, content)
        interface.speed = speed if speed is not None else interface.speed
        interface.mtu = _number_after(words, "mtu", command, content)
    elif content.startswith("Link speed:"):
        link_speed = re.match(r"Link speed:\s*([\d.]+)\s*([KMG]bps)", content, re.IGNORECASE)
        if link_speed:
            interface.speed = _link_speed(link_speed.group(1), link_speed.group(2), command, content)


@guarded("vppctl show hardware-interfaces")
def parse_vpp_hardware(text: str, command: str = "vppctl show hardware-interfaces") -> list[VppHardwareInterface]:
    """`vppctl show hardware-interfaces`: link state, MAC, carrier, speed and MTU per interface."""
    result: list[VppHardwareInterface] = []
    after_mac = False
    for line in _table_lines(text, command, ["Name", "Idx", "Link"]):
        if not line[:1].isspace():
            result.append(VppHardwareInterface(*_row(line, command)))
        elif result:
            content = line.strip()
            if after_mac and not content.startswith(("carrier ", "Link speed", "rx ", "tx ")):
                result[-1].description = content  # the device's name follows its MAC ("Cisco VIC")
            _apply_hw_detail(result[-1], content, command)
            after_mac = content.startswith("Ethernet address ")
            continue
        after_mac = False
    return result


def vpp_interfaces(show_int: list[VppInterface], modes: list[VppMode],
                   hardware: list[VppHardwareInterface]) -> list[VppInterfaceFact]:
    """One fact per software interface, in index order: admin state, MAC and carrier from the hardware
    table, bridge domain from `show mode` (sub-interfaces and tunnels have no hardware row)."""
    bridge_domain = {m.interface: m.bd_id for m in modes}
    devices = {h.name: h for h in hardware}
    result = []
    for interface in sorted(show_int, key=lambda i: i.index):
        device = devices.get(interface.name)
        result.append(VppInterfaceFact(interface.name, interface.index, interface.admin_up,
                                       device.mac if device else None, bridge_domain.get(interface.name),
                                       device.link_up if device else None))
    return result
