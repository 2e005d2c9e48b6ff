"""Scheduled scans: when each runs (a pure function), where schedules live (MongoDB), and the
scheduler that runs them.

Times are UTC. A schedule is `once` (at a time, or now), `hourly` (at minute MM), `daily` (at
HH:MM), `weekly` (on a weekday at HH:MM) or `monthly` (on day DD at HH:MM; a day a month lacks
means its last day, so "31" runs on 30 April and 28/29 February).

Several schedulers may run at once, and one may die mid-scan: all state is in MongoDB. A run is
claimed by inserting a lease whose `_id` names (schedule, due time, attempt); the database's
unique `_id` lets exactly one inserter win, on MongoDB and on FerretDB alike (FerretDB's
findAndModify reads and writes in two steps, so a conditional update is not a safe claim there).
The winner renews the lease's heartbeat while the scan runs; a lease whose heartbeat is older than
the lease time is taken to be a dead scheduler's, and the next attempt number can be claimed.
"""

from __future__ import annotations

import builtins
import calendar
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from core.environments import EnvironmentNotFound, EnvironmentStore
from core.errors import CalipsoError
from ingest.records import ScanRecords
from ingest.run import scan_environment

log = logging.getLogger(__name__)

SCHEDULES = "schedules"
LEASES = "schedule_leases"
Every = Literal["once", "hourly", "daily", "weekly", "monthly"]
EVERY: tuple[str, ...] = ("once", "hourly", "daily", "weekly", "monthly")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
AT_FORMATS = {"once": "an ISO time such as 2026-12-01T02:00 (UTC), or `now`", "hourly": "MM, the minute",
              "daily": "HH:MM", "weekly": "DAY HH:MM, e.g. `sun 02:00`", "monthly": "DD HH:MM, e.g. `1 03:30`"}


class ScheduleError(CalipsoError):
    """A schedule is malformed or unknown; the message says what is expected."""


# ---------------------------------------------------------------------------------------------
# When (pure)


@dataclass(frozen=True)
class Recurrence:
    """When a schedule runs. Fields not used by `every` keep their defaults."""

    every: Every
    minute: int = 0
    hour: int = 0
    weekday: int = 0  # Monday = 0
    day: int = 1
    at: datetime | None = None  # once: when; None: as soon as a scheduler sees it


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _hour_minute(text: str, every: str) -> tuple[int, int]:
    hour, sep, minute = text.partition(":")
    if not sep or not hour.isdigit() or not minute.isdigit() or int(hour) > 23 or int(minute) > 59:
        raise ScheduleError(f"--at for {every}: expected {AT_FORMATS[every]}, got {text!r}")
    return int(hour), int(minute)


def parse_recurrence(every: str, at: str | None = None) -> Recurrence:
    """A Recurrence from `--every` and `--at`; ScheduleError says the format expected."""
    if every not in EVERY:
        raise ScheduleError(f"--every: expected one of {', '.join(EVERY)}, got {every!r}")
    text = (at or "").strip()
    if every == "once":
        if not text or text == "now":
            return Recurrence("once")
        try:
            return Recurrence("once", at=_utc(datetime.fromisoformat(text)))
        except ValueError:
            raise ScheduleError(f"--at for once: expected {AT_FORMATS['once']}, got {text!r}") from None
    if every == "hourly":
        minute_text = text.lstrip(":") or "0"
        if not minute_text.isdigit() or int(minute_text) > 59:
            raise ScheduleError(f"--at for hourly: expected {AT_FORMATS['hourly']} (0-59), got {text!r}")
        return Recurrence("hourly", minute=int(minute_text))
    if every == "daily":
        hour, minute = _hour_minute(text or "00:00", every)
        return Recurrence("daily", minute=minute, hour=hour)
    words = text.split() if text else []
    if every == "weekly":
        words = words or ["mon", "00:00"]
        if len(words) == 1:
            words.append("00:00")
        if len(words) != 2 or words[0][:3].lower() not in WEEKDAYS:
            raise ScheduleError(f"--at for weekly: expected {AT_FORMATS['weekly']}, got {text!r}")
        hour, minute = _hour_minute(words[1], every)
        return Recurrence("weekly", minute=minute, hour=hour, weekday=WEEKDAYS.index(words[0][:3].lower()))
    words = words or ["1", "00:00"]
    if len(words) == 1:
        words.append("00:00")
    if len(words) != 2 or not words[0].isdigit() or not 1 <= int(words[0]) <= 31:
        raise ScheduleError(f"--at for monthly: expected {AT_FORMATS['monthly']} (day 1-31), got {text!r}")
    hour, minute = _hour_minute(words[1], every)
    return Recurrence("monthly", minute=minute, hour=hour, day=int(words[0]))


