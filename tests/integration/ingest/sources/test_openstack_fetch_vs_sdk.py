"""The raw paged fetch against what openstacksdk's Resource objects gave (the path it replaced), on
small lab worlds served over HTTP: every attribute the raw fetch returns has the value openstacksdk
gave it, and the inventory made from either is the same, also when every list is read in pages of 2."""

from __future__ import annotations

import warnings
from typing import Any

import openstack.connection
import pytest
from conftest import connect_to_lab

from ingest.hierarchy import openstack_documents
from ingest.sources.openstack.fetch import RawOpenStack, fetch_openstack
from lab.cloud.server import serve
from lab.cloud.source import StaticWorldSource
from lab.generate import generate_world
from lab.world import VARIANTS


def fetch_with_openstacksdk(connection: openstack.connection.Connection, region: str) -> RawOpenStack:
    """The fetch as it was before raw paging: openstacksdk Resources, then to_dict()."""
    def plain(resources: Any) -> list[dict[str, Any]]:
        return [resource.to_dict(computed=False) for resource in resources]
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


#: Attributes openstacksdk turns into a Resource of its own: compared by what the transform reads of them.
NESTED = {("servers", "flavor"): "original_name", ("servers", "image"): "id"}


@pytest.mark.parametrize(("mechanism", "type_driver"), [VARIANTS[0], VARIANTS[6], VARIANTS[7], VARIANTS[9]])
def test_raw_fetch_gives_what_openstacksdk_gave(mechanism: str, type_driver: str) -> None:
    world = generate_world(4, 3, 1 if type_driver == "flat" else 3, mechanism, type_driver, seed=17)
    with serve(StaticWorldSource(world)) as cloud, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        connection = connect_to_lab(cloud)
        old = fetch_with_openstacksdk(connection, "RegionOne")
        new = fetch_openstack(connection, "RegionOne")
        paged = fetch_openstack(connection, "RegionOne", page_size=2)
    assert paged == new
    for resource in vars(new):
        if resource == "region":
            continue
        ours, theirs = getattr(new, resource), getattr(old, resource)
        key = "name" if resource == "zones" else "id"
        assert [item[key] for item in ours] == [item[key] for item in theirs], resource
        for mine, sdk in zip(ours, theirs, strict=True):
            for attribute, value in mine.items():
                nested = NESTED.get((resource, attribute))
                if nested is not None:
                    assert value[nested] == sdk[attribute][nested], (resource, mine[key], attribute)
                else:
                    assert value == sdk[attribute], (resource, mine[key], attribute)
    assert openstack_documents(new) == openstack_documents(old)
