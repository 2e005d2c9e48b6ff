"""The Python client's exports and reports, over HTTP against the API served by waitress."""

from __future__ import annotations

import json

import pytest

from calipso.client import CalipsoAPIError, Client

pytestmark = pytest.mark.integration


def test_client_exports_and_reports(api_url, api_tokens, api_world) -> None:  # type: ignore[no-untyped-def]
    api = Client(api_url, token=api_tokens["alice"])
    env = api_world.environment
    graph = json.loads(api.export(env, "json"))
    assert len(graph["nodes"]) == api_world.stores.mongo.inventory.count_documents(
        {"environment": env, "type": {"$ne": "folder"}})
    assert api.export(env, "dot").startswith(f'digraph "{env}" {{')

    report = api.maintenance_report(env, "compute-1", window="2026-12-10T02:00/03:00")
    impact = api.impact(env, ["compute-1"])
    assert report["data"]["vms_down"] == sorted(a["id"] for a in impact["affected"]
                                                if a["state"] == "down" and a["type"] == "instance")
    assert api.maintenance_report(env, ["compute-1"], format="md").startswith("# Maintenance of compute-1")
    assert api.incident_report(env, api_world.world.instances[0].id, format="pdf").startswith(b"%PDF-")

    with pytest.raises(CalipsoAPIError) as error:
        api.export(env, "svg")
    assert error.value.status == 400 and "'format' must be one of" in error.value.message
    with pytest.raises(CalipsoAPIError) as error:
        Client(api_url, token=api_tokens["bob"]).maintenance_report(env, "compute-1", format="pdf")
    assert error.value.status == 403
