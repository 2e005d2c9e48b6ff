"""Documents of several sections (queries.reports.Document) as HTML, Markdown and JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from queries.reports import Document, ReportError, Section, render_document

AT = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def sample() -> Document:
    return Document(
        "Maintenance of <b>compute-1</b>", "lab", [("Window", "02:00 – 04:00")],
        ["VMs down: 2", "Who to tell: project | one"],
        [Section("Project p1", rows=[{"VM": "vm-1", "impact": "down"}, {"VM": "vm-<2>", "impact": "degraded"}],
                 picture=([{"id": "vm-1", "type": "instance", "impact": "down"}], [])),
         Section("Empty one", empty="No VM's way out breaks."),
         Section("Lines only", ["Start: 02:00"])],
        {"vms_down": ["vm-1"], "at": AT})


def test_html_escapes_and_orders_summary_first() -> None:
    html = render_document(sample(), "html", AT)
    assert "<b>compute-1</b>" not in html and "&lt;b&gt;compute-1&lt;/b&gt;" in html
    assert "vm-&lt;2&gt;" in html
    assert html.index("Summary") < html.index("Project p1") < html.index("Empty one")
    assert html.count("<svg") == 1  # only the section with a picture draws one
    assert "<p>No VM&#x27;s way out breaks.</p>" in html
    assert "@page" in html and "<script" not in html


def test_markdown_tables_and_empty_sections() -> None:
    markdown = render_document(sample(), "md", AT)
    assert markdown.startswith("# Maintenance of <b>compute-1</b>\n")
    assert "- Generated: 2026-12-02T12:00:00+00:00" in markdown
    assert "- Who to tell: project \\| one" in markdown
    assert "| VM | impact |\n|---|---|\n| vm-1 | down |" in markdown
    assert "## Empty one\n\nNo VM's way out breaks." in markdown
    assert "## Lines only\n\n- Start: 02:00" in markdown


def test_json_keeps_the_data() -> None:
    data = json.loads(render_document(sample(), "json", AT))
    assert data["facts"] == {"Window": "02:00 – 04:00"}
    assert data["sections"][0]["columns"] == ["VM", "impact"]
    assert data["data"] == {"vms_down": ["vm-1"], "at": "2026-12-02T12:00:00+00:00"}


def test_unknown_format() -> None:
    with pytest.raises(ReportError, match="unknown report format 'docx'"):
        render_document(sample(), "docx")
