"""ingest/hierarchy.py against graphmodel/schema.py: every type the scanner produces is declared under
the schema's parents, every link type has a finder, conditions name only known mechanisms and type
drivers; and what the declared drivers produce on every lab variant keeps to the declarations."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import typing
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from calipso.cli import main
from core.environments import Environment
from graphmodel.schema import ENVIRONMENT, LINK_TYPES_BY_NAME, OBJECT_TYPES_BY_NAME
from ingest import hierarchy
from ingest.hierarchy import (
    HOST_COLLECTORS,
    HOST_COLLECTORS_BY_NAME,
    LINK_FINDERS,
    NOT_SCANNED,
    OBJECTS,
    OBJECTS_BY_TYPE,
    VNIC_PATHS,
    HostSource,
    OpenStackSource,
    Variant,
    When,
    vnic_path_finder,
)
from ingest.sources.host.transform import HostBuilder, OpenStackIndex
from ingest.sources.openstack.fetch import API_RESOURCES_BY_NAME, RawOpenStack
from ingest.transport import CommandResult
from lab.cloud.app import create_app
from lab.cloud.source import StaticWorldSource
from lab.generate import generate_world
from lab.hosts import LabResponder
from lab.world import VARIANTS


def _literal_values(field: str) -> set[str]:
    (literal,) = typing.get_args(Environment.model_fields[field].annotation)
    return set(typing.get_args(literal))


KNOWN_MECHANISMS = _literal_values("mechanism_drivers")
KNOWN_TYPE_DRIVERS = _literal_values("type_drivers")


def conditions() -> list[tuple[str, When]]:
    found = [(d.type, d.when) for d in OBJECTS]
    found += [(f"{d.type} kind {k.name}", k.when) for d in OBJECTS for k in d.kinds]
    found += [(f"finder of {f.link_type}", f.when) for f in LINK_FINDERS]
    found += [(f"collector {c.name}", c.when) for c in HOST_COLLECTORS]
    found += [(f"vNIC path {p.finder.__name__}", p.when) for p in VNIC_PATHS]
    return found


# -- the declarations against the schema ---------------------------------------------------------------

def test_every_schema_object_type_is_declared_once_or_said_not_scanned() -> None:
    declared = [d.type for d in OBJECTS]
    assert len(declared) == len(set(declared)), "one declaration per object type"
    assert set(declared) <= set(OBJECT_TYPES_BY_NAME)
    assert set(OBJECT_TYPES_BY_NAME) - set(declared) == {t for t in NOT_SCANNED if t in OBJECT_TYPES_BY_NAME}


def test_parents_are_the_schema_parents() -> None:
    for declaration in OBJECTS:
        assert declaration.parents == OBJECT_TYPES_BY_NAME[declaration.type].parents, declaration.type
        assert declaration.folder == OBJECT_TYPES_BY_NAME[declaration.type].folder


def test_every_schema_link_type_has_a_finder_or_is_said_not_scanned() -> None:
    found = {f.link_type for f in LINK_FINDERS}
    assert found <= set(LINK_TYPES_BY_NAME)
    assert set(LINK_TYPES_BY_NAME) - found == {t for t in NOT_SCANNED if t in LINK_TYPES_BY_NAME}
    for finder in LINK_FINDERS:
        assert callable(finder.finder) and finder.evidence, finder.link_type
        assert finder.runs in ("along", "after"), finder.link_type


def test_conditions_name_only_known_mechanisms_and_type_drivers() -> None:
    for what, when in conditions():
        assert set(when.mechanisms) <= KNOWN_MECHANISMS, what
        assert set(when.type_drivers) <= KNOWN_TYPE_DRIVERS, what
        assert all(d.strip() for d in when.distributions), what


def test_sources_name_existing_api_resources_and_host_collectors_and_each_is_used() -> None:
    resources = {r for d in OBJECTS if isinstance(d.source, OpenStackSource) for r in d.source.resources}
    collectors = {c for d in OBJECTS if isinstance(d.source, HostSource) for c in d.source.collectors}
    assert resources <= set(API_RESOURCES_BY_NAME)
    assert collectors == set(HOST_COLLECTORS_BY_NAME)
    # Every API resource the scanner reads becomes objects (routers too, since issue 12).
    assert set(API_RESOURCES_BY_NAME) == resources
    assert hierarchy.openstack_resources() == tuple(r for r in API_RESOURCES_BY_NAME if r in resources)


def test_producers_match_their_source() -> None:
    for declaration in OBJECTS:
        for function in (*declaration.produce, *declaration.made_by):
            assert callable(function), declaration.type
        if isinstance(declaration.source, HostSource) and declaration.produce:
            assert all(getattr(HostBuilder, f.__name__) is f for f in declaration.produce), declaration.type
        if isinstance(declaration.source, OpenStackSource):
            assert declaration.produce, f"{declaration.type}: an OpenStack type needs a producer"
            for produce in declaration.produce:
                assert isinstance(produce(RawOpenStack(region="R")), list)


def test_conditions_select_by_variant() -> None:
    otep = OBJECTS_BY_TYPE["otep"].when
    assert otep.matches(Variant("ovs", "vxlan")) and otep.matches(Variant("lxb", "gre"))
    assert not otep.matches(Variant("ovs", None)) and not otep.matches(Variant("ovs", "vlan"))
    assert not OBJECTS_BY_TYPE["vedge"].when.matches(Variant(None, None))
    assert hierarchy.vnic_path_finder("sriov") is HostBuilder.vf_path
    assert hierarchy.vnic_path_finder("vpp") is HostBuilder.vpp_path
    assert hierarchy.vnic_path_finder("lxb") is hierarchy.vnic_path_finder("ovs") is HostBuilder.kernel_path
    assert hierarchy.vnic_path_finder(None) is None
    steps = [step for step, _ in hierarchy.host_steps()]
    assert steps == [HostBuilder.pnics, HostBuilder.vedge, HostBuilder.otep, HostBuilder.vedge_ports,
                     HostBuilder.linux_bridges, HostBuilder.vfs, HostBuilder.instance_vnics, HostBuilder.vservices,
                     HostBuilder.uplinks]


def test_the_tree_prints_every_declared_type_and_finder() -> None:
    out = io.StringIO()
    hierarchy.print_hierarchy(out)
    text = out.getvalue()
    for declaration in OBJECTS:
        if declaration.type != "folder":
            assert f" {declaration.type}  [" in text, declaration.type
    for finder in LINK_FINDERS:
        assert finder.link_type in text
    printed = subprocess.run([sys.executable, "-m", "ingest.hierarchy"], capture_output=True, text=True,
                             check=True).stdout
    assert printed == text
    from_cli = CliRunner().invoke(main, ["scan", "hierarchy"])
    assert from_cli.exit_code == 0 and from_cli.output == text, from_cli.output


# -- what the declared drivers produce, on every lab variant ---------------------------------------------

PASSWORD = "lab-admin-pw"
SERVICES = {"compute": "/compute/v2.1", "network": "/network/v2.0", "identity": "/identity/v3"}


class _Answer:
    def __init__(self, status_code: int, url: str, text: str) -> None:
        self.status_code, self.url, self.text = status_code, url, text

    def json(self) -> Any:
        return json.loads(self.text)


class _LabAdapter:
    """A connection's service adapter answered by the lab app's test client (no socket)."""

    def __init__(self, client: Any, prefix: str, token: str) -> None:
        self.client, self.prefix, self.token = client, prefix, token

    def get(self, path: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
            microversion: str | None = None) -> _Answer:
        sent = {"X-Auth-Token": self.token, **(headers or {})}
        if microversion:
            sent["OpenStack-API-Version"] = f"compute {microversion}"
        response = self.client.get(self.prefix + path, query_string=params or {}, headers=sent)
        return _Answer(response.status_code, self.prefix + path, response.get_data(as_text=True))


class _Hosts:
    def __init__(self, responder: LabResponder) -> None:
        self.responder = responder

    def run(self, host: str, command: str, timeout: float = 30.0) -> CommandResult:
        return CommandResult(*self.responder(host, command))


def _parent_type(doc: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> str:
    if doc["parent_type"] != "folder":
        return str(doc["parent_type"])
    return str(by_id[doc["parent_id"]]["parent_type"])


@pytest.mark.parametrize(("mechanism", "type_driver"), VARIANTS)
def test_the_declared_drivers_produce_only_declared_types_and_links(mechanism: str, type_driver: str) -> None:
    world = generate_world(3, 1, 1, mechanism, type_driver, seed=7, aggregates=True)
    client = create_app(StaticWorldSource(world), password=PASSWORD).test_client()
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"name": "Default"}, "password": PASSWORD}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}
    token = client.post("/identity/v3/auth/tokens", json=body).headers["X-Subject-Token"]
    connection = SimpleNamespace(**{s: _LabAdapter(client, p, token) for s, p in SERVICES.items()})

    docs = hierarchy.openstack_documents(hierarchy.read_openstack(connection, "RegionOne"))
    index, hosts = OpenStackIndex(docs), _Hosts(LabResponder(world))
    by_id = {d["id"]: d for d in docs}
    links: list[tuple[Variant, dict[str, Any]]] = []
    for host in world.hosts:
        facts = hierarchy.fetch_host(hosts, host.name)
        builder = HostBuilder(facts, index, vnic_path_finder)
        variant = Variant(builder.mechanism, builder.overlay)
        result = hierarchy.host_documents(facts, index)
        for doc in result.objects:
            by_id.setdefault(doc["id"], doc)
        links += [(variant, link) for link in result.links]

    produced = {d["type"] for d in by_id.values()}
    assert "aggregate" in produced and "host_pnic" in produced
    assert produced <= set(OBJECTS_BY_TYPE)
    for doc in by_id.values():
        if doc["type"] == "folder":
            assert doc["parent_type"] in OBJECTS_BY_TYPE["folder"].parents or doc["parent_type"] == ENVIRONMENT
            continue
        declaration = OBJECTS_BY_TYPE[doc["type"]]
        assert _parent_type(doc, by_id) in declaration.parents, doc["id"]
        if declaration.folder:
            assert by_id[doc["parent_id"]]["name"] == declaration.folder.replace("_", " ").title(), doc["id"]
    for variant, link in links:
        finders = [f for f in LINK_FINDERS if f.link_type == link["link_type"]]
        assert finders, link["link_type"]
        assert any(f.when.matches(variant) for f in finders), (link["link_type"], variant)
        assert link["provenance"]
