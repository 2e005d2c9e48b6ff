"""The `calipso` command line. Every command has --help; results print as tables or --format json."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click

from core.settings import Settings, redact_url
from core.stores import Stores
from migrations import runner as migration_runner
from stack.manager import SERVERS, Stack
from calipso.common import CalipsoGroup, cli_settings, err
from calipso.output import emit, format_option

@click.group(cls=CalipsoGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="calipso")
def main() -> None:
    """Calipso: discover the path of every VM's packets and answer impact, root-cause and change questions.

    Configuration comes from environment variables (MONGO_URI, NEO4J_URI, NEO4J_PASSWORD, AMQP_URL,
    LDAP_URL, CALIPSO_HOME, ...) or a YAML file named by CALIPSO_CONFIG; `calipso config show` prints it.
    """


# -- stack ------------------------------------------------------------------------------------

only_option = click.option(
    "--only", multiple=True, type=click.Choice(list(SERVERS)),
    help="Act on this server only (repeatable). Default: all of them.")


@main.group(cls=CalipsoGroup)
def stack() -> None:
    """The local servers: Neo4j, FerretDB (MongoDB protocol), RabbitMQ and slapd, on loopback."""


@stack.command("up")
@only_option
def stack_up(only: tuple[str, ...]) -> None:
    """Build (first time) and start the local servers, and wait until each answers. Idempotent."""
    local = Stack(cli_settings(), only)
    started = time.monotonic()
    with err.status("starting the local stack") as spinner:
        ready_after = local.up(lambda name, what: spinner.update(f"{name}: {what}"))
    for name, seconds in ready_after.items():
        err.print(f"{name}: ready after {seconds:.1f}s")
    err.print(f"stack up in {time.monotonic() - started:.1f}s (data under {cli_settings().home})")


@stack.command("down")
@only_option
def stack_down(only: tuple[str, ...]) -> None:
    """Stop the local servers and every helper process they started."""
    stopped = Stack(cli_settings(), only).down(lambda name, what: err.print(f"{name}: {what}"))
    if not stopped:
        err.print("nothing was running")


@stack.command("status")
@only_option
@format_option
def stack_status(only: tuple[str, ...], output_format: str) -> None:
    """Each local server: running, ready, PID, ports and log file."""
    rows = [vars(status) for status in Stack(cli_settings(), only).status()]
    emit(rows, ["name", "running", "ready", "pid", "ports", "log"], output_format)


# -- migrations -------------------------------------------------------------------------------

@main.command()
@click.option("--status", "show_status", is_flag=True, help="List the steps and when each was applied; change nothing.")
@format_option
def migrate(show_status: bool, output_format: str) -> None:
    """Apply pending schema steps: Neo4j constraints and indexes, MongoDB indexes."""
    with Stores(cli_settings()) as stores:
        if show_status:
            states = migration_runner.status(stores.mongo, stores.neo4j)
        else:
            states = migration_runner.apply_mongo(stores.mongo) + migration_runner.apply_neo4j(stores.neo4j)
            if not states and output_format == "table":
                err.print("schema is up to date")
                return
    rows = [vars(state) for state in states]
    emit(rows, ["store", "version", "description", "applied_at"], output_format)


# -- the main job ---------------------------------------------------------------------------

@main.command()
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port of the REST API on 127.0.0.1 (0: any free port).")
@click.option("--no-serve", is_flag=True, help="Stop after the scan and the sample answers; do not serve the API.")
@format_option
def demo(port: int, no_serve: bool, output_format: str) -> None:
    """The whole product on a lab cloud: the local stack up, migrations, a round trip through every server,
    a lab world served, added as environment `demo`, scanned, projected into Neo4j, a sample impact and
    RCA answer, then the REST API served until interrupted."""
    import socket

    import waitress

    from api import PREFIX, create_app
    from calipso.demo import run_lab_demo, smoke_round_trip

    values = cli_settings()
    with err.status("starting the local stack") as spinner:
        Stack(values).up(lambda name, what: spinner.update(f"{name}: {what}"))
    with Stores(values) as stores:
        migration_runner.apply_mongo(stores.mongo)
        migration_runner.apply_neo4j(stores.neo4j)
        checks = smoke_round_trip(values, stores)
        if output_format == "table":
            emit([vars(check) for check in checks], ["server", "check", "ok", "detail", "ms"], output_format,
                 title="Calipso local stack")
        if not all(check.ok for check in checks):
            sys.exit(1)
        with err.status("the lab") as spinner:
            run = run_lab_demo(values, stores, lambda what: spinner.update(what))
    listener = socket.socket()
    listener.bind(("127.0.0.1", port))  # bound here, so that the printed URL is the one served
    listener.listen(64)  # and listening: a client reading the URL may connect before the app is built
    url = f"http://127.0.0.1:{listener.getsockname()[1]}{PREFIX}"
    ui_url = url.removesuffix(PREFIX) + "/"
    if output_format == "json":
        click.echo(json.dumps({**vars(run), "api": url, "ui": ui_url}), nl=True)
    else:
        emit([{"what": "environment", "value": run.environment},
              {"what": "scan", "value": f"{run.scan_status}: {run.objects} objects, {run.links} links"},
              {"what": f"impact if {run.impact_target} went down (VMs down)",
               "value": ", ".join(run.impact_vm_names) or "(none)"},
              {"what": "injected fault", "value": f"{run.fault} (root cause {run.fault_root_cause})"},
              {"what": f"rca for {run.rca_focal_names}", "value": ", ".join(run.rca_top_suspect_names) or "(none)"},
              {"what": "web UI", "value": f"{ui_url}  (log in as {run.ui_user}, password {run.ui_password})"},
              {"what": "API", "value": f"{url}/  (docs: {url}/docs)"},
              {"what": "token (user demo)", "value": run.token}], ["what", "value"], "table", title="Calipso demo")
        err.print(f'Try: curl -H "Authorization: Bearer {run.token}" '
                  f'"{url}/environments/demo/analysis/impact?target={run.impact_target}"')
    sys.stdout.flush()
    if no_serve:
        listener.close()
        return
    # The rest of `calipso run` (worker, scheduler, listener, projector) as supervised children, so
    # that a `calipso lab change` reaches the inventory and the graph without a command.
    import signal

    from calipso.pipeline_commands import backend_children, supervise_in_background

    # A demo stops quickly: a scan or refresh under way is cut short after 10 s (a worker's goes back to the queue).
    stop_backend, supervisor = supervise_in_background(backend_children(values, api=False), stop_grace_s=10)

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt  # SIGTERM stops the demo as Ctrl-C does: children included

    signal.signal(signal.SIGTERM, interrupt)
    app = create_app(values)
    err.print("serving the API, with a worker, the scheduler, the listener and the projector; Ctrl-C stops "
              "them (`calipso stack down` and `calipso lab down` stop the rest)")
    try:
        waitress.serve(app, sockets=[listener], threads=8, ident="calipso", _quiet=True)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the children's stop short
        stop_backend.set()
        supervisor.join(timeout=60)
        app.extensions["calipso"].stores.close()


# -- the lab ----------------------------------------------------------------------------------

@main.group(cls=CalipsoGroup)
def lab() -> None:
    """Lab clouds to run against: generate a world spec, compute its ground truth, serve it."""


@lab.command("generate")
@click.option("--hosts", default=3, show_default=True, type=click.IntRange(min=2), help="Hosts, the network node included.")
@click.option("--vms-per-host", default=2, show_default=True, type=click.IntRange(min=0), help="VMs on each compute host.")
@click.option("--networks", default=2, show_default=True, type=click.IntRange(min=1), help="Tenant networks.")
@click.option("--mechanism", type=click.Choice(["ovs", "lxb", "vpp", "sriov"]), default="ovs", show_default=True)
@click.option("--type-driver", type=click.Choice(["vxlan", "gre", "vlan", "flat"]), default="vxlan", show_default=True)
@click.option("--firewall", type=click.Choice(["hybrid", "native"]), default="hybrid", show_default=True,
              help="OVS only: qbr/qvb/qvo hybrid plug, or taps straight on br-int.")
@click.option("--seed", default=1, show_default=True, type=int, help="Same seed, same world.")
@click.option("--name", default=None, help="World name (default lab-<mechanism>-<type driver>).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True, help="Where to write the YAML spec.")
def lab_generate(hosts: int, vms_per_host: int, networks: int, mechanism: str, type_driver: str, firewall: str,
                 seed: int, name: str | None, output: str) -> None:
    """Generate a world spec (YAML), deterministic for a seed."""
    from lab.generate import generate_world
    from lab.world import save_world

    started = time.monotonic()
    try:
        world = generate_world(hosts, vms_per_host, networks, mechanism, type_driver, seed, name, firewall)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    save_world(world, output)
    err.print(f"{world.name}: {len(world.hosts)} hosts, {len(world.instances)} VMs, {len(world.networks)} networks, "
              f"{len(world.ports)} ports -> {output} ({time.monotonic() - started:.1f}s)")


@lab.command("truth")
@click.argument("world_file", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default="-", show_default=True,
              help="Where to write the JSON (- for standard output).")
def lab_truth(world_file: str, output: str) -> None:
    """The ground truth of a world spec: every object and link Calipso should discover, as JSON."""
    import json

    from lab.truth import compute_truth
    from lab.world import load_world

    truth = compute_truth(load_world(world_file)).to_json()
    with click.open_file(output, "w") as handle:
        json.dump(truth, handle, indent=1, default=str)
        handle.write("\n")
    if output != "-":
        err.print(f"{len(truth['objects'])} objects, {len(truth['links'])} links -> {output}")


world_argument = click.argument("world_file", type=click.Path(exists=True, dir_okay=False))


@lab.command("up")
@world_argument
@click.option("--api-port", default=0, show_default=True, type=click.IntRange(0, 65535),
              help="Port of the OpenStack APIs (0: any free port).")
@click.option("--ssh-port", default=0, show_default=True, type=click.IntRange(0, 65535),
              help="Port of the hosts' SSH server (0: any free port).")
@format_option
def lab_up(world_file: str, api_port: int, ssh_port: int, output_format: str) -> None:
    """Serve a world on loopback: OpenStack APIs and every host over SSH. Prints the endpoints and
    credentials an environment config needs. Changes to WORLD_FILE show at once."""
    import json

    from lab.service import LabService

    endpoints = LabService(cli_settings()).up(world_file, api_port, ssh_port)
    if output_format == "json":
        click.echo(json.dumps(endpoints, indent=2))
        return
    openstack, cli = endpoints["openstack"], endpoints["cli"]
    emit([{"what": "OpenStack auth URL", "value": openstack["auth_url"]},
          {"what": "user / password / project", "value": f"{openstack['username']} / {openstack['password']} / "
                                                      f"{openstack['project_name']}"},
          {"what": "SSH (jump host)", "value": f"{cli['user']}@{cli['host']}:{cli['port']}"},
          {"what": "SSH key", "value": cli["key_file"]},
          {"what": "world", "value": endpoints["world_file"]}], ["what", "value"], "table", title="Lab cloud")


@lab.command("down")
def lab_down() -> None:
    """Stop the running lab."""
    from lab.service import LabService

    err.print("lab stopped" if LabService(cli_settings()).down() else "no lab was running")


@lab.command("fault")
@world_argument
@click.argument("kind")
@click.argument("target")
@click.option("--clear", is_flag=True, help="Undo the fault instead of injecting it.")
@format_option
def lab_fault(world_file: str, kind: str, target: str, clear: bool, output_format: str) -> None:
    """Inject (or --clear) a fault: KIND on TARGET. Records the expected root cause and impact in the world.

    TARGET is HOST/NIC for nic_down and bond_member_down, a Neutron port id for port faults, a
    host for tunnel_unreachable, an agent id for agent_dead, a network id for dhcp_namespace_gone
    (`calipso lab fault-kinds` lists them).
    """
    from lab.faults import clear_fault, inject_fault
    from lab.world import load_world, save_world

    world = load_world(world_file)
    fault = clear_fault(world, kind, target) if clear else inject_fault(world, kind, target)
    save_world(world, world_file)
    row = {"action": "cleared" if clear else "injected", **fault.model_dump(exclude={"undo"})}
    emit([row], ["action", "kind", "target", "root_cause", "down", "degraded"], output_format)


@lab.command("fault-kinds")
@format_option
def lab_fault_kinds(output_format: str) -> None:
    """The fault kinds `calipso lab fault` injects, and what TARGET names for each."""
    from lab.faults import FAULT_KINDS

    emit([vars(k) for k in FAULT_KINDS], ["name", "target", "description"], output_format)


@lab.group("change", cls=CalipsoGroup)
def lab_change() -> None:
    """Change a lab world as an OpenStack user would; the running lab serves the new state and
    the notifications OpenStack would send are published to RabbitMQ (AMQP_URL)."""


def _apply_change(world_file: str, change: Any, *arguments: Any) -> None:
    from lab.notify import NotificationError, publish_events
    from lab.world import load_world, save_world

    world = load_world(world_file)
    events = change(world, *arguments)
    save_world(world, world_file)
    for event in events:
        err.print(f"{event.service}: {event.event_type} {event.subject}")
    try:
        publish_events(cli_settings().amqp_url, world, events)
    except NotificationError as exc:
        err.print(f"[yellow]warning:[/] the world is changed but its notifications were not published: {exc}")


@lab_change.command("boot-vm")
@world_argument
@click.option("--name", required=True)
@click.option("--host", required=True, help="Compute host name.")
@click.option("--network", required=True, help="Network name or id.")
def change_boot_vm(world_file: str, name: str, host: str, network: str) -> None:
    """Boot a VM with one port on a network."""
    from lab import changes
    _apply_change(world_file, changes.boot_vm, name, host, network)


@lab_change.command("delete-vm")
@world_argument
@click.argument("vm")
def change_delete_vm(world_file: str, vm: str) -> None:
    """Delete a VM (name or id) and its ports."""
    from lab import changes
    _apply_change(world_file, changes.delete_vm, vm)


@lab_change.command("rename-vm")
@world_argument
@click.argument("vm")
@click.argument("new_name")
def change_rename_vm(world_file: str, vm: str, new_name: str) -> None:
    """Rename a VM (its id stays)."""
    from lab import changes
    _apply_change(world_file, changes.rename_vm, vm, new_name)


@lab_change.command("add-network")
@world_argument
@click.option("--name", required=True)
@click.option("--cidr", required=True, help="The subnet's CIDR, e.g. 10.99.0.0/24.")
@click.option("--dhcp/--no-dhcp", default=True, show_default=True)
def change_add_network(world_file: str, name: str, cidr: str, dhcp: bool) -> None:
    """Add a tenant network of the world's type with one subnet."""
    from lab import changes
    _apply_change(world_file, changes.add_network, name, cidr, dhcp)


