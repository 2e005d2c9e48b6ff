"""`calipso env add|list|show|delete|test|trust`: the environments Calipso scans."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
import yaml
from pymongo.database import Database

from calipso.common import CalipsoGroup, cli_settings, err
from calipso.output import emit, format_option
from core.environments import Environment, EnvironmentConfigError, EnvironmentStore
from core.errors import CalipsoError
from core.known_hosts import KnownHosts
from core.settings import Settings
from core.stores import Stores


def environment_store(stores: Stores) -> EnvironmentStore:
    return EnvironmentStore.from_settings(stores.mongo, stores.settings)


def read_config_file(path: str) -> dict[str, Any]:
    """The YAML (or JSON) document of an environment; errors name the file."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise EnvironmentConfigError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise EnvironmentConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise EnvironmentConfigError(f"{path} must hold a mapping of sections (openstack, cli, ...)")
    return data


def lab_environment(name: str, settings: Settings, world_file: str | None = None) -> Environment:
    """An environment for the lab `calipso lab up` serves: its endpoints, its SSH key (stored
    encrypted, so the environment does not depend on the key file), the variant of its world."""
    from lab.service import LabService
    from lab.world import load_world

    endpoints = LabService(settings).endpoints()
    world = load_world(world_file or endpoints["world_file"])
    cloud, cli = endpoints["openstack"], endpoints["cli"]
    return Environment.parse({
        "name": name,
        "distribution": world.distribution.name,
        "distribution_version": world.distribution.version,
        "mechanism_drivers": [world.mechanism_driver],
        "type_drivers": [world.type_driver],
        "openstack": {"auth_url": cloud["auth_url"], "username": cloud["username"], "password": cloud["password"],
                      "project": cloud["project_name"], "user_domain": cloud["user_domain_name"],
                      "project_domain": cloud["project_domain_name"], "region": cloud["region_name"]},
        "cli": {"user": cli["user"], "private_key": Path(cli["key_file"]).read_text(),
                "jump_host": f"{cli['user']}@{cli['host']}:{cli['port']}"},
        "amqp": {"url": settings.amqp_url, "exchanges": ["nova", "neutron"]},
        # a real lab's NICs are veth cables (no PCI device): declared, as a cloud with unusual NICs would
        "uplinks": {h.name: [n.name for n in h.nics] for h in world.hosts} if "real" in endpoints else {},
    })


def lab_host_keys(settings: Settings, world_file: str | None = None) -> dict[str, dict[str, str]]:
    """The host keys of the lab `calipso lab up` serves, without a network round trip: the key its
    SSH server shows (listed in its endpoints file) for the jump host and every host of the world."""
    from lab.service import LabService, lab_known_host_keys
    from lab.world import load_world

    endpoints = LabService(settings).endpoints()
    world = load_world(world_file or endpoints["world_file"])
    return lab_known_host_keys(endpoints, [host.name for host in world.hosts])


def enrol_lab_host_keys(database: Database, name: str, settings: Settings, world_file: str | None = None) -> int:
    """Record the lab's host keys as environment `name`'s known keys; how many hosts."""
    known = KnownHosts(database)
    keys = lab_host_keys(settings, world_file)
    for host, by_type in keys.items():
        for key_type, key in by_type.items():
            known.record(name, host, key_type, key)
    return len(keys)


def save_lab_environment(stores: Stores, name: str, settings: Settings, world_file: str | None = None,
                         replace: bool = True) -> str:
    """Add (or update) environment `name` for the running lab and enrol its host keys."""
    action = save_environment(environment_store(stores), lab_environment(name, settings, world_file), replace)
    enrol_lab_host_keys(stores.mongo, name, settings, world_file)
    return action


def save_environment(store: EnvironmentStore, environment: Environment, replace: bool) -> str:
    if replace and store.exists(environment.name):
        store.update(environment)
        return "updated"
    store.add(environment)
    return "added"


def _flatten(document: dict[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    rows = []
    for key, value in document.items():
        if isinstance(value, dict) and value:
            rows += _flatten(value, f"{prefix}{key}.")
        else:
            rows.append({"key": prefix + key, "value": value})
    return rows


@click.group("env", cls=CalipsoGroup)
def env() -> None:
    """Environments: the clouds to scan, with how to reach their APIs, hosts, bus and monitoring.
    Credentials are stored encrypted (CALIPSO_SECRET_KEY) and never shown."""


@env.command("add")
@click.argument("name")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False),
              help="YAML document with the sections openstack, cli, amqp, monitoring and the variant.")
@click.option("--from-lab", "from_lab", is_flag=True,
              help="Fill every section from the lab `calipso lab up` is serving.")
