"""An API process keeps what a token resolved to while the auth epoch stands still: a change of
rights made anywhere (another process's stores, the CLI) takes effect on the very next request, and
a token still expires on time."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from api.auth import KEPT_CALLER_TTL, TOKENS, Authenticator, Identity, TokenStore, UserStore, utcnow


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


def local_user(database, role: str = "view") -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    """A local user with a grant on its own environment, and a token; (user, environment, token)."""
    user, environment = f"kept-{uuid.uuid4().hex[:8]}", f"env-{uuid.uuid4().hex[:8]}"
    users = UserStore(database)
    users.add(user, "pw")
    users.grant(user, environment, role)
    token, _ = TokenStore(database).issue(Identity(user, "local", False))
    return user, environment, token


def test_a_kept_caller_is_served_without_reading_its_token_again(api_world) -> None:  # type: ignore[no-untyped-def]
    database = api_world.stores.mongo
    user, environment, token = local_user(database)
    auth = Authenticator(database, api_world.settings)
    assert auth.principal(token)[0].can(environment)  # type: ignore[union-attr]
    # Removed behind the stores' back (no new epoch): the kept answer still serves ...
    database[TOKENS].delete_one({"user": user})
    assert auth.principal(token)[0] is not None
    # ... until any change of rights writes a new epoch.
    UserStore(database).grant(f"other-{user}", environment, "view")
    principal, why = auth.principal(token)
    assert principal is None and why == "unknown token"


def test_changes_made_by_another_process_act_on_the_next_request(api_world) -> None:  # type: ignore[no-untyped-def]
    database = api_world.stores.mongo
    user, environment, token = local_user(database, "edit")
    auth = Authenticator(database, api_world.settings)
    principal = auth.principal(token)[0]
    assert principal is not None and principal.can(environment, "edit") and not principal.admin
    elsewhere = UserStore(database)  # as `calipso user ...` would, in a process of its own
    elsewhere.grant(user, environment, "view")
    principal = auth.principal(token)[0]
    assert principal is not None and principal.can(environment) and not principal.can(environment, "edit")
    elsewhere.set_admin(user, True)
    assert auth.principal(token)[0].admin  # type: ignore[union-attr]
    elsewhere.revoke(user, environment)
    elsewhere.set_admin(user, False)
    assert not auth.principal(token)[0].can(environment)  # type: ignore[union-attr]
    token_id = auth.principal(token)[0].token_id  # type: ignore[union-attr]
    assert TokenStore(database).revoke(token_id)
    assert auth.principal(token) == (None, "the token was revoked")


def test_a_removed_user_loses_its_kept_token(api_world) -> None:  # type: ignore[no-untyped-def]
    database = api_world.stores.mongo
    user, environment, token = local_user(database)
    auth = Authenticator(database, api_world.settings)
    assert auth.principal(token)[0] is not None
    UserStore(database).remove(user)
    assert auth.principal(token)[0] is None


def test_a_kept_token_still_expires_and_kept_answers_age_out(api_world) -> None:  # type: ignore[no-untyped-def]
    database, clock = api_world.stores.mongo, Clock()
    user, environment, _ = local_user(database)
    token, _ = TokenStore(database, clock).issue(Identity(user, "local", False), ttl=timedelta(hours=2))
    auth = Authenticator(database, api_world.settings, clock=clock)
    token_id = auth.principal(token)[0].token_id  # type: ignore[union-attr]
    # Past the kept answer's age, a change made past the stores (no new epoch) is seen.
    database[TOKENS].delete_one({"_id": token_id})
    assert auth.principal(token)[0] is not None
    clock.now += KEPT_CALLER_TTL
    assert auth.principal(token) == (None, "unknown token")
    # A kept token expires on time.
    token, _ = TokenStore(database, clock).issue(Identity(user, "local", False), ttl=timedelta(minutes=5))
    assert auth.principal(token)[0] is not None
    clock.now += timedelta(minutes=5)
    assert auth.principal(token) == (None, "the token has expired")
