"""Calipso's own checks, pure: from a host's inventory to one batched command, and from that
command's output to results per object and link.

`plan_host` reads what the inventory holds on one host (its NICs, vNICs, bridges, switch, tunnel
endpoint, namespaces and agents, and the links between them) and lists the sections to run
(graphmodel/checks.py declares the checks): `ip -s -j link`, the OVS Interface and Port tables, one
`ping` per tunnel peer, `ip netns list`, one `systemctl is-active` per agent. `HostPlan.command`
joins them into one shell line, each section after a marker line, so a round costs one SSH
session per host. `evaluate` splits the output at the markers and parses each section with the
scanner's parsers of the same tools (real formats; tests in tests/unit/ingest/monitoring).
"""

from __future__ import annotations

import ipaddress
import json
import re
import shlex
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphmodel.checks import CHECK_TYPES_BY_NAME, worst
from ingest.sources.host.parsers.errors import ParseError
from ingest.sources.host.parsers.iproute import Link, parse_ip_link_json, parse_netns_list
from ingest.sources.host.parsers.ovs import parse_ovsdb_table

Document = dict[str, Any]

MARK = "@@calipso-check@@"
#: A unit name we are willing to put on a command line (it comes from the cloud's API).
_UNIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}")
_PING_SUMMARY = re.compile(r"^(\d+) packets transmitted, (\d+) received", re.MULTILINE)
_PING_RTT = re.compile(r"^rtt min/avg/max/mdev = ([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+) ms", re.MULTILINE)
PING = "ping -c 2 -W 1 -i 0.2"


@dataclass
class Result:
    """One check's verdict on one object or link."""

    kind: str  # object | link
    key: str  # object id, or link key (link_type|source|target)
    check: str
    status: str  # ok | unknown | warning | critical
    text: str
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass
class HostPlan:
    """What to run on one host and what to compare it with."""

    host: str
    mechanism: str | None
    sections: list[tuple[str, str]]  # (section key, command)
    objects: dict[str, Document]
    links: list[Document]
    networks: dict[str, Document]
    checks: frozenset[str] = frozenset(CHECK_TYPES_BY_NAME)  # the check types run this round
    counters: dict[str, dict[str, int]] = field(default_factory=dict)  # device -> counters at the last run

    @property
    def command(self) -> str:
        """One shell line: each section's command after an `echo` of its marker; stderr kept in the section."""
        return self.batch()

    def batch(self, wrap: Callable[[str], str] | None = None) -> str:
        """The shell line, each section's command passed through `wrap` (sudo and a container prefix must
        go before every section's command: before the line, they would cover its first command only)."""
        parts = [f"echo {MARK} {key}; {wrap(command) if wrap else command} 2>&1" for key, command in self.sections]
        return "; ".join([*parts, f"echo {MARK} end"])

    def of_type(self, object_type: str) -> list[Document]:
        return [d for d in self.objects.values() if d.get("type") == object_type]


def _ip(text: Any) -> str | None:
    try:
        return str(ipaddress.ip_address(str(text)))
    except ValueError:
        return None


#: Tunnel peers pinged per endpoint and round: a full mesh of 1,000 hosts would otherwise ping 999 peers
#: from every host every round. The window rotates over the peers round by round; peers found
#: unreachable before are pinged every round until they answer.
PEERS_PER_ROUND = 16
_IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")


def peers_this_round(otep: Document, round_number: int, limit: int = PEERS_PER_ROUND) -> list[str]:
    """The tunnel peers of an endpoint to ping in this round (pure)."""
    remotes = sorted({r for r in map(_ip, otep.get("remote_ips") or []) if r})
    if len(remotes) <= limit:
        return remotes
    start = (round_number * limit) % len(remotes)
    window = (remotes + remotes)[start:start + limit]
    sticky = set(_IPV4.findall(str(otep.get("status_text") or ""))) if otep.get("status") not in (None, "ok") else set()
    return sorted(set(window) | (sticky & set(remotes)) - {_ip(otep.get("ip_address"))})


