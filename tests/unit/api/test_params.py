"""Parameter declarations: conversion, bounds, and what the OpenAPI document says about them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.errors import BadRequest
from api.params import NO_NUL, Page, Param, parse_datetime


def test_datetimes_are_utc() -> None:
    assert parse_datetime("2024-05-01T12:00:00Z") == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert parse_datetime("2024-05-01t14:00:00+02:00") == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert parse_datetime("2024-05-01 12:00") == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert parse_datetime("0001-01-01T00:00:00+05:00").year == 1  # no overflow at the edge
    with pytest.raises(ValueError):
        parse_datetime("yesterday")


@pytest.mark.parametrize(("param", "raw", "expected"), [
    (Param("n", "int", minimum=1, maximum=5), "3", 3),
    (Param("f", "bool"), "true", True),
    (Param("f", "bool"), "0", False),
    (Param("s", "str", choices=["a", "b"]), "b", "b"),
    (Param("l", "list", choices=["x", "y"]), ["x"], ["x"]),
])
def test_valid_values_convert(param: Param, raw: object, expected: object) -> None:
    assert param.convert(raw, "query parameter") == expected


@pytest.mark.parametrize(("param", "raw"), [
    (Param("n", "int", minimum=1, maximum=5), "6"),
    (Param("n", "int"), "1.5"),
    (Param("n", "int"), True),
    (Param("f", "bool"), "maybe"),
    (Param("s", "str", choices=["a", "b"]), "c"),
    (Param("s", "str", max_length=3), "abcd"),
    (Param("s", "str"), "a\x00b"),
    (Param("s", "str", required=True), ""),
    (Param("s", "str", pattern=r"^\w+=.*$"), "novalue"),
    (Param("o", "object"), [1]),
    (Param("l", "list"), "x"),
])
def test_invalid_values_name_the_parameter(param: Param, raw: object) -> None:
    with pytest.raises(BadRequest) as error:
        param.convert(raw, "query parameter")
    assert repr(param.name) in error.value.message and error.value.details["parameter"] == param.name


def test_the_document_states_the_rules() -> None:
    spec = Param("page_size", "int", minimum=1, maximum=500, default=50).swagger()
    assert spec == {"type": "integer", "minimum": 1, "maximum": 500, "in": "query", "description": "",
                    "required": False, "default": 50}
    repeated = Param("type", "str", choices=["a"], multiple=True).swagger()
    assert repeated["type"] == "array" and repeated["collectionFormat"] == "multi"
    assert repeated["items"] == {"type": "string", "enum": ["a"]}
    assert Param("q", "str", required=True).swagger()["pattern"] == NO_NUL


def test_pages() -> None:
    page = Page(3, 20)
    assert page.skip == 40
    assert page.wrap([1], 41) == {"items": [1], "total": 41, "page": 3, "page_size": 20}