@lab_change.command("delete-network")
@world_argument
@click.argument("network")
def change_delete_network(world_file: str, network: str) -> None:
    """Delete a network that has no VM or router ports left."""
    from lab import changes
    _apply_change(world_file, changes.delete_network, network)


@lab_change.command("add-subnet")
@world_argument
@click.option("--network", required=True)
@click.option("--name", required=True)
@click.option("--cidr", required=True)
@click.option("--dhcp/--no-dhcp", default=True, show_default=True)
def change_add_subnet(world_file: str, network: str, name: str, cidr: str, dhcp: bool) -> None:
    """Add a subnet to a network."""
    from lab import changes
    _apply_change(world_file, changes.add_subnet, network, name, cidr, dhcp)


@lab_change.command("subnet-dhcp")
@world_argument
@click.argument("subnet_id")
@click.argument("state", type=click.Choice(["on", "off"]))
def change_subnet_dhcp(world_file: str, subnet_id: str, state: str) -> None:
    """Turn a subnet's DHCP on or off (its DHCP port and namespace follow)."""
    from lab import changes
    _apply_change(world_file, changes.set_subnet_dhcp, subnet_id, state == "on")


@lab_change.command("add-router")
@world_argument
@click.option("--name", required=True)
def change_add_router(world_file: str, name: str) -> None:
    """Add a router on the network node."""
    from lab import changes
    _apply_change(world_file, changes.add_router, name)


