"""`calipso export` as a real process: a file per format, read back by its tool; clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest
from conftest import calipso

from calipso.lab_scan import scan_world_in_process
from lab.generate import generate_world

pytestmark = pytest.mark.integration


def test_export_command_writes_each_format(mongo_db, env_name: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert scan_world_in_process(generate_world(2, 1, 1, "lxb", "vlan", seed=3), mongo_db, env_name).status == "completed"
    ids = {d["id"] for d in mongo_db.inventory.find({"environment": env_name, "type": {"$ne": "folder"}})}
    link_count = mongo_db.links.count_documents({"environment": env_name})

    gexf = tmp_path / "env.gexf"
    done = calipso(mongo_db, "export", env_name, "--format", "gexf", "-o", str(gexf))
    assert f"-> {gexf}" in done.stderr
    graph = nx.read_gexf(gexf)
    assert set(graph.nodes) == ids and graph.number_of_edges() == link_count

    data = json.loads(calipso(mongo_db, "export", env_name, "--format", "json").stdout)  # standard output
    assert {n["id"] for n in data["nodes"]} == ids and len(data["links"]) == link_count

    netbox = json.loads(calipso(mongo_db, "export", env_name, "--format", "netbox").stdout)
    vlans = {d["segmentation_id"] for d in mongo_db.inventory.find({"environment": env_name, "type": "network",
                                                                     "network_type": "vlan"})}
    tagged = {v for i in netbox["dcim.interface"] for v in i.get("tagged_vlans", [])}
    assert tagged and tagged <= vlans  # NICs carrying VLAN networks name their VLAN ids


def test_export_errors_are_one_line(mongo_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    done = calipso(mongo_db, "export", "nowhere", "--format", "dot", "-o", str(tmp_path / "x.dot"), check=False)
    assert done.returncode == 1
    assert "environment 'nowhere' has no objects" in done.stderr
    assert not (tmp_path / "x.dot").exists()
    done = calipso(mongo_db, "export", "nowhere", "--format", "svg", check=False)
    assert done.returncode == 2 and "'svg' is not one of" in done.stderr
