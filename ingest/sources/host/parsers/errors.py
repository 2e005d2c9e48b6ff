"""The one error every parser raises, and the guard that turns surprises into it.

A parser that meets text its tool does not print (truncated JSON, an HTML error page, another
tool's output) raises ParseError naming the command and quoting the start of the text, so that
the scanner can record which host gave what and move on. Nothing else may escape a parser.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from core.errors import CalipsoError

EXCERPT_CHARS = 200

P = ParamSpec("P")
R = TypeVar("R")


def excerpt(text: object) -> str:
    """The first EXCERPT_CHARS characters of the offending text, stripped."""
    return (text if isinstance(text, str) else repr(text)).strip()[:EXCERPT_CHARS]


class ParseError(CalipsoError):
    """A command's output is not in the format its tool prints."""

    def __init__(self, command: str, reason: str, text: object = "") -> None:
        self.command = command
        self.reason = reason
        self.excerpt = excerpt(text)
        # repr() keeps the excerpt on one line whatever it contains
        super().__init__(f"cannot parse `{command}` output: {reason} near: {self.excerpt!r}")


def guarded(command: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Make a parser raise only ParseError: any other failure on odd input becomes one.

    The wrapped parser takes the text first; a `command=` keyword, when the parser has one,
    names the command in the message (e.g. `ethtool eth1` instead of `ethtool`).
    """
    def decorate(parse: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(parse)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            text = args[0] if args else kwargs.get("text", "")
            name = str(kwargs.get("command") or command)
            if not isinstance(text, str):
                raise ParseError(name, f"expected text, got {type(text).__name__}", text)
            try:
                return parse(*args, **kwargs)
            except ParseError:
                raise
            # LookupError: KeyError, IndexError; ArithmeticError: OverflowError (float -> int), ZeroDivisionError
            except (ValueError, LookupError, TypeError, AttributeError, RecursionError, ArithmeticError) as exc:
                raise ParseError(name, f"unexpected structure ({type(exc).__name__}: {exc})", text) from None
        return wrapper
    return decorate


def load_json(command: str, text: str, empty: Any) -> Any:
    """Decode a JSON document; blank output is `empty` (the tool printed nothing to report)."""
    if not text.strip():
        return empty
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(command, f"not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})", text) from None
    except RecursionError:
        # the decoder recurses per level: no tool nests its output anywhere near this deep
        raise ParseError(command, "JSON nested too deeply", text) from None
    except ValueError as exc:  # a number of more than 4300 digits (Python's int conversion limit)
        raise ParseError(command, f"not JSON a tool prints ({exc})", text) from None


#: MongoDB and Neo4j store signed 64-bit integers: a larger number in a fact would fail the scan's write.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_MAX_DIGITS = 24  # more than any 64-bit number needs, in any base int() reads here


def fits(number: int) -> bool:
    """Whether `number` fits the signed 64-bit integers the stores keep."""
    return INT64_MIN <= number <= INT64_MAX


def lenient_int(value: Any, base: int = 10) -> int | None:
    """An int from a tool's text or JSON, or None when it is absent, not a number or beyond 64 bits
    (for fields a parser may do without)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value if fits(value) else None
    text = str(value).strip()
    if len(text) > _MAX_DIGITS:
        return None
    try:
        number = int(text, base)
    except ValueError:
        return None
    return number if fits(number) else None


def integer(command: str, value: str, what: str, line: str, base: int = 10) -> int:
    """A number the tool printed where it always prints one; ParseError naming `what` when it is not
    a number or is beyond 64 bits."""
    number = lenient_int(value, base)
    if number is None:
        raise ParseError(command, f"{what} {value[:30]!r} is not a 64-bit number", line)
    return number


def require(condition: bool, command: str, reason: str, text: str) -> None:
    """Raise ParseError(command, reason, text) unless condition holds."""
    if not condition:
        raise ParseError(command, reason, text)