@lab_change.command("delete-router")
@world_argument
@click.argument("router")
def change_delete_router(world_file: str, router: str) -> None:
    """Delete a router and its ports."""
    from lab import changes
    _apply_change(world_file, changes.delete_router, router)


@lab_change.command("router-interface")
@world_argument
@click.argument("router")
@click.argument("network")
@click.option("--remove", is_flag=True, help="Remove the interface instead of adding it.")
def change_router_interface(world_file: str, router: str, network: str, remove: bool) -> None:
    """Add (or --remove) a router's interface on a network."""
    from lab import changes
    _apply_change(world_file, changes.remove_router_interface if remove else changes.add_router_interface,
                  router, network)


@lab_change.command("gateway")
@world_argument
@click.argument("router")
@click.argument("network", required=False)
def change_gateway(world_file: str, router: str, network: str | None) -> None:
    """Set a router's external gateway to NETWORK, or remove it when NETWORK is left out."""
    from lab import changes
    _apply_change(world_file, changes.set_router_gateway, router, network)


# -- the graph --------------------------------------------------------------------------------

@main.group(cls=CalipsoGroup)
def graph() -> None:
    """The Neo4j projection of an environment: sync it from MongoDB's changes feed, verify it."""


@graph.command("sync")
@click.argument("environment")
@click.option("--rebuild", is_flag=True, help="Drop the environment's graph and project the inventory afresh.")
@click.option("--follow", is_flag=True, help="Keep applying new changes until interrupted.")
@click.option("--batch-size", default=5000, show_default=True, type=click.IntRange(1, 100000))
@format_option
def graph_sync(environment: str, rebuild: bool, follow: bool, batch_size: int, output_format: str) -> None:
    """Apply ENVIRONMENT's changes feed to Neo4j after the last checkpoint (idempotent, resumable)."""
    import threading

    from graphmodel.projector import Projector

    with Stores(cli_settings()) as stores:
        projector = Projector(stores.mongo, stores.neo4j, environment, batch_size)
        if rebuild:
            stats = projector.rebuild()
        elif follow:
            stop = threading.Event()
            err.print(f"following the changes feed of {environment} (Ctrl-C to stop)")
            try:
                projector.follow(stop.is_set, on_batch=lambda s: err.print(
                    f"applied up to change {s.last_seq} ({s.changes} changes, {s.per_second:.0f}/s)"))
            except KeyboardInterrupt:
                stop.set()
            return
        else:
            with err.status(f"projecting {environment}") as spinner:
                stats = projector.sync(on_batch=lambda s: spinner.update(
                    f"projecting {environment}: {s.changes} changes, up to {s.last_seq}"))
    emit([{"environment": environment, "batches": stats.batches, "changes": stats.changes,
           "checkpoint": stats.last_seq, "seconds": round(stats.seconds, 2),
           "changes_per_second": round(stats.per_second)}],
         ["environment", "batches", "changes", "checkpoint", "seconds", "changes_per_second"], output_format)


