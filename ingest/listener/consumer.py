"""The bus listener of one environment: a kombu consumer of the cloud's notification exchanges.

A durable queue per environment (`calipso.<env>.notifications`) is bound to each exchange of the
environment's AMQP section (`nova`, `neutron`) with routing key `notifications.info`, so events
published while the listener is away wait for it. Each message is parsed and planned (handlers.py),
applied to MongoDB (applier.py), and acknowledged only after the write, and after the debounced
rescan of every host it touched. A message that cannot be read, or whose handling fails, is
recorded in the environment's messages and acknowledged: one bad message never stops the
listener. When RabbitMQ or MongoDB goes away, the listener reconnects with backoff; messages not
yet acknowledged are delivered again, and handling them twice is harmless (writes are diffs).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import amqp.exceptions
import kombu
import kombu.exceptions
import pymongo.errors
from amqp.exceptions import NotFound
from pymongo.database import Database

from core.environments import Environment
from core.errors import CalipsoError
from core.logging import redact
from core.settings import redact_url
from ingest.listener.applier import InventoryApplier
from ingest.listener.debounce import AckQueue, Debouncer
from ingest.listener.handlers import MalformedMessage, Notification, Plan, parse_notification, plan_for
from ingest.records import Message, excerpt, record_message

ROUTING_KEY = "notifications.info"
#: Messages RabbitMQ hands over before earlier ones are acknowledged (they wait for host refreshes).
PREFETCH = 200
#: How often (seconds) the loop looks up from the socket: stop requests, due refreshes, heartbeats.
TICK_S = 0.5
#: With --once: the queue counts as drained after this long without a message.
IDLE_S = 1.0
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 30.0

Say = Callable[[str], None]
#: Rescans the subtree of one host, or hands that rescan to the workers; says what it did in a few words.
HostRefresher = Callable[[str], str]


class StoreUnavailable(CalipsoError):
    """MongoDB did not answer while a message was handled; the message goes back to the queue."""


#: What ends a connection (RabbitMQ or MongoDB gone): the listener reconnects with backoff.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError, kombu.exceptions.KombuError, amqp.exceptions.ConnectionError, amqp.exceptions.ChannelError,
    amqp.exceptions.RecoverableConnectionError, StoreUnavailable, pymongo.errors.ConnectionFailure)


def queue_name(environment: str) -> str:
    """The environment's durable notification queue."""
    return f"calipso.{environment}.notifications"


def notification_queue(environment: Environment) -> kombu.Queue:
    """The environment's durable queue, bound to each of its AMQP section's exchanges."""
    assert environment.amqp is not None
    return kombu.Queue(
        queue_name(environment.name), durable=True, auto_delete=False,
        bindings=[kombu.binding(kombu.Exchange(name, type="topic", passive=True), routing_key=ROUTING_KEY)
                  for name in environment.amqp.exchanges])


def declare_exchanges(connection: kombu.Connection, exchanges: list[str]) -> None:
    """Declare each exchange the way its publisher does if it does not exist yet; an existing one
    is kept as it is (redeclaring it with other flags would close the channel)."""
    for name in exchanges:
        with connection.channel() as channel:
            try:
                kombu.Exchange(name, type="topic", passive=True)(channel).declare()
                continue
            except NotFound:
                pass
        with connection.channel() as channel:  # oslo.messaging's default: a transient topic exchange
            kombu.Exchange(name, type="topic", durable=False)(channel).declare()


def bind_notification_queue(environment: Environment, purge: bool = False) -> None:
    """Declare and bind the environment's queue now, before any listener runs: events published from
    here on wait in it. With `purge`, events already waiting are dropped (a fresh scan supersedes them)."""
    if environment.amqp is None:
        raise CalipsoError(f"environment {environment.name!r} has no amqp section: no queue to bind")
    with kombu.Connection(environment.amqp.connection_url(), connect_timeout=5) as connection:
        connection.ensure_connection(max_retries=1, timeout=10)
        declare_exchanges(connection, environment.amqp.exchanges)
        queue = notification_queue(environment)(connection.default_channel)
        queue.declare()
        if purge:
            queue.purge()


@dataclass
class ListenerStats:
    received: int = 0
    handled: int = 0
    ignored: int = 0
    malformed: int = 0
    failed: int = 0
    refreshes: int = 0
    refresh_failures: int = 0
    connections: int = 0

    def summary(self) -> str:
        return (f"{self.received} messages: {self.handled} handled, {self.ignored} ignored, {self.malformed} "
                f"malformed, {self.failed} failed; {self.refreshes} host refreshes "
                f"({self.refresh_failures} failed); {self.connections} connection(s)")


