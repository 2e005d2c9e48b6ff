"""Analysis: impact, root cause, path, what-if, diff, invariants: the functions of queries/, with
the same results as the command line. Each answer is the result's data, its table (`rows`) and a
title."""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace, Resource, fields

from api.context import context, mongo, require
from api.namespaces.common import ENV_DOC, ENV_PATH
from api.params import Args, Param, query
from api.serialize import result_answer
from queries.diff import MAX_HOPS as DIFF_MAX_HOPS
from queries.diff import diff
from queries.invariants import CHECKS, invariants

ns = Namespace("analysis", description="Impact, root cause, path, what-if, diff, invariants")
PATH = ENV_PATH + "/analysis"

result_model = ns.model("AnalysisResult", {
    "environment": fields.String(required=True),
    "title": fields.String(required=True),
    "rows": fields.List(fields.Raw, required=True, description="the result as a table, one dict per row"),
})


@ns.route("/diff")
@ns.doc(params=ENV_DOC)
class Diff(Resource):
    @ns.response(200, "objects and links added, removed and changed", result_model)
    @query(ns, Param("since", "str", "From: an ISO time, a duration ago (2h, 7d), or a scan id", required=True,
                     max_length=100),
           Param("until", "str", "To: an ISO time, a duration ago, a scan id, or now", default="now", max_length=100),
           Param("around", "str", "Only changes within `hops` links of this object"),
           Param("hops", "int", "With around: how many links away", minimum=0, maximum=DIFF_MAX_HOPS, default=1))
    def get(self, env: str, args: Args) -> dict[str, Any]:
        """What changed between two times or scans (from MongoDB's history), optionally near one object."""
        require(env)
        return result_answer(diff(mongo(), env, args.since, args.until, args.around, args.hops))


@ns.route("/invariants")
@ns.doc(params=ENV_DOC)
class Invariants(Resource):
    @ns.response(200, "broken invariants, most severe first", result_model)
    @query(ns, Param("check", "str", "Only these checks (repeatable): " + "; ".join(f"{c.kind}: {c.description}"
                                                                                   for c in CHECKS),
                     choices=[c.kind for c in CHECKS], multiple=True))
    def get(self, env: str, args: Args) -> dict[str, Any]:
        """Broken invariants in the graph: MTU falling along a path, VLAN tag or segmentation id
        mismatch, ACTIVE port without switch port, orphan tap, tunnel endpoint without peer, bond
        with one live member."""
        require(env)
        return result_answer(invariants(context().stores.neo4j, env, args.check))
