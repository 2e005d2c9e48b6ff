"""GET /environments/{env}/export: streamed, access-checked, each format readable by its tool."""

from __future__ import annotations

import io
import json

import networkx as nx
import pytest
from conftest import error_of

pytestmark = pytest.mark.integration


def test_graphml_export_holds_the_inventory(get, api_world) -> None:  # type: ignore[no-untyped-def]
    answer = get(f"/environments/{api_world.environment}/export", format="graphml")
    assert answer.status_code == 200
    assert answer.is_streamed
    assert answer.mimetype == "application/graphml+xml"
    assert answer.headers["Content-Disposition"] == f'attachment; filename="{api_world.environment}.graphml"'
    graph = nx.read_graphml(io.BytesIO(answer.get_data()))
    database = api_world.stores.mongo
    ids = {d["id"] for d in database.inventory.find({"environment": api_world.environment, "type": {"$ne": "folder"}})}
    assert set(graph.nodes) == ids
    assert graph.number_of_edges() == database.links.count_documents({"environment": api_world.environment})


def test_netbox_and_batfish_exports_are_json(get, api_world) -> None:  # type: ignore[no-untyped-def]
    netbox = get(f"/environments/{api_world.environment}/export", format="netbox")
    assert netbox.status_code == 200 and netbox.mimetype == "application/json"
    hosts = {d["name"] for d in api_world.stores.mongo.inventory.find({"environment": api_world.environment,
                                                                       "type": "host"})}
    assert {d["name"] for d in json.loads(netbox.get_data())["dcim.device"]} == hosts
    batfish = get(f"/environments/{api_world.environment}/export", format="batfish")
    assert batfish.status_code == 200
    assert json.loads(batfish.get_data()) == {"edges": []}  # the lab has no switches: no cables are known


def test_export_needs_a_view_grant_and_a_known_format(get, api_world) -> None:  # type: ignore[no-untyped-def]
    path = f"/environments/{api_world.environment}/export"
    assert error_of(get(path, user=None, format="json"), 401)
    assert "may not read" in error_of(get(path, user="bob", format="json"), 403)["message"]
    assert "'format' must be one of" in error_of(get(path, format="svg"), 400)["message"]
    assert "'format'" in error_of(get(path), 400)["message"]
    assert error_of(get("/environments/no-such-env/export", user="admin", format="json"), 404)
