"""Log in (a bearer token for a user name and password), log out (revoke a token), who am I."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask_restx import Namespace, Resource, fields

from api.auth import MAX_TOKEN_TTL, DirectoryUnavailable, LoginFailed, LoginThrottled, token_digest
from api.context import caller, client_address, context
from api.errors import Forbidden, NotFound, ServiceUnavailable, TooManyRequests, Unauthorized
from api.params import Param, body, no_query

ns = Namespace("auth", description="Tokens: log in with LDAP or a local user, log out")

grants_field = fields.Raw(required=True, description="environment (or *) -> view | edit")
token_model = ns.model("Token", {
    "token": fields.String(required=True, description="Send as `Authorization: Bearer <token>`"),
    "user": fields.String(required=True), "admin": fields.Boolean(required=True),
    "source": fields.String(required=True, enum=["local", "ldap", "issued"]),
    "expires_at": fields.DateTime(required=True), "grants": grants_field,
})
whoami_model = ns.model("Principal", {
    "user": fields.String(required=True), "admin": fields.Boolean(required=True),
    "source": fields.String(required=True), "expires_at": fields.DateTime(required=True), "grants": grants_field,
})

LOGIN = (
    Param("username", "str", "User name (LDAP uid or local user)", required=True, max_length=256),
    Param("password", "str", "Password", required=True, max_length=1024),
    Param("ttl_seconds", "int", "Lifetime of the token in seconds (default 8 hours)", minimum=60,
          maximum=int(MAX_TOKEN_TTL.total_seconds())),
)


@ns.route("/tokens", endpoint="auth_tokens")
class Tokens(Resource):
    @ns.response(201, "logged in", token_model)
    @no_query
    @body(ns, "Login", *LOGIN)
    def post(self, data: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Log in: a bearer token for a user name and password (checked against local users, then LDAP)."""
        auth = context().auth
        ttl = timedelta(seconds=data["ttl_seconds"]) if data["ttl_seconds"] else timedelta(hours=8)
        try:
            token, doc = auth.login(data["username"], data["password"], client_address(), ttl)
        except LoginThrottled as exc:
            raise TooManyRequests(f"too many failed logins for {data['username']!r}; retry in {exc.retry_after}s",
                                  {"retry_after": exc.retry_after}, {"Retry-After": str(exc.retry_after)}) from None
        except LoginFailed:
            raise Unauthorized("wrong user name or password") from None
        except DirectoryUnavailable as exc:
            raise ServiceUnavailable(f"the user directory cannot be reached: {exc}") from None
        grants = auth.users.grants_of(doc["user"])
        return {"token": token, "user": doc["user"], "admin": doc["admin"], "source": doc["source"],
                "expires_at": doc["expires_at"].isoformat(), "grants": grants}, 201


@ns.route("/tokens/<string:token>")
@ns.doc(params={"token": 'The token to revoke, or "current" for the one this request is sent with'})
class TokenItem(Resource):
    @ns.response(204, "revoked")
    @no_query
    def delete(self, token: str) -> tuple[str, int]:
        """Log out: revoke a token (your own, or anyone's if you are an admin)."""
        principal = caller()
        token_id = principal.token_id if token == "current" else token_digest(token)
        stored = context().auth.tokens.get(token_id)
        if stored is None:
            raise NotFound("no such token")
        if stored["user"] != principal.user and not principal.admin:
            raise Forbidden("only an admin may revoke another user's token")
        context().auth.tokens.revoke(token_id)
        return "", 204


@ns.route("/whoami")
class WhoAmI(Resource):
    @ns.response(200, "the caller", whoami_model)
    @no_query
    def get(self) -> dict[str, Any]:
        """The user behind this request's token, whether admin, and the environments granted."""
        return caller().to_dict()