#: The sections each check type reads (the VLAN tag check finds a port's name in the Interface table).
SECTIONS_OF = {"link_state": ("link",), "bridge_membership": ("link",), "error_counters": ("link",),
               "ovs_interface": ("ovs_interface",),
               "ovs_vlan_tag": ("ovs_interface", "ovs_port"), "namespace": ("netns",),
               "tunnel_peers": ("ping:",), "agent_service": ("agent:",), "vpp_interface": ("vpp_int", "vpp_hw")}


def plan_host(host: str, objects: list[Document], links: list[Document], networks: dict[str, Document],
              round_number: int = 0, checks: frozenset[str] | None = None) -> HostPlan:
    """The sections to run on `host` for the check types `checks` (all when None), from its inventory
    documents (pure)."""
    checks = frozenset(CHECK_TYPES_BY_NAME) if checks is None else checks
    wanted = {section for name in checks for section in SECTIONS_OF.get(name, ())}
    by_id = {d["id"]: d for d in objects if d.get("host") == host}
    vedge = next((d for d in by_id.values() if d.get("type") == "vedge"), None)
    mechanism = (vedge or {}).get("mechanism") or _mechanism_of(vedge)
    types = {d.get("type") for d in by_id.values()}
    sections: list[tuple[str, str]] = []
    if types & {"host_pnic", "vnic", "vconnector"}:
        sections.append(("link", "ip -s -j link"))  # -s: the counters; the rest is `ip -j link`
    if mechanism == "ovs":
        sections.append(("ovs_interface", "ovs-vsctl --format=json --columns=name,ofport,link_state,admin_state,"
                                          "error,external_ids list Interface"))
        sections.append(("ovs_port", "ovs-vsctl --format=json --columns=name,tag list Port"))
    if mechanism == "vpp":
        sections.append(("vpp_int", "vppctl show int"))
        sections.append(("vpp_hw", "vppctl show hardware-interfaces"))
    if "vservice" in types:
        sections.append(("netns", "ip netns list"))
    for otep in (d for d in by_id.values() if d.get("type") == "otep"):
        local = _ip(otep.get("ip_address"))
        for remote in peers_this_round(otep, round_number):
            key = f"ping:{remote}"
            if local and all(k != key for k, _ in sections):
                sections.append((key, f"{PING} -I {local} {remote}"))
    for agent in (d for d in by_id.values() if d.get("type") == "network_agent"):
        binary = str(agent.get("binary") or "")
        if _UNIT.fullmatch(binary) and not any(k == f"agent:{binary}" for k, _ in sections):
            sections.append((f"agent:{binary}", f"systemctl is-active {shlex.quote(binary)}"))
    ids = set(by_id)
    host_links = [link for link in links if link.get("source_id") in ids or link.get("target_id") in ids]
    sections = [(key, command) for key, command in sections
                if key in wanted or key.split(":", 1)[0] + ":" in wanted]
    return HostPlan(host, mechanism, sections, by_id, host_links, networks, checks)


def _mechanism_of(vedge: Document | None) -> str | None:
    """The vedge's mechanism from its id (<host>/vedge-<mechanism>) when it has no field for it."""
    if vedge is None:
        return None
    return str(vedge["id"]).rsplit("/vedge-", 1)[-1] if "/vedge-" in str(vedge["id"]) else None


def split_sections(output: str) -> dict[str, str]:
    """The batched output cut at the marker lines: section key -> its text."""
    sections: dict[str, str] = {}
    key: str | None = None
    lines: list[str] = []
    for line in output.splitlines(keepends=True):
        if line.startswith(MARK):
            if key is not None:
                sections[key] = "".join(lines)
            key, lines = line[len(MARK):].strip(), []
        else:
            lines.append(line)
    if key is not None and key != "end":
        sections[key] = "".join(lines)
    return sections


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "no output")[:200]


def evaluate(plan: HostPlan, output: str) -> list[Result]:
    """Results per object and link from the batched output of `plan.command` (pure)."""
    sections = split_sections(output)
    results: list[Result] = []
    vpp_results, vpp_owned = _vpp_results(plan, sections.get("vpp_int"), sections.get("vpp_hw"))
    results += _link_results(plan, sections.get("link"), vpp_owned)
    results += _counter_results(plan, sections.get("link"), vpp_owned)
    results += vpp_results
    if plan.mechanism == "ovs":
        results += _ovs_results(plan, sections.get("ovs_interface"), sections.get("ovs_port"))
    results += _namespace_results(plan, sections.get("netns"))
    results += _tunnel_results(plan, sections)
    results += _agent_results(plan, sections)
    return [r for r in results if r.check in plan.checks]  # a check not run this round says nothing


