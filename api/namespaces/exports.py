"""Exports: the environment as GraphML, GEXF, node-link JSON, DOT, NetBox import records or Batfish's
layer-1 topology (queries/export.py), streamed as it is read from MongoDB."""

from __future__ import annotations

from flask import Response, stream_with_context
from flask_restx import Namespace

from api.context import mongo
from api.errors import NotFound
from api.namespaces.common import ENV_DOC, ENV_PATH, EnvironmentResource
from api.params import Args, Param, query
from queries.export import FILE_SUFFIXES, FORMATS, MEDIA_TYPES, ExportError, export

ns = Namespace("exports", description="The environment in the formats of other tools (yEd, Gephi, Graphviz, "
                                      "NetBox, Batfish)")
PATH = ENV_PATH + "/export"


@ns.route("")
@ns.doc(params=ENV_DOC)
class Export(EnvironmentResource):
    @ns.response(200, "the export, streamed (a file download)")
    @ns.produces(sorted(set(MEDIA_TYPES.values())))
    @query(ns, Param("format", "str", "graphml, gexf, json (networkx node-link), dot, netbox (bulk-import records "
                                      "per NetBox model) or batfish (layer1_topology.json)",
                     required=True, choices=FORMATS))
    def get(self, env: str, args: Args) -> Response:
        """The whole environment in another tool's format: objects as nodes (folders left out) and links
        as edges, or NetBox's devices, interfaces, addresses, cables and VMs, or Batfish's layer-1 edges.
        Written while MongoDB is read: the answer is streamed, never built whole."""
        try:
            chunks = export(mongo(), env, args.format)
        except ExportError as exc:
            raise NotFound(str(exc), {"environment": env, "format": args.format}) from None
        filename = f"{env}{FILE_SUFFIXES[args.format]}".replace('"', "")
        return Response(stream_with_context(chunks), mimetype=MEDIA_TYPES[args.format],
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})
