"""Keystone tokens issued by the simulated cloud, held in memory."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

TOKEN_LIFETIME = timedelta(hours=1)  # Keystone's default [token] expiration


@dataclass(frozen=True)
class Token:
    """An issued token and what it is scoped to."""

    id: str
    user_id: str
    methods: tuple[str, ...]
    project_id: str | None = None
    domain_id: str | None = None
    system: bool = False
    issued_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    audit_id: str = field(default_factory=lambda: secrets.token_urlsafe(16)[:22])

    @property
    def expires_at(self) -> datetime:
        return self.issued_at + TOKEN_LIFETIME

    def expired(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(UTC)) >= self.expires_at


class TokenStore:
    """Issued tokens by id; expired ones are dropped when next looked up."""

    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}
        self._lock = threading.Lock()

    def issue(self, user_id: str, methods: tuple[str, ...], project_id: str | None = None,
              domain_id: str | None = None, system: bool = False) -> Token:
        # Fernet tokens start with gAAAAA; clients never parse them, but logs look familiar.
        token = Token(id="gAAAAA" + secrets.token_urlsafe(96), user_id=user_id, methods=methods,
                      project_id=project_id, domain_id=domain_id, system=system)
        with self._lock:
            self._tokens[token.id] = token
        return token

    def get(self, token_id: str | None) -> Token | None:
        """The valid token with this id, or None."""
        if not token_id:
            return None
        token = self._tokens.get(token_id)
        if token is not None and token.expired():
            self.revoke(token_id)
            return None
        return token

    def revoke(self, token_id: str) -> bool:
        with self._lock:
            return self._tokens.pop(token_id, None) is not None
