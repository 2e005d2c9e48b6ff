"""The maintenance and incident reports on scanned lab worlds: their content against the analyses
and the world, and the PDF Chromium prints, read back with pdftotext."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import scan_and_project

from lab.faults import inject_fault
from lab.generate import generate_world
from queries.command_chain import incident_report, maintenance_report
from queries.impact import impact
from queries.reports import print_pdf, render_document

pytestmark = pytest.mark.integration


def pdf_text(data: bytes, tmp_path: Path) -> str:
    assert data.startswith(b"%PDF-")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def test_maintenance_report(mongo_db, neo4j_driver, env_name: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    world = generate_world(3, 2, 2, "ovs", "vxlan", seed=11)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    hosts = ["compute-1", "compute-2"]
    document = maintenance_report(neo4j_driver, env_name, hosts, "2026-12-10T02:00/04:00")

    expected = impact(neo4j_driver, env_name, hosts)
    assert document.data["vms_down"] == expected.ids("down") and document.data["vms_degraded"] == expected.ids("degraded")
    on_hosts = {i.id for i in world.instances if i.host in hosts}
    assert on_hosts and on_hosts <= set(document.data["vms_down"])  # a host takes its own VMs down
    projects = {p.name for p in world.projects if any(i.project_id == p.id for i in world.instances if i.id in on_hosts)}
    assert set(document.data["projects"]) >= projects
    assert document.summary[0].startswith("Hosts going down: compute-1, compute-2, 2026-12-10 02:00 – 04:00 UTC")
    assert any(line.startswith("Who to tell: the owners of") and all(p in line for p in projects)
               for line in document.summary)
    per_host = {row["host"]: row for row in document.data["per_host"]}
    assert per_host["all together"]["VMs down"] == len(expected.ids("down"))
    for host in hosts:
        assert per_host[host]["VMs down"] == len(impact(neo4j_driver, env_name, [host]).ids("down"))

    html = render_document(document, "html")
    assert html.count("<svg") == 1 and "Project " in html
    text = pdf_text(print_pdf(html), tmp_path)
    for expected_text in ("Maintenance of compute-1, compute-2 on 2026-12-10", "Summary", "Who to tell",
                          "Impact per host", "all together", "What if: the ways out that break", "Window",
                          "2026-12-10T04:00:00+00:00"):
        assert expected_text in text, expected_text
    names = {i.name for i in world.instances if i.id in on_hosts}
    assert all(name in text for name in names)
    assert (text.index("Summary") < text.index("Project ") < text.index("Impact per host")
            < text.index("Duration: 2 h 00 min"))


def test_incident_report_names_the_fault(mongo_db, neo4j_driver, env_name: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    world = generate_world(3, 2, 1, "ovs", "vxlan", seed=23)
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    between_scans = datetime.now(UTC)
    compute = next(h for h in world.hosts if h.name == "compute-1")
    nic = next(n for n in compute.nics if n.role in ("tunnel", "provider"))
    fault = inject_fault(world, "nic_down", f"{compute.name}/{nic.name}")
    scan_and_project(world, mongo_db, neo4j_driver, env_name)
    focal = fault.down + fault.degraded or sorted(i.id for i in world.instances if i.host == compute.name)

    document = incident_report(neo4j_driver, mongo_db, env_name, focal, since=between_scans)
    assert document.data["suspects"][0]["id"] == fault.root_cause
    assert document.summary[0].startswith("Most likely cause: host_pnic ")
    nic_name = fault.root_cause.split("/")[-1]
    assert any(row["health"].startswith(f"{nic_name}: no carrier") for row in document.data["ways_out"])
    changed = [c for c in document.data["changes"] if c["key"] == fault.root_cause]
    assert changed[0]["change"] == "changed" and "link_detected" in changed[0]["fields"]  # carrier lost since
    assert [s.title for s in document.sections][:2] == ["Root cause suspects", "Ways out of the hosts, with health"]

    text = pdf_text(print_pdf(render_document(document, "html")), tmp_path)
    for expected_text in ("Incident:", "Most likely cause", "Root cause suspects", "no carrier", "Changes since",
                          "Broken invariants", fault.root_cause):
        assert expected_text in text, expected_text
    markdown = render_document(document, "md")
    assert markdown.startswith("# Incident:") and "## Root cause suspects" in markdown
