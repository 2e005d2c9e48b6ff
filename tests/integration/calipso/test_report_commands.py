"""`calipso report maintenance|incident` as real processes: PDF (read back with pdftotext), HTML,
Markdown and JSON, the format from the file's suffix; one clear line for bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import calipso, scan_and_project

from lab.generate import generate_world

pytestmark = pytest.mark.integration


def test_report_commands(mongo_db, neo4j_driver, env_name: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    world = generate_world(3, 2, 1, "ovs", "vxlan", seed=5)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    impact = json.loads(calipso(mongo_db, "impact", env_name, "compute-1", "--format", "json").stdout)
    down = sorted(a["id"] for a in impact["affected"] if a["state"] == "down" and a["type"] == "instance")

    pdf = tmp_path / "maintenance.pdf"
    done = calipso(mongo_db, "report", "maintenance", env_name, "--hosts", "compute-1",
                   "--window", "2026-12-10T02:00/04:00", "-o", str(pdf))
    assert f"pdf -> {pdf}" in done.stderr
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Maintenance of compute-1 on 2026-12-10" in text and "Who to tell" in text
    assert all(next(i.name for i in world.instances if i.id == vm) in text for vm in down)

    data = json.loads(calipso(mongo_db, "report", "maintenance", env_name, "--hosts", "compute-1",
                              "--format", "json").stdout)
    assert data["data"]["vms_down"] == down  # the same VMs `calipso impact` names

    html = tmp_path / "incident.html"
    vm = next(i for i in world.instances if i.host == "compute-2")
    calipso(mongo_db, "report", "incident", env_name, vm.name, "--since", "2h", "-o", str(html))
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and f"Incident: {vm.name}" in page and "Ways out of the hosts" in page
    markdown = calipso(mongo_db, "report", "incident", env_name, vm.id).stdout  # md on standard output
    assert markdown.startswith(f"# Incident: {vm.name}")


def test_report_errors_are_one_line(mongo_db, neo4j_driver, env_name: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scan_and_project(generate_world(2, 1, 1, "ovs", "vxlan", seed=9), mongo_db, neo4j_driver, env_name)
    for args, says in [
        (("maintenance", env_name, "--hosts", "compute-1", "--window", "2026-12-10T04:00/2026-12-10T02:00"),
         "before it starts"),
        (("maintenance", env_name, "--hosts", "no-such-host"), "no object 'no-such-host'"),
        (("maintenance", env_name, "--hosts", "compute-1", "--format", "pdf"), "a PDF report needs a file"),
        (("maintenance", env_name, "--hosts", "compute-1", "-o", str(tmp_path / "r.docx")), "cannot tell the format"),
        (("incident", env_name, "compute-1"), "expected instance or vservice"),
        (("incident", env_name, "vm-1", "--since", "last week"), "--since 'last week'"),
    ]:
        done = calipso(mongo_db, "report", *args, check=False)
        assert done.returncode == 1, (args, done.stderr)
        assert says in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)
    assert not (tmp_path / "r.docx").exists()
