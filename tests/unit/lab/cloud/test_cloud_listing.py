import json

import pytest

from lab.cloud.listing import (
    Collection,
    filter_key,
    paginate,
    parse_limit,
    project,
    query_key,
    render_list,
    select,
)


def collection() -> Collection:
    docs = [
        {"id": "a", "host": "h1", "up": True, "tags": ["x", "y"], "n": 1, "info": {"k": 1}},
        {"id": "b", "host": "h2", "up": False, "tags": ["y"], "n": 2, "info": {}},
        {"id": "c", "host": "h1", "up": True, "tags": [], "n": None, "info": {}},
        {"id": "d", "host": "h3", "up": False, "tags": ["x"], "n": 1, "info": {}},
    ]
    return Collection(docs, fields=docs[0].keys(), extractors={"first_tag": lambda d: d["tags"][:1]})


def test_filter_and_query_keys_agree_on_booleans_numbers_and_none() -> None:
    assert filter_key(True) == query_key("True", boolean=True) == query_key("1", boolean=True) == "true"
    assert filter_key(False) == query_key("false", boolean=True) == "false"
    assert filter_key(3) == "3"
    assert filter_key(None) == ""
    assert query_key("True", boolean=False) == "True"  # a name that happens to read True stays itself


def test_select_without_filters_is_everything_in_order() -> None:
    assert list(select(collection(), [])) == [0, 1, 2, 3]


def test_select_ors_the_values_of_one_filter_and_ands_the_filters() -> None:
    items = collection()
    assert list(select(items, [("host", ["h1"])])) == [0, 2]
    assert list(select(items, [("host", ["h1", "h3"])])) == [0, 2, 3]
    assert list(select(items, [("host", ["h1", "h3"]), ("up", ["False"])])) == [3]
    assert list(select(items, [("host", ["nowhere"])])) == []


def test_select_matches_list_elements_numbers_none_and_extractors() -> None:
    items = collection()
    assert list(select(items, [("tags", ["x"])])) == [0, 3]
    assert list(select(items, [("n", ["1"])])) == [0, 3]
    assert list(select(items, [("n", [""])])) == [2]
    assert list(select(items, [("first_tag", ["y"])])) == [1]
    assert list(select(items, [("info", ["{}"])])) == []  # dicts are not filterable


def test_paginate_forward_from_a_marker_and_to_the_end() -> None:
    positions = [0, 2, 3, 5, 8]
    assert paginate(positions, None, 2) == ([0, 2], True)
    assert paginate(positions, 2, 2) == ([3, 5], True)
    assert paginate(positions, 5, 2) == ([8], False)
    assert paginate(positions, 8, 2) == ([], False)
    assert paginate(positions, 3, None) == ([5, 8], False)


def test_paginate_after_a_marker_the_filters_left_out() -> None:
    # The marker's place in the whole collection decides, not its place among the matches.
    assert paginate([0, 2, 3, 5, 8], 4, 2) == ([5, 8], False)


def test_paginate_backwards() -> None:
    positions = [0, 2, 3, 5, 8]
    assert paginate(positions, 5, 2, reverse=True) == ([2, 3], True)
    assert paginate(positions, 2, 2, reverse=True) == ([0], False)
    assert paginate(positions, None, 2, reverse=True) == ([5, 8], True)


def test_collection_lookups_and_encoding() -> None:
    items = collection()
    assert items.get("c")["host"] == "h1"
    assert items.get("zz") is None
    assert json.loads(items.encoded(1)) == items.docs[1]
    assert json.loads(items.encoded(1, "short", lambda d: {"id": d["id"]})) == {"id": "b"}
    assert items.encoded(1, "short") is items.encoded(1, "short")  # cached per variant


def test_project_keeps_named_fields_and_ignores_unknown_ones() -> None:
    assert project({"id": "a", "name": "n", "x": 1}, ["id", "x", "nope"]) == {"id": "a", "x": 1}


def test_render_list_is_the_json_of_the_items_and_extras() -> None:
    text = render_list("ports", ['{"id": "a"}', '{"id": "b"}'], {"ports_links": [{"rel": "next", "href": "u"}]})
    assert json.loads(text) == {"ports": [{"id": "a"}, {"id": "b"}], "ports_links": [{"rel": "next", "href": "u"}]}
    assert json.loads(render_list("ports", [])) == {"ports": []}


def test_parse_limit() -> None:
    assert parse_limit(None) is None
    assert parse_limit("") is None
    assert parse_limit("5") == 5
    with pytest.raises(ValueError):
        parse_limit("-1")
    with pytest.raises(ValueError):
        parse_limit("many")
