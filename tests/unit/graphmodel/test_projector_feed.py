"""The projector's feed reading (graphmodel/projector.py), pure parts: `in_order` puts entries read in
any order into the slices a read sorted by `seq` gives, as early as it can; `_ReadAhead` runs the read
in a thread and hands its items and its errors to the writer."""

from __future__ import annotations

import random
import threading
from collections.abc import Generator, Iterator
from typing import Any

import pytest

from graphmodel.projector import _ReadAhead, in_order


def entries(numbers: list[int]) -> list[dict[str, Any]]:
    return [{"seq": n, "key": f"k{n}"} for n in numbers]


def seqs(slices: list[list[dict[str, Any]]]) -> list[list[int]]:
    return [[e["seq"] for e in s] for s in slices]


def test_slices_are_those_of_a_sorted_read_whatever_the_order() -> None:
    numbers = list(range(11, 11 + 23))
    shuffled = numbers[:]
    random.Random(5).shuffle(shuffled)
    expected = [numbers[i:i + 5] for i in range(0, len(numbers), 5)]
    assert seqs(list(in_order(entries(shuffled), 10, 5))) == expected
    assert seqs(list(in_order(entries(numbers), 10, 5))) == expected


def test_the_first_slice_is_small_and_each_next_doubles_up_to_the_size() -> None:
    numbers = list(range(1, 40))
    sizes = [len(s) for s in in_order(entries(numbers), 0, 8, first=1)]
    assert sizes == [1, 2, 4, 8, 8, 8, 8]
    assert [len(s) for s in in_order(entries(numbers[::-1]), 0, 8, first=1)] == sizes  # the rest, at the end
    assert [len(s) for s in in_order(entries(numbers), 0, 8, first=8)] == [8, 8, 8, 8, 7]


def test_a_slice_comes_as_soon_as_its_numbers_have_all_come() -> None:
    """Streaming: the writer gets a slice while the read goes on, not after it."""
    consumed: list[int] = []

    def read() -> Iterator[dict[str, Any]]:
        for entry in entries([2, 1, 3, 4, 6, 5, 7, 8, 9]):
            consumed.append(entry["seq"])
            yield entry

    slices = in_order(read(), 0, 3)
    assert seqs([next(slices)]) == [[1, 2, 3]] and consumed == [2, 1, 3]
    assert seqs([next(slices)]) == [[4, 5, 6]] and consumed == [2, 1, 3, 4, 6, 5]
    assert seqs(list(slices)) == [[7, 8, 9]]


def test_a_hole_holds_the_slices_after_it_until_the_read_ends_then_is_passed() -> None:
    """A number reserved but not inserted (a writer that died between) must not stop the projection for
    good, and nothing after it may be applied before the read has ended (its entry may still come)."""
    consumed: list[int] = []

    def read() -> Iterator[dict[str, Any]]:
        for entry in entries([1, 2, 4, 5, 6, 7, 8]):
            consumed.append(entry["seq"])
            yield entry

    slices = in_order(read(), 0, 2)
    assert seqs([next(slices)]) == [[1, 2]]
    assert seqs([next(slices)]) == [[4, 5]] and consumed == [1, 2, 4, 5, 6, 7, 8]  # only after the read
    assert seqs(list(slices)) == [[6, 7], [8]]


def test_nothing_read_is_no_slice() -> None:
    assert list(in_order([], 7, 5, first=1)) == []


def test_read_ahead_hands_over_items_in_order_then_the_end() -> None:
    reader = _ReadAhead(lambda: (n for n in range(5)), depth=2)
    try:
        assert [reader.next() for _ in range(6)] == [0, 1, 2, 3, 4, None]
    finally:
        reader.close()


def test_read_ahead_raises_the_readers_error_to_the_consumer() -> None:
    def failing() -> Generator[int, None, None]:
        yield 1
        raise ConnectionError("feed server gone")

    reader = _ReadAhead(failing)
    try:
        assert reader.next() == 1
        with pytest.raises(ConnectionError, match="feed server gone"):
            reader.next()
    finally:
        reader.close()


def test_closing_stops_a_reader_that_is_ahead_and_closes_its_generator() -> None:
    closed = threading.Event()

    def endless() -> Generator[int, None, None]:
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.set()  # where the projector's read closes its cursor

    reader = _ReadAhead(endless, depth=1)
    assert reader.next() == 0
    reader.close()
    assert closed.wait(5.0)
