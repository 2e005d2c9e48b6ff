"""Logging set-up shared by every Calipso process, with secrets kept out of the records."""

from __future__ import annotations

import logging
import re

# key=value / "key": "value" pairs whose value is a secret, and user:password@ in URLs.
_SECRET_PAIR = re.compile(
    r"""(?P<key>\b(?:password|passwd|pwd|secret|client_secret|token|access_token|auth_token|api_key|apikey|"""
    r"""private_key)\b["']?\s*[:=]\s*["']?)(?P<value>[^\s"',}&]+)""",
    re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^:/@\s]+:)(?P<password>[^@\s]+)@", re.IGNORECASE)


def redact(text: str) -> str:
    """The text with passwords, tokens and URL credentials replaced by ***."""
    text = _URL_PASSWORD.sub(r"\g<scheme>***@", text)
    return _SECRET_PAIR.sub(r"\g<key>***", text)


class RedactingFormatter(logging.Formatter):
    """Formats a record, then redacts the whole text: message, arguments, traceback and stack, so
    that no credential reaches a log even through an exception's text."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(level: str = "INFO") -> None:
    """Log to stderr with times and logger names; idempotent."""
    root = logging.getLogger()
    root.setLevel(level)
    if not any(getattr(h, "_calipso", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler._calipso = True  # type: ignore[attr-defined]
        handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    for noisy in ("neo4j", "pymongo", "paramiko", "urllib3", "amqp", "kombu"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
