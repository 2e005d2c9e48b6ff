"""Scan a served lab the way a real cloud is scanned: openstacksdk against its APIs, every host over
SSH through the lab's jump user, the real tools' output parsed. For every variant the stored
inventory equals the ground truth; a host printing garbage, and a host whose SSH port refuses
connections, are each reported and lose nothing else."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest
from conftest import connect_to_lab

from core.settings import load_settings
from graphmodel.inventory import LINKS, OBJECTS
from ingest.hierarchy import fetch_host, openstack_documents
from ingest.records import MESSAGES
from ingest.scanner import Scanner
from ingest.sources.openstack.fetch import fetch_openstack
from ingest.transport import CallableTransport, SSHConfig, SSHTransport, fingerprint
from lab.cloud.server import serve
from lab.cloud.source import StaticWorldSource
from lab.generate import generate_world
from lab.hosts import LabResponder
from lab.service import LabService, lab_known_host_keys
from lab.ssh_server import LabSSHServer, generate_host_key
from lab.truth import compute_truth
from lab.world import VARIANTS, World, save_world

#: Object types only a host's own commands can tell: absent, not invented, when the host fails.
HOST_DERIVED_TYPES = {"host_pnic", "vnic", "vconnector", "vedge", "otep"}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabService]:
    service = LabService(load_settings(calipso_home=str(tmp_path_factory.mktemp("scan-lab"))))
    yield service
    service.down()


def host_names(world: World) -> list[str]:
    return [host.name for host in world.hosts]


def stored(mongo_db, environment: str) -> tuple[set[str], dict]:  # type: ignore[no-untyped-def, type-arg]
    objects = {d["id"] for d in mongo_db[OBJECTS].find({"environment": environment})}
    links = {(d["link_type"], d["source_id"], d["target_id"]): d["state"]
             for d in mongo_db[LINKS].find({"environment": environment})}
    return objects, links


def scan_served_lab(lab: LabService, world: World, tmp_path: Path, database):  # type: ignore[no-untyped-def]
    """Serve `world` as the lab (APIs on loopback, hosts over its SSH server) and scan it as environment
    "lab" through the jump host, with the lab's host keys known; returns the scan result."""
    save_world(world, tmp_path / "world.yaml")
    endpoints = lab.up(tmp_path / "world.yaml")
    cli = endpoints["cli"]
    with SSHTransport(SSHConfig(user=cli["user"], key_file=cli["key_file"],
                                jump_host=f"{cli['user']}@{cli['host']}:{cli['port']}",
                                known_host_keys=lab_known_host_keys(endpoints, host_names(world)))) as transport:
        return Scanner(database, "lab", openstack_docs(endpoints), transport, fetch_host, concurrency=4).scan()


def openstack_docs(endpoints: dict):  # type: ignore[no-untyped-def, type-arg]
    import openstack

    def read() -> list[dict]:  # type: ignore[type-arg]
        connection = openstack.connect(**endpoints["openstack"])
        # Keystone's own admin project is not in the world spec: the one object the truth lacks.
        return [d for d in openstack_documents(fetch_openstack(connection, endpoints["openstack"]["region_name"]))
                if not (d["type"] == "project" and d["name"] == "admin")]
    return read


@pytest.mark.parametrize(("mechanism", "type_driver"), VARIANTS)
def test_scan_over_ssh_equals_the_truth(mechanism: str, type_driver: str, lab: LabService, mongo_db,  # type: ignore[no-untyped-def]
                                        tmp_path: Path) -> None:
    world = generate_world(3, 2, 1 if type_driver == "flat" else 2, mechanism, type_driver, seed=31,
                           aggregates=True)
    result = scan_served_lab(lab, world, tmp_path, mongo_db)
    assert result.status == "completed", result.errors
    truth = compute_truth(world)
    objects, links = stored(mongo_db, "lab")
    assert any(o.type == "aggregate" for o in truth.objects.values())
    assert objects == set(truth.objects)
    assert links == {key: link.state for key, link in truth.links.items()}
    # what the OVS agent's flows say (ovs-ofctl dump-flows): each network's local VLAN and where it floods
    for vedge in mongo_db[OBJECTS].find({"environment": "lab", "type": "vedge", "mechanism": "ovs"}):
        expected = truth.objects[vedge["id"]].attributes
        assert vedge.get("local_vlans") == expected["local_vlans"], vedge["id"]
        assert vedge.get("flood_tunnels") == expected.get("flood_tunnels"), vedge["id"]