def _monthly(year: int, month: int, rec: Recurrence) -> datetime:
    day = min(rec.day, calendar.monthrange(year, month)[1])
    return datetime(year, month, day, rec.hour, rec.minute, tzinfo=UTC)


def next_run(rec: Recurrence, after: datetime) -> datetime | None:
    """The first run strictly after `after` (None: a `once` schedule that has had its run)."""
    after = _utc(after)
    if rec.every == "once":
        return None
    if rec.every == "hourly":
        candidate = after.replace(minute=rec.minute, second=0, microsecond=0)
        return candidate if candidate > after else candidate + timedelta(hours=1)
    if rec.every == "daily":
        candidate = after.replace(hour=rec.hour, minute=rec.minute, second=0, microsecond=0)
        return candidate if candidate > after else candidate + timedelta(days=1)
    if rec.every == "weekly":
        candidate = after.replace(hour=rec.hour, minute=rec.minute, second=0, microsecond=0)
        candidate += timedelta(days=(rec.weekday - candidate.weekday()) % 7)
        return candidate if candidate > after else candidate + timedelta(days=7)
    candidate = _monthly(after.year, after.month, rec)
    if candidate > after:
        return candidate
    year, month = (after.year + 1, 1) if after.month == 12 else (after.year, after.month + 1)
    return _monthly(year, month, rec)


def first_run(rec: Recurrence, now: datetime) -> datetime:
    """When a new schedule first runs: a `once` at its time (or now), the others at their next time."""
    if rec.every == "once":
        return rec.at or _utc(now)
    result = next_run(rec, now)
    assert result is not None
    return result


def describe(rec: Recurrence) -> str:
    if rec.every == "once":
        return f"once at {rec.at:%Y-%m-%d %H:%M} UTC" if rec.at else "once, now"
    if rec.every == "hourly":
        return f"hourly at :{rec.minute:02d}"
    at = f"{rec.hour:02d}:{rec.minute:02d} UTC"
    if rec.every == "daily":
        return f"daily at {at}"
    if rec.every == "weekly":
        return f"weekly on {WEEKDAYS[rec.weekday]} at {at}"
    return f"monthly on day {rec.day} at {at}"


# ---------------------------------------------------------------------------------------------
# Where (MongoDB)


def _now() -> datetime:
    return datetime.now(UTC)


def _recurrence(document: dict[str, Any]) -> Recurrence:
    fields = dict(document["recurrence"])
    if fields.get("at") is not None:
        fields["at"] = _utc(fields["at"])
    return Recurrence(**fields)


