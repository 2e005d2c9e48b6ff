"""One monitoring round over an environment: the checks' I/O and the status writes.

Per host, one `Transport.run` of the plan's batched command (one SSH session), hosts in parallel.
The verdicts become `status`, `status_text` and `status_since` on objects and links, written
through the inventory writer (history and the changes feed, so the projector carries them into
Neo4j) under the environment's write lock; only what changed is written. A change of state (not
each result) is a message (ingest/records.py). Intake from Sensu and collectd (`apply_verdicts`)
takes the same path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

from pymongo.database import Database

from graphmodel.checks import CHECK_TYPES_BY_NAME
from graphmodel.inventory import LINKS, OBJECTS, InventoryWriter, environment_write_lock, utcnow
from ingest.monitoring.checks import HostPlan, Result, Verdict, evaluate, plan_host, verdicts
from ingest.records import Message, record_message
from ingest.transport import Transport, TransportError, UnsafeHostName

log = logging.getLogger(__name__)

#: The object types the checks speak about (graphmodel/checks.py), plus hosts (reachability).
MONITORED_TYPES = ("host", "host_pnic", "vnic", "vconnector", "vedge", "otep", "vservice", "network_agent",
                   "vedge_port")
PATH_LINKS = ("instance-vnic", "vnic-vconnector", "vnic-vedge", "vconnector-vedge", "vnic-vedge_port",
              "vconnector-vedge_port")
ROUNDS = "monitoring_rounds"
INTAKE_LOCK_WAIT = timedelta(seconds=20)
LEVELS = {"critical": "error", "warning": "warning", "unknown": "warning", "ok": "info"}


@dataclass
class StatusChange:
    """An object or link whose status changed in a round."""

    kind: str  # object | link
    key: str
    type: str | None
    name: str | None
    host: str | None
    previous: str | None
    status: str
    text: str
    at: datetime


@dataclass
class HostCost:
    host: str
    sections: int  # commands batched into the one session
    seconds: float
    cpu_ms: float  # this process's CPU for the host: the transport, and the parsing (and the lab's hosts in-process)
    error: str | None = None
    checked_by: str | None = None  # "host:pid" of the worker process whose task checked it (None: this process)


#: How a round checks its plans: (plans, round number) -> each plan's cost and results, in the plans' order.
CheckHosts = Callable[[list[HostPlan], int], list[tuple[HostCost, list[Result]]]]


@dataclass
class RoundResult:
    environment: str
    started: datetime
    seconds: float = 0.0
    hosts: list[HostCost] = field(default_factory=list)
    results: int = 0
    changes: list[StatusChange] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        bad = [c for c in self.changes if c.status != "ok"]
        return {"environment": self.environment, "hosts": len(self.hosts), "results": self.results,
                "changes": len(self.changes), "degraded": len(bad), "seconds": round(self.seconds, 3),
                "unreachable_hosts": sorted(h.host for h in self.hosts if h.error),
                "checked_by": sorted({h.checked_by for h in self.hosts if h.checked_by})}


def load_plans(database: Database, environment: str, hosts: Iterable[str] | None = None,
               round_number: int = 0, due: Callable[[str], frozenset[str]] | None = None) -> list[HostPlan]:
    """A plan per host from the environment's inventory, for the check types `due(host)` (all without it)."""
    query: dict[str, Any] = {"environment": environment, "type": {"$in": [*MONITORED_TYPES, "network"]}}
    docs = list(database[OBJECTS].find(query, {"_id": 0}))
    links = list(database[LINKS].find({"environment": environment, "link_type": {"$in": list(PATH_LINKS)}},
                                      {"_id": 0}))
    return plans_from_documents(docs, links, hosts, round_number, due)