def test_a_host_printing_garbage_is_reported_and_the_rest_is_complete(mongo_db) -> None:  # type: ignore[no-untyped-def]
    world: World = generate_world(3, 2, 2, "ovs", "vxlan", seed=31)
    honest = LabResponder(world)

    def responder(host: str, command: str) -> tuple[int, str, str]:
        if host == "compute-2" and command == "ip -d -j link":
            return 0, "<html><body>Bad Gateway</body></html>", ""
        return honest(host, command)

    with serve(StaticWorldSource(world)) as cloud:
        def docs() -> list[dict]:  # type: ignore[type-arg]
            return [d for d in openstack_documents(fetch_openstack(connect_to_lab(cloud), "RegionOne"))
                    if not (d["type"] == "project" and d["name"] == "admin")]
        result = Scanner(mongo_db, "lab", docs, CallableTransport(responder), fetch_host).scan()
    assert result.status == "completed_with_errors"
    message = mongo_db[MESSAGES].find_one({"environment": "lab", "related_object": "compute-2"})
    assert message["details"]["command"] == "ip -d -j link"
    assert "Bad Gateway" in message["details"]["excerpt"]
    objects, _ = stored(mongo_db, "lab")
    truth = compute_truth(world)
    compute1 = {o for o in truth.objects if truth.objects[o].host == "compute-1"}
    assert compute1 <= objects  # the other hosts are complete
    # compute-2's other commands answered, and what they tell is written (true objects only); what only
    # `ip link` tells (its NICs) is missing, not made up
    on_compute2 = {d["id"]: d["type"] for d in mongo_db[OBJECTS].find({"environment": "lab", "host": "compute-2"})}
    assert set(on_compute2) <= set(truth.objects)
    assert "host_pnic" not in on_compute2.values()
    assert {"vedge", "vnic"} <= set(on_compute2.values()), sorted(set(on_compute2.values()))  # OVSDB, libvirt


def test_a_host_whose_ssh_is_refused_is_reported_and_the_rest_is_complete(lab: LabService, mongo_db,  # type: ignore[no-untyped-def]
                                                                           tmp_path: Path) -> None:
    world: World = generate_world(3, 2, 2, "ovs", "vxlan", seed=31)
    save_world(world, tmp_path / "world.yaml")
    endpoints = lab.up(tmp_path / "world.yaml")
    cli = endpoints["cli"]
    with socket.socket() as probe:  # a port nothing listens on: the kernel refuses the connection
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    # Log in to each host directly (user = host name on the lab's SSH server); compute-2's address
    # is the closed port.
    addresses = {h.name: f"{h.name}@{cli['host']}:{cli['port']}" for h in world.hosts}
    addresses["compute-2"] = f"compute-2@127.0.0.1:{closed_port}"
    with SSHTransport(SSHConfig(user="calipso", key_file=cli["key_file"], addresses=addresses,
                                known_host_keys=lab_known_host_keys(endpoints, host_names(world)))) as transport:
        result = Scanner(mongo_db, "lab", openstack_docs(endpoints), transport, fetch_host,
                         concurrency=4).scan()
    assert result.status == "completed_with_errors"
    assert [e for e in result.errors if e.startswith("compute-2:")] == result.errors
    message = mongo_db[MESSAGES].find_one({"environment": "lab", "related_object": "compute-2"})
    assert message["level"] == "error" and "refused" in message["message"]
    assert message["details"]["command"]  # names the command it could not run
    objects, _ = stored(mongo_db, "lab")
    truth = compute_truth(world)
    others = {i for i, o in truth.objects.items() if o.host not in (None, "compute-2")}
    assert others <= objects  # every other host is complete
    found_on_compute2 = {d["type"] for d in mongo_db[OBJECTS].find({"environment": "lab", "host": "compute-2"})}
    assert not found_on_compute2 & HOST_DERIVED_TYPES


