"""The maintenance window: ISO 8601 intervals with an abbreviated end, a duration, or past midnight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from queries.command_chain import ReportInputError, parse_window, window_label

UTC = UTC


@pytest.mark.parametrize(("text", "start", "end"), [
    ("2026-12-10T02:00/04:00", datetime(2026, 12, 10, 2, tzinfo=UTC), datetime(2026, 12, 10, 4, tzinfo=UTC)),
    ("2026-12-10T02:00/2026-12-10T04:30", datetime(2026, 12, 10, 2, tzinfo=UTC), datetime(2026, 12, 10, 4, 30, tzinfo=UTC)),
    ("2026-12-10T02:00/PT2H30M", datetime(2026, 12, 10, 2, tzinfo=UTC), datetime(2026, 12, 10, 4, 30, tzinfo=UTC)),
    ("2026-12-10T02:00/P1D", datetime(2026, 12, 10, 2, tzinfo=UTC), datetime(2026, 12, 11, 2, tzinfo=UTC)),
    ("2026-12-10T23:00/01:00", datetime(2026, 12, 10, 23, tzinfo=UTC), datetime(2026, 12, 11, 1, tzinfo=UTC)),
    ("2026-12-10T03:00+01:00/05:00", datetime(2026, 12, 10, 2, tzinfo=UTC), datetime(2026, 12, 10, 4, tzinfo=UTC)),
])
def test_windows(text: str, start: datetime, end: datetime) -> None:
    assert parse_window(text) == (start, end)


@pytest.mark.parametrize(("text", "says"), [
    ("2026-12-10T02:00", "expected START/END"),
    ("tonight/04:00", "'tonight' is not an ISO 8601 time"),
    ("2026-12-10T02:00/soon", "'soon' is neither"),
    ("2026-12-10T04:00/2026-12-10T02:00", "before it starts"),
    ("2026-12-10T02:00/PT0H", "before it starts"),
])
def test_bad_windows_name_the_problem(text: str, says: str) -> None:
    with pytest.raises(ReportInputError, match=says):
        parse_window(text)


def test_window_label() -> None:
    start = datetime(2026, 12, 10, 23, tzinfo=UTC)
    assert window_label(start, start + timedelta(hours=2, minutes=5)) == \
        "2026-12-10 23:00 – 2026-12-11 01:05 UTC (2 h 05 min)"
    assert window_label(start - timedelta(hours=1), start) == "2026-12-10 22:00 – 23:00 UTC (1 h 00 min)"
