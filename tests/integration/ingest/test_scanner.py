"""The scanner's orchestration against real FerretDB and the lab's APIs: a clean scan equals the truth
in MongoDB; an unreachable host makes completed_with_errors and loses nothing else. Host facts come
from the lab's host model here (facts_from_lab); the commands-and-parsers path has its own tests."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest
from conftest import connect_to_lab

from graphmodel.inventory import LINKS, OBJECTS
from ingest.hierarchy import openstack_documents
from ingest.records import MESSAGES
from ingest.scanner import Scanner
from ingest.sources.openstack.fetch import fetch_openstack
from ingest.transport import TransportError
from lab.cloud.server import serve
from lab.cloud.source import StaticWorldSource
from lab.faults import inject_fault
from lab.generate import generate_world
from lab.hostmodel import LabHosts
from lab.truth import compute_truth

sys.path.insert(0, str(Path(__file__).parent / "sources"))
from facts_from_lab import facts_from_lab  # noqa: E402


def scanner_for(world, mongo_db, cloud, broken: set[str] = frozenset()):  # type: ignore[no-untyped-def]
    def openstack_docs() -> list[dict]:  # type: ignore[type-arg]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            connection = connect_to_lab(cloud)
            return [d for d in openstack_documents(fetch_openstack(connection, "RegionOne"))
                    if not (d["type"] == "project" and d["name"] == "admin")]

    hosts = LabHosts(world)

    def fetch_host(transport, host: str):  # type: ignore[no-untyped-def]
        if host in broken:
            raise TransportError(host, "ip -d -j link", "connection refused")
        return facts_from_lab(hosts.get(host))

    return Scanner(mongo_db, "lab", openstack_docs, transport=None, fetch_host=fetch_host)  # type: ignore[arg-type]


def stored(mongo_db) -> tuple[set[str], dict]:  # type: ignore[no-untyped-def, type-arg]
    objects = {d["id"] for d in mongo_db[OBJECTS].find({"environment": "lab"})}
    links = {(d["link_type"], d["source_id"], d["target_id"]): d["state"]
             for d in mongo_db[LINKS].find({"environment": "lab"})}
    return objects, links


@pytest.mark.parametrize(("mechanism", "type_driver"), [("ovs", "vxlan"), ("lxb", "vlan"), ("vpp", "vxlan")])
def test_a_clean_scan_stores_exactly_the_truth_and_a_rescan_sees_a_fault(mongo_db, mechanism: str,  # type: ignore[no-untyped-def]
                                                                          type_driver: str) -> None:
    world = generate_world(3, 2, 2, mechanism, type_driver, seed=12)
    with serve(StaticWorldSource(world)) as cloud:
        result = scanner_for(world, mongo_db, cloud).scan()
        assert result.status == "completed", result.errors
        truth = compute_truth(world)
        objects, links = stored(mongo_db)
        assert objects == set(truth.objects)
        assert links == {k: l.state for k, l in truth.links.items()}
        assert result.counts["instance"] == len(world.instances)

        host = world.host(world.instances[0].host)
        data_nic = next(n.name for n in host.nics if n.role in ("tunnel", "provider"))
        fault = inject_fault(world, "nic_down", f"{host.name}/{data_nic}")
    with serve(StaticWorldSource(world)) as cloud:
        again = scanner_for(world, mongo_db, cloud).scan()
    assert again.status == "completed"
    assert again.written.changed >= 1
    objects, links = stored(mongo_db)
    assert links == {k: l.state for k, l in compute_truth(world).links.items()}
    assert fault.root_cause in objects


def test_an_unreachable_host_is_reported_and_loses_nothing(mongo_db) -> None:  # type: ignore[no-untyped-def]
    world = generate_world(3, 2, 2, "ovs", "vxlan", seed=12)
    with serve(StaticWorldSource(world)) as cloud:
        scanner_for(world, mongo_db, cloud).scan()
        before_objects, before_links = stored(mongo_db)
        result = scanner_for(world, mongo_db, cloud, broken={"compute-2"}).scan()
    assert result.status == "completed_with_errors"
    assert any("compute-2" in e for e in result.errors)
    after_objects, after_links = stored(mongo_db)
    assert after_objects == before_objects and after_links == before_links  # nothing closed
    message = mongo_db[MESSAGES].find_one({"environment": "lab", "related_object": "compute-2"})
    assert message["level"] == "error" and message["details"]["command"] == "ip -d -j link"
