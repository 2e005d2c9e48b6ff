"""Diff computation from history versions, time parsing and the around-filter (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from queries.diff import Change, DiffResult, changed_fields, compute_diff, parse_time, restrict

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def version(kind: str, key: str, start: int, end: int | None, **doc: object) -> dict:  # type: ignore[type-arg]
    return {"kind": kind, "key": key, "valid_from": at(start), "valid_to": None if end is None else at(end),
            "doc": doc}


HISTORY = [
    version("object", "vm1", 0, 10, id="vm1", type="instance", name="web", vm_state="active"),
    version("object", "vm1", 10, None, id="vm1", type="instance", name="web-renamed", vm_state="active"),
    version("object", "vm2", 5, None, id="vm2", type="instance", name="db"),
    version("object", "vm3", 0, 8, id="vm3", type="instance", name="old"),
    version("object", "flip", 0, 6, id="flip", type="vnic", mtu=1450),
    version("object", "flip", 6, 7, id="flip", type="vnic", mtu=1500),
    version("object", "flip", 7, None, id="flip", type="vnic", mtu=1450),
    version("link", "instance-vnic|vm1|v1", 0, 9, link_type="instance-vnic", state="up"),
    version("link", "instance-vnic|vm1|v1", 9, None, link_type="instance-vnic", state="down"),
]


def by_key(changes: list[Change]) -> dict[str, Change]:
    return {c.key: c for c in changes}


def test_added_removed_and_changed_between_two_times() -> None:
    changes = by_key(compute_diff(HISTORY, at(1), at(12)))
    assert changes["vm2"].change == "added" and changes["vm2"].name == "db"
    assert changes["vm3"].change == "removed" and changes["vm3"].type == "instance"
    assert changes["vm1"].change == "changed"
    assert changes["vm1"].fields == {"name": {"old": "web", "new": "web-renamed"}}
    link = changes["instance-vnic|vm1|v1"]
    assert link.kind == "link" and link.type == "instance-vnic" and link.fields["state"] == {"old": "up", "new": "down"}
    assert "flip" not in changes  # changed and changed back: the same at both ends


def test_a_window_sees_only_what_differs_at_its_ends() -> None:
    changes = by_key(compute_diff(HISTORY, at(6) + timedelta(seconds=30), at(7) + timedelta(seconds=30)))
    assert changes["flip"].fields == {"mtu": {"old": 1500, "new": 1450}}
    assert set(changes) == {"flip"}  # vm2 existed at both ends
    assert compute_diff(HISTORY, at(20), at(30)) == []
    # something added and removed inside the window never existed at either end
    assert "x" not in by_key(compute_diff([version("object", "x", 2, 3, id="x", type="vnic")], at(1), at(4)))


def test_naive_times_are_utc() -> None:
    naive = [{**v, "valid_from": v["valid_from"].replace(tzinfo=None),
              "valid_to": v["valid_to"].replace(tzinfo=None) if v["valid_to"] else None} for v in HISTORY]
    assert compute_diff(naive, at(1), at(12)) == compute_diff(HISTORY, at(1), at(12))


def test_changed_fields_name_missing_values_as_none() -> None:
    assert changed_fields({"a": 1, "b": 2}, {"a": 1, "c": 3}) == {"b": {"old": 2, "new": None},
                                                                  "c": {"old": None, "new": 3}}


def test_restrict_keeps_objects_and_links_touching_them() -> None:
    changes = compute_diff(HISTORY, at(1), at(12))
    kept = by_key(restrict(changes, {"vm1"}))
    assert set(kept) == {"vm1", "instance-vnic|vm1|v1"}
    assert set(by_key(restrict(changes, {"v1"}))) == {"instance-vnic|vm1|v1"}


def test_parse_time_accepts_iso_now_and_durations() -> None:
    now = datetime(2024, 5, 2, 0, 0, tzinfo=UTC)
    assert parse_time("2024-05-01T12:00:00", now) == T0
    assert parse_time("2024-05-01T14:00:00+02:00", now) == T0
    assert parse_time("2024-05-01T12:00:00Z", now) == T0
    assert parse_time("now", now) == now
    assert parse_time("2h", now) == now - timedelta(hours=2)
    assert parse_time("7d", now) == now - timedelta(days=7)
    assert parse_time("90s", now) == now - timedelta(seconds=90)
    assert parse_time("3fa2c0d1e9b84b7d9a3c2e1f0a9b8c7d", now) is None  # a scan id, perhaps
    assert parse_time("yesterday-ish", now) is None


def test_rows_show_field_changes() -> None:
    result = DiffResult("e", at(1), at(12), None, 1, compute_diff(HISTORY, at(1), at(12)))
    row = next(r for r in result.rows() if r["key"] == "vm1")
    assert row["fields"] == "name: web -> web-renamed"
    assert result.summary == {"links changed": 1, "objects added": 1, "objects changed": 1, "objects removed": 1}