# -- link state and bridge membership -------------------------------------------------------------

def _vm_vnics(plan: HostPlan) -> set[str]:
    """vNICs of VMs: their device lives in the host's root namespace (a namespace's do not)."""
    return {link["target_id"] for link in plan.links if link.get("link_type") == "instance-vnic"}


def _link_results(plan: HostPlan, text: str | None, vpp_owned: set[str] | None = None) -> list[Result]:
    subjects = [d for d in plan.objects.values() if d.get("type") in ("host_pnic", "vconnector")]
    vm_vnics = [plan.objects[v] for v in sorted(_vm_vnics(plan)) if v in plan.objects]
    subjects += vm_vnics
    if vpp_owned is not None:  # VPP host: its bridge domains, vhost-user vNICs and NICs are VPP's, not the kernel's
        subjects = [d for d in subjects if d.get("type") == "host_pnic" and d["id"] not in vpp_owned]
    if not subjects:
        return []
    if text is None:
        return [Result("object", d["id"], "link_state", "unknown", "`ip -s -j link` gave no answer") for d in subjects]
    try:
        devices = {link.name: link for link in parse_ip_link_json(text, "ip -s -j link")}
    except ParseError:
        return [Result("object", d["id"], "link_state", "unknown", f"`ip -s -j link` failed: {_first_line(text)}")
                for d in subjects]
    results = []
    for doc in subjects:
        name = str(doc.get("name") or "")
        device = devices.get(name)
        if device is None:
            results.append(Result("object", doc["id"], "link_state", "critical", f"device {name} is gone"))
            continue
        results.append(_device_state(doc, device, devices, plan))
    if vpp_owned is None:
        results += _membership(plan, devices)
    return results


def _device_state(doc: Document, device: Link, devices: dict[str, Link], plan: HostPlan) -> Result:
    name = device.name
    metrics = {"mtu": device.mtu, "operstate": device.oper_state}
    if not device.admin_up:
        return Result("object", doc["id"], "link_state", "critical", f"{name} is administratively down", metrics)
    if doc.get("type") == "vconnector":
        return Result("object", doc["id"], "link_state", "ok", f"{name} is up", metrics)
    members = [d for d in devices.values() if d.master == name and doc.get("type") == "host_pnic"]
    if members and "MASTER" in device.flags:
        dead = sorted(m.name for m in members if not m.carrier)
        if len(dead) == len(members) or not device.carrier:
            return Result("object", doc["id"], "link_state", "critical", f"{name}: no member has carrier", metrics)
        if dead:
            return Result("object", doc["id"], "link_state", "warning",
                          f"{name}: {len(dead)} of {len(members)} members without carrier ({', '.join(dead)})", metrics)
        return Result("object", doc["id"], "link_state", "ok", f"{name} is up, {len(members)} members with carrier",
                      metrics)
    if not device.carrier:
        return Result("object", doc["id"], "link_state", "critical", f"{name} has no carrier (NO-CARRIER)", metrics)
    if doc.get("type") == "vnic":
        network = plan.networks.get(str(doc.get("network_id")))
        if network and network.get("mtu") and device.mtu and device.mtu > network["mtu"]:
            return Result("object", doc["id"], "link_state", "critical",
                          f"{name} MTU {device.mtu} is larger than network {network.get('name')}'s {network['mtu']}: "
                          "large packets are dropped", metrics)
    return Result("object", doc["id"], "link_state", "ok", f"{name} is up", metrics)