@graph.command("verify")
@click.argument("environment")
@format_option
def graph_verify(environment: str, output_format: str) -> None:
    """Compare MongoDB and Neo4j for ENVIRONMENT: counts per type and a content hash. Exit 1 on a difference."""
    from graphmodel.projector import verify

    with Stores(cli_settings()) as stores:
        result = verify(stores.mongo, stores.neo4j, environment)
    keys = sorted(set(result.counts_mongo) | set(result.counts_neo4j))
    rows = [{"what": key, "mongodb": result.counts_mongo.get(key, 0), "neo4j": result.counts_neo4j.get(key, 0)}
            for key in keys]
    rows.append({"what": "content hash", "mongodb": result.hash_mongo, "neo4j": result.hash_neo4j})
    emit(rows, ["what", "mongodb", "neo4j"], output_format)
    if not result.ok:
        err.print("[red]MongoDB and Neo4j differ[/]")
        sys.exit(1)


# -- configuration and health -----------------------------------------------------------------

@main.group(cls=CalipsoGroup)
def config() -> None:
    """Inspect the configuration."""


@config.command("show")
@format_option
def config_show(output_format: str) -> None:
    """The effective settings, by environment variable name, with secrets hidden."""
    values = cli_settings()
    rows = []
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias.choices[0]  # type: ignore[union-attr]
        value = getattr(values, field_name)
        if field_name.endswith(("password", "secret_key")) or alias.endswith("PASSWORD"):
            shown = None if value is None else "***"
        elif isinstance(value, str) and "://" in value:
            shown = redact_url(value)
        else:
            shown = str(value)
        rows.append({"name": alias, "value": shown})
    emit(rows, ["name", "value"], output_format)


