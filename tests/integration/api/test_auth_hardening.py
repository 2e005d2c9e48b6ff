"""Logins and tokens against an attacker: spellings of a locked name, parallel guesses, tokens of
removed or demoted users (local and real LDAP), the cost of an unknown name; and requests built to
break the server (huge numbers, far durations, deep or large bodies) answered 4xx in the one shape."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import ldap3
import pytest
from conftest import error_of

import api.auth
from api import create_app
from api.auth import Authenticator, LdapDirectory, LoginFailed, LoginThrottled, UserStore

API = "/api/v1"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(client, name: str, password: str, address: str = "127.0.0.1"):  # type: ignore[no-untyped-def]
    return client.post(f"{API}/auth/tokens", json={"username": name, "password": password},
                       environ_base={"REMOTE_ADDR": address})


@pytest.mark.parametrize("spelling", ["BOB", " bob", "bob\t", "Bob "])
def test_a_locked_name_stays_locked_in_every_spelling(api_app, spelling: str) -> None:  # type: ignore[no-untyped-def]
    client, address = api_app.test_client(), f"10.77.{uuid.uuid4().int % 250}.1"
    for _ in range(5):
        assert login(client, "bob", "guess", address).status_code == 401
    error_of(login(client, spelling, "bob-pw", address), 429)


def test_parallel_guesses_are_counted_before_any_is_checked(api_world) -> None:  # type: ignore[no-untyped-def]
    checked = []

    class CountingDirectory(LdapDirectory):  # the real slapd; only counts how often a password is tried
        def check(self, name: str, password: str):  # type: ignore[no-untyped-def]
            checked.append(name)
            return super().check(name, password)

    auth = Authenticator(api_world.stores.mongo, api_world.settings, directory=CountingDirectory(api_world.settings))
    client = f"10.88.{uuid.uuid4().int % 250}.1"

    def guess(number: int) -> str:
        try:
            auth.login("bob", f"guess-{number}", client)
        except LoginFailed:
            return "failed"
        except LoginThrottled:
            return "throttled"
        return "logged in"

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(guess, range(40)))
    assert len(checked) <= 5 and outcomes.count("failed") == len(checked) >= 1
    assert outcomes.count("throttled") == 40 - len(checked)


def test_a_removed_or_demoted_local_users_token_loses_its_rights(api_app, api_world) -> None:  # type: ignore[no-untyped-def]
    client, users = api_app.test_client(), UserStore(api_world.stores.mongo)
    name = f"dave-{uuid.uuid4().hex[:6]}"
    users.add(name, "dave-pw", admin=True)
    token = login(client, name, "dave-pw").get_json()["token"]
    assert client.get(f"{API}/metrics", headers=bearer(token)).status_code == 200
    users.set_admin(name, False)
    assert client.get(f"{API}/auth/whoami", headers=bearer(token)).get_json()["admin"] is False
    error_of(client.get(f"{API}/metrics", headers=bearer(token)), 403)
    users.remove(name)
    assert "revoked" in error_of(client.get(f"{API}/auth/whoami", headers=bearer(token)), 401)["message"]
    # A user added again under the same name does not revive the old token.
    users.add(name, "dave-pw")
    error_of(client.get(f"{API}/auth/whoami", headers=bearer(token)), 401)


@pytest.fixture
def ldap_user(api_world):  # type: ignore[no-untyped-def]
    """A new user in the real slapd, in the admin group; removed afterwards."""
    settings = api_world.settings
    uid = f"frank{uuid.uuid4().hex[:6]}"
    dn = f"uid={uid},ou=people,{settings.ldap_base_dn}"
    admins = f"cn=calipso-admins,ou=groups,{settings.ldap_base_dn}"
    host, port = settings.ldap_address
    directory = ldap3.Connection(ldap3.Server(host, port=port), settings.ldap_bind_dn,
                                 settings.ldap_bind_password.get_secret_value(), auto_bind=True)
    assert directory.add(dn, ["inetOrgPerson"], {"cn": uid, "sn": uid, "uid": uid, "userPassword": "frank-pw"})
    assert directory.modify(admins, {"member": [(ldap3.MODIFY_ADD, [dn])]})
    yield uid, dn, admins, directory
    directory.modify(admins, {"member": [(ldap3.MODIFY_DELETE, [dn])]})
    directory.delete(dn)
    directory.unbind()


def test_an_ldap_user_who_leaves_the_admin_group_or_the_directory_loses_its_rights(api_world, ldap_user) -> None:  # type: ignore[no-untyped-def]
    uid, dn, admins, directory = ldap_user
    auth = Authenticator(api_world.stores.mongo, api_world.settings, ldap_rights_ttl=timedelta(0))
    app = create_app(api_world.settings, api_world.stores, authenticator=auth)
    client = app.test_client()
    token = login(client, uid, "frank-pw").get_json()["token"]
    assert client.get(f"{API}/auth/whoami", headers=bearer(token)).get_json()["admin"] is True
    assert directory.modify(admins, {"member": [(ldap3.MODIFY_DELETE, [dn])]})
    assert client.get(f"{API}/auth/whoami", headers=bearer(token)).get_json()["admin"] is False
    assert directory.delete(dn)
    assert "no longer in the directory" in error_of(client.get(f"{API}/auth/whoami", headers=bearer(token)), 401)["message"]
    # Back again, for the fixture's clean-up.
    directory.add(dn, ["inetOrgPerson"], {"cn": uid, "sn": uid, "uid": uid, "userPassword": "frank-pw"})


def test_an_unknown_name_costs_the_same_hashing_as_a_wrong_password(api_world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    users = UserStore(api_world.stores.mongo)
    name = f"erin-{uuid.uuid4().hex[:6]}"
    users.add(name, "erin-pw")
    hashed = []
    real = api.auth.check_password_hash
    monkeypatch.setattr(api.auth, "check_password_hash", lambda h, p: hashed.append(h.split("$")[0]) or real(h, p))
    with pytest.raises(LoginFailed):
        users.check(name, "wrong")
    assert users.check(f"nobody-{uuid.uuid4().hex[:6]}", "wrong") is None
    assert len(hashed) == 2 and hashed[0] == hashed[1]  # one scrypt hash each, of the same parameters


def test_hostile_requests_are_4xx_in_the_one_shape(get, api_app, api_world) -> None:  # type: ignore[no-untyped-def]
    env = api_world.environment
    client = api_app.test_client()
    error_of(get(f"/environments/{env}/analysis/diff", since="99999999999d"), 400)
    assert ok_total(get(f"/environments/{env}/links", attribute="vlan_tag=" + "1" * 24)) == 0
    deep = "[" * 100_000 + "]" * 100_000
    assert "nested too deeply" in error_of(
        client.post(f"{API}/auth/tokens", data=deep, content_type="application/json"), 400)["message"]
    large = b'{"username": "alice", "password": "' + b"x" * (api_world.settings.api_max_body_bytes + 1) + b'"}'
    error = error_of(client.post(f"{API}/auth/tokens", data=large, content_type="application/json"), 413)
    assert error["details"]["limit"] == api_world.settings.api_max_body_bytes


def ok_total(answer) -> int:  # type: ignore[no-untyped-def]
    assert answer.status_code == 200, answer.get_json()
    return int(answer.get_json()["total"])
