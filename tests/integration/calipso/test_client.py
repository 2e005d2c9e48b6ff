"""The Python client against the API served over HTTP: a method per resource, DataFrames on
request, errors carrying status and body."""

from __future__ import annotations

import pandas as pd
import pytest

from calipso.client import CalipsoAPIError, Client


@pytest.fixture
def alice(api_url) -> Client:  # type: ignore[no-untyped-def]
    return Client.login(api_url, "alice", "alice-pw")


def test_login_whoami_and_logout(api_url, api_world) -> None:  # type: ignore[no-untyped-def]
    client = Client.login(api_url + "/api/v1/", "alice", "alice-pw")
    assert client.whoami()["grants"] == {api_world.environment: "view"}
    client.logout()
    with pytest.raises(CalipsoAPIError) as error:
        Client(api_url, client.token or "x").whoami()
    assert error.value.status == 401


def test_wrong_password_raises_with_the_error_body(api_url) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CalipsoAPIError) as error:
        Client.login(api_url, "alice", "nope")
    assert error.value.status == 401 and error.value.code == "unauthorized"
    assert error.value.body["error"]["message"] == error.value.message


def test_inventory_links_and_frames(alice: Client, api_world) -> None:  # type: ignore[no-untyped-def]
    env = api_world.environment
    everything = alice.inventory(env)
    assert len(everything) == alice.statistics(env)["objects"] > 0  # every page was walked
    vms = alice.inventory(env, type="instance", as_frame=True)
    assert isinstance(vms, pd.DataFrame) and sorted(vms["id"]) == sorted(i.id for i in api_world.world.instances)
    vm = api_world.world.instances[0]
    assert alice.object(env, vm.id)["name"] == vm.name
    pnic = next(o for o in everything if o["type"] == "host_pnic")
    assert alice.object(env, pnic["id"])["id"] == pnic["id"]  # ids with '/'
    links = alice.links(env, link_type="instance-vnic", source_id=vm.id)
    assert links and all(l["source_id"] == vm.id for l in links)
    assert alice.link(env, links[0]["key"])["key"] == links[0]["key"]
    network_link = next(l for l in alice.links(env) if "network" in l)
    by_attribute = alice.links(env, attributes={"network": network_link["network"]}, as_frame=True)
    assert set(by_attribute["network"]) == {network_link["network"]}
    assert len(alice.object_history(env, vm.id)) == 1


def test_exploring(alice: Client, api_world) -> None:  # type: ignore[no-untyped-def]
    env = api_world.environment
    vm = api_world.world.instances[0]
    nodes, links = alice.graph(env, focal=vm.id, hops=2, as_frame=True)
    assert vm.id in set(nodes["id"]) and not links.empty
    assert alice.search(env, vm.name)[0]["id"] == vm.id
    assert {c["id"] for c in alice.tree(env)} >= {"regions"}
    clique = alice.clique(env, vm.id)
    assert clique["focal_id"] == vm.id
    assert "instance" in set(alice.clique(env, vm.id, as_frame=True)["type"])
    assert {t["name"] for t in alice.types()["object_types"]} >= {"instance", "vnic"}
    assert not alice.clique_types(focal_point_type="instance", as_frame=True).empty


def test_scans_messages_diff(alice: Client, api_world) -> None:  # type: ignore[no-untyped-def]
    env = api_world.environment
    scans = alice.scans(env)
    assert scans[0]["status"] == "completed" and alice.scan(env, scans[0]["id"])["id"] == scans[0]["id"]
    assert isinstance(alice.messages(env, level=["warning", "error"]), list)
    changes = alice.diff(env, since="7d", as_frame=True)
    assert set(changes["change"]) == {"added"}
    assert alice.environments()[0]["name"] == env


def test_errors_name_the_problem(alice: Client, api_world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CalipsoAPIError) as missing:
        alice.object(api_world.environment, "no-such-object")
    assert missing.value.status == 404
    with pytest.raises(CalipsoAPIError) as forbidden:
        alice.inventory("someone-elses")
    assert forbidden.value.status == 403
    with pytest.raises(CalipsoAPIError) as bad:
        alice.get(f"/environments/{api_world.environment}/inventory", colour="red")
    assert bad.value.status == 400 and bad.value.details["unknown"] == ["colour"]