class Backoff:
    """Delays between reconnection attempts: doubling from `first` up to `ceiling`."""

    def __init__(self, first: float = BACKOFF_FIRST_S, ceiling: float = BACKOFF_MAX_S) -> None:
        self.first, self.ceiling, self.current = first, ceiling, first

    def next(self) -> float:
        delay = self.current
        self.current = min(self.ceiling, self.current * 2)
        return delay

    def reset(self) -> None:
        self.current = self.first


def _quiet(line: str) -> None:
    pass


class Listener:
    """Consumes one environment's notifications until stopped."""

    def __init__(self, database: Database, environment: Environment, applier: InventoryApplier,
                 refresh_host: HostRefresher, window_s: float = 2.0, say: Say = _quiet,
                 backoff: Backoff | None = None) -> None:
        if environment.amqp is None:
            raise CalipsoError(f"environment {environment.name!r} has no amqp section: nothing to listen to")
        self.db = database
        self.environment = environment
        self.amqp = environment.amqp
        self.applier = applier
        self.refresh_host = refresh_host
        self.say = say
        self.backoff = backoff or Backoff()
        self.debouncer = Debouncer(window_s)
        self.waiting: AckQueue[kombu.Message] = AckQueue()
        self.stats = ListenerStats()
        self.queue = notification_queue(environment)
        self._last_message = time.monotonic()

    # -- the loop ------------------------------------------------------------------------------------

    def run(self, stop: threading.Event, timeout_s: float | None = None, once: bool = False) -> ListenerStats:
        """Consume until `stop` is set, `timeout_s` has passed, or (with `once`) the queue is drained."""
        deadline = time.monotonic() + timeout_s if timeout_s is not None else None
        where = redact_url(self.amqp.url)

        def finished() -> bool:
            return stop.is_set() or (deadline is not None and time.monotonic() >= deadline)

        while not finished():
            connected = False
            try:
                with kombu.Connection(self.amqp.connection_url(), connect_timeout=5, heartbeat=60) as connection:
                    connection.ensure_connection(max_retries=1, timeout=10)
                    declare_exchanges(connection, self.amqp.exchanges)
                    connected = True
                    self.stats.connections += 1
                    self.backoff.reset()
                    self._last_message = time.monotonic()
                    with connection.Consumer([self.queue], on_message=self._on_message, prefetch_count=PREFETCH,
                                             no_ack=False):
                        # Said once the queue is declared and bound: from here on no event is lost.
                        self.say(f"listening to {self.environment.name} on {where}: queue {self.queue.name} bound "
                                 f"to {', '.join(self.amqp.exchanges)} ({ROUTING_KEY})")
                        while not finished():
                            wait = self.debouncer.seconds_to_next()
                            try:
                                connection.drain_events(timeout=TICK_S if wait is None else min(TICK_S, wait) or 0.01)
                            except TimeoutError:
                                connection.heartbeat_check()
                            self._refresh(self.debouncer.take_due())
                            if once and time.monotonic() - self._last_message >= IDLE_S:
                                self._refresh(self.debouncer.take_all())
                                if not len(self.waiting):
                                    return self.stats
                        self._refresh(self.debouncer.take_all())  # stopping: finish what was started
                return self.stats
            except CONNECTION_ERRORS as exc:
                self.waiting.clear()  # not acknowledged: RabbitMQ delivers them again
                self.debouncer.clear()
                delay = self.backoff.next()
                what = "connection lost" if connected else "cannot connect"
                if once and not connected:
                    raise CalipsoError(redact(f"{what} to {where}: {type(exc).__name__}: {exc}")) from None
                self.say(redact(f"{what} ({type(exc).__name__}: {exc}); reconnecting to {where} in {delay:g}s"))
                stop.wait(delay if deadline is None else max(0.0, min(delay, deadline - time.monotonic())))
        return self.stats

    # -- one message ------------------------------------------------------------------------------------

    def _on_message(self, message: kombu.Message) -> None:
        self.stats.received += 1
        self._last_message = time.monotonic()
        exchange = str((message.delivery_info or {}).get("exchange") or "?")
        try:
            notification = parse_notification(message.body, exchange)
        except MalformedMessage as bad:
            self.stats.malformed += 1
            self._record("warning", f"unreadable notification on exchange {exchange}: {bad.reason}",
                         details={"exchange": exchange, "event_type": bad.event_type, "excerpt": bad.excerpt})
            self.say(f"{exchange}: unreadable message ({bad.reason}); recorded")
            message.ack()
            return
        try:
            plan = plan_for(notification)
        except MalformedMessage as bad:
            self.stats.malformed += 1
            self._record("warning", f"unreadable notification on exchange {exchange}: {bad.reason}",
                         details={"exchange": exchange, "event_type": notification.event_type,
                                  "excerpt": bad.excerpt, "message_id": notification.message_id})
            self.say(f"{exchange}: {notification.event_type}: {bad.reason}; recorded")
            message.ack()
            return
        if plan is None:
            self.stats.ignored += 1
            message.ack()
            return
        self._handle(message, notification, plan)

    def _handle(self, message: kombu.Message, notification: Notification, plan: Plan) -> None:
        try:
            applied = self.applier.apply(plan)
        except pymongo.errors.ConnectionFailure as exc:
            raise StoreUnavailable(f"MongoDB: {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - one event's failure is recorded, never the daemon's end
            self.stats.failed += 1
            # What the event names is rescanned instead: the hosts it names directly (the others
            # are found through stored objects, which is what may have failed).
            hosts = sorted(set(plan.refresh_hosts))
            instead = f"; a rescan of {', '.join(hosts)} follows" if hosts else ""
            self._record("error", f"{plan.describe()}: could not be applied: {type(exc).__name__}: {exc}{instead}",
                         plan=plan, details={**self._details(notification), "rescan": hosts})
            self.say(redact(f"{plan.describe()}: failed ({type(exc).__name__}: {exc}); recorded{instead}"))
            for host in hosts:
                self.debouncer.request(host)
            if hosts:
                self.waiting.add(message, hosts)
            else:
                message.ack()
            return
        self.stats.handled += 1
        written = applied.written
        self._record("info", plan.describe(), plan=plan,
                     details={**self._details(notification), "new": written.new, "changed": written.changed,
                              "deleted": written.deleted, "hosts": applied.hosts})
        new_hosts = [host for host in applied.hosts if self.debouncer.request(host)]
        refresh = f"; refresh of {', '.join(applied.hosts)}" if applied.hosts else ""
        joined = " (joins a pending one)" if applied.hosts and not new_hosts else ""
        self.say(f"{plan.describe()}: {written.new} new, {written.changed} changed, {written.deleted} deleted"
                 f"{refresh}{joined}")
        if applied.hosts:
            self.waiting.add(message, applied.hosts)
        else:
            message.ack()

    def _refresh(self, hosts: list[str]) -> None:
        for host in hosts:
            started = time.perf_counter()
            try:
                done = self.refresh_host(host)
                self.stats.refreshes += 1
                self.say(f"refreshed {host}: {done} in {time.perf_counter() - started:.1f}s")
            except pymongo.errors.ConnectionFailure as exc:
                raise StoreUnavailable(f"MongoDB: {exc}") from exc
            except Exception as exc:  # noqa: BLE001 - recorded; the next full scan catches up
                self.stats.refresh_failures += 1
                self._record("error", f"refresh of host {host} after bus events failed: {type(exc).__name__}: {exc}",
                             related_object=host, related_object_type="host")
                self.say(redact(f"refresh of {host} failed ({type(exc).__name__}: {exc}); recorded"))
            for message in self.waiting.refreshed(host):
                message.ack()

    # -- messages -----------------------------------------------------------------------------------------

    @staticmethod
    def _details(notification: Notification) -> dict[str, Any]:
        return {"exchange": notification.exchange, "event_type": notification.event_type,
                "publisher_id": notification.publisher_id, "message_id": notification.message_id,
                "timestamp": notification.timestamp}

    def _record(self, level: str, text: str, plan: Plan | None = None, related_object: str | None = None,
                related_object_type: str | None = None, details: dict[str, Any] | None = None) -> None:
        if plan is not None:
            related_object, related_object_type = plan.subject_id, plan.subject_type
        details = dict(details or {})
        if isinstance(details.get("excerpt"), str):
            details["excerpt"] = excerpt(details["excerpt"])
        try:
            record_message(self.db, Message(self.environment.name, "OpenStack", level, text,  # type: ignore[arg-type]
                                            related_object=related_object, related_object_type=related_object_type,
                                            display_context="listener", details=details))
        except pymongo.errors.ConnectionFailure as exc:
            raise StoreUnavailable(f"MongoDB: {exc}") from exc

