"""Analysis: impact, root cause, path, what-if, diff, invariants (the functions of queries/)."""

from __future__ import annotations

from flask_restx import Namespace

from api.namespaces.common import ENV_PATH

ns = Namespace("analysis", description="Impact, root cause, path, what-if, diff, invariants")
PATH = ENV_PATH + "/analysis"
