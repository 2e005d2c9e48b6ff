"""When scheduled scans run: parsing --every/--at, and the next run after a moment (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ingest.schedules import Recurrence, ScheduleError, first_run, next_run, parse_recurrence


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(("every", "at", "after", "expected"), [
    ("hourly", "15", "2026-03-01T10:14:59", "2026-03-01T10:15:00"),
    ("hourly", ":15", "2026-03-01T10:15:00", "2026-03-01T11:15:00"),  # strictly after
    ("hourly", None, "2026-12-31T23:30:00", "2027-01-01T00:00:00"),
    ("daily", "02:30", "2026-03-01T02:29:00", "2026-03-01T02:30:00"),
    ("daily", "02:30", "2026-03-01T02:30:00", "2026-03-02T02:30:00"),
    ("daily", "00:00", "2026-12-31T12:00:00", "2027-01-01T00:00:00"),
    ("weekly", "sun 02:00", "2026-11-25T06:00:00", "2026-11-29T02:00:00"),  # a Wednesday
    ("weekly", "wed 07:00", "2026-11-25T06:00:00", "2026-11-25T07:00:00"),  # later the same day
    ("weekly", "wed 05:00", "2026-11-25T06:00:00", "2026-12-02T05:00:00"),  # passed: next week
    ("weekly", "Monday 00:00", "2026-11-25T06:00:00", "2026-11-30T00:00:00"),
    ("monthly", "1 03:30", "2026-01-01T03:30:00", "2026-02-01T03:30:00"),
    ("monthly", "31 02:00", "2026-01-31T02:00:00", "2026-02-28T02:00:00"),  # February is short
    ("monthly", "31 02:00", "2028-01-31T03:00:00", "2028-02-29T02:00:00"),  # leap year
    ("monthly", "31 02:00", "2026-04-15T00:00:00", "2026-04-30T02:00:00"),
    ("monthly", "30 00:00", "2026-12-30T00:00:00", "2027-01-30T00:00:00"),  # over the year end
    ("monthly", "15 12:00", "2026-06-10T00:00:00", "2026-06-15T12:00:00"),
])
def test_next_run(every: str, at: str | None, after: str, expected: str) -> None:
    assert next_run(parse_recurrence(every, at), utc(after)) == utc(expected)


def test_a_run_is_always_strictly_later_and_consecutive_runs_advance() -> None:
    rec = parse_recurrence("monthly", "31 23:59")
    moment = utc("2026-01-01T00:00:00")
    seen = []
    for _ in range(24):
        following = next_run(rec, moment)
        assert following is not None and following > moment
        seen.append(following)
        moment = following
    assert [d.month for d in seen[:12]] == list(range(1, 13))  # one run each month, none skipped
    assert {d.day for d in seen} == {28, 30, 31}


def test_once_runs_at_its_time_or_now_and_never_again() -> None:
    now = utc("2026-11-25T06:00:00")
    assert first_run(parse_recurrence("once"), now) == now
    at = parse_recurrence("once", "2026-12-01T02:00")
    assert first_run(at, now) == utc("2026-12-01T02:00:00")
    assert parse_recurrence("once", "2026-12-01T03:00+01:00").at == utc("2026-12-01T02:00:00")
    assert next_run(at, now) is None


def test_recurring_schedules_first_run_at_their_next_time() -> None:
    now = utc("2026-11-25T06:00:00")
    assert first_run(parse_recurrence("daily", "05:00"), now) == now + timedelta(hours=23)


def test_naive_times_are_taken_as_utc() -> None:
    rec = Recurrence("daily", hour=1)
    assert next_run(rec, datetime(2026, 1, 1, 0, 0)) == utc("2026-01-01T01:00:00")


@pytest.mark.parametrize(("every", "at", "says"), [
    ("yearly", None, "--every: expected one of"),
    ("hourly", "61", "--at for hourly"),
    ("daily", "25:00", "--at for daily: expected HH:MM"),
    ("daily", "2pm", "--at for daily"),
    ("weekly", "someday 02:00", "--at for weekly"),
    ("monthly", "32 02:00", "--at for monthly"),
    ("monthly", "0", "--at for monthly"),
    ("once", "tomorrow", "--at for once"),
])
def test_bad_schedules_say_what_is_expected(every: str, at: str | None, says: str) -> None:
    with pytest.raises(ScheduleError, match=says):
        parse_recurrence(every, at)