def _membership(plan: HostPlan, devices: dict[str, Link]) -> list[Result]:
    """Each VM tap's `master` is the bridge its vnic-vconnector link names."""
    results = []
    vm_vnics = _vm_vnics(plan)
    for link in plan.links:
        if link.get("link_type") != "vnic-vconnector" or link.get("source_id") not in vm_vnics:
            continue
        vnic, bridge = plan.objects.get(link["source_id"]), plan.objects.get(link["target_id"])
        if vnic is None or bridge is None:
            continue
        device = devices.get(str(vnic.get("name")))
        if device is None:
            status, text = "critical", f"{vnic.get('name')} is gone, so it is no member of {bridge.get('name')}"
        elif device.master != bridge.get("name"):
            status = "critical"
            text = f"{device.name} is not a member of {bridge.get('name')}" + (
                f" (its master is {device.master})" if device.master else "")
        else:
            status, text = "ok", f"{device.name} is a member of {bridge.get('name')}"
        results.append(Result("object", vnic["id"], "bridge_membership", status, text))
        results.append(Result("link", _link_key(link), "bridge_membership", status, text))
    return results


#: The counters of `ip -s -j link`'s stats64 that say packets were lost: (direction, name).
COUNTERS = (("rx", "errors"), ("rx", "dropped"), ("tx", "errors"), ("tx", "dropped"))


def parse_link_counters(text: str) -> dict[str, dict[str, int]]:
    """rx/tx errors and drops per device name from `ip -s -j link` (none for output without stats64)."""
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    found: dict[str, dict[str, int]] = {}
    for device in data if isinstance(data, list) else []:
        stats = device.get("stats64") if isinstance(device, dict) else None
        if isinstance(stats, dict) and isinstance(device.get("ifname"), str):
            found[device["ifname"]] = {f"{way}_{name}": int((stats.get(way) or {}).get(name) or 0)
                                       for way, name in COUNTERS}
    return found


def _counter_results(plan: HostPlan, text: str | None, vpp_owned: set[str] | None = None) -> list[Result]:
    """A warning for each NIC (bond members included) or VM tap whose errors or drops grew since the last
    run (plan.counters); the texts name the counters, the figures go to the metrics."""
    if text is None:
        return []
    counters = parse_link_counters(text)
    subjects = [d for d in plan.objects.values() if d.get("type") == "host_pnic"]
    subjects += [plan.objects[v] for v in sorted(_vm_vnics(plan)) if v in plan.objects]
    if vpp_owned is not None:
        subjects = [d for d in subjects if d.get("type") == "host_pnic" and d["id"] not in vpp_owned]
    results = []
    for doc in subjects:
        name = str(doc.get("name") or "")
        now = counters.get(name)
        if now is None:
            continue  # gone (link_state says so), or no statistics in the answer
        before = plan.counters.get(name)
        grown = {key: now[key] - before[key] for key in now if before and now[key] > before.get(key, now[key])}
        metrics = {"device": name, "counters": now, "grown": grown}
        if before is None or any(now[key] < before.get(key, 0) for key in now):  # first look, or reset
            results.append(Result("object", doc["id"], "error_counters", "ok", f"{name}: counters recorded", metrics))
        elif grown:
            what = ", ".join(key.replace("_", " ") for key in sorted(grown))
            results.append(Result("object", doc["id"], "error_counters", "warning", f"{name}: {what} growing", metrics))
        else:
            results.append(Result("object", doc["id"], "error_counters", "ok", f"{name}: no new errors or drops",
                                  metrics))
    return results


def _link_key(link: Document) -> str:
    return f"{link['link_type']}|{link['source_id']}|{link['target_id']}"


# -- Open vSwitch ---------------------------------------------------------------------------------

def _switch_links(plan: HostPlan) -> dict[str, tuple[Document, Document | None]]:
    """vNIC id -> (the link into the switch, vnic-vedge or its bridge's vconnector-vedge; the bridge)."""
    bridge_of = {link["source_id"]: link["target_id"] for link in plan.links
                 if link.get("link_type") == "vnic-vconnector"}
    into_switch = {link["source_id"]: link for link in plan.links
                   if link.get("link_type") in ("vnic-vedge", "vconnector-vedge")}
    found: dict[str, tuple[Document, Document | None]] = {}
    for vnic in plan.of_type("vnic"):
        if vnic["id"] in into_switch:
            found[vnic["id"]] = (into_switch[vnic["id"]], None)
        elif bridge_of.get(vnic["id"]) in into_switch:
            found[vnic["id"]] = (into_switch[bridge_of[vnic["id"]]], plan.objects.get(bridge_of[vnic["id"]]))
    return found