@main.command()
@format_option
def health(output_format: str) -> None:
    """Check that MongoDB and Neo4j answer; exit status 1 if one does not."""
    with Stores(cli_settings()) as stores:
        checks = stores.health()
    emit([vars(check) for check in checks], ["name", "ok", "detail"], output_format)
    if not all(check.ok for check in checks):
        sys.exit(1)


from calipso.serve import API_COMMANDS  # noqa: E402 - serve, user, token: the REST API's commands
for _command in API_COMMANDS: main.add_command(_command)  # noqa: E701
from calipso.discovery import DISCOVERY_COMMANDS  # noqa: E402 - env, scan, scans, schedule, scheduler
for _command in DISCOVERY_COMMANDS: main.add_command(_command)  # noqa: E701
from calipso.inspection import INSPECTION_COMMANDS  # noqa: E402 - clique, clique-types, diff, invariants
for _command in INSPECTION_COMMANDS: main.add_command(_command)  # noqa: E701
from calipso.analysis_commands import ANALYSIS_COMMANDS  # noqa: E402 - impact, whatif, rca, path
for _command in ANALYSIS_COMMANDS: main.add_command(_command)  # noqa: E701
from calipso.export_commands import EXPORT_COMMANDS  # noqa: E402 - export
for _command in EXPORT_COMMANDS: main.add_command(_command)  # noqa: E701
from calipso.report_commands import REPORT_COMMANDS  # noqa: E402 - report maintenance|incident
for _command in REPORT_COMMANDS: main.add_command(_command)  # noqa: E701
from calipso.listen_commands import listen  # noqa: E402 - the bus listener
main.add_command(listen)
from calipso.pipeline_commands import PIPELINE_COMMANDS  # noqa: E402 - projector, worker, run, status
for _command in PIPELINE_COMMANDS: main.add_command(_command)  # noqa: E701
from calipso.monitor_commands import MONITOR_COMMANDS  # noqa: E402 - monitor, watch, monitoring
for _command in MONITOR_COMMANDS: main.add_command(_command)  # noqa: E701


if __name__ == "__main__":
    main()
