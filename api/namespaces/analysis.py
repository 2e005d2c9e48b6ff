"""Analysis: impact, root cause, path, what-if, diff, invariants: the functions of queries/, with
the same results as the command line. Each answer is the result's data, its table (`rows`) and a
title."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask_restx import Namespace, fields

from api.context import context, mongo
from api.errors import BadRequest, NotFound
from api.namespaces.common import ENV_DOC, ENV_PATH, EnvironmentResource
from api.params import Args, Param, query
from api.serialize import result_answer
from queries.datapath import AnalysisError
from queries.diff import MAX_HOPS as DIFF_MAX_HOPS
from queries.diff import diff
from queries.impact import impact, whatif
from queries.invariants import CHECKS, invariants
from queries.loader import run_query
from queries.path import path
from queries.rca import rca

ns = Namespace("analysis", description="Impact, root cause, path, what-if, diff, invariants")
PATH = ENV_PATH + "/analysis"

result_model = ns.model("AnalysisResult", {
    "environment": fields.String(required=True),
    "title": fields.String(required=True),
    "rows": fields.List(fields.Raw, required=True, description="the result as a table, one dict per row"),
})


@ns.route("/diff")
@ns.doc(params=ENV_DOC)
class Diff(EnvironmentResource):
    @ns.response(200, "objects and links added, removed and changed", result_model)
    @query(ns, Param("since", "str", "From: an ISO time, a duration ago (2h, 7d), or a scan id", required=True,
                     max_length=100),
           Param("until", "str", "To: an ISO time, a duration ago, a scan id, or now", default="now", max_length=100),
           Param("around", "str", "Only changes within `hops` links of this object"),
           Param("hops", "int", "With around: how many links away", minimum=0, maximum=DIFF_MAX_HOPS, default=1))
    def get(self, env: str, args: Args) -> dict[str, Any]:
        """What changed between two times or scans (from MongoDB's history), optionally near one object."""
        return result_answer(diff(mongo(), env, args.since, args.until, args.around, args.hops))


@ns.route("/invariants")
@ns.doc(params=ENV_DOC)
class Invariants(EnvironmentResource):
    @ns.response(200, "broken invariants, most severe first", result_model)
    @query(ns, Param("check", "str", "Only these checks (repeatable): " + "; ".join(f"{c.kind}: {c.description}"
                                                                                   for c in CHECKS),
                     choices=[c.kind for c in CHECKS], multiple=True))
    def get(self, env: str, args: Args) -> dict[str, Any]:
        """Broken invariants in the graph: MTU falling along a path, VLAN tag or segmentation id
        mismatch, ACTIVE port without switch port, orphan tap, tunnel endpoint without peer, bond
        with one live member."""
        return result_answer(invariants(context().stores.neo4j, env, args.check))


# -- impact, what-if, root cause, path: questions about named objects ------------------------------

def unknown_references(environment: str, references: Sequence[str]) -> list[str]:
    """Those of `references` that are neither an object id nor an object name in `environment`."""
    rows = run_query(context().stores.neo4j, "objects_by_reference", env=environment, refs=list(references))
    return sorted({row["ref"] for row in rows if row["exact"] is None and not row["named"]})


def answer_about(environment: str, references: Sequence[str], compute: Callable[[], Any]) -> dict[str, Any]:
    """The answer of an analysis of named objects. An AnalysisError is the caller's: a 404 naming the
    references that name nothing at all, else (an ambiguous name, an object of the wrong kind) a 400."""
    try:
        return result_answer(compute())
    except AnalysisError as exc:
        unknown = unknown_references(environment, references)
        if unknown:
            raise NotFound(str(exc), {"unknown": unknown}) from None
        raise BadRequest(str(exc), {"objects": list(references)}) from None


OBJECT_HELP = "an object id or a unique name"


@ns.route("/impact")
@ns.doc(params=ENV_DOC)
class Impact(EnvironmentResource):
    @ns.response(200, "the VMs and network services cut off (down) or left without redundancy (degraded)",
                 result_model)
    @query(ns, Param("target", "str", f"What goes down (repeatable): {OBJECT_HELP}; what it holds goes with it",
                     required=True, multiple=True))
    def get(self, env: str, args: Args) -> dict[str, Any]:
        """What loses connectivity if the targets go down: each VM and network service down (no way out
        of its host left for one of its vNICs) or degraded (a way out or a live bond member lost, one
        left), with its host, project, networks and cause; counts by project, network and host."""
        return answer_about(env, args.target, lambda: impact(context().stores.neo4j, env, args.target))


@ns.route("/whatif")
@ns.doc(params=ENV_DOC)
class WhatIf(EnvironmentResource):
    @ns.response(200, "the vNICs' ways out that break (down) or lose redundancy (degraded)", result_model)
    @query(ns, Param("remove", "str", f"What goes away (repeatable): {OBJECT_HELP}; what it holds goes with it",
                     required=True, multiple=True))
    def get(self, env: str, args: Args) -> dict[str, Any]:
        """Which VMs' paths break if objects went away: one row per vNIC whose way out is lost or
        weakened, with the removed objects on its path and the path it had."""
        return answer_about(env, args.remove, lambda: whatif(context().stores.neo4j, env, args.remove))


@ns.route("/rca")
@ns.doc(params=ENV_DOC)
class Rca(EnvironmentResource):
    @ns.response(200, "the suspects on the focal VMs' paths, most likely first, each with its evidence",
                 result_model)
    @query(ns, Param("focal", "str", "A broken VM or network service (repeatable): an object id or a unique name",
                     required=True, multiple=True),
           Param("since", "datetime", "Count changes and removals after this time (default: 24 hours ago)"))
    def get(self, env: str, args: Args) -> dict[str, Any]:
        """Root cause: the suspects on the focal VMs' paths (vNIC, bridges, switch, tunnel endpoint, NIC
        or bond, the host's agents), ranked by their evidence (failing state, path ending there, down
        link, broken invariant, recent removal or change), scaled by how many focal VMs share them."""
        return answer_about(env, args.focal, lambda: rca(context().stores.neo4j, env, args.focal, args.since))


@ns.route("/path")
@ns.doc(params=ENV_DOC)
class Path(EnvironmentResource):
    @ns.response(200, "every hop from source to target with its health and the state of the link into it",
                 result_model)
    @query(ns, Param("source", "str", "A VM or network service: an object id or a unique name", required=True),
           Param("target", "str", "Another VM or network service sharing a network with source", required=True))
    def get(self, env: str, args: Args) -> dict[str, Any]:
        """Every hop from one VM to another over the first network they share: vNIC, bridges, switch,
        tunnel endpoint, NIC, the network between the hosts, and back in; VMs that share no network
        are a 400 (paths through routers are not traced)."""
        return answer_about(env, [args.source, args.target],
                            lambda: path(context().stores.neo4j, env, args.source, args.target))
