"""The monitoring checks are declared against the schema: every type they name exists."""

from __future__ import annotations

from graphmodel.checks import CHECK_TYPES, STATUSES, checks_for, worst
from graphmodel.schema import OBJECT_TYPES_BY_NAME


def test_every_check_names_real_object_types() -> None:
    for check in CHECK_TYPES:
        assert check.object_types, check.name
        unknown = [t for t in check.object_types if t not in OBJECT_TYPES_BY_NAME]
        assert not unknown, f"check {check.name} names unknown types {unknown}"
        assert check.interval_s > 0 and check.command


def test_the_path_objects_have_checks() -> None:
    for object_type in ("host_pnic", "vnic", "vconnector", "vedge", "otep", "vservice", "network_agent"):
        assert checks_for(object_type), object_type


def test_worst_orders_statuses() -> None:
    assert worst([]) == "ok"
    assert worst(["ok", "warning", "unknown"]) == "warning"
    assert worst(["critical", "ok"]) == "critical"
    assert STATUSES[0] == "ok" and STATUSES[-1] == "critical"
