"""core.services.is_alive: when a heartbeat counts as a live process (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.services import STALE_AFTER, is_alive

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_a_recent_heartbeat_is_alive_and_a_stale_one_is_not() -> None:
    doc = {"interval_s": 2.0, "beat_at": NOW - timedelta(seconds=2.0 * STALE_AFTER)}
    assert is_alive(doc, NOW)
    doc["beat_at"] = NOW - timedelta(seconds=2.0 * STALE_AFTER + 0.5)
    assert not is_alive(doc, NOW)


def test_the_interval_of_the_process_decides_and_naive_times_are_utc() -> None:
    beat = NOW - timedelta(seconds=20)
    assert not is_alive({"interval_s": 2.0, "beat_at": beat}, NOW)
    assert is_alive({"interval_s": 10.0, "beat_at": beat.replace(tzinfo=None)}, NOW)
    assert not is_alive({"interval_s": 10.0}, NOW)
