"""Impact, what-if, root cause and path through the API on the scanned lab (`api_world`): the same
answers as the functions of queries/, unknown objects a 404 and ambiguous ones a 400 in the one
error shape, required parameters, and auth."""

from __future__ import annotations

from datetime import UTC, datetime

from conftest import error_of, ok

from graphmodel.schema import otep_id
from queries.impact import impact, whatif
from queries.path import path
from queries.rca import rca


def analysis(api_world, name: str) -> str:  # type: ignore[no-untyped-def]
    return f"/environments/{api_world.environment}/analysis/{name}"


def compute_host(api_world):  # type: ignore[no-untyped-def]
    return next(h for h in api_world.world.hosts if "compute" in h.roles and any(
        i.host == h.name for i in api_world.world.instances))


def sharing_pair(world):  # type: ignore[no-untyped-def]
    """Two VMs on different hosts that share a network, and the networks of every VM."""
    networks = {i.id: {world.port(p).network_id for p in i.port_ids} for i in world.instances}
    return next((a, b) for a in world.instances for b in world.instances
                if a.host != b.host and networks[a.id] & networks[b.id]), networks


def test_impact_of_a_host_equals_the_function(get, api_world) -> None:  # type: ignore[no-untyped-def]
    host = compute_host(api_world)
    direct = impact(api_world.stores.neo4j, api_world.environment, [host.name])
    answer = ok(get(analysis(api_world, "impact"), target=host.name))
    down = sorted(a["id"] for a in answer["affected"] if a["state"] == "down" and a["type"] == "instance")
    assert down == direct.ids("down") == sorted(i.id for i in api_world.world.instances if i.host == host.name)
    assert [r["vm"] for r in answer["rows"]] == [r["vm"] for r in direct.rows()]
    assert answer["title"] == direct.title and answer["environment"] == api_world.environment
    assert answer["summary"] == direct.summary and answer["by_host"] == direct.by_host
    # two targets, one of them by name, repeated as `target`
    vm = api_world.world.instances[0]
    both = ok(get(analysis(api_world, "impact"), target=[host.name, vm.name]))
    assert {t["id"] for t in both["targets"]} == {host.name, vm.id}


def test_whatif_equals_the_function(get, api_world) -> None:  # type: ignore[no-untyped-def]
    host = compute_host(api_world)
    tunnel = otep_id(host.name, "vxlan")
    direct = whatif(api_world.stores.neo4j, api_world.environment, [tunnel])
    answer = ok(get(analysis(api_world, "whatif"), remove=tunnel))
    assert answer["rows"] == direct.rows() and answer["rows"]
    assert sorted({r["vm"] for r in answer["rows"] if r["breaks"] == "down"}) == direct.vms("down")
    assert answer["removed"][0]["id"] == tunnel


def test_unknown_ambiguous_and_missing_objects(get, api_world) -> None:  # type: ignore[no-untyped-def]
    host = compute_host(api_world)
    error = error_of(get(analysis(api_world, "impact"), target=[host.name, "no-such-thing"]), 404)
    assert error["code"] == "not_found" and "no-such-thing" in error["message"]
    assert error["details"]["unknown"] == ["no-such-thing"]
    error = error_of(get(analysis(api_world, "whatif"), remove="nope"), 404)
    assert "nope" in error["message"]
    error = error_of(get(analysis(api_world, "impact"), target="eth0"), 400)  # every host has one
    assert "'eth0' names" in error["message"] and error["code"] == "bad_request"
    error = error_of(get(analysis(api_world, "impact"), target=f"{host.name}/instances"), 400)  # a folder
    assert "folder" in error["message"]
    error = error_of(get(analysis(api_world, "impact")), 400)
    assert error["details"]["parameter"] == "target"
    error_of(get(analysis(api_world, "whatif")), 400)
    error_of(get(analysis(api_world, "impact"), target=host.name, remove=host.name), 400)  # unknown key
    error_of(get("/environments/no-such-env/analysis/impact", user="admin", target=host.name), 404)


def test_rca_equals_the_function(get, api_world) -> None:  # type: ignore[no-untyped-def]
    host = compute_host(api_world)
    vms = sorted(i.id for i in api_world.world.instances if i.host == host.name)
    since = "2024-01-01T00:00:00Z"
    direct = rca(api_world.stores.neo4j, api_world.environment, vms,
                 datetime(2024, 1, 1, tzinfo=UTC))
    answer = ok(get(analysis(api_world, "rca"), focal=vms, since=since))
    assert answer["rows"] == direct.rows() and answer["focal"] == vms == direct.focal
    assert answer["since"].startswith("2024-01-01T00:00:00") and answer["summary"] == direct.summary
    # a healthy lab scanned once: nothing failing, nothing changed (being created is no change); the
    # hops the VMs share are listed with no score
    assert answer["summary"][0] == "no evidence of a fault on these VMs' paths"
    assert answer["rows"] and all(row["score"] == 0 and row["evidence"].startswith("common hop: ")
                                  for row in answer["rows"])
    default = ok(get(analysis(api_world, "rca"), focal=vms[0]))  # since: the last 24 hours
    assert default["focal"] == vms[:1] and default["since"] > since
    error = error_of(get(analysis(api_world, "rca"), focal=host.name), 400)  # a host is not a VM
    assert host.name in error["message"]
    error_of(get(analysis(api_world, "rca"), focal=vms[0], since="yesterday"), 400)
    error = error_of(get(analysis(api_world, "rca"), focal=[vms[0], "ghost-vm"]), 404)
    assert "ghost-vm" in error["message"] and error["details"]["unknown"] == ["ghost-vm"]
    error_of(get(analysis(api_world, "rca")), 400)


def test_path_equals_the_function(get, api_world) -> None:  # type: ignore[no-untyped-def]
    world = api_world.world
    (a, b), networks = sharing_pair(world)
    direct = path(api_world.stores.neo4j, api_world.environment, a.id, b.id)
    answer = ok(get(analysis(api_world, "path"), source=a.name, target=b.id))
    assert answer["rows"] == direct.rows() and answer["rows"][0]["id"] == a.id and answer["rows"][-1]["id"] == b.id
    assert answer["source"] == a.id and answer["target"] == b.id and answer["network"] == direct.network
    strangers = next(((a, b) for a in world.instances for b in world.instances
                      if not networks[a.id] & networks[b.id]), None)
    if strangers:
        error = error_of(get(analysis(api_world, "path"), source=strangers[0].id, target=strangers[1].id), 400)
        assert "share no network" in error["message"]
    error = error_of(get(analysis(api_world, "path"), source=a.id, target="nowhere"), 404)
    assert "nowhere" in error["message"] and error["details"]["unknown"] == ["nowhere"]
    assert error_of(get(analysis(api_world, "path"), source=a.id), 400)["details"]["parameter"] == "target"
    error_of(get(analysis(api_world, "path"), source=a.id, target=[b.id, b.id]), 400)  # given twice


def test_auth(get, api_world) -> None:  # type: ignore[no-untyped-def]
    host = compute_host(api_world)
    (a, b), _ = sharing_pair(api_world.world)
    for name, params in (("impact", {"target": host.name}), ("whatif", {"remove": host.name}),
                         ("rca", {"focal": a.id}), ("path", {"source": a.id, "target": b.id})):
        assert error_of(get(analysis(api_world, name), user=None, **params), 401)["code"] == "unauthorized"
        error_of(get(analysis(api_world, name), user="bob", **params), 403)  # no grant
        ok(get(analysis(api_world, name), user="alice", **params))  # view suffices
