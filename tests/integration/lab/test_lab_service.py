"""`calipso lab up`: the lab process serves a world's OpenStack APIs and its hosts over SSH.

For every variant the lab offers: openstacksdk lists exactly the spec's servers, networks, ports,
routers and agents, and every host answers every reference command through the SSH server, the
way the scanner will reach it (SSHTransport through the `lab` jump user).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openstack
import pytest

from core.settings import Settings, load_settings
from ingest.transport import SSHConfig, SSHTransport
from lab.generate import generate_world
from lab.hostmodel import LabHosts
from lab.hosts import LabResponder
from lab.hosts.catalog import commands
from lab.service import LabService, lab_known_host_keys
from lab.world import VARIANTS, World, load_world, save_world


@pytest.fixture(scope="module")
def lab_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return load_settings(calipso_home=str(tmp_path_factory.mktemp("lab-home")))


@pytest.fixture(scope="module")
def service(lab_settings: Settings) -> Iterator[LabService]:
    lab = LabService(lab_settings)
    yield lab
    lab.down()


def serve(service: LabService, world: World, directory: Path) -> dict:  # type: ignore[type-arg]
    path = directory / f"{world.name}.yaml"
    save_world(world, path)
    return service.up(path)


def connect(endpoints: dict) -> openstack.connection.Connection:  # type: ignore[type-arg]
    return openstack.connect(**endpoints["openstack"], identity_api_version="3")


def ssh(endpoints: dict) -> SSHTransport:  # type: ignore[type-arg]
    cli = endpoints["cli"]
    hosts = [host.name for host in load_world(endpoints["world_file"]).hosts]
    return SSHTransport(SSHConfig(user=cli["user"], key_file=cli["key_file"],
                                  jump_host=f"{cli['user']}@{cli['host']}:{cli['port']}",
                                  known_host_keys=lab_known_host_keys(endpoints, hosts)))


@pytest.mark.parametrize(("mechanism", "type_driver"), VARIANTS)
def test_openstacksdk_and_ssh_see_exactly_the_spec(mechanism: str, type_driver: str, service: LabService,
                                                   tmp_path: Path) -> None:
    world = generate_world(3, 2, 1 if type_driver == "flat" else 2, mechanism, type_driver, seed=5)
    endpoints = serve(service, world, tmp_path)

    cloud = connect(endpoints)
    servers = {s.id: s for s in cloud.compute.servers(details=True, all_projects=True)}
    assert set(servers) == {i.id for i in world.instances}
    for instance in world.instances:
        assert servers[instance.id].compute_host == instance.host
        assert servers[instance.id].instance_name == instance.libvirt_name
    assert {n.id for n in cloud.network.networks()} == {n.id for n in world.networks}
    assert {p.id for p in cloud.network.ports()} == {p.id for p in world.ports}
    assert {r.id for r in cloud.network.routers()} == {r.id for r in world.routers}
    assert {a.id for a in cloud.network.agents()} == {a.id for a in world.agents}

    hosts, in_process = LabHosts(world), LabResponder(world)
    with ssh(endpoints) as transport:
        for host in world.hosts:
            good, missing = commands(host, hosts.get(host.name))
            for command in good:
                result = transport.run(host.name, command)
                assert result.exit_status == 0, (host.name, command, result.stderr)
                # Over SSH, byte for byte what the simulated host prints.
                assert (result.stdout, result.stderr) == in_process(host.name, command)[1:], (host.name, command)
            for command in missing[:2]:
                assert transport.run(host.name, command).exit_status == 127, (host.name, command)


def test_changes_to_the_world_file_show_at_once(service: LabService, tmp_path: Path) -> None:
    from lab import changes
    from lab.world import load_world

    world = generate_world(3, 1, 1, "ovs", "vxlan", seed=6)
    endpoints = serve(service, world, tmp_path)
    path = Path(endpoints["world_file"])
    changed = load_world(path)
    changes.boot_vm(changed, "late-vm", "compute-2", "net-1")
    save_world(changed, path)
    new = next(i for i in changed.instances if i.name == "late-vm")

    cloud = connect(endpoints)
    assert new.id in {s.id for s in cloud.compute.servers(all_projects=True)}
    with ssh(endpoints) as transport:
        assert new.libvirt_name in transport.run("compute-2", "virsh list --all").stdout
