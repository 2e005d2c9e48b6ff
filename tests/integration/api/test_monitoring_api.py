"""POST /environments/{env}/monitoring/sensu|collectd on the scanned lab: the edit role may post, a view
user may not; malformed bodies are 400s naming what is wrong; results naming nothing of the inventory
are counted and become a message (this shared world's statuses are left untouched); the summary."""

from __future__ import annotations

from conftest import error_of, ok

from ingest.records import MESSAGES

API = "/api/v1"


def test_intake_roles_refusals_and_unmapped_results(api_app, api_tokens, api_world) -> None:  # type: ignore[no-untyped-def]
    client = api_app.test_client()
    env = api_world.environment
    base = f"{API}/environments/{env}/monitoring"

    def auth(user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_tokens[user]}"}

    sample = [{"values": [0], "dstypes": ["gauge"], "dsnames": ["value"], "time": 1764688000.0, "interval": 10.0,
               "host": "not-a-host-here", "plugin": "ovs_events", "plugin_instance": "eth9", "type": "gauge",
               "type_instance": "link_status"}]
    error_of(client.post(f"{base}/collectd", json=sample, headers=auth("alice")), 403)  # view only
    answer = ok(client.post(f"{base}/collectd", json=sample, headers=auth("carol")))
    assert (answer["mapped"], answer["unmapped"], answer["changes"]) == (0, 1, [])
    said = api_world.stores.mongo[MESSAGES].find_one({"environment": env, "source_system": "collectd",
                                                      "message": {"$regex": "not-a-host-here/eth9"}})
    assert said is not None and said["level"] == "warning"

    event = {"entity": {"metadata": {"name": "not-a-host-here"}},
             "check": {"metadata": {"name": "calipso-link_state-eth9"}, "status": 2, "output": "down"}}
    assert ok(client.post(f"{base}/sensu", json=event, headers=auth("carol")))["unmapped"] == 1

    assert "check.status" in error_of(client.post(f"{base}/sensu", json={**event, "check": {
        "metadata": {"name": "x"}, "status": "bad"}}, headers=auth("carol")), 400)["message"]
    assert "entity" in error_of(client.post(f"{base}/sensu", json={"check": {}}, headers=auth("carol")), 400)["message"]
    assert "must be JSON" in error_of(client.post(f"{base}/collectd", data="PUTVAL x/y/z 1:2",
                                                  headers=auth("carol")), 400)["message"]
    assert "dsnames" in error_of(client.post(f"{base}/collectd", json=[{**sample[0], "dsnames": []}],
                                             headers=auth("carol")), 400)["message"]
    error_of(client.post(f"{base}/sensu", json=event, headers=auth("bob")), 403)

    summary = ok(client.get(base, headers=auth("alice")))
    assert summary["environment"] == env and isinstance(summary["statuses"], dict)
