"""Reports for the command chain (queries/command_chain.py): the maintenance impact report and the
incident report, as JSON for reporting tools, or as the HTML, Markdown or PDF document itself."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask import Response
from flask_restx import Namespace, fields

from api.context import context, mongo
from api.errors import BadRequest, NotFound, ServiceUnavailable
from api.namespaces.analysis import unknown_references
from api.namespaces.common import ENV_DOC, ENV_PATH, EnvironmentResource
from api.params import Args, Param, query
from api.serialize import jsonable
from queries.command_chain import ReportInputError, incident_report, maintenance_report
from queries.datapath import AnalysisError
from queries.reports import DOCUMENT_FORMATS, Document, PdfError, print_pdf, render_document

ns = Namespace("reports", description="Maintenance and incident reports for the command chain (JSON, HTML, "
                                      "Markdown, PDF)")
PATH = ENV_PATH + "/reports"

MEDIA_TYPES = {"json": "application/json", "html": "text/html", "md": "text/markdown", "pdf": "application/pdf"}

section_model = ns.model("ReportSection", {
    "title": fields.String(required=True), "lines": fields.List(fields.String, required=True),
    "columns": fields.List(fields.String, required=True), "rows": fields.List(fields.Raw, required=True)})
document_model = ns.model("Report", {
    "title": fields.String(required=True), "environment": fields.String(required=True),
    "facts": fields.Raw(required=True), "summary": fields.List(fields.String, required=True),
    "sections": fields.List(fields.Nested(section_model), required=True),
    "data": fields.Raw(required=True, description="the results the report was made from")})

FORMAT = Param("format", "str", "json (the report's data, for tools), html, md or pdf (the document)",
               choices=DOCUMENT_FORMATS, default="json")


def answer(environment: str, references: Sequence[str], build: Callable[[], Document], output_format: str) -> Any:
    """The report in the asked format. Unknown objects are a 404 naming them; other analysis errors
    (an ambiguous name, an object of the wrong kind, a bad window) a 400."""
    try:
        document = build()
    except ReportInputError as exc:
        raise BadRequest(str(exc)) from None
    except AnalysisError as exc:
        unknown = unknown_references(environment, references)
        if unknown:
            raise NotFound(str(exc), {"unknown": unknown}) from None
        raise BadRequest(str(exc), {"objects": list(references)}) from None
    if output_format == "json":
        return jsonable(document.to_dict())
    if output_format == "pdf":
        try:
            body: str | bytes = print_pdf(render_document(document, "html"))
        except PdfError as exc:
            raise ServiceUnavailable(str(exc)) from None
    else:
        body = render_document(document, output_format)
    return Response(body, mimetype=MEDIA_TYPES[output_format])


@ns.route("/maintenance")
@ns.doc(params=ENV_DOC)
class Maintenance(EnvironmentResource):
    @ns.response(200, "the maintenance report", document_model)
    @ns.produces(list(MEDIA_TYPES.values()))
    @query(ns, Param("host", "str", "A host going down (repeatable): a name or an id", required=True, multiple=True),
           Param("window", "str", "The window, ISO 8601 in UTC: 2026-12-10T02:00/04:00 or 2026-12-10T02:00/PT2H",
                 max_length=100),
           FORMAT)
    def get(self, env: str, args: Args) -> Any:
        """What taking hosts down in a window does: VMs cut off and degraded, projects affected and who
        to tell, a table per project, each host's impact alone and combined, the what-if picture."""
        return answer(env, args.host, lambda: maintenance_report(context().stores.neo4j, env, args.host, args.window),
                      args.format)


@ns.route("/incident")
@ns.doc(params=ENV_DOC)
class Incident(EnvironmentResource):
    @ns.response(200, "the incident report", document_model)
    @ns.produces(list(MEDIA_TYPES.values()))
    @query(ns, Param("vm", "str", "A broken VM or network service (repeatable): a name or an id", required=True,
                     multiple=True),
           Param("since", "datetime", "The incident window's start (default: 24 hours ago)"),
           FORMAT)
    def get(self, env: str, args: Args) -> Any:
        """Why VMs are broken, in one document: root-cause suspects with evidence, each VM's way out with
        the health of every hop, changes near them since `since`, broken invariants on their hosts."""
        return answer(env, args.vm, lambda: incident_report(context().stores.neo4j, mongo(), env, args.vm, args.since),
                      args.format)
