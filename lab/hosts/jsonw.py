"""iproute2's JSON writer (lib/json_writer.c): compact, or its own "pretty" layout under -p.

Python's json module cannot reproduce iproute2's output: floats keep printf's digits ("0.00"),
and -p puts arrays of scalars on one line (`"flags": [ "UP","LOWER_UP" ]`) and indents objects
by four spaces per level. Values are dicts (key order kept), lists, str, bool, int, None, and
`Raw` for text written as is (numbers formatted like iproute2's printf).
"""

from __future__ import annotations

import json
import re

_RAW_MARK = "\x01raw\x01"
_RAW = re.compile(r'"\\u0001raw\\u0001([^"]*)"')


class Raw(str):
    """A JSON value written verbatim, e.g. Raw("0.00") for a timer iproute2 prints with %.2f.

    It carries a marker so that the fast compact path (json.dumps) can find and unquote it.
    """

    def __new__(cls, text: str) -> Raw:
        return super().__new__(cls, _RAW_MARK + text)

    @property
    def text(self) -> str:
        return self[len(_RAW_MARK):]


def dumps(value: object, pretty: bool = False) -> str:
    """The JSON text iproute2 prints for `value` (without the final newline)."""
    if not pretty:
        # Compact output is exactly json.dumps's; Raw values come out as marked strings, unquoted here.
        return _RAW.sub(r"\1", json.dumps(value, separators=(",", ":")))
    writer = _Writer(pretty)
    writer.value(value)
    return "".join(writer.out)


class _Writer:
    """A transcription of json_writer.c's state machine: separators, depth and pretty spacing."""

    def __init__(self, pretty: bool) -> None:
        self.pretty = pretty
        self.out: list[str] = []
        self.depth = 0
        self.sep = ""

    def _eor(self) -> None:
        if self.sep:
            self.out.append(self.sep)
        self.sep = ","

    def _eol(self) -> None:
        if self.pretty:
            self.out.append("\n" + "    " * self.depth)

    def _begin(self, char: str) -> None:
        self._eor()
        self.out.append(char)
        self.depth += 1
        self.sep = ""

    def _end(self, char: str) -> None:
        self.depth -= 1
        if self.sep:
            self._eol()
        self.out.append(char)
        self.sep = ","

    def value(self, value: object) -> None:
        if isinstance(value, dict):
            self._begin("{")
            for key, item in value.items():
                self._eor()
                self._eol()
                self.sep = ""
                self.out.append(json.dumps(key) + (": " if self.pretty else ":"))
                self.value(item)
            self._end("}")
        elif isinstance(value, list):
            self._begin("[")
            if self.pretty:
                self.out.append(" ")
            for item in value:
                self.value(item)
            if self.pretty and self.sep:
                self.out.append(" ")
            self.sep = ""
            self._end("]")
        else:
            self._eor()
            self.out.append(_atom(value))


def _atom(value: object) -> str:
    if isinstance(value, Raw):
        return value.text
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))
