"""Exports read back: every format is parsed by the tool's own reader (networkx, pydot, json) and its
ids and counts compared with the inventory in MongoDB.

The lab has no physical switches (their source, ACI, is not built), so the module adds a switch, its
ports and two host-NIC-to-port links through the inventory's one write path, as a switch source
would: without them NetBox cables and Batfish edges would only ever be tested empty.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pydot
import pytest

from core.settings import Settings, load_settings
from core.stores import Stores
from queries.export import FORMATS, ExportError, export

# pydot 4 still calls pyparsing names pyparsing 3.3 deprecates; nothing of ours.
pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore:.*deprecated - use:DeprecationWarning")]

ENV = "export-lab"
SWITCH = {"id": "switch:00:1c:73:aa:bb:cc", "type": "switch", "name": "leaf-1", "parent_id": ENV,
          "parent_type": "environment", "model": "DCS-7050", "id_path": ["switch:00:1c:73:aa:bb:cc"],
          "name_path": ["leaf-1"]}


def _port(name: str) -> dict:  # type: ignore[type-arg]
    return {"id": f"{SWITCH['id']}/{name}", "type": "switch_pnic", "name": name, "parent_id": SWITCH["id"],
            "parent_type": "switch", "speed": 10000, "id_path": [SWITCH["id"], f"{SWITCH['id']}/{name}"],
            "name_path": ["leaf-1", name]}


@pytest.fixture(scope="module")
def exported(settings: Settings, stores: Stores) -> Iterator[Stores]:
    """A 3-host OVS/VXLAN lab scanned into a database of its own, plus one switch cabled to two hosts."""
    from calipso.lab_scan import scan_world_in_process
    from graphmodel.inventory import InventoryWriter
    from lab.generate import generate_world
    from migrations import runner

    opened = Stores(load_settings(mongo_uri=settings.mongo_uri, mongo_database=f"test_export_{uuid.uuid4().hex[:10]}"))
    runner.apply_mongo(opened.mongo)
    try:
        world = generate_world(3, 2, 2, "ovs", "vxlan", seed=7)
        assert scan_world_in_process(world, opened.mongo, ENV).status == "completed"
        writer = InventoryWriter(opened.mongo, ENV)
        writer.write_objects([SWITCH, _port("Ethernet1"), _port("Ethernet2")])
        writer.write_links([
            {"link_type": "host_pnic-switch_pnic", "source_id": "compute-1/eth0", "target_id": f"{SWITCH['id']}/Ethernet1",
             "state": "up", "host": "compute-1", "provenance": "MAC match"},
            {"link_type": "host_pnic-switch_pnic", "source_id": "compute-2/eth0", "target_id": f"{SWITCH['id']}/Ethernet2",
             "state": "down", "host": "compute-2", "provenance": "MAC match"}])
        yield opened
    finally:
        opened.mongo.client.drop_database(opened.mongo.name)
        opened.close()


def _inventory(stores: Stores) -> tuple[dict[str, dict], list[dict]]:  # type: ignore[type-arg]
    objects = {d["id"]: d for d in stores.mongo.inventory.find({"environment": ENV, "type": {"$ne": "folder"}})}
    links = list(stores.mongo.links.find({"environment": ENV}))
    return objects, links


def _write(stores: Stores, output_format: str, path: Path) -> Path:
    path.write_text("".join(export(stores.mongo, ENV, output_format)), encoding="utf-8")
    return path


@pytest.mark.parametrize("output_format", ["graphml", "gexf", "json", "dot"])
def test_graph_formats_hold_every_object_and_link(exported: Stores, output_format: str, tmp_path: Path) -> None:
    objects, links = _inventory(exported)
    assert len(objects) > 50 and len(links) > 30
    path = _write(exported, output_format, tmp_path / f"env.{output_format}")
    if output_format == "graphml":
        graph = nx.read_graphml(path)
    elif output_format == "gexf":
        graph = nx.read_gexf(path)
    elif output_format == "json":
        graph = nx.node_link_graph(json.loads(path.read_text()), edges="links")
    else:
        (parsed,) = pydot.graph_from_dot_file(str(path))
        graph = nx.DiGraph()
        for node in parsed.get_nodes():
            if node.get_name() not in ("node", "edge", "graph"):
                graph.add_node(json.loads(node.get_name()), **{k: json.loads(v) for k, v in node.get_attributes().items()})
        for edge in parsed.get_edges():
            graph.add_edge(json.loads(edge.get_source()), json.loads(edge.get_destination()),
                           **{k: json.loads(v) for k, v in edge.get_attributes().items()})
    assert set(graph.nodes) == set(objects)
    assert graph.number_of_edges() == len(links)
    assert set(graph.edges) == {(l["source_id"], l["target_id"]) for l in links}
    vm = next(d for d in objects.values() if d["type"] == "instance")
    assert graph.nodes[vm["id"]]["type"] == "instance"
    assert graph.nodes[vm["id"]].get("host") == vm["host"]
    cable = next(l for l in links if l["link_type"] == "host_pnic-switch_pnic" and l["state"] == "down")
    assert graph.edges[cable["source_id"], cable["target_id"]]["link_type"] == "host_pnic-switch_pnic"
    assert graph.edges[cable["source_id"], cable["target_id"]]["state"] == "down"


def test_graphml_keeps_lists_as_json_text(exported: Stores, tmp_path: Path) -> None:
    graph = nx.read_graphml(_write(exported, "graphml", tmp_path / "env.graphml"))
    otep = next(d for d in exported.mongo.inventory.find({"environment": ENV, "type": "otep"}))
    assert json.loads(graph.nodes[otep["id"]]["remote_ips"]) == otep["remote_ips"]


def test_netbox_records_match_the_inventory(exported: Stores, tmp_path: Path) -> None:
    document = json.loads(_write(exported, "netbox", tmp_path / "netbox.json").read_text())
    objects, links = _inventory(exported)
    of_type = lambda kind: [d for d in objects.values() if d["type"] == kind]  # noqa: E731
    hosts = {d["name"] for d in of_type("host")}

    devices = document["dcim.device"]
    assert {d["name"] for d in devices} == hosts | {"leaf-1"}
    assert all({"name", "role", "manufacturer", "device_type", "status", "site"} <= set(d) for d in devices)

    interfaces = document["dcim.interface"]
    owners = {d["id"]: d for d in objects.values() if d["type"] in ("instance", "vservice")}
    service_vnics = [v for v in of_type("vnic") if owners[v["id_path"][-3]]["type"] == "vservice"]
    vm_vnics = [v for v in of_type("vnic") if owners[v["id_path"][-3]]["type"] == "instance"]
    assert len(interfaces) == len(of_type("host_pnic")) + len(of_type("switch_pnic")) + len(service_vnics)
    assert {(i["device"], i["name"]) for i in interfaces} >= {(n["host"], n["name"]) for n in of_type("host_pnic")}
    bonds = [n for n in of_type("host_pnic") if n.get("bond_members")]
    assert bonds, "the lab world has bonds"
    names = [(i["device"], i["name"]) for i in interfaces]
    for bond in bonds:
        record = interfaces[names.index((bond["host"], bond["name"]))]
        assert record["type"] == "lag"
        for member in bond["bond_members"]:  # a LAG comes before the members that name it
            member_index = names.index((bond["host"], member))
            assert interfaces[member_index]["lag"] == bond["name"]
            assert member_index > names.index((bond["host"], bond["name"]))
    eth0 = interfaces[names.index(("compute-1", "eth0"))]
    assert eth0["mtu"] == objects["compute-1/eth0"]["mtu"] and eth0["speed"] == objects["compute-1/eth0"]["speed"] * 1000

    assert {v["name"] for v in document["virtualization.virtualmachine"]} == {d["name"] for d in of_type("instance")}
    vm_interfaces = document["virtualization.vminterface"]
    assert sorted((i["virtual_machine"], i["name"]) for i in vm_interfaces) == sorted(
        (owners[v["id_path"][-3]]["name"], v["name"]) for v in vm_vnics)
    macs = {m["mac_address"] for m in document["dcim.macaddress"]}
    assert {v["mac_address"] for v in of_type("vnic")} <= macs

    ports = {p["id"]: p for p in of_type("port")}
    vm_addresses = {(a["virtual_machine"], a["address"].split("/")[0]) for a in document["ipam.ipaddress"]
                    if "virtual_machine" in a}
    assert vm_addresses == {(owners[v["id_path"][-3]]["name"], ip) for v in vm_vnics
                            for ip in ports[v["port_id"]]["fixed_ips"]}
    assert all("/" in a["address"] for a in document["ipam.ipaddress"])

    cables = document["dcim.cable"]
    assert sorted((c["side_a_device"], c["side_a_name"], c["side_b_device"], c["side_b_name"]) for c in cables) == [
        ("compute-1", "eth0", "leaf-1", "Ethernet1"), ("compute-2", "eth0", "leaf-1", "Ethernet2")]
    assert {c["side_a_type"] for c in cables} == {"dcim.interface"}


def test_batfish_layer1_topology_has_the_cabled_links(exported: Stores, tmp_path: Path) -> None:
    topology = json.loads(_write(exported, "batfish", tmp_path / "layer1_topology.json").read_text())
    physical = list(exported.mongo.links.find({"environment": ENV, "link_type": "host_pnic-switch_pnic"}))
    assert len(topology["edges"]) == len(physical) == 2
    assert {(e["node1"]["hostname"], e["node1"]["interfaceName"], e["node2"]["hostname"], e["node2"]["interfaceName"])
            for e in topology["edges"]} == {("compute-1", "eth0", "leaf-1", "Ethernet1"),
                                             ("compute-2", "eth0", "leaf-1", "Ethernet2")}


@pytest.mark.parametrize("output_format", FORMATS)
def test_exports_are_written_object_by_object(exported: Stores, output_format: str) -> None:
    """A chunk per object or record, not one string built at the end."""
    objects, _ = _inventory(exported)
    chunks = list(export(exported.mongo, ENV, output_format))
    if output_format == "batfish":
        assert len(chunks) == 2 + 2  # opening, two edges, closing
    elif output_format == "netbox":
        assert len(chunks) > len([d for d in objects.values() if d["type"] in ("host", "host_pnic", "instance")])
    else:
        assert len(chunks) > len(objects)


def test_bad_format_and_empty_environment_are_refused(exported: Stores) -> None:
    with pytest.raises(ExportError, match="unknown export format 'svg'"):
        export(exported.mongo, ENV, "svg")
    with pytest.raises(ExportError, match="'no-such-env' has no objects"):
        export(exported.mongo, "no-such-env", "graphml")
