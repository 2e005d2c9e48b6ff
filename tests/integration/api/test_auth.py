"""Logging in against the real slapd and local users; the auth matrix on real routes; throttling."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import pytest

from api.auth import Identity, LoginThrottle, LoginThrottled, TokenStore, utcnow

API = "/api/v1"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(answer, status: int, code: str | None = None) -> dict:  # type: ignore[no-untyped-def, type-arg]
    body = answer.get_json()
    assert answer.status_code == status, body
    assert set(body) == {"error"} and body["error"]["status"] == status, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]  # type: ignore[no-any-return]


def test_ldap_login_gives_a_token_with_the_users_roles(api_app, api_tokens, api_world) -> None:  # type: ignore[no-untyped-def]
    client = api_app.test_client()
    alice = client.get(f"{API}/auth/whoami", headers=bearer(api_tokens["alice"])).get_json()
    assert alice["user"] == "alice" and alice["source"] == "ldap" and alice["admin"] is False
    assert alice["grants"] == {api_world.environment: "view"}
    admin = client.get(f"{API}/auth/whoami", headers=bearer(api_tokens["admin"])).get_json()
    assert admin["admin"] is True and admin["source"] == "ldap"


def test_local_user_login(api_app, api_tokens) -> None:  # type: ignore[no-untyped-def]
    carol = api_app.test_client().get(f"{API}/auth/whoami", headers=bearer(api_tokens["carol"])).get_json()
    assert carol["source"] == "local" and carol["admin"] is False


def test_the_token_is_stored_hashed(api_tokens, api_world) -> None:  # type: ignore[no-untyped-def]
    stored = list(api_world.stores.mongo["api_tokens"].find())
    assert stored
    for token in api_tokens.values():
        assert all(token not in str(doc) for doc in stored)


@pytest.mark.parametrize(("username", "password"), [("alice", "wrong"), ("carol", "wrong"), ("nobody", "x"),
                                                    ("alice", ""), ("*", "alice-pw"), ("alice)(uid=*", "x")])
def test_bad_credentials_are_401(api_app, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    answer = api_app.test_client().post(f"{API}/auth/tokens", json={"username": username, "password": password},
                                        environ_base={"REMOTE_ADDR": f"10.9.{uuid.uuid4().int % 250}.1"})
    assert_error(answer, 400 if not password else 401)


def test_failed_logins_are_logged_without_the_password(api_app, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    secret = f"s3cret-{uuid.uuid4().hex}"
    with caplog.at_level(logging.INFO):
        api_app.test_client().post(f"{API}/auth/tokens", json={"username": "bob", "password": secret},
                                   environ_base={"REMOTE_ADDR": "10.1.2.3"})
    failures = [r.getMessage() for r in caplog.records if "failed login" in r.getMessage()]
    assert failures and "bob" in failures[0] and "10.1.2.3" in failures[0]
    assert all(secret not in r.getMessage() for r in caplog.records)


def test_repeated_failures_are_slowed_down_per_user_and_client(api_app) -> None:  # type: ignore[no-untyped-def]
    client = api_app.test_client()
    attacker = {"REMOTE_ADDR": "10.66.0.1"}

    def attempt(password: str, environ: dict[str, str] = attacker):  # type: ignore[no-untyped-def]
        return client.post(f"{API}/auth/tokens", json={"username": "bob", "password": password}, environ_base=environ)

    for _ in range(5):
        assert attempt("guess").status_code == 401
    blocked = attempt("bob-pw")  # even the right password waits now
    error = assert_error(blocked, 429, "too_many_requests")
    assert int(blocked.headers["Retry-After"]) >= 1 and error["details"]["retry_after"] >= 1
    # Another client is not punished for the attacker's failures.
    assert attempt("bob-pw", {"REMOTE_ADDR": "10.66.0.2"}).status_code == 201


def test_throttle_delay_doubles_and_ends(api_world) -> None:  # type: ignore[no-untyped-def]
    now = [utcnow()]
    throttle = LoginThrottle(api_world.stores.mongo, after=3, clock=lambda: now[0])
    user = f"u-{uuid.uuid4().hex[:6]}"
    for _ in range(3):
        throttle.failed(user, "c", throttle.attempt(user, "c"))
    with pytest.raises(LoginThrottled) as first:
        throttle.attempt(user, "c")
    now[0] += timedelta(seconds=first.value.retry_after)
    throttle.failed(user, "c", throttle.attempt(user, "c"))  # the 4th, once the first delay is over
    with pytest.raises(LoginThrottled) as second:
        throttle.attempt(user, "c")
    assert second.value.retry_after == 2 * first.value.retry_after
    now[0] += timedelta(seconds=5)
    throttle.attempt(user, "c")  # the delay is over


def test_no_token_bad_token_expired_revoked_are_401(api_app, api_world) -> None:  # type: ignore[no-untyped-def]
    client = api_app.test_client()
    url = f"{API}/environments/{api_world.environment}/inventory"
    assert_error(client.get(url), 401, "unauthorized")
    assert_error(client.get(url, headers={"Authorization": "Basic YWxpY2U6YWxpY2UtcHc="}), 401)
    assert_error(client.get(url, headers=bearer("not-a-token")), 401)
    tokens = TokenStore(api_world.stores.mongo, clock=lambda: utcnow() - timedelta(hours=9))
    expired, _ = tokens.issue(Identity("admin", "ldap", True), ttl=timedelta(hours=8))
    error = assert_error(client.get(url, headers=bearer(expired)), 401)
    assert "expired" in error["message"]
    fresh = client.post(f"{API}/auth/tokens", json={"username": "admin", "password": "admin-pw"}).get_json()["token"]
    assert client.get(url, headers=bearer(fresh)).status_code == 200
    assert client.delete(f"{API}/auth/tokens/current", headers=bearer(fresh)).status_code == 204
    error = assert_error(client.get(url, headers=bearer(fresh)), 401)
    assert "revoked" in error["message"]


def test_only_the_owner_or_an_admin_revokes_a_token(api_app, api_tokens) -> None:  # type: ignore[no-untyped-def]
    client = api_app.test_client()
    victim = client.post(f"{API}/auth/tokens", json={"username": "carol", "password": "carol-pw"}).get_json()["token"]
    assert_error(client.delete(f"{API}/auth/tokens/{victim}", headers=bearer(api_tokens["alice"])), 403)
    assert client.delete(f"{API}/auth/tokens/{victim}", headers=bearer(api_tokens["admin"])).status_code == 204
    assert_error(client.get(f"{API}/auth/whoami", headers=bearer(victim)), 401)
    assert_error(client.delete(f"{API}/auth/tokens/unknown", headers=bearer(api_tokens["admin"])), 404)


def test_roles_per_environment(api_app, api_tokens, api_world) -> None:  # type: ignore[no-untyped-def]
    client = api_app.test_client()
    env = api_world.environment
    read = f"{API}/environments/{env}/inventory"
    for user in ("admin", "alice", "carol"):
        assert client.get(read, headers=bearer(api_tokens[user])).status_code == 200, user
    # bob holds no grant; alice holds none on another environment.
    assert_error(client.get(read, headers=bearer(api_tokens["bob"])), 403, "forbidden")
    assert_error(client.get(f"{API}/environments/other-env/inventory", headers=bearer(api_tokens["alice"])), 403)
    # an admin asking for an environment that does not exist learns that it does not.
    assert_error(client.get(f"{API}/environments/no-such-env/inventory", headers=bearer(api_tokens["admin"])), 404)
    # view may not edit: aborting a scan needs edit.
    scan = client.get(f"{API}/environments/{env}/scans", headers=bearer(api_tokens["alice"])).get_json()["items"][0]
    abort = f"{API}/environments/{env}/scans/{scan['id']}"
    error = assert_error(client.delete(abort, headers=bearer(api_tokens["alice"])), 403)
    assert error["details"] == {"user": "alice", "environment": env, "needed": "edit", "held": "view"}
    # edit may (the scan is finished, so the answer is a conflict, not a refusal)
    assert_error(client.delete(abort, headers=bearer(api_tokens["carol"])), 409, "conflict")


def test_environment_list_shows_only_granted_ones(api_app, api_tokens, api_world) -> None:  # type: ignore[no-untyped-def]
    client = api_app.test_client()
    seen = {e["name"]: e["role"] for e in client.get(f"{API}/environments", headers=bearer(api_tokens["alice"]))
            .get_json()["items"]}
    assert seen == {api_world.environment: "view"}
    assert client.get(f"{API}/environments", headers=bearer(api_tokens["bob"])).get_json()["total"] == 0
    admin = client.get(f"{API}/environments", headers=bearer(api_tokens["admin"])).get_json()
    assert api_world.environment in {e["name"] for e in admin["items"]}


def test_public_routes_need_no_token(api_app) -> None:  # type: ignore[no-untyped-def]
    client = api_app.test_client()
    assert client.get(f"{API}/health").status_code == 200
    assert client.get(f"{API}/swagger.json").status_code == 200
    assert client.get(f"{API}/docs").status_code == 200
    assert_error(client.get(f"{API}/metrics"), 401)
    assert_error(client.get(f"{API}/types"), 401)