def plans_from_documents(docs: list[dict[str, Any]], links: list[dict[str, Any]], hosts: Iterable[str] | None = None,
                         round_number: int = 0, due: Callable[[str], frozenset[str]] | None = None) -> list[HostPlan]:
    """A plan per host (or per one of `hosts`) from an environment's objects and path links (pure)."""
    networks = {d["id"]: d for d in docs if d["type"] == "network"}
    names = sorted({d["id"] for d in docs if d["type"] == "host"} | {d["host"] for d in docs if d.get("host")})
    wanted = set(hosts) if hosts is not None else None
    by_host: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        if doc.get("host") and doc["type"] != "network":
            by_host.setdefault(doc["host"], []).append(doc)
    # Each host is given only the links touching its objects (in stored order): plan_host filters the list it
    # gets, and the whole list per host is hosts x links (a 1,000-host VXLAN mesh has millions of links).
    touching: dict[str, list[int]] = {}
    for number, link in enumerate(links):
        for end in {link.get("source_id"), link.get("target_id")}:
            touching.setdefault(str(end), []).append(number)

    def links_of(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [links[n] for n in sorted({n for doc in objects for n in touching.get(doc["id"], ())})]

    return [plan_host(name, by_host.get(name, []), links_of(by_host.get(name, [])), networks, round_number,
                      due(name) if due else None)
            for name in names if wanted is None or name in wanted]


#: A check is due when its interval has passed, less this (round starts are not to the millisecond).
DUE_SLACK_S = 1.0


class Monitor:
    """Runs rounds of checks over one environment's hosts and writes what changed.

    Without `intervals` every round runs every check. With them (check type -> seconds,
    graphmodel.checks.check_intervals), a round runs on each host only the checks whose interval has
    passed since they last ran there (a host with none due is not contacted), and an object's status
    is the worst of its checks' latest results, kept here between rounds."""

    def __init__(self, database: Database, environment: str, transport: Transport, concurrency: int = 8,
                 clock: Callable[[], datetime] = utcnow, intervals: dict[str, int] | None = None,
                 monotonic: Callable[[], float] = time.monotonic, check_hosts: CheckHosts | None = None) -> None:
        """`check_hosts` runs the hosts' checks elsewhere (e.g. `ingest.tasks.worker_checks`: Celery tasks per
        host batch); without it they run here, `concurrency` hosts at once. Either way the results are
        written here, through the inventory writer."""
        self.db = database
        self.check_hosts = check_hosts if check_hosts is not None else self._check_here
        self.environment = environment
        self.transport = transport
        self.concurrency = max(1, concurrency)
        self.clock = clock
        self.intervals = intervals
        self.monotonic = monotonic
        self.rounds = 0  # rotates the tunnel peers pinged (checks.peers_this_round)
        self._last_run: dict[tuple[str, str], float] = {}  # (host, check type) -> start of the round that ran it
        self._latest: dict[str, dict[tuple[str, str, str], list[Result]]] = {}  # host -> (kind, key, check) -> results
        self._counters: dict[str, dict[str, dict[str, int]]] = {}  # host -> device -> error counters at the last run

    def due(self, host: str, now: float) -> frozenset[str]:
        """The check types to run on `host` in a round starting at `now` (monotonic seconds)."""
        if self.intervals is None:
            return frozenset(CHECK_TYPES_BY_NAME)
        return frozenset(name for name, seconds in self.intervals.items()
                         if (host, name) not in self._last_run
                         or now - self._last_run[(host, name)] >= seconds - DUE_SLACK_S)

    def round(self, hosts: Iterable[str] | None = None) -> RoundResult:
        """Check every host (or some) for the checks due, write the new states, and return the changes."""
        started = time.monotonic()
        now = self.monotonic()
        result = RoundResult(self.environment, self.clock())
        round_number = self.rounds
        plans = [plan for plan in load_plans(self.db, self.environment, hosts, round_number,
                                             lambda host: self.due(host, now)) if plan.checks]
        self.rounds += 1
        for plan in plans:
            plan.counters = self._counters.get(plan.host, {})
        outcomes = self.check_hosts(plans, round_number) if plans else []
        found: list[Result] = []
        for plan, (cost, results) in zip(plans, outcomes, strict=True):
            result.hosts.append(cost)
            result.results += len(results)
            found += self._remember(plan, cost, results, now)
        result.changes = apply_verdicts(self.db, self.environment, verdicts(found), self.clock, source="Calipso")
        result.seconds = time.monotonic() - started
        self.db[ROUNDS].insert_one({"environment": self.environment, "at": result.started,
                                    "seconds": result.seconds, "results": result.results,
                                    "changes": len(result.changes),
                                    "hosts": [vars(h) for h in result.hosts]})
        return result

    def _remember(self, plan: HostPlan, cost: HostCost, results: list[Result], now: float) -> list[Result]:
        """The host's latest result of every check, this round's replacing the earlier ones of the checks
        run (a host that did not answer: only its reachability results are replaced)."""
        for found in results:
            if found.check == "error_counters":
                self._counters.setdefault(plan.host, {})[found.metrics["device"]] = found.metrics["counters"]
        if self.intervals is None:
            return results  # every check ran: this round's results are the latest
        latest = self._latest.setdefault(plan.host, {})
        replaced = {"reachability"} if cost.error else {*plan.checks, "reachability"}
        for key in [k for k in latest if k[2] in replaced]:
            del latest[key]
        for found in results:
            latest.setdefault((found.kind, found.key, found.check), []).append(found)
        if cost.error is None:
            self._last_run.update({(plan.host, name): now for name in plan.checks})
        return [found for items in latest.values() for found in items]

    def _check_here(self, plans: list[HostPlan], round_number: int) -> list[tuple[HostCost, list[Result]]]:
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="monitor") as pool:
            return list(pool.map(self._check_host, plans))

    def _check_host(self, plan: HostPlan) -> tuple[HostCost, list[Result]]:
        started, cpu = time.monotonic(), time.thread_time()
        prepare = getattr(self.transport, "prepare", None)  # BatchTransport: sudo and translation per section
        try:
            command = plan.batch(partial(prepare, plan.host)) if prepare is not None else plan.command
            answer = self.transport.run(plan.host, command, timeout=30.0 + 3 * len(plan.sections))
            results = evaluate(plan, answer.stdout)
            error = None
        except (TransportError, UnsafeHostName) as exc:  # a name that cannot be an SSH target: no answer either
            error = str(exc)
            results = [Result("object", plan.host, "reachability", "critical", f"host {plan.host} does not answer")]
            results += [Result("object", oid, "reachability", "unknown", f"host {plan.host} does not answer")
                        for oid in plan.objects if oid != plan.host]
        else:
            results.append(Result("object", plan.host, "reachability", "ok", f"host {plan.host} answers"))
        cost = HostCost(plan.host, len(plan.sections), time.monotonic() - started,
                        (time.thread_time() - cpu) * 1000, error)
        return cost, results


