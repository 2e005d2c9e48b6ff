"""Environment isolation: a user who may see environment A never sees anything of environment B,
whatever a request names. Every operation of the live OpenAPI document is called as a view user of
A (changes as an edit user of A) with its path and query parameters and body fields naming B in
each way a client could: B's name, an object id, a scan id, a message id, a schedule id, a link key,
an attribute filter. No answer may hold a value that only B's documents hold (other than the
request's own words echoed back), none may be a 5xx, and B's documents are unchanged afterwards."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from conftest import scan_and_project

from graphmodel.inventory import LINKS, OBJECTS
from ingest.records import MESSAGES, SCANS, Message, record_message
from ingest.schedules import SCHEDULES, Recurrence, ScheduleStore
from lab.generate import generate_world

API = "/api/v1"


@pytest.fixture(scope="module")
def environment_b(api_world, stores):  # type: ignore[no-untyped-def]
    """A second lab world in the same database as `api_world`, with a scan, a message and a schedule."""
    name = f"test-b-{uuid.uuid4().hex[:8]}"
    database = api_world.stores.mongo
    assert scan_and_project(generate_world(2, 2, 2, "ovs", "vxlan", seed=99), database, stores.neo4j,
                            name).status == "completed"
    record_message(database, Message(name, "Calipso", "error", f"secret trouble in {name}"))
    ScheduleStore(database).add(name, Recurrence("daily", hour=2))
    yield name
    stores.neo4j.execute_query("MATCH (n {env: $env}) DETACH DELETE n", env=name)


def _strings(value: Any, found: set[str]) -> None:
    if isinstance(value, str):
        found.add(value)
    elif isinstance(value, dict):
        for item in value.values():
            _strings(item, found)
    elif isinstance(value, list):
        for item in value:
            _strings(item, found)


def _only_in_b(database: Any, a: str, b: str) -> set[str]:
    """Strings (ids, names, MACs, addresses...) of B's objects and links that no document of A holds."""
    def of(environment: str) -> set[str]:
        found: set[str] = set()
        for collection in (OBJECTS, LINKS):
            for doc in database[collection].find({"environment": environment}, {"_id": 0}):
                _strings({k: v for k, v in doc.items() if k not in ("environment", "scan_id")}, found)
        return found
    mine = of(a)
    # Short or generic words ("up", "ovs", "vxlan") say nothing about where they came from.
    return {s for s in of(b) - mine if len(s) >= 8} | {b}


def _references(database: Any, b: str) -> dict[str, str]:
    """One value per way a request can name something of B."""
    instance = database[OBJECTS].find_one({"environment": b, "type": "instance"})
    network = database[OBJECTS].find_one({"environment": b, "type": "network"})
    link = database[LINKS].find_one({"environment": b})
    return {
        "name": b,
        "object id": instance["id"],
        "object name": instance["name"],
        "network id": network["id"],
        "link key": link["key"],
        "scan id": str(database[SCANS].find_one({"environment": b})["_id"]),
        "message id": str(database[MESSAGES].find_one({"environment": b})["_id"]),
        "schedule id": str(database[SCHEDULES].find_one({"environment": b})["_id"]),
        "attribute": f"network={network['id']}",
        "environment attribute": f"environment={b}",
    }


def _fill(spec: dict[str, Any], reference: str) -> Any:
    """A value for one parameter or schema property that names B where the parameter takes text."""
    kind = spec.get("type")
    if "enum" in spec:
        return spec["enum"][0]
    if kind == "integer":
        return spec.get("default", spec.get("minimum", 1))
    if kind == "number":
        return spec.get("minimum", 1)
    if kind == "boolean":
        return True
    if kind == "array":
        return [_fill(spec.get("items", {}), reference)]
    if spec.get("format") == "date-time":
        return datetime.now(UTC).isoformat()
    if kind == "object":
        return {"environment": reference}
    return reference


def _body(schema: dict[str, Any], definitions: dict[str, Any], reference: str) -> dict[str, Any]:
    if "$ref" in schema:
        schema = definitions[schema["$ref"].rsplit("/", 1)[-1]]
    return {name: _fill(prop, reference) for name, prop in schema.get("properties", {}).items()}


def _snapshot(database: Any, b: str) -> dict[str, int]:
    return {c: database[c].count_documents({"environment": b}) for c in (OBJECTS, LINKS, SCANS, MESSAGES, SCHEDULES)}


def test_a_user_of_one_environment_sees_nothing_of_another(api_app, api_world, api_tokens, environment_b) -> None:  # type: ignore[no-untyped-def]
    database, a, b = api_world.stores.mongo, api_world.environment, environment_b
    client = api_app.test_client()
    document = client.get(f"{API}/swagger.json").get_json()
    secrets = _only_in_b(database, a, b)
    references = _references(database, b)
    before = _snapshot(database, b)
    assert len(secrets) > 20 and before[OBJECTS] > 0

    leaks: list[str] = []
    errors: list[str] = []
    operations = calls = 0
    for path, operations_of_path in document["paths"].items():
        shared = operations_of_path.get("parameters", [])
        for method, operation in operations_of_path.items():
            if method == "parameters" or path == "/auth/tokens/{token}":
                continue  # revoking a token: the walk's own tokens must survive it
            operations += 1
            parameters = shared + operation.get("parameters", [])
            # A reads as the view user of A, a change as its edit user; neither holds anything in B.
            user = "alice" if method == "get" else "carol"
            names_something = any(p["name"] != "env" and (p["in"] == "body" or p.get("type") in ("string", "array"))
                                  for p in parameters)
            for kind, reference in list(references.items())[:None if names_something else 1]:
                url, query, body = path, {}, None
                for parameter in parameters:
                    name, where = parameter["name"], parameter["in"]
                    if where == "path":
                        value = a if name == "env" else reference
                        url = url.replace("{" + name + "}", quote(str(value), safe=""))
                    elif where == "query":
                        query[name] = _fill(parameter, reference)
                    elif where == "body":
                        body = _body(parameter.get("schema", {}), document.get("definitions", {}), reference)
                if path == "/auth/tokens":
                    body = {"username": user, "password": f"{user}-pw"}
                answer = client.open(API + url, method=method.upper(), query_string=query, json=body,
                                     headers={"Authorization": f"Bearer {api_tokens[user]}"})
                calls += 1
                label = f"{user} {method.upper()} {url} ({kind})"
                if answer.status_code >= 500:
                    errors.append(f"{label}: {answer.status_code} {answer.get_data(as_text=True)[:200]}")
                text = answer.get_data(as_text=True)
                sent = json.dumps([url, query, body])
                shown = [s for s in secrets if s in text and s not in sent]
                if shown:
                    leaks.append(f"{label} -> {answer.status_code} shows {sorted(shown)[:5]}")
    assert operations >= 35 and calls >= operations
    assert not leaks, "\n".join(leaks[:30])
    assert not errors, "\n".join(errors[:30])
    assert _snapshot(database, b) == before


def test_naming_another_environment_in_the_path_is_forbidden(get, environment_b) -> None:  # type: ignore[no-untyped-def]
    for rest in ("", "/inventory", "/links", "/scans", "/messages", "/statistics", "/tree"):
        assert get(f"/environments/{environment_b}{rest}").status_code == 403
