"""Role checks once per resource (issue 12): every route under /environments/{env} is served by an
EnvironmentResource, whose `roles` are checked before any method runs, and every resource on the shared
mechanism declares what each of its methods needs (the auth matrix on real routes is in
tests/integration/api/)."""

from __future__ import annotations

import pytest
from flask import Flask

from api import create_app
from api.namespaces.common import EnvironmentResource, RoleResource
from api.namespaces.watches import Watches


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app()  # stores open lazily: none is reached here


def _routes(app: Flask) -> list[tuple[str, type, set[str]]]:
    found = []
    for rule in app.url_map.iter_rules():
        view_class = getattr(app.view_functions[rule.endpoint], "view_class", None)
        if view_class is not None:
            found.append((rule.rule, view_class, set(rule.methods or ())))
    return found


def test_every_route_of_an_environment_checks_the_role_there(app: Flask) -> None:
    under_env = [(path, cls) for path, cls, _ in _routes(app) if "<string:env>" in path]
    assert len(under_env) >= 20
    assert [f"{cls.__name__} {path}" for path, cls in under_env if not issubclass(cls, EnvironmentResource)] == []


def test_every_method_of_a_resource_on_the_shared_check_declares_its_need(app: Flask) -> None:
    checked = [(path, cls, methods) for path, cls, methods in _routes(app) if issubclass(cls, RoleResource)]
    assert {cls.__name__ for _, cls, _ in checked} >= {"Watches", "Watch", "Summary", "Sensu", "Collectd",
                                                        "Environments", "EnvironmentItem"}
    missing = [f"{cls.__name__} {method}" for _, cls, methods in checked for method in sorted(methods)
               if method != "OPTIONS" and method not in cls.roles]  # OPTIONS is answered before authentication
    assert missing == []
    needs = {rule for _, cls, _ in checked for rule in cls.roles.values() if not callable(rule)}
    assert needs <= {"view", "edit", "admin", "signed_in"}


@pytest.mark.parametrize(("body", "need"), [
    ({"focal": ["vm-1"]}, "view"), ({"focal": ["vm-1"], "webhook": "http://127.0.0.1:9/hook"}, "edit"),
    ({"focal": ["vm-1"], "email": "ops@example.org"}, "edit"), ({"focal": ["vm-1"], "webhook": ""}, "view"),
    (["not", "an", "object"], "view"),  # the body check refuses it after the role check passes
])
def test_a_new_watch_needs_edit_only_with_a_destination_to_send_to(app: Flask, body: object, need: str) -> None:
    rule = Watches.roles["POST"]
    assert callable(rule)
    with app.test_request_context("/api/v1/environments/e/watches", method="POST", json=body):
        assert rule() == need
