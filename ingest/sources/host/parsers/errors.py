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
            except (ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError) as exc:
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


def require(condition: bool, command: str, reason: str, text: str) -> None:
    """Raise ParseError(command, reason, text) unless condition holds."""
    if not condition:
        raise ParseError(command, reason, text)
