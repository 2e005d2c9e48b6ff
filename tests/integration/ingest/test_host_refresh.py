"""The listener's host refresh reads only that host's OpenStack resources (every API request filtered
to the host, or to the networks of its ports) and only that host's commands, and what it writes equals
a full scan of the same cloud."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from conftest import connect_to_lab

from graphmodel.inventory import LINKS, OBJECTS, InventoryWriter, content, link_key
from graphmodel.tree import assign_paths
from ingest.hierarchy import fetch_host, openstack_documents
from ingest.scanner import Scanner
from ingest.sources.openstack.fetch import fetch_host_openstack, fetch_openstack
from ingest.transport import CallableTransport
from lab.changes import boot_vm
from lab.cloud.server import serve
from lab.generate import generate_world
from lab.hosts import LabResponder
from lab.world import World

#: Each list a host refresh may ask for, and the query parameter that must name the host (or its networks).
HOST_FILTERS = {
    "/compute/v2.1/os-services": "host",
    "/compute/v2.1/os-hypervisors/detail": "hypervisor_hostname_pattern",
    "/compute/v2.1/servers/detail": "host",
    "/network/v2.0/agents": "host",
    "/network/v2.0/ports": "binding:host_id",
    "/network/v2.0/networks": "id",
    "/network/v2.0/subnets": "network_id",
}


def inventory(mongo_db, environment: str) -> tuple[dict, dict]:  # type: ignore[no-untyped-def, type-arg]
    objects = {d["id"]: content(d) for d in mongo_db[OBJECTS].find({"environment": environment})}
    links = {link_key(d): content(d) for d in mongo_db[LINKS].find({"environment": environment})}
    return objects, links


def test_a_host_refresh_asks_only_about_its_host_and_equals_a_full_scan(mongo_db) -> None:  # type: ignore[no-untyped-def]
    world: World = generate_world(3, 2, 2, "ovs", "vxlan", seed=23)
    current = [world]
    transport = CallableTransport(lambda host, command: LabResponder(current[0])(host, command))
    with serve(lambda: current[0]) as cloud:
        connection = connect_to_lab(cloud)

        def everything() -> list[dict]:  # type: ignore[type-arg]
            return openstack_documents(fetch_openstack(connection, "RegionOne"))

        assert Scanner(mongo_db, "refreshed", everything, transport, fetch_host).scan().status == "completed"
        changed = world.model_copy(deep=True)
        boot_vm(changed, "vm-new", "compute-1", changed.networks[0].name)
        current[0] = changed  # the cloud and the hosts now show the new VM on compute-1
        # The bus's port.create.end writes the port itself (it lives under its network, not the host).
        new_port = changed.ports[-1].id
        port = [d for d in everything() if d["id"] == new_port]
        assign_paths(port, {d["id"]: d for d in mongo_db[OBJECTS].find({"environment": "refreshed"})})
        InventoryWriter(mongo_db, "refreshed").write_objects(port)

        asked_commands: set[str] = set()

        def recording(host: str, command: str) -> tuple[int, str, str]:
            asked_commands.add(host)
            return LabResponder(current[0])(host, command)

        for host in ("compute-1", "controller-1"):  # a compute node, and a network node without a hypervisor
            served_before = len(cloud.requests)

            def host_only(host: str = host) -> list[dict]:  # type: ignore[type-arg]
                return openstack_documents(fetch_host_openstack(connection, "RegionOne", host))

            result = Scanner(mongo_db, "refreshed", host_only, CallableTransport(recording), fetch_host).scan(
                object_id=host)
            assert result.status == "completed", result.errors
            reads = [r for r in cloud.requests[served_before:] if "/identity/" not in r]
            assert reads, "the refresh read nothing from the APIs"
            for read in reads:
                method, target = read.split(" ", 1)
                path, query = urlsplit(target).path, parse_qs(urlsplit(target).query)
                assert method == "GET" and path in HOST_FILTERS, read
                assert query.get(HOST_FILTERS[path]), f"{read}: not filtered by {HOST_FILTERS[path]}"
                if path not in ("/network/v2.0/networks", "/network/v2.0/subnets"):
                    assert query[HOST_FILTERS[path]] == [host], read
        assert asked_commands == {"compute-1", "controller-1"}  # the other host's commands were not run

        assert Scanner(mongo_db, "full", everything, transport, fetch_host).scan().status == "completed"
    refreshed_objects, refreshed_links = inventory(mongo_db, "refreshed")
    full_objects, full_links = inventory(mongo_db, "full")
    assert "vm-new" in {d.get("name") for d in full_objects.values()}
    assert refreshed_objects == full_objects
    assert refreshed_links == full_links