def plan_to_json(plan: HostPlan) -> dict[str, Any]:
    """A plan as a task's JSON argument (without its networks: a batch sends them once)."""
    return {"host": plan.host, "mechanism": plan.mechanism, "sections": [list(s) for s in plan.sections],
            "objects": plan.objects, "links": plan.links, "checks": sorted(plan.checks), "counters": plan.counters}


def plan_from_json(data: dict[str, Any], networks: dict[str, Any]) -> HostPlan:
    return HostPlan(data["host"], data["mechanism"], [(key, command) for key, command in data["sections"]],
                    data["objects"], data["links"], networks, frozenset(data["checks"]), data["counters"])


def check_batch(plans: list[HostPlan], transport: Transport, concurrency: int = 8,
                checked_by: str | None = None) -> list[tuple[HostCost, list[Result]]]:
    """Run one batch of a round's plans (a worker's `calipso.monitor_hosts` task), `concurrency` hosts at
    once. Nothing is read or written: the round's coordinator made the plans and writes the results."""
    checker = Monitor(cast(Database, None), "", transport, concurrency)  # it only checks: no database
    outcomes = checker._check_here(plans, 0)
    for cost, _ in outcomes:
        cost.checked_by = checked_by
    return outcomes


def apply_verdicts(database: Database, environment: str, found: list[Verdict],
                   clock: Callable[[], datetime] = utcnow, source: str = "Calipso",
                   lock_wait: timedelta = timedelta(minutes=5)) -> list[StatusChange]:
    """Write the verdicts whose status or text changed (inventory writer, under the write lock), and a
    message per change of state. Verdicts about objects or links the inventory does not hold are skipped."""
    objects = {v.key: v for v in found if v.kind == "object"}
    links = {v.key: v for v in found if v.kind == "link"}
    changes: list[StatusChange] = []
    now = clock()
    with environment_write_lock(database, environment, owner=f"monitor:{source}", wait=lock_wait):
        writer = InventoryWriter(database, environment, clock=clock)
        stored = _stored(database, OBJECTS, "id", environment, list(objects))
        docs = _updated(stored, objects, now, "object", changes)
        if docs:
            writer.write_objects(docs)
        stored = _stored(database, LINKS, "key", environment, list(links))
        docs = _updated(stored, links, now, "link", changes)
        if docs:
            writer.write_links(docs)
    for change in changes:
        if change.previous is None and change.status == "ok":
            continue  # the first result of a healthy object is no news
        what = f"{change.type or change.kind} {change.name or change.key}"
        record_message(database, Message(
            environment=environment, source_system=source, level=LEVELS.get(change.status, "info"),  # type: ignore[arg-type]
            message=f"{what}: {change.previous or 'no status'} -> {change.status}: {change.text}",
            related_object=change.key if change.kind == "object" else None,
            related_object_type=change.type, display_context=change.host,
            details={"kind": change.kind, "key": change.key, "previous": change.previous, "status": change.status,
                     "status_text": change.text}, timestamp=change.at))
    return changes


def _stored(database: Database, collection: str, field_name: str, environment: str,
            keys: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(keys), 1000):
        for doc in database[collection].find({"environment": environment, field_name: {"$in": keys[start:start + 1000]}}):
            found[doc[field_name]] = doc
    return found