def test_a_host_showing_another_host_key_is_skipped_naming_both_fingerprints(lab: LabService, mongo_db,  # type: ignore[no-untyped-def]
                                                                             tmp_path: Path) -> None:
    world: World = generate_world(3, 2, 2, "ovs", "vxlan", seed=31)
    save_world(world, tmp_path / "world.yaml")
    endpoints = lab.up(tmp_path / "world.yaml")
    cli = endpoints["cli"]
    known = lab_known_host_keys(endpoints, host_names(world))
    addresses = {h.name: f"{h.name}@{cli['host']}:{cli['port']}" for h in world.hosts}

    def scan(addresses: dict[str, str]):  # type: ignore[no-untyped-def]
        with SSHTransport(SSHConfig(user="calipso", key_file=cli["key_file"], addresses=addresses,
                                    known_host_keys=known)) as transport:
            return Scanner(mongo_db, "lab", openstack_docs(endpoints), transport, fetch_host,
                           concurrency=4).scan()

    assert scan(addresses).status == "completed"
    before = {d["id"] for d in mongo_db[OBJECTS].find({"environment": "lab", "host": "compute-2"})}
    # A man in the middle for compute-2: a second SSH server that answers like the real host and
    # accepts our key, but shows a host key of its own.
    client_key = paramiko.Ed25519Key.from_private_key_file(cli["key_file"])
    mitm_key = generate_host_key()
    with LabSSHServer(LabResponder(world), [client_key], host_key=mitm_key) as mitm:
        result = scan({**addresses, "compute-2": f"compute-2@127.0.0.1:{mitm.port}"})
    assert result.status == "completed_with_errors"
    assert [e for e in result.errors if e.startswith("compute-2:")] == result.errors
    message = mongo_db[MESSAGES].find_one({"environment": "lab", "related_object": "compute-2"})
    expected = fingerprint(cli["host_key"].split()[1])
    assert "host key of compute-2 has CHANGED" in message["message"]
    assert f"expected ssh-ed25519 {expected}" in message["message"]
    assert f"shown ssh-ed25519 {fingerprint(mitm_key.get_base64())}" in message["message"]
    # compute-2's stored objects are kept, still current; every other host is complete.
    current = {d["id"] for d in mongo_db[OBJECTS].find({"environment": "lab", "host": "compute-2"})}
    assert before and before <= current
    truth = compute_truth(world)
    objects, _ = stored(mongo_db, "lab")
    assert {i for i, o in truth.objects.items() if o.host not in (None, "compute-2")} <= objects


HOSTILE = "-oProxyCommand=touch /tmp/calipso-pwned"


def test_a_hostile_host_name_from_the_cloud_is_refused_and_the_others_are_scanned(lab: LabService, mongo_db,  # type: ignore[no-untyped-def]
                                                                                  tmp_path: Path) -> None:
    # The cloud lists a host whose name would be an option of ssh on the jump host.
    generated = generate_world(4, 2, 2, "ovs", "vxlan", seed=31)
    victim = [h.name for h in generated.hosts if "compute" in h.roles][-1]
    world = World.model_validate_json(generated.model_dump_json().replace(json.dumps(victim), json.dumps(HOSTILE)))
    assert HOSTILE in host_names(world)
    result = scan_served_lab(lab, world, tmp_path, mongo_db)
    assert result.status == "completed_with_errors"
    assert len(result.errors) == 1 and result.errors[0].startswith(HOSTILE)
    message = mongo_db[MESSAGES].find_one({"environment": "lab", "related_object": HOSTILE})
    assert f"host object {HOSTILE}" in message["message"] and "RFC 1123" in message["message"]
    truth = compute_truth(world)
    objects, _ = stored(mongo_db, "lab")
    assert {i for i, o in truth.objects.items() if o.host not in (None, HOSTILE)} <= objects


# Installer layouts (issue 12), scanned over SSH like the variants above: the tunnel IP on br-mesh over the
# bond's VLAN sub-interface bond0.50, and Open vSwitch installed but stopped on Linux-bridge hosts (their
# ovs-vsctl exits 1: "database connection failed"). Each host is complete; a stopped OVS costs one message
# per host, naming the host and the ovs-vsctl command.
@pytest.mark.parametrize("options", [
    {"tunnel_bridge": "br-mesh", "tunnel_vlan": 50, "ovs_installed_stopped": True},
    {"tunnel_bridge": "br-mesh", "tunnel_vlan": 50},
], ids=["lxb-br-mesh-vlan-ovs-stopped", "lxb-br-mesh-vlan"])
def test_scan_of_installer_layouts_equals_the_truth(options: dict, lab: LabService, mongo_db,  # type: ignore[no-untyped-def, type-arg]
                                                    tmp_path: Path) -> None:
    world = generate_world(3, 2, 2, "lxb", "vxlan", seed=31, **options)
    result = scan_served_lab(lab, world, tmp_path, mongo_db)
    truth = compute_truth(world)
    objects, links = stored(mongo_db, "lab")
    assert objects == set(truth.objects)
    assert links == {key: link.state for key, link in truth.links.items()}
    assert {("otep-host_pnic", f"{h}/otep-vxlan", f"{h}/bond0") for h in host_names(world)} <= set(links)
    messages = list(mongo_db[MESSAGES].find({"environment": "lab", "scan_id": result.scan_id}))
    if options.get("ovs_installed_stopped"):
        # Linux-bridge hosts do not use OVS: its being stopped is a warning each, and the scan is whole
        # (a full scan then closes what it did not see, as on any healthy host).
        assert result.status == "completed", result.errors
        assert sorted(m["related_object"] for m in messages) == sorted(host_names(world))  # one each
        for message in messages:
            assert message["level"] == "warning" and message["details"]["command"].startswith("ovs-vsctl ")
            assert "Open vSwitch is installed but not running" in message["message"]
            assert message["message"].startswith(f"{message['related_object']}: ")
    else:
        assert result.status == "completed", result.errors
        assert messages == []

