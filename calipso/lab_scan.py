"""Scan a lab world without SSH: its APIs served on loopback for the real openstacksdk, its hosts
answering through the lab's in-process responder (simulated) or running the commands in their
namespaces (the real lab). For tests, benchmarks and large worlds."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
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
from lab.real import RealLab
from lab.world import World

#: The lab cloud's fixed admin credentials (lab/cloud): test data, not a secret.
LAB_ADMIN: dict[str, Any] = {"username": "admin", "password": "lab-admin-pw", "project_name": "admin",
             "user_domain_name": "Default", "project_domain_name": "Default"}


def connect_to_lab(auth_url: str, region: str = "RegionOne") -> openstack.connection.Connection:
    """openstacksdk connected to a lab cloud as its admin."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openstacksdk's deprecation notices about itself
        return openstack.connect(auth_url=auth_url, region_name=region, **LAB_ADMIN)


def _lab_documents(auth_url: str) -> list[dict[str, Any]]:
    """The lab cloud's OpenStack documents, without Keystone's own `admin` project (not in the spec)."""
    return [d for d in openstack_documents(fetch_openstack(connect_to_lab(auth_url), "RegionOne"))
            if not (d["type"] == "project" and d["name"] == "admin")]


def scan_world_in_process(world: World, database: Database, environment: str, concurrency: int = 8,
                          **scan_options: Any) -> ScanResult:
    """Scan `world` into `environment` (a rescan when it was scanned before) and return the result.
    Keystone's own `admin` project is left out: the world spec does not declare it."""
    with serve(StaticWorldSource(world)) as cloud:
        scanner = Scanner(database, environment, lambda: _lab_documents(cloud.auth_url),
                          CallableTransport(LabResponder(world)), fetch_host, concurrency)
        return scanner.scan(**scan_options)


@contextmanager
def real_lab_scanner(lab: RealLab, database: Database, environment: str,
                     concurrency: int = 3) -> Iterator[Scanner]:
    """A scanner of a built real lab into `environment`, while its APIs are served on loopback: every
    host's commands run in its namespace (no SSH) and its NICs (veth cables) are declared as uplinks."""
    uplinks = {host.name: [nic.name for nic in host.nics] for host in lab.world.hosts}
    with serve(StaticWorldSource(lab.world)) as cloud:
        yield Scanner(database, environment, lambda: _lab_documents(cloud.auth_url), CallableTransport(lab.execute),
                      fetch_host, concurrency=concurrency, uplinks=uplinks)
