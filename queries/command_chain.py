"""The reports sent up the command chain: a maintenance impact report for a change board, and an
incident report for whoever must know why VMs are broken. Each is a `queries.reports.Document`
(summary first), rendered as HTML, Markdown, JSON or PDF by queries/reports.py.

- maintenance: hosts taken down in a window: VMs down and degraded, projects affected and who to
  tell, then a table per project, each host's impact alone next to the combined one, the what-if
  picture of the broken ways out, and the window.
- incident: for broken VMs, the root-cause suspects with their evidence, each VM's way out of its
  host with the health of every hop (and the path between the first two when they share a network),
  what changed near them in the window, and the broken invariants on their hosts.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

import neo4j

from core.errors import CalipsoError
from core.stores import MongoDatabase
from queries.datapath import AnalysisError, Datapath, load_datapath, names_of, node_failing, resolve_objects, routes_out
from queries.diff import MAX_HOPS, diff, link_ends, neighbourhood, restrict
from queries.impact import ImpactResult, impact, whatif
from queries.invariants import invariants
from queries.path import path
from queries.rca import DEFAULT_WINDOW, rca
from queries.reports import Document, Section

#: How far from a focal VM a change still counts as "near it" in an incident report.
CHANGE_HOPS = min(4, MAX_HOPS)
_DURATION = re.compile(r"^P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?)?$", re.IGNORECASE)


class ReportInputError(CalipsoError):
    """A report asked for with input that cannot be right (a window that ends before it starts)."""


# -- the maintenance window -----------------------------------------------------------------------------------

def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_window(text: str) -> tuple[datetime, datetime]:
    """An ISO 8601 interval in UTC (unless it says otherwise): START/END, where END is a full time, a
    time of day (on START's day, or the next when it would come before START), or a duration (PT2H).
    e.g. 2026-12-10T02:00/04:00, 2026-12-10T23:00/01:30, 2026-12-10T02:00/PT2H."""
    start_text, slash, end_text = text.strip().partition("/")
    if not slash or not start_text or not end_text:
        raise ReportInputError(f"--window {text!r}: expected START/END, e.g. 2026-12-10T02:00/04:00 or "
                               "2026-12-10T02:00/PT2H")
    try:
        given = datetime.fromisoformat(start_text)
        start = _utc(given)
    except ValueError:
        raise ReportInputError(f"--window {text!r}: {start_text!r} is not an ISO 8601 time") from None
    duration = _DURATION.match(end_text)
    if duration and any(duration.groupdict().values()):
        end = start + timedelta(**{k: int(v) for k, v in duration.groupdict().items() if v})
    elif "T" in end_text or re.match(r"^\d{4}-\d{2}-\d{2}", end_text):
        try:
            end = _utc(datetime.fromisoformat(end_text))
        except ValueError:
            raise ReportInputError(f"--window {text!r}: {end_text!r} is not an ISO 8601 time") from None
    else:
        try:
            clock = time.fromisoformat(end_text)
        except ValueError:
            raise ReportInputError(f"--window {text!r}: {end_text!r} is neither a time, a time of day nor a "
                                   "duration such as PT2H") from None
        # The parts an abbreviated end leaves out (date, zone) are START's, as ISO 8601 has it.
        end = _utc(datetime.combine(given.date(), clock.replace(tzinfo=None), clock.tzinfo or given.tzinfo or UTC))
        if end <= start:
            end += timedelta(days=1)  # 23:00/01:00 runs past midnight
    if end <= start:
        raise ReportInputError(f"--window {text!r}: it ends ({end.isoformat()}) before it starts ({start.isoformat()})")
    return start, end


def _span(start: datetime, end: datetime) -> str:
    minutes = int((end - start).total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def window_label(start: datetime, end: datetime) -> str:
    same_day = start.date() == end.date()
    return (f"{start:%Y-%m-%d %H:%M} – {end:%H:%M} UTC" if same_day else
            f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} UTC") + f" ({_span(start, end)})"


# -- maintenance ----------------------------------------------------------------------------------------------

Picture = tuple[list[dict[str, Any]], list[dict[str, Any]]]


def with_types(driver: neo4j.Driver, environment: str, picture: Picture) -> Picture:
    """A picture whose nodes all say their type and name (results name some hops by id only), so
    that the drawing puts each in its column along the path."""
    nodes, links = picture
    missing = [n["id"] for n in nodes if not n.get("type") or not n.get("name")]
    labels = names_of(driver, environment, missing)
    for node in nodes:
        known = labels.get(node["id"]) or {}
        node.setdefault("type", None)
        node["type"] = node["type"] or known.get("type")
        node["name"] = node.get("name") or known.get("name")
    return nodes, links


def _counts(result: ImpactResult, kind: str = "instance") -> tuple[int, int]:
    return (sum(a.state == "down" and a.type == kind for a in result.affected),
            sum(a.state == "degraded" and a.type == kind for a in result.affected))


def maintenance_report(driver: neo4j.Driver, environment: str, hosts: Sequence[str],
                       window: str | None = None) -> Document:
    """What taking `hosts` (names or ids) down in `window` does, for a change board."""
    names = [h.strip() for h in hosts if h and h.strip()]
    if not names:
        raise ReportInputError("name at least one host (--hosts H1,H2)")
    targets = resolve_objects(driver, environment, names, types=("host",))
    ids = [t["id"] for t in targets]
    start_end = parse_window(window) if window else None
    combined = impact(driver, environment, ids)
    broken = whatif(driver, environment, ids)
    alone = {host: impact(driver, environment, [host]) for host in ids} if len(ids) > 1 else {ids[0]: combined}

    down, degraded = _counts(combined)
    services_down = _counts(combined, "vservice")[0]
    projects: dict[str, list[Any]] = defaultdict(list)
    for affected in combined.affected:
        projects[affected.project or affected.project_id or "(no project)"].append(affected)
    order = sorted(projects, key=lambda p: (-sum(a.state == "down" for a in projects[p]), p))
    host_list = ", ".join(t.get("name") or t["id"] for t in targets)

    summary = [f"Hosts going down: {host_list}" + (f", {window_label(*start_end)}" if start_end else "")]
    if combined.affected:
        summary.append(f"VMs down (cut off): {down}; VMs degraded (redundancy lost, still reachable): {degraded}")
        if services_down:
            summary.append(f"network services down (DHCP, routers): {services_down}")
        summary.append("Projects affected: " + "; ".join(
            f"{p} ({sum(a.state == 'down' for a in projects[p])} down, "
            f"{sum(a.state == 'degraded' for a in projects[p])} degraded)" for p in order))
        outage = [p for p in order if any(a.state == "down" for a in projects[p])]
        redundancy = [p for p in order if p not in outage]
        if outage:
            summary.append("Who to tell: the owners of " + ", ".join(outage) + " (their VMs are cut off for the window)")
        if redundancy:
            summary.append("Tell as a courtesy: " + ", ".join(redundancy) + " (redundancy only, no outage expected)")
    else:
        summary.append("No VM or network service loses connectivity or redundancy.")
    if combined.already_down:
        summary.append(f"Already without a way out before the window (not counted): {len(combined.already_down)}")

    sections = []
    for project in order:
        rows = [{"VM": a.name or a.id, "id": a.id, "type": a.type, "impact": a.state, "host": a.host,
                 "networks": ", ".join(a.networks), "cause": ", ".join(a.cause)} for a in projects[project]]
        d = sum(a.state == "down" for a in projects[project])
        sections.append(Section(f"Project {project}: {d} down, {len(rows) - d} degraded", rows=rows))
    per_host = []
    for host, result in alone.items():
        d, g = _counts(result)
        per_host.append({"host": host, "VMs down": d, "VMs degraded": g,
                         "services down": _counts(result, "vservice")[0]})
    if len(alone) > 1:
        per_host.append({"host": "all together", "VMs down": down, "VMs degraded": degraded,
                         "services down": services_down})
    sections.append(Section("Impact per host", ["each host taken down alone, then all of them together"]
                            if len(alone) > 1 else [], rows=per_host))
    sections.append(Section("What if: the ways out that break", list(broken.summary),
                            rows=[{"VM": p.name or p.vm, "host": p.host, "vNIC": p.vnic, "network": p.network,
                                   "breaks": p.state, "ways out": f"{p.ways_out_before} -> {p.ways_out_after}"}
                                  for p in broken.paths],
                            picture=with_types(driver, environment, broken.graph()),
                            empty="No VM's way out breaks."))
    window_lines = [f"Start: {start_end[0].isoformat()}", f"End: {start_end[1].isoformat()}",
                    f"Duration: {_span(*start_end)}"] if start_end else ["No window given."]
    sections.append(Section("Window", window_lines + [f"Hosts: {host_list}"]))

    title = f"Maintenance of {host_list}" + (f" on {start_end[0]:%Y-%m-%d}" if start_end else "")
    facts: list[tuple[str, Any]] = [("Hosts", host_list)]
    if start_end:
        facts.append(("Window", window_label(*start_end)))
    data = {"hosts": ids, "window": {"start": start_end[0], "end": start_end[1]} if start_end else None,
            "vms_down": combined.ids("down"), "vms_degraded": combined.ids("degraded"),
            "projects": {p: {"down": sum(a.state == "down" for a in projects[p]),
                             "degraded": sum(a.state == "degraded" for a in projects[p])} for p in order},
            "per_host": per_host, "impact": combined.to_dict(), "whatif": broken.to_dict()}
    return Document(title, environment, facts, summary, sections, data)


# -- incident -------------------------------------------------------------------------------------------------

def _bond_health(datapath: Datapath, nic: str) -> str | None:
    """A bond's trouble, told by its members: which are failing, and whether one is still live."""
    members = [m for m in datapath.bond_members(nic) if m in datapath.nodes]
    failing = {m: node_failing(datapath.nodes[m]) for m in members}
    bad = [f"{datapath.nodes[m].get('name') or m}: {why}" for m, why in failing.items() if why]
    if not bad:
        return None
    live = len(members) - len(bad)
    return "; ".join(bad) + (f" ({live} live member{'s' if live != 1 else ''} left)" if live else " (no live member)")


def way_out_rows(driver: neo4j.Driver, environment: str, focal: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each focal VM's way out of its host, hop by hop, with each hop's health and the state of the
    link into it (failing hops are kept: this is the path the traffic should take)."""
    datapath = load_datapath(driver, environment, {f["host"] for f in focal if f.get("host")})
    rows: list[dict[str, Any]] = []
    for vm in focal:
        vnics = datapath.vnics_of(vm["id"])
        if not vnics:
            rows.append({"VM": vm.get("name") or vm["id"], "hop": 0, "object": vm["id"], "type": vm.get("type"),
                         "health": "no vNIC found in the graph", "link state": None})
        for vnic in vnics:
            routes = routes_out(datapath, vnic, respect_state=False)
            if not routes:
                rows.append({"VM": vm.get("name") or vm["id"], "hop": 1, "object": vnic, "type": "vnic",
                             "health": "no way out of the host found", "link state": None})
                continue
            route = routes[0]
            into_vnic = next((e for e in datapath.out.get(vm["id"], []) if e.target == route.hops[0]), None)
            for index, (hop, edge) in enumerate(zip([vm["id"], *route.hops], [None, into_vnic, *route.edges])):
                node = datapath.nodes.get(hop, {"id": hop})
                rows.append({"VM": vm.get("name") or vm["id"], "hop": index, "object": node.get("name") or hop,
                             "type": node.get("type"), "host": node.get("host"),
                             "health": node_failing(node) or _bond_health(datapath, hop) or "ok",
                             "link state": (edge.state or "unknown") if edge else None,
                             "id": hop, "members": datapath.bond_members(hop)})
    return rows


def incident_report(driver: neo4j.Driver, database: MongoDatabase, environment: str, vms: Sequence[str],
                    since: datetime | None = None) -> Document:
    """Why `vms` (names or ids of VMs or network services) are broken, in one document."""
    since = since or datetime.now(UTC) - DEFAULT_WINDOW
    focal = resolve_objects(driver, environment, list(vms), types=("instance", "vservice"))
    hosts = sorted({f["host"] for f in focal if f.get("host")})
    cause = rca(driver, environment, [f["id"] for f in focal], since)
    ways = way_out_rows(driver, environment, focal)
    on_path = {f["id"] for f in focal} | {s.id for s in cause.suspects}
    pair = None
    pair_note = None
    if len(focal) >= 2:
        try:
            pair = path(driver, environment, focal[0]["id"], focal[1]["id"])
            on_path |= set(pair.ids())
        except AnalysisError as exc:
            pair_note = f"No path between {focal[0].get('name')} and {focal[1].get('name')}: {exc}"
    # Near the VMs: within CHANGE_HOPS links of one, or on a way out (bond members included: a bond's
    # membership is an attribute, not a link, so a member NIC is never within hops of anything).
    whole = diff(database, environment, since, "now").changes
    removed_links = [link_ends(c) for c in whole if c.kind == "link"]
    near = {r["id"] for r in ways} | {m for r in ways for m in r.get("members") or []} | on_path
    for vm in focal:
        near |= neighbourhood(database, environment, vm["id"], CHANGE_HOPS, removed_links)
    changes = {f"{c.kind}|{c.key}": c for c in restrict(whole, near)}
    checked = invariants(driver, environment, hosts=hosts)
    names = ", ".join(f.get("name") or f["id"] for f in focal)

    unhealthy = sorted({(r["VM"], r["object"]) for r in ways if r["health"] != "ok" or r["link state"] == "down"})
    summary = list(cause.summary)
    if cause.suspects and cause.suspects[0].score > 0:
        best = cause.suspects[0]
        summary[0] = (f"Most likely cause: {best.type} {best.name or best.id} on {best.host or '?'} "
                      f"({'; '.join(best.evidence)})")
    summary.append("Ways out: " + ("every hop healthy" if not unhealthy else
                                   "unhealthy at " + ", ".join(f"{o} ({vm})" for vm, o in unhealthy)))
    summary.append(f"Changes near these VMs since {since:%Y-%m-%d %H:%M} UTC: {len(changes)}")
    summary.append(f"Broken invariants on their hosts ({', '.join(hosts)}): {len(checked.violations)}")

    sections = [
        Section("Root cause suspects", list(cause.summary), rows=cause.rows(),
                picture=with_types(driver, environment, cause.graph()),
                empty="No suspect on these VMs' paths."),
        Section("Ways out of the hosts, with health", rows=ways,
                columns=["VM", "hop", "object", "type", "host", "health", "link state"]),
    ]
    if pair is not None:
        first, second = (f.get("name") or f["id"] for f in focal[:2])
        sections.append(Section(f"Path from {first} to {second}", list(pair.summary), rows=pair.rows(),
                                picture=with_types(driver, environment, pair.graph())))
    elif pair_note:
        sections.append(Section("Path between the first two", [pair_note]))
    sections.append(Section(f"Changes since {since:%Y-%m-%d %H:%M} UTC (within {CHANGE_HOPS} links)",
                            rows=[{"change": c.change, "kind": c.kind, "type": c.type, "name": c.name, "id": c.key,
                                   "fields": "; ".join(f"{k}: {v.get('old')} -> {v.get('new')}"
                                                       for k, v in c.fields.items())}
                                  for c in changes.values()], empty="Nothing changed near these VMs."))
    sections.append(Section("Broken invariants", rows=checked.rows(), empty="No invariant is broken on these hosts."))
    facts: list[tuple[str, Any]] = [("VMs", names), ("Since", since.isoformat(timespec="seconds"))]
    data = {"vms": [f["id"] for f in focal], "since": since, "suspects": cause.to_dict()["suspects"],
            "ways_out": ways, "path": pair.to_dict() if pair else None,
            "changes": [c.__dict__ for c in changes.values()],
            "invariants": [v.__dict__ for v in checked.violations]}
    return Document(f"Incident: {names}", environment, facts, summary, sections, data)
