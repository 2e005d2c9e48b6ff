"""GET /environments/{env}/reports/maintenance and /incident: JSON for tools, the document as HTML,
Markdown or PDF; the same VMs as the impact analysis; errors of the API's one shape."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import error_of, ok

pytestmark = pytest.mark.integration


def test_maintenance_report_matches_the_impact(get, api_world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = api_world.environment
    report = ok(get(f"/environments/{env}/reports/maintenance", host=["compute-1", "compute-2"],
                    window="2026-12-10T02:00/PT2H"))
    impact = ok(get(f"/environments/{env}/analysis/impact", target=["compute-1", "compute-2"]))
    assert report["data"]["vms_down"] == sorted(a["id"] for a in impact["affected"]
                                                if a["state"] == "down" and a["type"] == "instance")
    assert report["facts"]["Window"] == "2026-12-10 02:00 – 04:00 UTC (2 h 00 min)"
    assert report["summary"][0].startswith("Hosts going down: compute-1, compute-2")

    pdf = get(f"/environments/{env}/reports/maintenance", host="compute-1", format="pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF-")
    (tmp_path / "r.pdf").write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    assert "Maintenance of compute-1" in text and "Impact per host" in text


def test_incident_report_formats(get, api_world) -> None:  # type: ignore[no-untyped-def]
    env = api_world.environment
    vm = api_world.world.instances[0]
    report = ok(get(f"/environments/{env}/reports/incident", vm=vm.name, since="2026-01-01T00:00:00Z"))
    assert report["title"] == f"Incident: {vm.name}" and report["data"]["vms"] == [vm.id]
    assert [s["title"] for s in report["sections"]][:2] == ["Root cause suspects", "Ways out of the hosts, with health"]
    html = get(f"/environments/{env}/reports/incident", vm=vm.id, format="html")
    assert html.status_code == 200 and html.mimetype == "text/html" and b"<svg" in html.data
    md = get(f"/environments/{env}/reports/incident", vm=vm.id, format="md")
    assert md.mimetype == "text/markdown" and md.data.startswith(f"# Incident: {vm.name}".encode())


def test_report_errors(get, api_world) -> None:  # type: ignore[no-untyped-def]
    env = api_world.environment
    path = f"/environments/{env}/reports/maintenance"
    assert "no-such-host" in error_of(get(path, host="no-such-host"), 404)["details"]["unknown"]
    backwards = get(path, host="compute-1", window="2026-12-10T04:00/2026-12-10T02:00")
    assert "before it starts" in error_of(backwards, 400)["message"]
    assert "expected host" in error_of(get(path, host=api_world.world.instances[0].id), 400)["message"]
    assert error_of(get(path, user="bob", host="compute-1"), 403)
    assert "'format' must be one of" in error_of(get(path, host="compute-1", format="docx"), 400)["message"]
    assert error_of(get(f"/environments/{env}/reports/incident"), 400)
