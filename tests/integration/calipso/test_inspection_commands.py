"""`calipso clique`, `diff` and `invariants` as real processes on a scanned lab world: tables, JSON,
reports in every format, and clear errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from conftest import calipso, scan_and_project

from lab.faults import inject_fault
from lab.generate import generate_world


def test_clique_diff_and_invariants_commands(mongo_db, neo4j_driver, env_name: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    world = generate_world(3, 2, 1, "ovs", "vxlan", seed=31)
    first = scan_and_project(world, mongo_db, neo4j_driver, env_name)
    vm = world.instances[0]

    table = calipso(mongo_db, "clique", env_name, vm.id)
    assert vm.id in table.stdout and "vedge-ovs" in table.stdout and "instance-ovs-tunnel" in table.stdout
    data = json.loads(calipso(mongo_db, "clique", env_name, vm.id, "--format", "json").stdout)
    assert data["focal_id"] == vm.id and {n["type"] for n in data["nodes"]} >= {"vnic", "vedge", "otep"}
    report = tmp_path / "clique.html"
    calipso(mongo_db, "clique", env_name, vm.id, "--format", "html", "-o", str(report))
    html = report.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and vm.id in html

    clean = calipso(mongo_db, "invariants", env_name, "--format", "md").stdout
    assert clean.startswith(f"# Invariants of {env_name}: 0 violation(s)") and "Nothing to report." in clean
    inject_fault(world, "bond_member_down", f"{vm.host}/eth1")
    second = scan_and_project(world, mongo_db, neo4j_driver, env_name)
    rows = list(csv.DictReader(io.StringIO(calipso(mongo_db, "invariants", env_name, "--format", "csv").stdout)))
    assert [r["kind"] for r in rows] == ["bond_one_live_member"] and f"{vm.host}/eth1" in rows[0]["objects"]

    changes = json.loads(calipso(mongo_db, "diff", env_name, "--from", first.scan_id, "--to", second.scan_id,
                                 "--format", "json").stdout)["changes"]
    nic = next(c for c in changes if c["key"] == f"{vm.host}/eth1")
    assert nic["fields"]["link_detected"] == {"old": True, "new": False}
    md = calipso(mongo_db, "diff", env_name, "--from", first.scan_id, "--around", f"{vm.host}/eth1", "--hops", "1",
                 "--format", "md").stdout
    assert md.startswith("# Changes in") and f"{vm.host}/eth1" in md and vm.id not in md


def test_bad_input_is_one_clear_line(mongo_db, env_name: str) -> None:  # type: ignore[no-untyped-def]
    done = calipso(mongo_db, "clique", env_name, "no-such-vm", check=False)
    assert done.returncode == 1 and "no object 'no-such-vm'" in done.stderr and "Traceback" not in done.stderr
    done = calipso(mongo_db, "diff", env_name, "--from", "last tuesday", check=False)
    assert done.returncode == 1 and "neither a time" in done.stderr
    done = calipso(mongo_db, "invariants", env_name, "--check", "bogus", check=False)
    assert done.returncode == 1 and "unknown invariant(s) bogus" in done.stderr
