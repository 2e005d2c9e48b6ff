"""The monitoring checks are declared against the schema: every type they name exists."""

from __future__ import annotations

import pytest

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


def test_check_intervals_default_and_override() -> None:
    from graphmodel.checks import CHECK_TYPES_BY_NAME, DEFAULT_INTERVAL_S, check_intervals, parse_intervals

    assert check_intervals() == {name: DEFAULT_INTERVAL_S for name in CHECK_TYPES_BY_NAME}
    overridden = check_intervals(parse_intervals("link_state=30, tunnel_peers=120"))
    assert (overridden["link_state"], overridden["tunnel_peers"], overridden["namespace"]) == (30, 120, 60)
    for text, message in (("link_state", "expected CHECK=SECONDS"), ("link_state=x", "expected CHECK=SECONDS"),
                          ("=5", "expected CHECK=SECONDS")):
        with pytest.raises(ValueError, match=message):
            parse_intervals(text)
    with pytest.raises(ValueError, match="no check type link_status"):
        check_intervals({"link_status": 5})
    with pytest.raises(ValueError, match="at least 1 s"):
        check_intervals({"link_state": 0})
