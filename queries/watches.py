"""Watches: focal VMs whose paths someone wants to hear about, alerted on degradation and recovery.

A watch (MongoDB `watches`) names focal objects (VMs or DHCP/router namespaces) and optionally a
webhook URL. `evaluate_watches` runs after each monitoring round (the projector has carried the
new statuses into Neo4j): it reads each focal VM's path (the hops RCA walks, queries/rca.py, plus
the failing DHCP and router namespaces of its networks) with each hop's monitoring status. A watch
whose path goes from healthy to degraded calls its webhook with what changed, the paths with their
health and RCA's top suspects; back to healthy, it calls with the time to recovery. Each delivery
is a JSON POST, retried with exponential backoff, and recorded (`watch_deliveries`). A watch with an
`email` address gets the same content by e-mail through the configured SMTP server (CALIPSO_SMTP_*:
a text summary and the webhook's JSON attached), retried and recorded the same way.
"""

from __future__ import annotations

import builtins
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import neo4j

from core.errors import CalipsoError
from core.settings import EMAIL_ADDRESS, Settings
from core.stores import MongoDatabase
from queries.datapath import load_datapath, resolve_objects
from queries.loader import run_query
from queries.rca import focal_paths, rca

log = logging.getLogger(__name__)

WATCHES = "watches"
DELIVERIES = "watch_deliveries"
#: Monitoring statuses, best first (graphmodel/checks.py); a hop without one counts as ok.
SEVERITY = {"ok": 0, "unknown": 1, "warning": 2, "critical": 3}
FOCAL_TYPES = ("instance", "vservice")
MAX_FOCAL = 1000
#: What the API lets through as a webhook (check_webhook accepts all of it): http(s), a host name or IPv4
#: address without credentials, an optional port, then anything.
WEBHOOK_PATTERN = r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?([/?#][^\x00]*)?$"


class WatchError(CalipsoError):
    """A watch that cannot be made as asked (unknown VM, bad webhook URL)."""


def check_webhook(url: str | None) -> str | None:
    """A webhook URL we will call: http(s) with a host and no credentials in it."""
    if url is None or url == "":
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        raise WatchError(f"webhook is not a URL: {url[:100]!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WatchError(f"webhook must be an http:// or https:// URL with a host, not {url[:100]!r}")
    if parts.username or parts.password:
        raise WatchError("webhook must not carry credentials (user:password@) in its URL")
    return url


def check_email(address: str | None) -> str | None:
    """An e-mail address we will send to: one plain address (no name, list or line break)."""
    if address is None or address == "":
        return None
    if not EMAIL_ADDRESS.fullmatch(address):
        raise WatchError(f"email must be one address such as ops@example.org, not {address[:100]!r}")
    return address


@dataclass
class Hop:
    id: str
    type: str | None
    name: str | None
    host: str | None
    depth: int
    status: str  # ok when the object has no monitoring status
    status_text: str | None


@dataclass
class PathHealth:
    focal: str
    name: str | None
    hops: list[Hop] = field(default_factory=list)

    @property
    def status(self) -> str:
        return max((h.status for h in self.hops), key=SEVERITY.__getitem__, default="ok")


def _status(node: dict[str, Any]) -> str:
    value = str(node.get("status") or "ok").lower()
    return value if value in SEVERITY else "ok"  # a Neutron port's own ACTIVE/DOWN is no monitoring status


def path_health(driver: neo4j.Driver, environment: str, focal: Sequence[str]) -> list[PathHealth]:
    """Each focal object's path with the monitoring status of every hop (ids or unique names)."""
    objects = resolve_objects(driver, environment, list(focal), types=FOCAL_TYPES)
    datapath = load_datapath(driver, environment, {o["host"] for o in objects if o.get("host")})
    found = []
    for obj in objects:
        path = focal_paths(datapath, obj["id"])
        health = PathHealth(obj["id"], obj.get("name"))
        for node_id, depth in sorted(path.depth.items(), key=lambda item: (item[1], item[0])):
            node = datapath.nodes.get(node_id, {})
            health.hops.append(Hop(node_id, node.get("type"), node.get("name"), node.get("host"), depth,
                                   _status(node), node.get("status_text")))
        seen = {h.id for h in health.hops}
        for service in run_query(driver, "failing_services", env=environment, networks=sorted(path.networks)):
            if service["id"] not in seen:
                health.hops.append(Hop(service["id"], service["type"], service["name"], service["host"], 100,
                                       _status(service), service.get("status_text")))
        found.append(health)
    return found


class WatchStore:
    """The `watches` collection."""

    def __init__(self, database: MongoDatabase) -> None:
        self.db = database

    def add(self, environment: str, focal: list[str], webhook: str | None, created_by: str,
            email: str | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "_id": uuid.uuid4().hex, "environment": environment, "focal": focal, "webhook": check_webhook(webhook),
            "email": check_email(email), "created_by": created_by, "created_at": datetime.now(UTC), "state": "unknown",
            "since": None, "hops": {}}
        self.db[WATCHES].insert_one(doc)
        return doc

    def list(self, environment: str) -> list[dict[str, Any]]:
        return list(self.db[WATCHES].find({"environment": environment}).sort("created_at", 1))

    def get(self, environment: str, watch_id: str) -> dict[str, Any] | None:
        return self.db[WATCHES].find_one({"_id": watch_id, "environment": environment})

    def delete(self, environment: str, watch_id: str) -> bool:
        return self.db[WATCHES].delete_one({"_id": watch_id, "environment": environment}).deleted_count == 1

    def deliveries(self, watch_id: str, limit: int = 50) -> builtins.list[dict[str, Any]]:  # `list`: the method above
        return list(self.db[DELIVERIES].find({"watch_id": watch_id}).sort("at", -1).limit(limit))


def unknown_focal(driver: neo4j.Driver, environment: str, references: Sequence[str]) -> list[str]:
    """Those of `references` that name no object at all (neither an id nor a name)."""
    rows = run_query(driver, "objects_by_reference", env=environment, refs=list(references))
    return sorted({row["ref"] for row in rows if row["exact"] is None and not row["named"]})


def make_watch(database: MongoDatabase, driver: neo4j.Driver, environment: str, focal: Sequence[str],
               webhook: str | None, created_by: str, email: str | None = None,
               settings: Settings | None = None) -> dict[str, Any]:
    """A new watch on objects named by id or unique name (WatchError when one is unknown, or when it asks
    for e-mail and `settings` name no SMTP server)."""
    if not focal or len(focal) > MAX_FOCAL:
        raise WatchError(f"a watch names 1 to {MAX_FOCAL} focal VMs")
    from queries.datapath import AnalysisError

    try:
        ids = [o["id"] for o in resolve_objects(driver, environment, list(focal), types=FOCAL_TYPES)]
    except AnalysisError as exc:
        raise WatchError(str(exc)) from None
    if email and (settings is None or not settings.smtp_host):
        raise WatchError("e-mail needs an SMTP server: this Calipso has none configured (CALIPSO_SMTP_HOST)")
    check_email(email)
    return WatchStore(database).add(environment, list(dict.fromkeys(ids)), webhook, created_by, email)


@dataclass
class Delivery:
    url: str
    event: str
    delivered: bool
    attempts: list[dict[str, Any]]


def deliver(url: str, payload: dict[str, Any], retries: int = 3, backoff_s: float = 1.0,
            timeout_s: float = 5.0, sleep: Callable[[float], None] = time.sleep) -> Delivery:
    """POST `payload` as JSON; retry on a failure or a non-2xx answer after backoff_s, 2x, 4x..."""
    data = json.dumps(payload, default=str).encode()
    attempts: list[dict[str, Any]] = []
    for attempt in range(retries + 1):
        if attempt:
            sleep(backoff_s * 2 ** (attempt - 1))
        started = datetime.now(UTC)
        request = urllib.request.Request(url, data=data, method="POST",
                                         headers={"Content-Type": "application/json", "User-Agent": "calipso-watch"})
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as answer:  # noqa: S310 - http(s) checked
                attempts.append({"at": started, "status": answer.status})
                if 200 <= answer.status < 300:
                    return Delivery(url, payload["event"], True, attempts)
        except urllib.error.HTTPError as exc:
            attempts.append({"at": started, "status": exc.code})
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            attempts.append({"at": started, "error": str(reason)[:200]})
    return Delivery(url, payload["event"], False, attempts)


def mail_text(payload: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of a watch's e-mail: what the webhook says, readable."""
    names = ", ".join(str(p.get("name") or p["focal"]) for p in payload.get("paths", [])) or ", ".join(payload["focal"])
    subject = f"[Calipso] {payload['environment']}: {names} {payload['event']}"
    lines = [f"Watch {payload['watch_id']} in environment {payload['environment']}: {payload['event']} at "
             f"{payload['at']} (health: {payload['health']}).", ""]
    if "time_to_recovery_s" in payload:
        lines += [f"Time to recovery: {payload['time_to_recovery_s']} s", ""]
    if payload.get("changed"):
        lines.append("What changed:")
        lines += [f"  {c.get('type') or ''} {c.get('name') or c['id']}: {c['previous']} -> {c['status']}"
                  + (f" ({c['status_text']})" if c.get("status_text") and c["status"] != "ok" else "")
                  for c in payload["changed"]]
        lines.append("")
    if payload.get("suspects"):
        lines.append("Root-cause suspects:")
        lines += [f"  {s['rank']}. {s.get('type') or ''} {s.get('name') or s['id']} (score {s['score']})"
                  for s in payload["suspects"]]
        lines.append("")
    for path in payload.get("paths", []):
        bad = [h for h in path["hops"] if h["status"] != "ok"]
        lines.append(f"Path of {path.get('name') or path['focal']}: {path['status']}, {len(path['hops'])} hops"
                     + (f", not ok: {', '.join(str(h.get('name') or h['id']) for h in bad)}" if bad else ""))
    lines += ["", "The same content as JSON is attached (watch.json)."]
    return subject, "\n".join(lines) + "\n"


def smtp_mailer(settings: Settings, retries: int = 3, backoff_s: float = 1.0, timeout_s: float = 10.0,
                sleep: Callable[[float], None] = time.sleep) -> Callable[[str, dict[str, Any]], Delivery] | None:
    """A function sending a watch's payload by e-mail through the configured SMTP server (None when none
    is configured), retried like a webhook: after backoff_s, 2x, 4x..."""
    if not settings.smtp_host or not settings.smtp_from:
        return None
    host, port, sender = settings.smtp_host, settings.smtp_port, settings.smtp_from

    def send(address: str, payload: dict[str, Any]) -> Delivery:
        import smtplib
        import ssl
        from email.message import EmailMessage

        subject, text = mail_text(payload)
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = sender, address, subject
        message.set_content(text)
        message.add_attachment(json.dumps(payload, default=str, indent=1).encode(), maintype="application",
                               subtype="json", filename="watch.json")
        attempts: list[dict[str, Any]] = []
        for attempt in range(retries + 1):
            if attempt:
                sleep(backoff_s * 2 ** (attempt - 1))
            started = datetime.now(UTC)
            try:
                with smtplib.SMTP(host, port, timeout=timeout_s) as smtp:
                    if settings.smtp_starttls:
                        smtp.starttls(context=ssl.create_default_context())
                    if settings.smtp_user and settings.smtp_password:
                        smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
                    smtp.send_message(message)
                attempts.append({"at": started, "status": 250})
                return Delivery(f"mailto:{address}", payload["event"], True, attempts)
            except smtplib.SMTPResponseException as exc:
                attempts.append({"at": started, "status": exc.smtp_code, "error": str(exc.smtp_error)[:200]})
            except (smtplib.SMTPException, OSError) as exc:  # refused, unreachable, TLS; never the password
                attempts.append({"at": started, "error": f"{type(exc).__name__}: {str(exc)[:200]}"})
        return Delivery(f"mailto:{address}", payload["event"], False, attempts)

    return send


@dataclass
class WatchEvent:
    """A watch that changed state in an evaluation."""

    watch_id: str
    environment: str
    event: str  # degraded | recovered
    payload: dict[str, Any]
    delivery: Delivery | None
    mail: Delivery | None = None


def evaluate_watches(database: MongoDatabase, driver: neo4j.Driver, environment: str,
                     deliver_fn: Callable[[str, dict[str, Any]], Delivery] = deliver,
                     now: Callable[[], datetime] = lambda: datetime.now(UTC),
                     mail_fn: Callable[[str, dict[str, Any]], Delivery] | None = None) -> list[WatchEvent]:
    """Compare each watch's paths with its last evaluation; alert on degradation and on recovery (webhook,
    and e-mail through `mail_fn`, smtp_mailer's, for a watch with an address)."""
    events = []
    store = WatchStore(database)
    for watch in store.list(environment):
        try:
            paths = path_health(driver, environment, watch["focal"])
        except CalipsoError as exc:  # a focal VM went away
            log.warning("watch %s: %s", watch["_id"], exc)
            continue
        hops = {h.id: h for p in paths for h in p.hops}
        previous: dict[str, str] = watch.get("hops") or {}
        state = "degraded" if any(SEVERITY[p.status] >= SEVERITY["warning"] for p in paths) else "healthy"
        changed = [{"id": h.id, "type": h.type, "name": h.name, "host": h.host,
                    "previous": previous.get(h.id, "ok"), "status": h.status, "status_text": h.status_text}
                   for h in hops.values() if previous.get(h.id, "ok") != h.status]
        changed += [{"id": key, "previous": status, "status": "gone"} for key, status in previous.items()
                    if key not in hops and status != "ok"]
        at = now()
        update: dict[str, Any] = {"hops": {h.id: h.status for h in hops.values() if h.status != "ok"},
                                  "evaluated_at": at}
        event = None
        if state != watch.get("state") and (state == "degraded" or watch.get("state") == "degraded"):
            event = "degraded" if state == "degraded" else "recovered"
        elif state == "degraded" and changed:
            event = "changed"  # still degraded, but something else broke or healed
        if state != watch.get("state"):
            update.update(state=state, since=at)
        database[WATCHES].update_one({"_id": watch["_id"]}, {"$set": update})
        if event is None:
            continue
        payload: dict[str, Any] = {
            "event": event, "watch_id": watch["_id"], "environment": environment, "at": at.isoformat(),
            "focal": watch["focal"], "health": "degraded" if state == "degraded" else "ok", "changed": changed,
            "paths": [{"focal": p.focal, "name": p.name, "status": p.status,
                       "hops": [vars(h) for h in p.hops]} for p in paths]}
        if state == "degraded":
            ranked = rca(driver, environment, [p.focal for p in paths])
            payload["suspects"] = [{"rank": s.rank, "id": s.id, "type": s.type, "name": s.name, "host": s.host,
                                    "score": round(s.score, 2), "evidence": s.evidence} for s in ranked.suspects[:3]]
        elif watch.get("since"):
            since = watch["since"] if watch["since"].tzinfo else watch["since"].replace(tzinfo=UTC)
            payload["time_to_recovery_s"] = round((at - since).total_seconds(), 3)
        delivery = None
        if watch.get("webhook"):
            delivery = deliver_fn(watch["webhook"], payload)
            database[DELIVERIES].insert_one({"watch_id": watch["_id"], "environment": environment, "event": event,
                                             "at": at, "url": watch["webhook"], "channel": "webhook",
                                             "delivered": delivery.delivered,
                                             "attempts": delivery.attempts})
        mail = None
        if watch.get("email"):
            if mail_fn is None:
                mail = Delivery(f"mailto:{watch['email']}", event, False,
                                [{"at": at, "error": "no SMTP server configured (CALIPSO_SMTP_HOST)"}])
            else:
                mail = mail_fn(watch["email"], payload)
            database[DELIVERIES].insert_one({"watch_id": watch["_id"], "environment": environment, "event": event,
                                             "at": at, "url": mail.url, "channel": "email",
                                             "delivered": mail.delivered, "attempts": mail.attempts})
        events.append(WatchEvent(watch["_id"], environment, event, payload, delivery, mail))
    return events
