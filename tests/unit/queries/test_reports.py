"""Reports: every value escaped in HTML and SVG, CSV and Markdown tables, JSON of whole results (pure)."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from queries.diff import Change, DiffResult
from queries.invariants import InvariantsResult, Violation
from queries.reports import ReportError, colour_of, render, to_svg
from queries.results import Tabular

EVIL = '<script>alert("x")</script> & | pipe\nnewline'
WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@dataclass
class Sample(Tabular):
    environment: str
    nodes: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        return self.nodes

    @property
    def title(self) -> str:
        return f"Sample of {self.environment}"


def sample() -> Sample:
    return Sample(EVIL, [
        {"id": "vm1", "type": "instance", "name": EVIL, "status": "error"},
        {"id": "h/fa:16:3e:00:00:01", "type": "vnic", "name": "tap1", "state": "up", "mtu": 1450},
        {"id": "h/eth1", "type": "host_pnic", "name": "eth1", "impact": "degraded", "tags": ["a", "b"]},
        {"id": "odd", "type": "mystery", "name": None}],
        [{"source": "vm1", "target": "h/fa:16:3e:00:00:01", "link_type": "instance-vnic", "state": "down"}])


def test_html_is_one_document_with_every_value_escaped() -> None:
    html = render(sample(), "html", WHEN)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp;" in html
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "<table>" in html
    assert "2024-05-01T12:00:00+00:00" in html
    assert "src=" not in html and "<link" not in html  # standalone: nothing fetched


def test_svg_is_well_formed_columns_follow_the_path_and_colours_follow_status() -> None:
    nodes, links = sample().nodes, sample().links
    svg = to_svg(nodes, links)
    root = ET.fromstring(svg)  # well-formed XML, even with hostile names
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts[:4] == ["instance", "vnic", "host_pnic", "mystery"]  # path order, then the rest
    rects = {r.get("fill") for r in root.iter("{http://www.w3.org/2000/svg}rect")}
    assert {"#d9534f", "#5cb85c", "#f0ad4e", "#9e9e9e"} <= rects
    lines = list(root.iter("{http://www.w3.org/2000/svg}line"))
    assert len(lines) == 1 and lines[0].get("stroke") == "#d9534f"  # the link is down


def test_svg_caps_the_picture() -> None:
    nodes = [{"id": f"n{i}", "type": "vnic"} for i in range(20)]
    svg = to_svg(nodes, [], max_nodes=5)
    assert svg.count("<rect x=") - 5 == 5  # 5 nodes plus the 5 legend squares
    assert "shows 5 of 20 objects" in svg


def test_colours() -> None:
    assert colour_of({"focal": True, "status": "error"}) == "#5bc0de"
    assert colour_of({"impact": "down"}) == "#d9534f"
    assert colour_of({"change": "changed"}) == "#f0ad4e"
    assert colour_of({"status": 0}) == "#5cb85c"
    assert colour_of({}) == "#9e9e9e"


def test_csv_has_every_column_and_round_trips() -> None:
    text = render(sample(), "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["id", "type", "name", "status", "state", "mtu", "impact", "tags"]
    assert rows[0]["name"] == EVIL  # quoted, newline and all
    assert rows[2]["tags"] == "a, b" and rows[3]["name"] == ""


def test_markdown_escapes_pipes_and_newlines() -> None:
    text = render(sample(), "md", WHEN)
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert table[0] == "| id | type | name | status | state | mtu | impact | tags |"
    assert all(line.count(" | ") == 7 for line in table[2:])  # escaped pipes split no cell
    assert "\\| pipe<br>newline" in text
    assert text.startswith("# Sample of")


def test_json_is_the_whole_result() -> None:
    result = DiffResult("env", WHEN, WHEN, "vm1", 2, [Change("object", "changed", "vm1", "instance", "web",
                                                             {"name": {"old": "a", "new": "b"}})])
    data = json.loads(render(result, "json"))
    assert data["t_from"] == "2024-05-01T12:00:00+00:00"
    assert data["changes"][0]["fields"]["name"] == {"old": "a", "new": "b"}


def test_diff_and_invariants_get_pictures_of_what_they_name() -> None:
    diff = DiffResult("env", WHEN, WHEN, None, 1, [
        Change("object", "removed", "vm1", "instance", "web"),
        Change("link", "added", "instance-vnic|vm2|h/mac", "instance-vnic", None)])
    html = render(diff, "html", WHEN)
    assert html.count("<rect x=") >= 3 and "objects removed: 1" in html
    checked = InvariantsResult("env", WHEN, ["bond_one_live_member"],
                               [Violation("bond_one_live_member", "warning", ["h/bond0", "h/eth1"], EVIL, "h")])
    html = render(checked, "html", WHEN)
    assert "h/bond0" in html and "<script>" not in html and "bond_one_live_member: 1" in html


def test_an_unknown_format_is_named() -> None:
    with pytest.raises(ReportError, match="pdf"):
        render(sample(), "pdf")