class ScheduleStore:
    """The `schedules` collection: one document per schedule with its next run and last outcome."""

    def __init__(self, database: Database) -> None:
        self.collection = database[SCHEDULES]
        self.leases = database[LEASES]

    def add(self, environment: str, rec: Recurrence, now: datetime | None = None) -> dict[str, Any]:
        now = now or _now()
        document = {"_id": uuid.uuid4().hex[:12], "environment": environment, "every": rec.every,
                    "recurrence": {k: v for k, v in vars(rec).items()}, "description": describe(rec),
                    "enabled": True, "next_run": first_run(rec, now), "created_at": now, "runs": 0,
                    "last_run_at": None, "last_scan_id": None, "last_status": None,
                    "running_since": None, "owner": None}
        self.collection.insert_one(document)
        return document

    def get(self, schedule_id: str) -> dict[str, Any]:
        document = self.collection.find_one({"_id": schedule_id})
        if document is None:
            raise ScheduleError(f"no schedule {schedule_id!r} (`calipso schedule list` shows them)")
        return document

    def list(self, environment: str | None = None) -> list[dict[str, Any]]:
        query = {"environment": environment} if environment else {}
        return list(self.collection.find(query).sort("created_at", ASCENDING))

    def delete(self, schedule_id: str) -> None:
        if self.collection.delete_one({"_id": schedule_id}).deleted_count == 0:
            raise ScheduleError(f"no schedule {schedule_id!r} (`calipso schedule list` shows them)")
        self.leases.delete_many({"schedule_id": schedule_id})

    def due(self, now: datetime) -> builtins.list[dict[str, Any]]:  # `list` here is the method above
        return list(self.collection.find({"enabled": True, "next_run": {"$ne": None, "$lte": now}})
                    .sort("next_run", ASCENDING))

    # -- leases --------------------------------------------------------------------------------

    def claim(self, schedule: dict[str, Any], owner: str, lease: timedelta, now: datetime) -> str | None:
        """Claim the schedule's due run for `owner`; the lease id, or None if another holds it (or
        already ran it). A lease whose heartbeat is older than `lease` is taken over."""
        due = _utc(schedule["next_run"])
        last = self.leases.find_one({"schedule_id": schedule["_id"], "due": due}, sort=[("attempt", DESCENDING)])
        if last is not None:
            if last.get("finished_at") is not None or _utc(last["heartbeat"]) > now - lease:
                return None
            log.warning("schedule %s: the lease of %s is stale (last heartbeat %s); taking over",
                        schedule["_id"], last["owner"], last["heartbeat"])
        attempt = 0 if last is None else last["attempt"] + 1
        lease_id = f"{schedule['_id']}@{due.isoformat()}#{attempt}"
        try:
            self.leases.insert_one({"_id": lease_id, "schedule_id": schedule["_id"], "due": due, "attempt": attempt,
                                    "owner": owner, "started_at": now, "heartbeat": now, "finished_at": None,
                                    "scan_id": None})
        except DuplicateKeyError:
            return None  # another scheduler inserted it first
        current = self.collection.find_one({"_id": schedule["_id"]}, {"next_run": 1, "enabled": 1})
        if current is None or not current.get("enabled") or current.get("next_run") is None \
                or _utc(current["next_run"]) != due:
            # Our read of the schedule was old: the run it showed is done (or it was deleted).
            self.leases.update_one({"_id": lease_id}, {"$set": {"finished_at": now, "status": "superseded"}})
            return None
        self.collection.update_one({"_id": schedule["_id"]}, {"$set": {"running_since": now, "owner": owner}})
        return lease_id

    def heartbeat(self, lease_id: str, now: datetime | None = None) -> None:
        self.leases.update_one({"_id": lease_id}, {"$set": {"heartbeat": now or _now()}})

    def finish(self, schedule: dict[str, Any], lease_id: str, scan_id: str | None, status: str,
               now: datetime | None = None) -> datetime | None:
        """Record the run's outcome and move the schedule to its next run (after now)."""
        now = now or _now()
        following = next_run(_recurrence(schedule), now)
        self.leases.update_one({"_id": lease_id}, {"$set": {"finished_at": now, "scan_id": scan_id,
                                                            "status": status}})
        changes: dict[str, Any] = {"next_run": following, "last_run_at": now, "last_scan_id": scan_id,
                                   "last_status": status, "running_since": None, "owner": None}
        if following is None:
            changes["enabled"] = False
        # Only if nobody moved it meanwhile (a deleted or re-timed schedule stays as it was left).
        self.collection.update_one({"_id": schedule["_id"], "next_run": schedule["next_run"]},
                                   {"$set": changes, "$inc": {"runs": 1}})
        self.leases.delete_many({"schedule_id": schedule["_id"], "finished_at": {"$ne": None},
                                 "due": {"$lt": _utc(schedule["next_run"])}})
        return following


