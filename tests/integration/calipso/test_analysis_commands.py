"""`calipso impact`, `whatif`, `rca` and `path` as real processes on a scanned lab world: tables, JSON,
reports, and one clear line for a bad object."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from conftest import calipso, scan_and_project

from graphmodel.schema import otep_id
from lab.expected import expected_path
from lab.faults import inject_fault
from lab.generate import generate_world


def test_impact_and_whatif_commands(mongo_db, neo4j_driver, env_name: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    world = generate_world(3, 2, 1, "ovs", "vxlan", seed=61)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    compute = next(h for h in world.hosts if "compute" in h.roles)
    on_host = sorted(i.id for i in world.instances if i.host == compute.name)
    assert on_host

    data = json.loads(calipso(mongo_db, "impact", env_name, compute.name, "--format", "json").stdout)
    assert sorted(a["id"] for a in data["affected"] if a["state"] == "down" and a["type"] == "instance") == on_host
    assert [a for a in data["affected"] if a["type"] == "instance" and a["id"] not in on_host] == []
    assert data["targets"][0]["id"] == compute.name and sum(c["down"] for c in data["by_host"].values()) >= 2

    table = calipso(mongo_db, "impact", env_name, compute.name)
    assert all(vm in table.stdout for vm in on_host) and "down" in table.stdout
    assert f"VMs down: {len(on_host)}, degraded: 0" in table.stderr

    report = tmp_path / "impact.html"
    calipso(mongo_db, "impact", env_name, compute.name, "--format", "html", "-o", str(report))
    html = report.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "</html>" in html
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert all(vm in html for vm in on_host)

    tunnel = otep_id(compute.name, "vxlan")
    rows = list(csv.DictReader(io.StringIO(
        calipso(mongo_db, "whatif", env_name, "--remove", tunnel, "--format", "csv").stdout)))
    assert sorted({r["vm"] for r in rows if r["breaks"] == "down"}) == on_host
    assert all(tunnel in r["removed_on_path"] and tunnel in r["path"] for r in rows)
    network = world.networks[0].id
    md = calipso(mongo_db, "whatif", env_name, "--remove", tunnel, "--remove", network, "--format", "md").stdout
    assert md.startswith(f"# What if {tunnel}, {network} went away") and all(vm in md for vm in on_host)


def test_path_and_rca_commands(mongo_db, neo4j_driver, env_name: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    world = generate_world(3, 2, 2, "ovs", "vxlan", seed=63)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    networks = {i.id: {world.port(p).network_id for p in i.port_ids} for i in world.instances}
    a, b = next((a, b) for a in world.instances for b in world.instances
                if a.host != b.host and networks[a.id] & networks[b.id])

    hops = json.loads(calipso(mongo_db, "path", env_name, a.name, b.id, "--format", "json").stdout)["hops"]
    assert [h["id"] for h in hops] == expected_path(world, a.id, b.id)
    assert all(h["health"] == "ok" for h in hops)
    table = calipso(mongo_db, "path", env_name, a.id, b.id)
    assert "link_state" in table.stdout and "all healthy" in table.stderr
    report = tmp_path / "path.html"
    calipso(mongo_db, "path", env_name, a.id, b.id, "--format", "html", "-o", str(report))
    assert report.read_text().startswith("<!DOCTYPE html>") and "<svg" in report.read_text()

    compute = next(h for h in world.hosts if h.name == a.host)
    nic = next(n for n in compute.nics if n.role in ("tunnel", "provider"))
    fault = inject_fault(world, "nic_down", f"{compute.name}/{nic.name}")
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    focal = fault.down + fault.degraded or sorted(i.id for i in world.instances if i.host == compute.name)
    data = json.loads(calipso(mongo_db, "rca", env_name, *focal, "--since", "1h", "--format", "json").stdout)
    assert data["suspects"][0]["id"] == fault.root_cause and data["suspects"][0]["evidence"]
    assert sorted(data["focal"]) == sorted(focal)
    table = calipso(mongo_db, "rca", env_name, *focal)
    assert fault.root_cause in table.stdout and "most likely:" in table.stderr
    rows = list(csv.DictReader(io.StringIO(calipso(mongo_db, "rca", env_name, *focal, "--since",
                                                   "2000-01-01T00:00:00Z", "--format", "csv").stdout)))
    assert rows[0]["rank"] == "1" and rows[0]["object"] == fault.root_cause
    done = calipso(mongo_db, "rca", env_name, *focal, "--since", "last tuesday", check=False)
    assert done.returncode == 1 and "--since 'last tuesday'" in done.stderr and "Traceback" not in done.stderr
    done = calipso(mongo_db, "rca", env_name, compute.name, check=False)  # a host is not a VM
    assert done.returncode == 1 and compute.name in done.stderr and "Traceback" not in done.stderr


def test_unknown_objects_are_one_clear_line(mongo_db, neo4j_driver, env_name: str) -> None:  # type: ignore[no-untyped-def]
    world = generate_world(2, 1, 1, "ovs", "vlan", seed=62)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    done = calipso(mongo_db, "impact", env_name, "no-such-host", check=False)
    assert done.returncode == 1 and "no object 'no-such-host'" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1 and done.stdout == ""
    done = calipso(mongo_db, "whatif", env_name, "--remove", "eth0", check=False)  # every host has one
    assert done.returncode == 1 and "'eth0' names 2 objects" in done.stderr and "Traceback" not in done.stderr
    done = calipso(mongo_db, "whatif", env_name, check=False)
    assert done.returncode == 2 and "--remove" in done.stderr
    vm = world.instances[0]
    done = calipso(mongo_db, "path", env_name, vm.id, "ghost", check=False)
    assert done.returncode == 1 and "no object 'ghost'" in done.stderr and "Traceback" not in done.stderr
    done = calipso(mongo_db, "rca", env_name, "ghost", check=False)
    assert done.returncode == 1 and "no object 'ghost'" in done.stderr and "Traceback" not in done.stderr
