"""`calipso listen [NAME]...`: follow environments' message buses and keep their inventory current."""

from __future__ import annotations

import functools
import signal
import sys
import threading

import click

from calipso.common import cli_settings
from calipso.env_commands import environment_store
from core.errors import CalipsoError
from core.stores import Stores


@click.command("listen")
@click.argument("names", metavar="[NAME]...", nargs=-1)
@click.option("--once", "just_once", is_flag=True,
              help="Handle what is queued now (and the host refreshes it asks for), then exit.")
@click.option("--timeout", "timeout_s", default=None, type=click.FloatRange(0, None), metavar="S",
              help="Stop after S seconds.")
@click.option("--window", "window_s", default=2.0, show_default=True, type=click.FloatRange(0, 600), metavar="S",
              help="Debounce: events about one host within S seconds cause one rescan of it.")
def listen(names: tuple[str, ...], just_once: bool, timeout_s: float | None, window_s: float) -> None:
    """Listen to the notifications (nova, neutron) of environment NAME, or of every environment with an
    amqp section, and apply each to the inventory: the object the event names is written or deleted
    (with history and the changes feed), then the hosts it touched are rescanned: by the workers
    (`calipso worker`) when one is alive, here otherwise. An event that cannot be applied is recorded
    and the hosts it names are rescanned instead. Each environment has
    a durable queue `calipso.NAME.notifications`, so events sent while no listener runs are not lost.
    Progress goes to stderr; SIGTERM or Ctrl-C stops after the work under way."""
    from ingest.listener.run import build_listener
    from migrations import runner as migration_runner

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with Stores(cli_settings()) as stores:
        store = environment_store(stores)
        chosen = list(names) or [n for n in store.names() if store.get(n).amqp is not None]
        if not chosen:
            raise CalipsoError("no environment has an amqp section: add one, or name an environment")
        environments = [store.decrypt(name) for name in chosen]
        for environment in environments:
            if environment.amqp is None:
                raise CalipsoError(f"environment {environment.name!r} has no amqp section: nothing to listen to "
                                   "(add amqp.url to its configuration)")
        migration_runner.apply_mongo(stores.mongo)
        failures: list[str] = []

        def run(environment_name: str, listener) -> None:
            try:
                stats = listener.run(stop, timeout_s=timeout_s, once=just_once)
                say(environment_name, f"stopped: {stats.summary()}")
            except Exception as exc:  # noqa: BLE001 - one environment's end is reported, the others go on
                failures.append(environment_name)
                say(environment_name, f"stopped by an error: {type(exc).__name__}: {exc}")

        def say(environment_name: str, line: str) -> None:
            click.echo(f"{environment_name}: {line}", err=True)

        from core.services import Heartbeat

        heartbeat = Heartbeat(stores.mongo, "listener")
        heartbeat.details = {"environments": [e.name for e in environments]}
        heartbeat.start()
        threads = []
        for environment in environments:
            listener = build_listener(stores.mongo, environment, window_s=window_s,
                                      say=functools.partial(say, environment.name), settings=stores.settings)
            threads.append(threading.Thread(target=run, args=(environment.name, listener),
                                            name=f"listen-{environment.name}", daemon=True))
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            for thread in threads:
                thread.join(timeout=0.5)
        heartbeat.stop()
    click.echo("listener stopped", err=True)
    if failures:
        sys.exit(1)

