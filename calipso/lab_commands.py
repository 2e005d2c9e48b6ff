"""`calipso lab ...`: lab clouds to run against (development, tests and the demo; not in the production image)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from calipso.common import CalipsoGroup, cli_settings, err
from calipso.output import emit, format_option


@click.group(cls=CalipsoGroup)
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
@click.option("--tunnel-bridge", default=None, metavar="NAME",
              help="Put each host's tunnel IP on a Linux bridge of this name (e.g. br-mesh) over its bond.")
@click.option("--tunnel-vlan", default=None, type=click.IntRange(1, 4094),
              help="With --tunnel-bridge: the bridge is over the bond's VLAN sub-interface bond0.<VLAN>.")
@click.option("--ovs-installed-stopped", is_flag=True,
              help="Hosts whose L2 agent is not OVS have OVS installed but stopped (ovs-vsctl fails).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True,
              help="Where to write the YAML spec.")
def lab_generate(hosts: int, vms_per_host: int, networks: int, mechanism: str, type_driver: str, firewall: str,
                 seed: int, name: str | None, tunnel_bridge: str | None, tunnel_vlan: int | None,
                 ovs_installed_stopped: bool, output: str) -> None:
    """Generate a world spec (YAML), deterministic for a seed."""
    from lab.generate import generate_world
    from lab.world import save_world

    started = time.monotonic()
    try:
        world = generate_world(hosts, vms_per_host, networks, mechanism, type_driver, seed, name, firewall,
                               tunnel_bridge=tunnel_bridge, tunnel_vlan=tunnel_vlan,
                               ovs_installed_stopped=ovs_installed_stopped)
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
@click.option("--real", is_flag=True,
              help="Build the hosts from kernel objects (network namespaces, bridges, VXLAN, Open vSwitch; root) "
                   "and run the commands the SSH server receives on them.")
@format_option
def lab_up(world_file: str, api_port: int, ssh_port: int, real: bool, output_format: str) -> None:
    """Serve a world on loopback: OpenStack APIs and every host over SSH. Prints the endpoints and
    credentials an environment config needs. Changes to WORLD_FILE show at once (not with --real,
    whose hosts are built once: `calipso lab fault --real` changes them)."""
    import json

    from lab.service import LabService

    endpoints = LabService(cli_settings()).up(world_file, api_port, ssh_port, real=real)
    if output_format == "json":
        click.echo(json.dumps(endpoints, indent=2))
        return
    openstack, cli = endpoints["openstack"], endpoints["cli"]
    emit([{"what": "OpenStack auth URL", "value": openstack["auth_url"]},
          {"what": "user / password / project", "value": f"{openstack['username']} / {openstack['password']} / "
                                                      f"{openstack['project_name']}"},
          {"what": "SSH (jump host)", "value": f"{cli['user']}@{cli['host']}:{cli['port']}"},
          {"what": "SSH key", "value": cli["key_file"]},
          {"what": "world", "value": endpoints["world_file"]},
          *([{"what": "real lab", "value": endpoints["real"]["tag"]}] if "real" in endpoints else [])],
         ["what", "value"], "table", title="Lab cloud")


@lab.command("down")
def lab_down() -> None:
    """Stop the running lab (a real lab's namespaces and daemons are removed too)."""
    from lab.service import LabService

    err.print("lab stopped" if LabService(cli_settings()).down() else "no lab was running")


@lab.command("fault")
@click.argument("arguments", nargs=-1, required=True, metavar="[WORLD_FILE] KIND TARGET")
@click.option("--real", is_flag=True,
              help="Make the fault with real commands on the running real lab (`lab up --real`): KIND HOST/DEVICE.")
@click.option("--clear", is_flag=True, help="Undo the fault instead of injecting it.")
@format_option
def lab_fault(arguments: tuple[str, ...], real: bool, clear: bool, output_format: str) -> None:
    """Inject (or --clear) a fault: KIND on TARGET. Records the expected root cause and impact in the world.

    TARGET is HOST/NIC for nic_down and bond_member_down, a Neutron port id for port faults, a
    host for tunnel_unreachable, an agent id for agent_dead, a network id for dhcp_namespace_gone
    (`calipso lab fault-kinds` lists them).

    With --real, no WORLD_FILE: KIND is made with real commands (ip, ovs-vsctl) on device HOST/DEVICE
    of the running real lab and recorded, with its expected root cause, in the lab's state directory
    (`calipso lab fault-kinds --real` lists the kinds).
    """
    if real:
        _real_fault(arguments, clear, output_format)
        return
    from pathlib import Path

    from lab.faults import clear_fault, inject_fault
    from lab.world import load_world, save_world

    if len(arguments) != 3:
        raise click.UsageError("give WORLD_FILE KIND TARGET (or --real KIND HOST/DEVICE)")
    world_file, kind, target = arguments
    if not Path(world_file).is_file():
        raise click.BadParameter(f"file {world_file!r} does not exist", param_hint="WORLD_FILE")
    world = load_world(world_file)
    fault = clear_fault(world, kind, target) if clear else inject_fault(world, kind, target)
    save_world(world, world_file)
    row = {"action": "cleared" if clear else "injected", **fault.model_dump(exclude={"undo"})}
    emit([row], ["action", "kind", "target", "root_cause", "down", "degraded"], output_format)


def _real_fault(arguments: tuple[str, ...], clear: bool, output_format: str) -> None:
    from lab.real.faults import attach, clear_real_fault, inject_real_fault
    from lab.service import LabService

    if len(arguments) != 2:
        raise click.UsageError("with --real give KIND HOST/DEVICE (the fault is made on the running real lab)")
    kind, target = arguments
    service = LabService(cli_settings())
    record = service.real_lab() if service.running() else None
    if record is None:
        raise click.UsageError("no real lab is running: start one with `calipso lab up --real WORLD_FILE`")
    lab = attach(record)
    fault = (clear_real_fault(lab, service.state_dir, kind, target) if clear
             else inject_real_fault(lab, service.state_dir, kind, target))
    row = {"action": "cleared" if clear else "injected", "kind": fault.kind, "target": fault.target,
           "root_cause": fault.root_cause, "commands": "; ".join(fault.undo if clear else fault.commands)}
    emit([row], ["action", "kind", "target", "root_cause", "commands"], output_format)


@lab.command("fault-kinds")
@click.option("--real", is_flag=True, help="The kinds `calipso lab fault --real` makes on the real lab.")
@format_option
def lab_fault_kinds(real: bool, output_format: str) -> None:
    """The fault kinds `calipso lab fault` injects, and what TARGET names for each."""
    if real:
        from lab.real.faults import REAL_FAULT_KINDS

        emit([{"name": k.name, "target": f"HOST/DEVICE: {k.devices}", "description": k.description}
              for k in REAL_FAULT_KINDS], ["name", "target", "description"], output_format)
        return
    from lab.faults import FAULT_KINDS

    emit([vars(k) for k in FAULT_KINDS], ["name", "target", "description"], output_format)


@lab.group("change", cls=CalipsoGroup)
def lab_change() -> None:
    """Change a lab world as an OpenStack user would; the running lab serves the new state and
    the notifications OpenStack would send are published to RabbitMQ (AMQP_URL)."""


@dataclass(frozen=True)
class WorldChange:
    """One `calipso lab change` command: the function of lab.changes it runs, its help, and its
    arguments and options in the order the function takes them (after the world)."""

    name: str
    function: str
    help: str
    params: tuple[click.Parameter, ...]
    #: Turns the parsed values into the function's arguments, when they are not taken as they come.
    arguments: Callable[..., tuple[Any, ...]] | None = None
    #: Picks another function of lab.changes from the values (e.g. --remove).
    choose: Callable[..., str] | None = None


def _required(name: str, help: str | None = None) -> click.Option:
    return click.Option([f"--{name}"], required=True, help=help)


def _dhcp() -> click.Option:
    return click.Option(["--dhcp/--no-dhcp"], default=True, show_default=True)


WORLD_CHANGES: tuple[WorldChange, ...] = (
    WorldChange("boot-vm", "boot_vm", "Boot a VM with one port on a network.",
                (_required("name"), _required("host", "Compute host name."), _required("network", "Network name or id."))),
    WorldChange("delete-vm", "delete_vm", "Delete a VM (name or id) and its ports.", (click.Argument(["vm"]),)),
    WorldChange("rename-vm", "rename_vm", "Rename a VM (its id stays).",
                (click.Argument(["vm"]), click.Argument(["new_name"]))),
    WorldChange("add-network", "add_network", "Add a tenant network of the world's type with one subnet.",
                (_required("name"), _required("cidr", "The subnet's CIDR, e.g. 10.99.0.0/24."), _dhcp())),
    WorldChange("delete-network", "delete_network", "Delete a network that has no VM or router ports left.",
                (click.Argument(["network"]),)),
    WorldChange("add-subnet", "add_subnet", "Add a subnet to a network.",
                (_required("network"), _required("name"), _required("cidr"), _dhcp())),
    WorldChange("subnet-dhcp", "set_subnet_dhcp", "Turn a subnet's DHCP on or off (its DHCP port and namespace follow).",
                (click.Argument(["subnet_id"]), click.Argument(["state"], type=click.Choice(["on", "off"]))),
                arguments=lambda subnet_id, state: (subnet_id, state == "on")),
    WorldChange("add-router", "add_router", "Add a router on the network node.", (_required("name"),)),
    WorldChange("delete-router", "delete_router", "Delete a router and its ports.", (click.Argument(["router"]),)),
    WorldChange("router-interface", "add_router_interface", "Add (or --remove) a router's interface on a network.",
                (click.Argument(["router"]), click.Argument(["network"]),
                 click.Option(["--remove"], is_flag=True, help="Remove the interface instead of adding it.")),
                arguments=lambda router, network, remove: (router, network),
                choose=lambda router, network, remove: "remove_router_interface" if remove else "add_router_interface"),
    WorldChange("gateway", "set_router_gateway",
                "Set a router's external gateway to NETWORK, or remove it when NETWORK is left out.",
                (click.Argument(["router"]), click.Argument(["network"], required=False))),
)


def _apply_change(world_file: str, change: Callable[..., Any], *arguments: Any) -> None:
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


def _change_command(spec: WorldChange) -> click.Command:
    def run(world_file: str, **values: Any) -> None:
        from lab import changes

        ordered = [values[p.name] for p in spec.params if p.name is not None]
        arguments = spec.arguments(*ordered) if spec.arguments else tuple(ordered)
        function = spec.choose(*ordered) if spec.choose else spec.function
        _apply_change(world_file, getattr(changes, function), *arguments)

    world = click.Argument(["world_file"], type=click.Path(exists=True, dir_okay=False))
    return click.Command(spec.name, callback=run, params=[world, *spec.params], help=spec.help)


for _spec in WORLD_CHANGES:
    lab_change.add_command(_change_command(_spec))
