"""Reports of analysis results as JSON, CSV, Markdown or HTML, for the administrator's command chain.

Any result with `rows()` (the table) and `to_dict()` (everything) renders: impact, RCA, clique, diff,
invariants. Optional parts are used when present: `title`, `environment`, `summary` (a mapping of
counts or a list of lines), and the subgraph the HTML picture shows: `graph()` returning (nodes,
links), else `nodes`/`links` attributes, else what a diff's changes or invariants' violations name.
Nodes are mappings with `id` and, where known, `type`, `name` and a status (`status`, `state`,
`impact`, `change`, `severity`) that colours them; links have `source` and `target`.

The HTML is one standalone document (no scripts, no external files): title, environment, time,
summary, a picture (inline SVG, nodes in columns by type along the path order) and the table. Every
value is escaped.

A `Document` is a report of several sections (each with lines, a picture and a table), summary first:
the maintenance and incident reports (queries/command_chain.py) are documents, rendered as HTML,
Markdown or JSON by the same cells, tables and pictures, and printed to PDF from the HTML by headless
Chromium (`print_pdf`).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from html import escape
from pathlib import Path
from typing import Any

from core.errors import CalipsoError

FORMATS = ("json", "csv", "md", "html")

#: Columns of the picture, left to right: the order of hops on a VM's path, then the rest.
PATH_ORDER = ("instance", "vservice", "vnic", "vconnector", "vedge", "otep", "host_pnic", "switch_pnic", "switch",
              "network", "port", "network_agent", "host")
MAX_PICTURE_NODES = 150

RED, ORANGE, GREEN, BLUE, GREY = "#d9534f", "#f0ad4e", "#5cb85c", "#5bc0de", "#9e9e9e"
_COLOURS = {
    "error": RED, "down": RED, "removed": RED, "critical": RED, "failed": RED, "2": RED,
    "warning": ORANGE, "degraded": ORANGE, "changed": ORANGE, "1": ORANGE,
    "ok": GREEN, "up": GREEN, "0": GREEN, "healthy": GREEN,
    "added": BLUE, "focal": BLUE,
}
_STATUS_KEYS = ("impact", "severity", "change", "status", "state")
_LEGEND = (("failing, down, removed", RED), ("warning, degraded, changed", ORANGE), ("healthy, up", GREEN),
           ("added, focal point", BLUE), ("unknown", GREY))


class ReportError(ValueError):
    """A format that does not exist."""


def render(result: Any, output_format: str, generated_at: datetime | None = None) -> str:
    """The result as a document in `output_format` (json, csv, md or html)."""
    if output_format == "json":
        return json.dumps(plain(result.to_dict()), indent=2, sort_keys=False) + "\n"
    if output_format == "csv":
        return to_csv(result.rows())
    if output_format == "md":
        return to_markdown(result, generated_at)
    if output_format == "html":
        return to_html(result, generated_at)
    raise ReportError(f"unknown report format {output_format!r}; choose from {', '.join(FORMATS)}")


# -- plain values ----------------------------------------------------------------------------------

def plain(value: Any) -> Any:
    """A value made of JSON types only: datetimes as ISO 8601, dataclasses and tuples unpacked."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return plain(value.value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def cell(value: Any) -> str:
    """One table cell as text: lists joined, mappings as key=value, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={cell(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return ", ".join(cell(v) for v in value)
    return str(value)


def columns_of(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every key of the rows, in order of first appearance."""
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(str(key), None)
    return list(seen)


# -- CSV and Markdown ------------------------------------------------------------------------------

def to_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    columns = columns_of(rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(c)) for c in columns])
    return out.getvalue()


def _md_cell(value: Any) -> str:
    return cell(value).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", "<br>")


def to_markdown(result: Any, generated_at: datetime | None = None) -> str:
    rows = result.rows()
    lines = [f"# {_md_cell(title_of(result))}", ""]
    lines += [f"- {_md_cell(label)}: {_md_cell(value)}" for label, value in _facts(result, generated_at)]
    summary = summary_lines(result)
    if summary:
        lines += ["", "## Summary", ""] + [f"- {_md_cell(line)}" for line in summary]
    lines += ["", f"## {len(rows)} row(s)", ""]
    columns = columns_of(rows)
    if columns:
        lines.append("| " + " | ".join(_md_cell(c) for c in columns) + " |")
        lines.append("|" + "---|" * len(columns))
        lines += ["| " + " | ".join(_md_cell(row.get(c)) for c in columns) + " |" for row in rows]
    else:
        lines.append("Nothing to report.")
    return "\n".join(lines) + "\n"


def title_of(result: Any) -> str:
    title = getattr(result, "title", None)
    return str(title) if title else type(result).__name__


