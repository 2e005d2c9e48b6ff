"""Scan a lab world without SSH: its APIs served on loopback for the real openstacksdk, its hosts
answering through the lab's in-process responder. For tests, benchmarks and large worlds."""

from __future__ import annotations

import warnings
from typing import Any

import openstack
import openstack.connection
from pymongo.database import Database

from ingest.hierarchy import fetch_host, openstack_documents
from ingest.scanner import Scanner, ScanResult
from ingest.sources.openstack.fetch import fetch_openstack
from ingest.transport import CallableTransport
from lab.cloud.server import serve
from lab.cloud.source import StaticWorldSource
from lab.hosts import LabResponder
from lab.world import World

#: The lab cloud's fixed admin credentials (lab/cloud): test data, not a secret.
LAB_ADMIN: dict[str, Any] = {"username": "admin", "password": "lab-admin-pw", "project_name": "admin",
             "user_domain_name": "Default", "project_domain_name": "Default"}


def connect_to_lab(auth_url: str, region: str = "RegionOne") -> openstack.connection.Connection:
    """openstacksdk connected to a lab cloud as its admin."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openstacksdk's deprecation notices about itself
        return openstack.connect(auth_url=auth_url, region_name=region, **LAB_ADMIN)


def scan_world_in_process(world: World, database: Database, environment: str, concurrency: int = 8,
                          **scan_options: Any) -> ScanResult:
    """Scan `world` into `environment` (a rescan when it was scanned before) and return the result.
    Keystone's own `admin` project is left out: the world spec does not declare it."""
    with serve(StaticWorldSource(world)) as cloud:
        def docs() -> list[dict[str, Any]]:
            return [d for d in openstack_documents(fetch_openstack(connect_to_lab(cloud.auth_url), "RegionOne"))
                    if not (d["type"] == "project" and d["name"] == "admin")]
        scanner = Scanner(database, environment, docs, CallableTransport(LabResponder(world)), fetch_host,
                          concurrency)
        return scanner.scan(**scan_options)
