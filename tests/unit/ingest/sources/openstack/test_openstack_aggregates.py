"""Nova host aggregates: the API document (GET /os-aggregates at 2.41) -> the plain dict -> an aggregate
object under the region's aggregates folder, its id from Nova's immutable integer id."""

from __future__ import annotations

from ingest.sources.openstack import fetch, transform
from ingest.sources.openstack.fetch import RawOpenStack

NOVA_AGGREGATE = {  # as Nova 2024.1 lists it to an admin
    "id": 3, "uuid": "8b5a8b5e-1c0e-4c44-9b0a-0cdbcb8f7d0e", "name": "rack-2", "availability_zone": "az2",
    "hosts": ["compute-4", "compute-3"], "metadata": {"availability_zone": "az2", "ssd": "true"},
    "created_at": "2026-01-01T00:00:00.000000", "updated_at": None, "deleted_at": None, "deleted": False,
}


def test_an_aggregate_becomes_an_object_under_the_regions_aggregates_folder() -> None:
    raw = RawOpenStack(region="RegionOne", aggregates=[fetch.aggregate(NOVA_AGGREGATE)])
    folder, aggregate = transform.aggregates(raw)
    assert folder["id"] == "region:RegionOne/aggregates" and folder["folder_of"] == "aggregate"
    assert folder["parent_id"] == "region:RegionOne" and folder["parent_type"] == "region"
    assert aggregate == {"id": "aggregate:RegionOne:3", "type": "aggregate", "name": "rack-2",
                         "parent_id": "region:RegionOne/aggregates", "parent_type": "folder",
                         "uuid": NOVA_AGGREGATE["uuid"], "availability_zone": "az2",
                         "hosts": ["compute-3", "compute-4"], "metadata": {"availability_zone": "az2", "ssd": "true"}}


def test_no_aggregates_no_folder() -> None:
    assert transform.aggregates(RawOpenStack(region="RegionOne")) == []


def test_an_aggregate_without_zone_or_hosts() -> None:
    plain = fetch.aggregate({"id": 1, "name": "empty", "availability_zone": None, "hosts": None, "metadata": None})
    assert plain == {"id": 1, "uuid": None, "name": "empty", "availability_zone": None, "hosts": [], "metadata": {}}
    (_, doc) = transform.aggregates(RawOpenStack(region="R", aggregates=[plain]))
    assert doc["id"] == "aggregate:R:1" and doc["hosts"] == [] and doc["availability_zone"] is None
