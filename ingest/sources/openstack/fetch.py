"""Read everything the scanner needs from the OpenStack APIs, as plain dicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import openstack.connection

Raw = dict[str, Any]


@dataclass
class RawOpenStack:
    """What the APIs returned, one list of plain dicts per resource (openstacksdk attribute names)."""

    region: str
    regions: list[Raw] = field(default_factory=list)
    projects: list[Raw] = field(default_factory=list)
    zones: list[Raw] = field(default_factory=list)
    hypervisors: list[Raw] = field(default_factory=list)
    servers: list[Raw] = field(default_factory=list)
    networks: list[Raw] = field(default_factory=list)
    subnets: list[Raw] = field(default_factory=list)
    ports: list[Raw] = field(default_factory=list)
    routers: list[Raw] = field(default_factory=list)
    agents: list[Raw] = field(default_factory=list)


def fetch_openstack(connection: openstack.connection.Connection, region: str) -> RawOpenStack:
    """Every resource, paginated by openstacksdk; servers of all projects."""
    plain = _plain
    return RawOpenStack(
        region=region,
        regions=plain(connection.identity.regions()),
        projects=plain(connection.identity.projects()),
        zones=plain(connection.compute.availability_zones(details=True)),
        hypervisors=plain(connection.compute.hypervisors(details=True)),
        servers=plain(connection.compute.servers(details=True, all_projects=True)),
        networks=plain(connection.network.networks()),
        subnets=plain(connection.network.subnets()),
        ports=plain(connection.network.ports()),
        routers=plain(connection.network.routers()),
        agents=plain(connection.network.agents()),
    )


def _plain(resources: Any) -> list[Raw]:
    return [resource.to_dict(computed=False) for resource in resources]