def _port_link(plan: HostPlan, vnic: str, bridge: Document | None) -> Document | None:
    """The link into the vNIC's OVS port object (vnic-vedge_port, or its hybrid bridge's vconnector-vedge_port),
    where the scan made ports objects and the port is known here."""
    sources = {vnic, *([bridge["id"]] if bridge else [])}
    return next((link for link in plan.links if link.get("link_type") in ("vnic-vedge_port", "vconnector-vedge_port")
                 and link.get("source_id") in sources and link.get("target_id") in plan.objects), None)


def _ovs_results(plan: HostPlan, interfaces_text: str | None, ports_text: str | None) -> list[Result]:
    vedges = plan.of_type("vedge")
    switched = _switch_links(plan)
    vnics = [v for v in plan.of_type("vnic") if v["id"] in switched and v.get("port_id")]
    try:
        if interfaces_text is None:
            raise ParseError("ovs-vsctl list Interface", "no answer")
        rows = parse_ovsdb_table(interfaces_text, "Interface")
    except ParseError:
        reason = f"ovsdb does not answer: {_first_line(interfaces_text or '')}"
        return ([Result("object", v["id"], "ovs_interface", "critical", reason) for v in vedges]
                + [Result("object", v["id"], "ovs_interface", "unknown", reason) for v in vnics])
    try:
        tags = {row.get("name"): row.get("tag") for row in parse_ovsdb_table(ports_text or "", "Port")}
    except ParseError:
        tags = {}
    results = [Result("object", v["id"], "ovs_interface", "ok", f"ovsdb answers: {len(rows)} interfaces") for v in vedges]
    by_port = {}
    for row in rows:
        external = row.get("external_ids") or {}
        if isinstance(external, dict) and external.get("iface-id"):
            by_port[external["iface-id"]] = row
    for vnic in vnics:
        link, bridge = switched[vnic["id"]]
        # the OVS port holds the interface's state and tag: it is the object to mark, with the link into it
        port_link = _port_link(plan, vnic["id"], bridge)
        subject = port_link["target_id"] if port_link else vnic["id"]
        marked = [link, *([port_link] if port_link else [])]
        interface = by_port.get(vnic["port_id"])
        if interface is None:
            # no interface: the vNIC is plugged into nothing (its port object, if the last scan made one, is gone)
            text = f"port {vnic['port_id']} is not on the virtual switch (no interface with that iface-id)"
            results += [Result("object", vnic["id"], "ovs_interface", "critical", text),
                        *(Result("link", _link_key(m), "ovs_interface", "critical", text) for m in marked)]
            continue
        name = interface.get("name")
        if port_link:  # the vNIC's own result is ok: what it had from a round without its port is cleared
            results += [Result("object", vnic["id"], check, "ok", f"its OVS port {name} carries this check")
                        for check in ("ovs_interface", "ovs_vlan_tag")]
        metrics = {"ofport": interface.get("ofport"), "link_state": interface.get("link_state")}
        problems = []
        if interface.get("error"):
            problems.append(f"error: {interface['error']}")
        if interface.get("ofport") in (None, -1):
            problems.append("no OpenFlow port")
        if interface.get("admin_state") == "down":
            problems.append("admin_state down")
        if interface.get("link_state") == "down":
            problems.append("link_state down")
        if problems:
            text = f"OVS interface {name}: {', '.join(problems)}"
            results += [Result("object", subject, "ovs_interface", "critical", text, metrics),
                        *(Result("link", _link_key(m), "ovs_interface", "critical", text, metrics) for m in marked)]
        else:
            text = f"OVS interface {name} is up (ofport {interface.get('ofport')})"
            results += [Result("object", subject, "ovs_interface", "ok", text, metrics),
                        *(Result("link", _link_key(m), "ovs_interface", "ok", text, metrics) for m in marked)]
        expected = link.get("vlan_tag")
        if expected is not None and name in tags:
            tag = tags[name]
            if tag != expected:
                results.append(Result("object", subject, "ovs_vlan_tag", "critical",
                                      f"{name} has local VLAN tag {tag}, its network's is {expected}"))
            else:
                results.append(Result("object", subject, "ovs_vlan_tag", "ok", f"{name} has tag {tag}"))
    return results


# -- VPP -----------------------------------------------------------------------------------------