@click.argument("world_file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--replace", is_flag=True, help="Update NAME if it exists instead of refusing.")
@format_option
def env_add(name: str, config_file: str | None, from_lab: bool, world_file: str | None, replace: bool,
            output_format: str) -> None:
    """Add environment NAME from --config FILE, or --from-lab [WORLD_FILE] (the running lab; the
    world file, by default the one it serves, gives distribution, mechanism and type drivers)."""
    if bool(config_file) == from_lab:
        raise click.UsageError("give exactly one of --config FILE and --from-lab")
    if world_file and not from_lab:
        raise click.UsageError("WORLD_FILE goes with --from-lab")
    settings = cli_settings()
    if from_lab:
        environment = lab_environment(name, settings, world_file)
    else:
        environment = Environment.parse(read_config_file(config_file or ""), name=name)
    with Stores(settings) as stores:
        action = save_environment(environment_store(stores), environment, replace)
        if from_lab:  # the lab's hosts are trusted as they are: enrol their keys for strict checking
            enrol_lab_host_keys(stores.mongo, name, settings, world_file)
    public = environment.public()
    emit([{"name": name, "action": action, "auth_url": public["openstack"]["auth_url"],
           "mechanism_drivers": public["mechanism_drivers"], "type_drivers": public["type_drivers"]}],
         ["name", "action", "auth_url", "mechanism_drivers", "type_drivers"], output_format)


@env.command("list")
@format_option
def env_list(output_format: str) -> None:
    """Every environment (credentials masked)."""
    with Stores(cli_settings()) as stores:
        rows = environment_store(stores).list()
    for row in rows:
        row["auth_url"] = row["openstack"]["auth_url"]
        row["ssh"] = row["cli"]["jump_host"] or f"{row['cli']['user']}@<host>:{row['cli']['port']}"
    emit(rows, ["name", "distribution", "mechanism_drivers", "type_drivers", "auth_url", "ssh", "updated_at"],
         output_format)


@env.command("show")
@click.argument("name")
@format_option
def env_show(name: str, output_format: str) -> None:
    """One environment's document, every credential shown as ***."""
    with Stores(cli_settings()) as stores:
        public = environment_store(stores).get(name).public()
    if output_format == "json":
        click.echo(json.dumps(public, indent=2, default=str))
        return
    emit(_flatten(public), ["key", "value"], "table", title=f"environment {name}")


@env.command("delete")
@click.argument("name")
@click.option("--purge", is_flag=True, help="Also remove its inventory, history, changes feed, scans, messages, "
                                            "schedules, known host keys, grants and graph.")
@click.option("--yes", is_flag=True, help="Do not ask before purging.")
def env_delete(name: str, purge: bool, yes: bool) -> None:
    """Delete environment NAME's configuration; with --purge, everything Calipso keeps about it
    (without it, its inventory and scans stay)."""
    from api.auth import UserStore
    from ingest.purge import purge_environment

    with Stores(cli_settings()) as stores:
        if not purge:
            environment_store(stores).delete(name)
            err.print(f"environment {name} deleted")
            return
        if not yes:
            click.confirm(f"Remove environment {name} and everything kept about it?", abort=True, err=True)
        removed = purge_environment(stores.mongo, stores.neo4j, name)
        removed["grants"] = UserStore(stores.mongo).revoke_environment(name)
    if not any(removed.values()):
        raise CalipsoError(f"no environment named {name!r}: nothing to purge")
    err.print(f"environment {name} purged: " + ", ".join(f"{n} {what}" for what, n in removed.items() if n))


@env.command("test")
@click.argument("name")
@format_option
def env_test(name: str, output_format: str) -> None:
    """Test each section's connection: OpenStack token and catalog, SSH to the jump host and every
    host, AMQP, monitoring. Exit status 1 if one fails."""
    from ingest.connections import as_rows, check_environment

    with Stores(cli_settings()) as stores:
        environment = environment_store(stores).decrypt(name)
        with err.status(f"testing {name}"):
            checks = check_environment(environment, stores.mongo)
    emit(as_rows(checks), ["section", "target", "ok", "detail", "ms"], output_format, title=f"environment {name}")
    if not all(check.ok for check in checks):
        sys.exit(1)


@env.command("trust")
@click.argument("name")
@click.option("--host", "hosts", multiple=True, metavar="H",
              help="A host to read the key of (repeatable; default: every host the OpenStack APIs list).")
@click.option("--yes", is_flag=True, help="Record the keys without asking (needed without a terminal).")
@format_option
def env_trust(name: str, hosts: tuple[str, ...], yes: bool, output_format: str) -> None:
    """Read the SSH host keys of NAME's jump host (if any) and hosts, show their SHA256 fingerprints
    and record them as known, after a confirmation. Scans check every host key against these
    (cli.host_key_policy, strict by default). Exit status 1 if a host's key could not be read."""
    from ingest.connections import read_host_keys, record_host_keys

    with Stores(cli_settings()) as stores:
        environment = environment_store(stores).decrypt(name)
        with err.status(f"reading the host keys of {name}"):
            rows = read_host_keys(environment, stores.mongo, list(hosts) or None)
        emit([vars(row) for row in rows], ["host", "key_type", "fingerprint", "state", "detail"], output_format,
             title=f"host keys of {name}")
        to_record = [row for row in rows if row.state in ("new", "changed")]
        if to_record:
            changed = [row.host for row in to_record if row.state == "changed"]
            if not yes:
                if not sys.stdin.isatty():
                    raise click.UsageError("not a terminal: give --yes to record these host keys")
                warning = f" ({len(changed)} CHANGED: {', '.join(changed)})" if changed else ""
                click.confirm(f"record {len(to_record)} host key(s) for {name}{warning}?", abort=True,
                              err=True)
            recorded = record_host_keys(name, stores.mongo, to_record)
            err.print(f"recorded {recorded} host key(s) for {name}")
        else:
            err.print("nothing new to record")
    if any(row.state == "error" for row in rows):
        sys.exit(1)
