"""Scheduled scans of an environment (arrive with core.environments / ingest.run)."""

from __future__ import annotations

from flask_restx import Namespace

from api.namespaces.common import ENV_PATH

ns = Namespace("schedules", description="Scheduled scans")
PATH = ENV_PATH + "/schedules"