def _vpp_results(plan: HostPlan, show_int: str | None, hardware: str | None) -> tuple[list[Result], set[str] | None]:
    """On a VPP host: results for the NICs VPP drives (by name), the VMs' interfaces (by MAC, with their
    vnic-vconnector link) and the vedge, and the ids of the objects the kernel's checks must leave alone
    (None on other hosts)."""
    if plan.mechanism != "vpp":
        return [], None
    from ingest.sources.host.parsers.vpp import parse_vpp_hardware, parse_vpp_show_int

    vm_vnics = [plan.objects[v] for v in sorted(_vm_vnics(plan)) if v in plan.objects]
    pnics = [d for d in plan.objects.values() if d.get("type") == "host_pnic"]
    vedges = plan.of_type("vedge")
    owned = {d["id"] for d in vm_vnics} | {d["id"] for d in plan.objects.values() if d.get("type") == "vconnector"}
    try:
        if show_int is None or hardware is None:
            raise ParseError("vppctl show int", "no answer")
        interfaces = {i.name: i for i in parse_vpp_show_int(show_int)}
        devices = {h.name: h for h in parse_vpp_hardware(hardware)}
    except ParseError:
        reason = f"vppctl does not answer: {_first_line(show_int or hardware or '')}"
        owned |= {d["id"] for d in pnics if "/" in str(d.get("name"))}  # VPP's names: never a kernel device's
        return ([Result("object", v["id"], "vpp_interface", "critical", reason) for v in vedges]
                + [Result("object", d["id"], "vpp_interface", "unknown", reason)
                   for d in [*vm_vnics, *pnics] if d["id"] in owned]), owned
    results = [Result("object", v["id"], "vpp_interface", "ok", f"VPP answers: {len(interfaces)} interfaces")
               for v in vedges]
    by_mac = {h.mac: h.name for h in devices.values() if h.mac}

    def state(name: str) -> tuple[str, str]:
        interface, device = interfaces.get(name), devices.get(name)
        if interface is None:
            return "critical", f"VPP has no interface {name}"
        if not interface.admin_up:
            return "critical", f"VPP interface {name} is administratively down"
        if device is not None and not device.link_up:
            return "critical", f"VPP interface {name} has no link"
        return "ok", f"VPP interface {name} is up"

    for pnic in pnics:
        if str(pnic.get("name")) in interfaces:
            owned.add(pnic["id"])
            status, text = state(str(pnic["name"]))
            results.append(Result("object", pnic["id"], "vpp_interface", status, text))
    links = {link["source_id"]: link for link in plan.links if link.get("link_type") == "vnic-vconnector"}
    for vnic in vm_vnics:
        mac = str(vnic.get("mac_address") or "").lower()
        if mac in by_mac:
            status, text = state(by_mac[mac])
        else:
            status, text = "critical", f"VPP has no interface with the VM's MAC {mac}"
        results.append(Result("object", vnic["id"], "vpp_interface", status, text))
        if vnic["id"] in links:
            results.append(Result("link", _link_key(links[vnic["id"]]), "vpp_interface", status, text))
    return results, owned


# -- namespaces, tunnels, agents ------------------------------------------------------------------

def _namespace_results(plan: HostPlan, text: str | None) -> list[Result]:
    services = plan.of_type("vservice")
    if not services:
        return []
    try:
        if text is None:
            raise ParseError("ip netns list", "no answer")
        present = {ns.name for ns in parse_netns_list(text)}
    except ParseError:
        return [Result("object", s["id"], "namespace", "unknown", f"`ip netns list` failed: {_first_line(text or '')}")
                for s in services]
    return [Result("object", s["id"], "namespace", "ok" if s.get("name") in present else "critical",
                   f"namespace {s.get('name')} " + ("exists" if s.get("name") in present else "is gone"))
            for s in services]


@dataclass
class PingResult:
    """One `ping` run: loss in percent (None when it could not run) and the average RTT."""

    transmitted: int = 0
    received: int = 0
    rtt_avg_ms: float | None = None
    error: str | None = None  # bind failure, unreachable network, unparseable output

    @property
    def loss(self) -> float | None:
        return None if not self.transmitted else 100.0 * (self.transmitted - self.received) / self.transmitted


