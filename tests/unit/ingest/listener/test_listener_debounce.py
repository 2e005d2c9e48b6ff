"""Debounced host refreshes and the acknowledgements that wait for them."""

from __future__ import annotations

from ingest.listener.consumer import Backoff, queue_name
from ingest.listener.debounce import AckQueue, Debouncer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_events_for_one_host_within_the_window_cause_one_refresh() -> None:
    clock = Clock()
    debouncer = Debouncer(2.0, clock)
    assert debouncer.request("compute-1") is True
    clock.now += 1.5
    assert debouncer.request("compute-1") is False  # joins the pending refresh
    assert debouncer.request("compute-2") is True
    assert debouncer.take_due() == []
    assert debouncer.seconds_to_next() == 0.5
    clock.now += 0.5
    assert debouncer.take_due() == ["compute-1"]  # the window opened by the first event, not slid
    assert debouncer.pending() == ["compute-2"]
    assert debouncer.request("compute-1") is True  # a later event opens a new window
    assert sorted(debouncer.take_all()) == ["compute-1", "compute-2"]
    assert debouncer.seconds_to_next() is None


def test_a_message_is_released_once_every_host_it_touched_is_refreshed() -> None:
    waiting: AckQueue[str] = AckQueue()
    waiting.add("port moved", ["compute-1", "compute-2"])
    waiting.add("vm booted", ["compute-2"])
    assert waiting.refreshed("compute-2") == ["vm booted"]
    assert len(waiting) == 1
    assert waiting.refreshed("compute-9") == []
    assert waiting.refreshed("compute-1") == ["port moved"]
    waiting.add("x", ["h"])
    waiting.clear()
    assert len(waiting) == 0


def test_backoff_doubles_up_to_its_ceiling_and_resets() -> None:
    backoff = Backoff(1.0, 5.0)
    assert [backoff.next() for _ in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    backoff.reset()
    assert backoff.next() == 1.0


def test_one_durable_queue_per_environment() -> None:
    assert queue_name("lab") == "calipso.lab.notifications"
