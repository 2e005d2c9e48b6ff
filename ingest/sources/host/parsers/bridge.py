"""The forwarding database of Linux bridges and VXLAN devices: `bridge -j fdb show`, `bridge fdb show`.

The scanner reads it for the VXLAN devices' remote endpoints (`dst` of their all-zeros entries):
the tunnel peers of a Linux bridge host's otep. The text form is the fallback for iproute2
releases without `-j`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ingest.sources.host.parsers.errors import guarded, integer, lenient_int, load_json, require

_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


@dataclass
class FdbEntry:
    """One forwarding database entry of `bridge fdb show`."""

    mac: str
    dev: str | None
    master: str | None = None
    vlan: int | None = None
    dst: str | None = None  # remote VTEP of a VXLAN device
    vni: int | None = None
    port: int | None = None
    link_netnsid: int | None = None
    state: str | None = None  # permanent | static | stale | ...; None for a learned (dynamic) entry
    flags: list[str] = field(default_factory=list)  # self, master, extern_learn, offload, router, sticky

    @property
    def permanent(self) -> bool:
        return self.state == "permanent"

    @property
    def self_entry(self) -> bool:
        """Kept by the device itself (a VXLAN remote, a NIC's own address), not by a bridge."""
        return "self" in self.flags


def _int(value: Any) -> int | None:
    return lenient_int(value) if isinstance(value, int) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@guarded("bridge -j fdb show")
def parse_bridge_fdb_json(text: str, command: str = "bridge -j fdb show") -> list[FdbEntry]:
    """`bridge -j fdb show`: every FDB entry; dynamic (learned) entries have no state."""
    data = load_json(command, text, [])
    require(isinstance(data, list), command, "expected a JSON list of FDB entries", text)
    result = []
    for entry in data:
        require(isinstance(entry, dict) and isinstance(entry.get("mac"), str), command,
                "expected every entry to be an object with a mac", text)
        flags = entry.get("flags")
        flags = [f for f in flags if isinstance(f, str)] if isinstance(flags, list) else []
        result.append(FdbEntry(
            mac=entry["mac"].lower(), dev=_str(entry.get("ifname")) or _str(entry.get("dev")),
            master=_str(entry.get("master")), vlan=_int(entry.get("vlan")), dst=_str(entry.get("dst")),
            vni=_int(entry.get("vni")),
            port=_int(entry.get("port")), link_netnsid=_int(entry.get("linkNetNsId", entry.get("link_netnsid"))),
            state=_str(entry.get("state")), flags=flags))
    return result


# `bridge fdb show` prints the MAC, then `key value` pairs, then bare flags and the state word.
_KEYED = {"dev", "master", "vlan", "dst", "vni", "port", "src_vni", "via", "nhid", "link-netnsid"}
_FLAGS = {"self", "master", "router", "extern_learn", "offload", "offloaded", "sticky", "added_by_user",
          "locked", "blackhole"}
_STATES = {"permanent", "static", "stale", "dynamic", "noarp", "reachable", "local"}


@guarded("bridge fdb show")
def parse_bridge_fdb_text(text: str, command: str = "bridge fdb show") -> list[FdbEntry]:
    """`bridge fdb show`: the same entries as the JSON form, from text."""
    result = []
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue
        require(bool(_MAC.match(words[0])), command, "a line does not start with a MAC address", line)
        entry = FdbEntry(mac=words[0].lower(), dev=None)
        position = 1
        while position < len(words):
            word = words[position]
            value = words[position + 1] if position + 1 < len(words) else None
            if word in _KEYED and value is not None and not (word == "master" and value in _STATES):
                if word == "dev":
                    entry.dev = value
                elif word == "master":
                    entry.master = value
                elif word == "dst":
                    entry.dst = value
                elif word in ("vlan", "vni", "port", "link-netnsid"):
                    number = integer(command, value, word, line)
                    setattr(entry, {"link-netnsid": "link_netnsid"}.get(word, word), number)
                position += 2
            elif word in _STATES:
                entry.state = word
                position += 1
            elif word in _FLAGS:
                entry.flags.append(word)
                position += 1
            else:
                # newer iproute2 releases add flags (activity_notify, inactive, ...): keep them
                entry.flags.append(word)
                position += 1
        result.append(entry)
    return result


def vxlan_remotes(entries: list[FdbEntry]) -> dict[str, list[str]]:
    """Each device's remote VTEPs: the `dst` of its entries (the all-zeros flood entries, and the
    per-MAC ones that l2population adds). Only VXLAN devices have entries with a `dst`."""
    remotes: dict[str, set[str]] = {}
    for entry in entries:
        if entry.dev and entry.dst:
            remotes.setdefault(entry.dev, set()).add(entry.dst)
    return {device: sorted(addresses) for device, addresses in remotes.items()}