def parse_ping(text: str) -> PingResult:
    """iputils `ping` output (tests/fixtures/real/ping)."""
    summary = _PING_SUMMARY.search(text)
    if summary is None:
        error = next((line.strip() for line in text.splitlines() if line.startswith("ping:")), None)
        return PingResult(error=error or f"unexpected output: {_first_line(text)}")
    rtt = _PING_RTT.search(text)
    return PingResult(int(summary.group(1)), int(summary.group(2)), float(rtt.group(2)) if rtt else None)


def _tunnel_results(plan: HostPlan, sections: dict[str, str]) -> list[Result]:
    results = []
    for otep in plan.of_type("otep"):
        local = _ip(otep.get("ip_address"))
        remotes = sorted(k.split(":", 1)[1] for k in sections if k.startswith("ping:")
                         and k.split(":", 1)[1] in set(map(_ip, otep.get("remote_ips") or [])))
        if not remotes:
            continue
        if local is None:
            results.append(Result("object", otep["id"], "tunnel_peers", "unknown", "the endpoint has no address"))
            continue
        pings = {r: parse_ping(sections[f"ping:{r}"]) if f"ping:{r}" in sections else PingResult(error="no answer")
                 for r in remotes}
        metrics = {"peers": {r: {"loss_pct": p.loss, "rtt_avg_ms": p.rtt_avg_ms} for r, p in pings.items()}}
        if any(p.error and "bind" in p.error for p in pings.values()):
            results.append(Result("object", otep["id"], "tunnel_peers", "critical",
                                  f"tunnel address {local} is not configured on this host", metrics))
            continue
        lost = [r for r, p in pings.items() if p.error or p.loss == 100.0]
        lossy = [r for r, p in pings.items() if r not in lost and (p.loss or 0) > 0]
        if lost and len(lost) == len(remotes) and len(remotes) > 1:
            status, text = "critical", f"no tunnel peer answers from {local} ({len(remotes)} peers)"
        elif lost:
            status, text = "warning", f"{len(lost)} of {len(remotes)} tunnel peers unreachable: {', '.join(lost)}"
        elif lossy:
            status, text = "warning", f"packet loss to {', '.join(lossy)}"
        else:
            status, text = "ok", f"tunnel peers reachable from {local}"
        results.append(Result("object", otep["id"], "tunnel_peers", status, text, metrics))
    return results


def _agent_results(plan: HostPlan, sections: dict[str, str]) -> list[Result]:
    results = []
    for agent in plan.of_type("network_agent"):
        binary = str(agent.get("binary") or "")
        text = sections.get(f"agent:{binary}")
        if text is None:
            results.append(Result("object", agent["id"], "agent_service", "unknown", f"service {binary!r} not checked"))
            continue
        state = _first_line(text)
        if state == "active":
            results.append(Result("object", agent["id"], "agent_service", "ok", f"service {binary} is active"))
        elif state in ("failed", "inactive", "deactivating", "activating"):
            results.append(Result("object", agent["id"], "agent_service", "critical", f"service {binary} is {state}"))
        else:
            results.append(Result("object", agent["id"], "agent_service", "unknown",
                                  f"systemctl is-active {binary}: {state}"))
    return results


# -- from results to statuses ----------------------------------------------------------------------

@dataclass
class Verdict:
    """An object's or link's status after a round: the worst of its results, with their texts."""

    kind: str
    key: str
    status: str
    text: str
    checks: list[str]
    metrics: dict[str, Any]


def verdicts(results: list[Result]) -> list[Verdict]:
    """Fold results per object and link (pure): status is the worst; the text names what is wrong,
    or the checks that passed. Texts hold no measurements, so an unchanged state is an unchanged text."""
    grouped: dict[tuple[str, str], list[Result]] = defaultdict(list)
    for result in results:
        grouped[(result.kind, result.key)].append(result)
    found = []
    for (kind, key), items in grouped.items():
        status = worst([r.status for r in items])
        checks = sorted({r.check for r in items})
        bad = list(dict.fromkeys(r.text for r in items if r.status == status and status != "ok"))
        text = "; ".join(bad) if bad else f"ok: {', '.join(checks)}"
        metrics = {r.check: r.metrics for r in items if r.metrics}
        found.append(Verdict(kind, key, status, text, checks, metrics))
    return found
