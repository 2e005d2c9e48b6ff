"""`calipso serve` (the REST API under waitress), `calipso user ...` and `calipso token ...` (who may use it)."""

from __future__ import annotations

from datetime import timedelta

import click

from calipso.common import cli_settings, err
from calipso.output import emit, format_option
from core.stores import Stores


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256), help="Worker threads.")
def serve(host: str, port: int, threads: int) -> None:
    """Serve the REST API (and its OpenAPI document and Swagger UI) under the waitress WSGI server,
    until interrupted."""
    import waitress

    from api import PREFIX, create_app

    values = cli_settings()
    app = create_app(values)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    err.print(f"Calipso API on http://{shown}:{port}{PREFIX}/  (docs: http://{shown}:{port}{PREFIX}/docs, "
              f"health: {PREFIX}/health); Ctrl-C stops it")
    try:
        # waitress buffers a whole body before the app sees it: it refuses one past the limit itself.
        waitress.serve(app, host=host, port=port, threads=threads, ident="calipso", _quiet=True,
                       clear_untrusted_proxy_headers=True, max_request_body_size=values.api_max_body_bytes)
    except KeyboardInterrupt:
        pass
    finally:
        app.extensions["calipso"].stores.close()


# -- users -------------------------------------------------------------------------------------

@click.group()
def user() -> None:
    """API users: local users with hashed passwords, and per-environment grants (for LDAP users too)."""


@user.command("add")
@click.argument("name")
@click.option("--admin", is_flag=True, help="An administrator (every environment, every operation).")
@click.password_option(help="The password (prompted twice when not given).")
def user_add(name: str, admin: bool, password: str) -> None:
    """Add a local user NAME."""
    from api.auth import UserStore

    with Stores(cli_settings()) as stores:
        UserStore(stores.mongo).add(name, password, admin)
    err.print(f"user {name} added{' (admin)' if admin else ''}")


@user.command("passwd")
@click.argument("name")
@click.password_option(help="The new password (prompted twice when not given).")
def user_passwd(name: str, password: str) -> None:
    """Change a local user's password."""
    from api.auth import UserStore

    with Stores(cli_settings()) as stores:
        UserStore(stores.mongo).set_password(name, password)
    err.print(f"password of {name} changed")


@user.command("remove")
@click.argument("name")
def user_remove(name: str) -> None:
    """Remove a local user and every grant of NAME."""
    from api.auth import UserStore

    with Stores(cli_settings()) as stores:
        removed = UserStore(stores.mongo).remove(name)
    err.print(f"user {name} removed" if removed else f"no local user {name} (its grants, if any, are removed)")


@user.command("grant")
@click.argument("name")
@click.argument("environment")
@click.argument("role", type=click.Choice(["view", "edit"]))
def user_grant(name: str, environment: str, role: str) -> None:
    """Let user NAME (local or LDAP) view or edit ENVIRONMENT ("*": every environment)."""
    from api.auth import UserStore

    with Stores(cli_settings()) as stores:
        UserStore(stores.mongo).grant(name, environment, role)
    err.print(f"{name} may {role} {environment}")


@user.command("revoke")
@click.argument("name")
@click.argument("environment")
def user_revoke(name: str, environment: str) -> None:
    """Take back NAME's grant on ENVIRONMENT."""
    from api.auth import UserStore

    with Stores(cli_settings()) as stores:
        revoked = UserStore(stores.mongo).revoke(name, environment)
    err.print(f"{name}'s grant on {environment} revoked" if revoked else f"{name} held no grant on {environment}")


@user.command("list")
@format_option
def user_list(output_format: str) -> None:
    """Local users, and LDAP users that hold grants."""
    from api.auth import UserStore

    with Stores(cli_settings()) as stores:
        rows = UserStore(stores.mongo).list()
    emit(rows, ["user", "source", "admin", "grants", "created_at"], output_format)


# -- tokens ------------------------------------------------------------------------------------

@click.group()
def token() -> None:
    """API tokens, for scripts and demos: issue one for a user without its password, revoke one."""


@token.command("issue")
@click.argument("name")
@click.option("--admin", is_flag=True, help="The token carries admin rights.")
@click.option("--ttl-hours", default=8.0, show_default=True, type=click.FloatRange(0.01, 24 * 30))
@format_option
def token_issue(name: str, admin: bool, ttl_hours: float, output_format: str) -> None:
    """Issue a bearer token for user NAME (whoever can run this can read the database anyway)."""
    from api.auth import Identity, TokenStore

    with Stores(cli_settings()) as stores:
        value, doc = TokenStore(stores.mongo).issue(Identity(name, "issued", admin), timedelta(hours=ttl_hours), "cli")
    if output_format == "json":
        import json
        click.echo(json.dumps({"token": value, "user": name, "admin": admin,
                               "expires_at": doc["expires_at"].isoformat()}))
    else:
        click.echo(value)


@token.command("revoke")
@click.argument("value")
def token_revoke(value: str) -> None:
    """Revoke a token."""
    from api.auth import TokenStore, token_digest

    with Stores(cli_settings()) as stores:
        revoked = TokenStore(stores.mongo).revoke(token_digest(value))
    err.print("token revoked" if revoked else "no such valid token")


API_COMMANDS = (serve, user, token)
