"""ParseError: its message names the command, the reason, and at most 200 characters of the text."""

from __future__ import annotations

import pytest

from core.errors import CalipsoError
from ingest.sources.host.parsers.errors import ParseError, guarded


def test_message_names_command_reason_and_excerpt() -> None:
    error = ParseError("ovs-vsctl show", "no uuid line", "  <html>\n<body>oops</body>  ")
    assert isinstance(error, CalipsoError)
    assert (error.command, error.reason, error.excerpt) == ("ovs-vsctl show", "no uuid line", "<html>\n<body>oops</body>")
    assert str(error) == "cannot parse `ovs-vsctl show` output: no uuid line near: '<html>\\n<body>oops</body>'"


def test_excerpt_is_never_longer_than_200_characters() -> None:
    error = ParseError("ip -j addr", "not JSON", "x" * 5000)
    assert len(error.excerpt) == 200
    assert len(str(error)) < 300


def test_guard_turns_any_other_failure_into_parse_error() -> None:
    @guarded("some tool")
    def parse(text: str, command: str = "some tool") -> int:
        return int(text)

    assert parse("12") == 12
    with pytest.raises(ParseError, match="cannot parse `some tool` output: unexpected structure"):
        parse("twelve")
    with pytest.raises(ParseError, match="`some tool eth1`"):
        parse("twelve", command="some tool eth1")
    with pytest.raises(ParseError, match="expected text, got bytes"):
        parse(b"12")  # type: ignore[arg-type]