# ---------------------------------------------------------------------------------------------
# Who runs them


ScanRunner = Callable[[Database, Any, str], Any]  # (database, environment, scan_id) -> ScanResult


def _run_scan(database: Database, environment: Any, scan_id: str) -> Any:
    return scan_environment(database, environment, scan_id=scan_id)


@dataclass
class Run:
    """One schedule run a scheduler did."""

    schedule_id: str
    environment: str
    scan_id: str | None
    status: str
    next_run: datetime | None


class Scheduler:
    """Runs due schedules, one at a time, until stopped."""

    def __init__(self, database: Database, environments: EnvironmentStore, owner: str | None = None,
                 lease: timedelta = timedelta(minutes=10), run_scan: ScanRunner = _run_scan) -> None:
        self.db = database
        self.environments = environments
        self.schedules = ScheduleStore(database)
        self.records = ScanRecords(database)
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease = lease
        self.run_scan = run_scan

    def run_due(self, stop: threading.Event | None = None) -> list[Run]:
        """Claim and run every schedule due now; those another scheduler holds are left alone."""
        runs = []
        for schedule in self.schedules.due(_now()):
            if stop is not None and stop.is_set():
                break
            lease_id = self.schedules.claim(schedule, self.owner, self.lease, _now())
            if lease_id is not None:
                runs.append(self._run(schedule, lease_id))
        return runs

    def _run(self, schedule: dict[str, Any], lease_id: str) -> Run:
        name = schedule["environment"]
        scan_id: str | None = None
        beating = threading.Event()

        def beat() -> None:
            while not beating.wait(max(1.0, self.lease.total_seconds() / 3)):
                self.schedules.heartbeat(lease_id)

        heart = threading.Thread(target=beat, name=f"lease-{schedule['_id']}", daemon=True)
        heart.start()
        try:
            environment = self.environments.decrypt(name)
            scan_id = self.records.create(name, requested_by=f"schedule:{schedule['_id']}")
            self.schedules.leases.update_one({"_id": lease_id}, {"$set": {"scan_id": scan_id}})
            log.info("schedule %s: scanning %s (scan %s)", schedule["_id"], name, scan_id)
            status = self.run_scan(self.db, environment, scan_id).status
        except EnvironmentNotFound as exc:
            status = "failed"
            log.error("schedule %s: %s", schedule["_id"], exc)
        except Exception as exc:  # noqa: BLE001 - one failed run must not stop the scheduler
            status = "failed"
            log.error("schedule %s: the scan of %s failed: %s", schedule["_id"], name, exc)
        finally:
            beating.set()
            heart.join()
        following = self.schedules.finish(schedule, lease_id, scan_id, status)
        log.info("schedule %s: %s; next run %s", schedule["_id"], status, following or "none")
        return Run(schedule["_id"], name, scan_id, status, following)

    def loop(self, stop: threading.Event, poll_s: float = 10.0,
             on_run: Callable[[Run], None] | None = None) -> None:
        """Poll for due schedules every `poll_s` until `stop` is set; a scan under way finishes first."""
        log.info("scheduler %s polling every %.1fs", self.owner, poll_s)
        while not stop.is_set():
            try:
                for run in self.run_due(stop):
                    if on_run is not None:
                        on_run(run)
            except CalipsoError as exc:
                log.error("scheduler: %s", exc)
            stop.wait(poll_s)