def _facts(result: Any, generated_at: datetime | None) -> list[tuple[str, Any]]:
    facts = []
    environment = getattr(result, "environment", None)
    if environment:
        facts.append(("Environment", environment))
    facts.append(("Generated", (generated_at or datetime.now(UTC)).isoformat(timespec="seconds")))
    return facts


def summary_lines(result: Any) -> list[str]:
    summary = getattr(result, "summary", None)
    if callable(summary):
        summary = summary()
    if not summary:
        return []
    if isinstance(summary, Mapping):
        return [f"{key}: {cell(value)}" for key, value in summary.items()]
    if isinstance(summary, str):
        return [summary]
    return [cell(line) for line in summary]


# -- the picture -----------------------------------------------------------------------------------

def graph_of(result: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The subgraph a result is about, as (nodes, links); see the module docstring."""
    if callable(getattr(result, "graph", None)):
        nodes, links = result.graph()
        return [dict(n) for n in nodes], [dict(l) for l in links]
    nodes = getattr(result, "nodes", None)
    links = getattr(result, "links", None)
    if isinstance(nodes, list) and all(isinstance(n, Mapping) and "id" in n for n in nodes):
        return [dict(n) for n in nodes], [dict(l) for l in links or [] if isinstance(l, Mapping)]
    found: dict[str, dict[str, Any]] = {}
    edges: list[dict[str, Any]] = []
    for change in getattr(result, "changes", None) or []:  # a diff
        if change.kind == "object":
            found[change.key] = {"id": change.key, "type": change.type, "name": change.name, "change": change.change}
        else:
            _, source, target = change.key.split("|", 2)
            source_type, _, target_type = change.type.partition("-")
            found.setdefault(source, {"id": source, "type": source_type})
            found.setdefault(target, {"id": target, "type": target_type})
            edges.append({"source": source, "target": target, "change": change.change, "link_type": change.type})
    for violation in getattr(result, "violations", None) or []:  # invariants
        for object_id in violation.objects:
            node = found.setdefault(object_id, {"id": object_id, "severity": violation.severity})
            if violation.severity == "error":
                node["severity"] = "error"
        for source, target in zip(violation.objects, violation.objects[1:]):
            edges.append({"source": source, "target": target, "severity": violation.severity})
    if not found:
        for row in result.rows():
            if isinstance(row, Mapping) and row.get("id"):
                found.setdefault(str(row["id"]), dict(row))
    return list(found.values()), edges


def colour_of(item: Mapping[str, Any]) -> str:
    if item.get("focal"):
        return BLUE
    for key in _STATUS_KEYS:
        value = item.get(key)
        if value is not None and str(value).lower() in _COLOURS:
            return _COLOURS[str(value).lower()]
    return GREY


def _column(node_type: str | None, extra: list[str]) -> int:
    if node_type in PATH_ORDER:
        return PATH_ORDER.index(node_type)
    return len(PATH_ORDER) + extra.index(node_type or "?")


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def to_svg(nodes: Sequence[Mapping[str, Any]], links: Sequence[Mapping[str, Any]],
           max_nodes: int = MAX_PICTURE_NODES) -> str:
    """The subgraph as an inline SVG: one column per object type in path order, one row per object,
    coloured by status; every text escaped."""
    shown = list(nodes)[:max_nodes]
    extra = sorted({str(n.get("type") or "?") for n in shown if n.get("type") not in PATH_ORDER})
    used = sorted({_column(n.get("type"), extra) for n in shown})
    column_x = {column: 30 + index * 190 for index, column in enumerate(used)}
    rows_in: dict[int, int] = {}
    place: dict[str, tuple[int, int]] = {}
    for node in sorted(shown, key=lambda n: (_column(n.get("type"), extra), str(n.get("host") or ""), str(n["id"]))):
        column = _column(node.get("type"), extra)
        row = rows_in.get(column, 0)
        rows_in[column] = row + 1
        place[str(node["id"])] = (column_x[column], 60 + row * 46)
    width = 30 + max(len(used), 1) * 190
    height = 80 + max(rows_in.values(), default=0) * 46 + 30 * len(_LEGEND)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11" role="img">']
    for column in used:
        label = PATH_ORDER[column] if column < len(PATH_ORDER) else extra[column - len(PATH_ORDER)]
        parts.append(f'<text x="{column_x[column]}" y="30" font-weight="bold">{escape(label)}</text>')
    for link in links:
        source, target = place.get(str(link.get("source"))), place.get(str(link.get("target")))
        if source and target:
            parts.append(f'<line x1="{source[0] + 160}" y1="{source[1] + 14}" x2="{target[0]}" y2="{target[1] + 14}" '
                         f'stroke="{colour_of(link)}" stroke-width="2"><title>'
                         f'{escape(cell(link.get("link_type") or link.get("relationship") or ""))} '
                         f'{escape(str(link.get("source")))} → {escape(str(link.get("target")))}</title></line>')
    for node in shown:
        x, y = place[str(node["id"])]
        label = str(node.get("name") or node["id"])
        tooltip = " ".join(f"{k}={cell(v)}" for k, v in node.items() if v is not None)
        parts.append(f'<g><title>{escape(tooltip)}</title>'
                     f'<rect x="{x}" y="{y}" width="160" height="28" rx="6" fill="{colour_of(node)}" '
                     f'fill-opacity="0.85" stroke="#333"/>'
                     f'<text x="{x + 6}" y="{y + 18}">{escape(_short(label))}</text></g>')
    legend_y = height - 30 * len(_LEGEND) + 10
    for index, (label, colour) in enumerate(_LEGEND):
        y = legend_y + index * 22
        parts.append(f'<rect x="30" y="{y}" width="14" height="14" fill="{colour}"/>'
                     f'<text x="50" y="{y + 11}">{escape(label)}</text>')
    parts.append("</svg>")
    if len(nodes) > max_nodes:
        parts.append(f"<p>The picture shows {max_nodes} of {len(nodes)} objects; the table has them all.</p>")
    return "\n".join(parts)


def to_html(result: Any, generated_at: datetime | None = None) -> str:
    rows = result.rows()
    columns = columns_of(rows)
    title = title_of(result)
    nodes, links = graph_of(result)
    facts = "".join(f"<dt>{escape(label)}</dt><dd>{escape(cell(value))}</dd>"
                    for label, value in _facts(result, generated_at))
    summary = summary_lines(result)
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             f"<title>{escape(title)}</title>",
             "<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}"
             "th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
             "th{background:#f0f0f0}dt{font-weight:bold;float:left;clear:left;width:8em}dd{margin-left:9em}"
             "figure{margin:1em 0;overflow-x:auto}</style>",
             "</head>", "<body>", f"<h1>{escape(title)}</h1>", f"<dl>{facts}</dl>"]
    if summary:
        parts += ["<h2>Summary</h2>", "<ul>"] + [f"<li>{escape(line)}</li>" for line in summary] + ["</ul>"]
    if nodes:
        parts += ["<h2>Picture</h2>", "<figure>", to_svg(nodes, links), "</figure>"]
    parts.append(f"<h2>{len(rows)} row(s)</h2>")
    if columns:
        parts.append("<table><thead><tr>" + "".join(f"<th>{escape(c)}</th>" for c in columns) + "</tr></thead><tbody>")
        parts += ["<tr>" + "".join(f"<td>{escape(cell(row.get(c)))}</td>" for c in columns) + "</tr>" for row in rows]
        parts.append("</tbody></table>")
    else:
        parts.append("<p>Nothing to report.</p>")
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


# -- documents of several sections: the reports for the command chain --------------------------------------

DOCUMENT_FORMATS = ("html", "md", "json", "pdf")


@dataclass
class Section:
    """One part of a document: a heading, lines of text, an optional picture (nodes, links) and a table."""

    title: str
    lines: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    columns: list[str] | None = None  # default: every key of the rows
    picture: tuple[list[dict[str, Any]], list[dict[str, Any]]] | None = None
    empty: str = "Nothing to report."  # said when there are neither lines nor rows

    def table_columns(self) -> list[str]:
        return list(self.columns) if self.columns is not None else columns_of(self.rows)


@dataclass
class Document:
    """A report made of sections, summary first: what a change board or a manager is sent."""

    title: str
    environment: str
    facts: list[tuple[str, Any]] = field(default_factory=list)  # label, value: shown under the title
    summary: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # the results it was made from, for json

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "environment": self.environment,
                "facts": {str(label): plain(value) for label, value in self.facts},
                "summary": list(self.summary),
                "sections": [{"title": s.title, "lines": s.lines, "columns": s.table_columns(), "rows": plain(s.rows)}
                             for s in self.sections],
                "data": plain(self.data)}


def render_document(document: Document, output_format: str, generated_at: datetime | None = None) -> str:
    """A document as html, md or json (pdf: print_pdf of the html)."""
    if output_format == "html":
        return document_html(document, generated_at)
    if output_format == "md":
        return document_markdown(document, generated_at)
    if output_format == "json":
        return json.dumps({**document.to_dict(), "generated": _generated(generated_at)}, indent=2) + "\n"
    raise ReportError(f"unknown report format {output_format!r}; choose from {', '.join(DOCUMENT_FORMATS)}")


def _generated(generated_at: datetime | None) -> str:
    return (generated_at or datetime.now(UTC)).isoformat(timespec="seconds")


def document_markdown(document: Document, generated_at: datetime | None = None) -> str:
    lines = [f"# {_md_cell(document.title)}", ""]
    lines += [f"- {_md_cell(label)}: {_md_cell(value)}" for label, value in
              [("Environment", document.environment), *document.facts, ("Generated", _generated(generated_at))]]
    if document.summary:
        lines += ["", "## Summary", ""] + [f"- {_md_cell(line)}" for line in document.summary]
    for section in document.sections:
        lines += ["", f"## {_md_cell(section.title)}", ""]
        lines += [f"- {_md_cell(line)}" for line in section.lines]
        columns = section.table_columns()
        if section.rows and columns:
            if section.lines:
                lines.append("")
            lines.append("| " + " | ".join(_md_cell(c) for c in columns) + " |")
            lines.append("|" + "---|" * len(columns))
            lines += ["| " + " | ".join(_md_cell(row.get(c)) for c in columns) + " |" for row in section.rows]
        elif not section.lines:
            lines.append(section.empty)
    return "\n".join(lines) + "\n"


#: Print layout: A4 landscape, tables that break between rows, pictures scaled to the page.
_DOCUMENT_STYLE = (
    "body{font-family:'DejaVu Sans',sans-serif;margin:2em;color:#222;font-size:12px}"
    "h1{font-size:20px}h2{font-size:16px;margin-top:1.6em;border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;"
    "vertical-align:top}th{background:#f0f0f0}tr{page-break-inside:avoid}"
    "dl{display:grid;grid-template-columns:max-content auto;gap:2px 1em}dt{font-weight:bold}dd{margin:0}"
    ".summary{background:#f7f7f7;border-left:4px solid #d9534f;padding:.5em 1em}"
    "figure{margin:1em 0;overflow-x:auto}figure svg{max-width:100%;height:auto}"
    "@page{size:A4 landscape;margin:12mm}@media print{body{margin:0}figure{overflow:visible}}")


def document_html(document: Document, generated_at: datetime | None = None) -> str:
    """One standalone HTML page (no scripts, no external files), every value escaped."""
    facts = "".join(f"<dt>{escape(label)}</dt><dd>{escape(cell(value))}</dd>" for label, value in
                    [("Environment", document.environment), *document.facts, ("Generated", _generated(generated_at))])
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             f"<title>{escape(document.title)}</title>", f"<style>{_DOCUMENT_STYLE}</style>", "</head>", "<body>",
             f"<h1>{escape(document.title)}</h1>", f"<dl>{facts}</dl>"]
    if document.summary:
        parts += ['<section class="summary"><h2>Summary</h2>', "<ul>"]
        parts += [f"<li>{escape(line)}</li>" for line in document.summary] + ["</ul>", "</section>"]
    for section in document.sections:
        parts.append(f"<section><h2>{escape(section.title)}</h2>")
        if section.lines:
            parts += ["<ul>"] + [f"<li>{escape(line)}</li>" for line in section.lines] + ["</ul>"]
        if section.picture and section.picture[0]:
            parts += ["<figure>", to_svg(*section.picture), "</figure>"]
        columns = section.table_columns()
        if section.rows and columns:
            parts.append("<table><thead><tr>" + "".join(f"<th>{escape(c)}</th>" for c in columns)
                         + "</tr></thead><tbody>")
            parts += ["<tr>" + "".join(f"<td>{escape(cell(row.get(c)))}</td>" for c in columns) + "</tr>"
                      for row in section.rows]
            parts.append("</tbody></table>")
        elif not section.lines:
            parts.append(f"<p>{escape(section.empty)}</p>")
        parts.append("</section>")
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


class PdfError(ReportError, CalipsoError):
    """Chromium is missing or could not print."""


#: Debian's package; `chromium-browser` and `google-chrome` are the names elsewhere.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def chromium_binary() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise PdfError("PDF reports are printed by headless Chromium, which is not installed "
                   "(Debian: apt-get install chromium; scripts/install-system-packages.sh installs it)")


def print_pdf(html: str, timeout: float = 120.0) -> bytes:
    """The HTML printed to PDF by headless Chromium (the page's own @page size), as bytes."""
    binary = chromium_binary()
    with tempfile.TemporaryDirectory(prefix="calipso-pdf-") as work:
        page, pdf = Path(work) / "report.html", Path(work) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        # A profile of its own: two reports printed at once must not share (and lock) one.
        command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                   "--no-first-run", "--no-pdf-header-footer", f"--user-data-dir={Path(work) / 'profile'}",
                   f"--print-to-pdf={pdf}", page.as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise PdfError(f"Chromium did not print the report within {timeout:.0f} s") from None
        if not pdf.exists() or pdf.stat().st_size == 0:
            last = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise PdfError(f"Chromium could not print the report (exit {done.returncode}): " + " | ".join(last))
        return pdf.read_bytes()