def _updated(stored: dict[str, dict[str, Any]], found: dict[str, Verdict], now: datetime, kind: str,
             changes: list[StatusChange]) -> list[dict[str, Any]]:
    docs = []
    for key, verdict in found.items():
        doc = stored.get(key)
        if doc is None:
            continue
        if doc.get("status") == verdict.status and doc.get("status_text") == verdict.text:
            continue
        previous = doc.get("status")
        since = doc.get("status_since") if previous == verdict.status else now
        docs.append({**{k: v for k, v in doc.items() if k != "_id"}, "status": verdict.status,
                     "status_text": verdict.text, "status_since": since or now})
        if previous != verdict.status:
            changes.append(StatusChange(kind, key, doc.get("type") or doc.get("link_type"), doc.get("name"),
                                        doc.get("host"), previous, verdict.status, verdict.text, now))
    return docs


class BatchTransport:
    """The environment's SSH transport for monitoring rounds. A round sends one shell line per host; a
    scan's transport would put sudo and the container prefix before the whole line, where they cover
    its first command only. Here the line goes as it is, and `prepare` makes each section's command
    as the scan would send it alone: translated for the host's role, then under `sudo -n` (unless the
    host's login user is root)."""

    def __init__(self, ssh: Any, sudo: bool, translation: Any, roles: dict[str, list[str]]) -> None:
        self.ssh = ssh  # an SSHTransport configured without sudo and prefix
        self.sudo = sudo
        self.translation = translation
        self.roles = roles

    def prepare(self, host: str, command: str) -> str:
        from ingest.run import translate
        from ingest.transport import build_command

        translated = translate(command, self.roles.get(host, []), self.translation)
        return build_command(translated, user=self.ssh.target(host).user, sudo=self.sudo)

    def run(self, host: str, command: str, timeout: float = 30.0) -> Any:
        return self.ssh.run(host, command, timeout)

    def close(self) -> None:
        self.ssh.close()


def environment_transport(environment: Any, database: Database) -> BatchTransport:
    """The environment's SSH transport as a scan builds it (ingest/run.py: its CLI section, known host
    keys, command translation by the hosts' roles from the inventory), with sudo and translation per
    section of a round's line (BatchTransport). Needs revealed credentials."""
    from dataclasses import replace

    from ingest.run import ssh_config
    from ingest.transport import SSHTransport

    environment.require_credentials()
    config = ssh_config(environment, database)
    roles = {d["id"]: list(d.get("host_type") or []) for d in
             database[OBJECTS].find({"environment": environment.name, "type": "host"}, {"id": 1, "host_type": 1})}
    return BatchTransport(SSHTransport(replace(config, sudo=False, command_prefix=None, prefixed_tools=None)),
                          config.sudo, environment.cli.translation, roles)


def intake(database: Database, environment: str, tool: str, body: Any,
           clock: Callable[[], datetime] = utcnow) -> dict[str, Any]:
    """Map a Sensu or collectd body (ingest/monitoring/intake.py) and write it as a round's verdicts
    would be written; what names no object becomes one message. IntakeError for a malformed body."""
    from ingest.monitoring.intake import HostIndex, map_collectd, map_sensu

    index = HostIndex(list(database[OBJECTS].find({"environment": environment, "type": {"$in": list(MONITORED_TYPES)}},
                                                   {"_id": 0})))
    mapped = (map_sensu if tool == "sensu" else map_collectd)(body, index)
    source = "Sensu" if tool == "sensu" else "collectd"
    # An HTTP request should not wait out a long scan's write lock: WriteLockTimeout after INTAKE_LOCK_WAIT.
    changes = (apply_verdicts(database, environment, mapped.verdicts, clock, source=source, lock_wait=INTAKE_LOCK_WAIT)
               if mapped.verdicts else [])
    if mapped.unmapped:
        names = sorted({f"{u.host or '?'}/{u.device or '-'} ({u.what})" for u in mapped.unmapped})
        record_message(database, Message(
            environment=environment, source_system=source, level="warning",
            message=f"{len(mapped.unmapped)} {source} result(s) name no object of the inventory: "
                    + ", ".join(names[:20]) + (" ..." if len(names) > 20 else ""),
            details={"unmapped": names[:200]}))
    return {"mapped": len(mapped.verdicts), "unmapped": len(mapped.unmapped), "stateless": mapped.stateless,
            "changes": [{"key": c.key, "type": c.type, "previous": c.previous, "status": c.status, "text": c.text}
                        for c in changes]}
