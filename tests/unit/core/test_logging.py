import io
import logging
from urllib.parse import urlsplit

import pytest

from core.logging import RedactingFormatter, redact
from core.settings import redact_url


@pytest.mark.parametrize(("text", "secret"), [
    ("connecting to amqp://guest:s3cret@rabbit:5672//", "s3cret"),
    ("login failed for alice password=hunter2", "hunter2"),
    ('payload {"password": "hunter2", "user": "alice"}', "hunter2"),
    ("token: abc.def.ghi", "abc.def.ghi"),
])
def test_redact_removes_credentials(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned
    assert "***" in cleaned


def test_redact_leaves_ordinary_text_alone() -> None:
    assert redact("scan of env lab-1 finished: 320 objects") == "scan of env lab-1 finished: 320 objects"


def test_formatter_redacts_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter("%(levelname)s %(message)s"))
    logger = logging.getLogger(f"test.redaction.{id(stream)}")
    logger.addHandler(handler)
    logger.propagate = False
    logger.warning("bind as %s with password=%s", "alice", "hunter2")
    try:
        raise ConnectionError("cannot reach amqp://nova:s3cret@rabbit:5672// (token: abc.def)")
    except ConnectionError:
        logger.exception("listener failed")
    text = stream.getvalue()
    assert "hunter2" not in text and "s3cret" not in text and "abc.def" not in text
    assert "alice" in text and "Traceback" in text and "ConnectionError" in text and "rabbit:5672" in text


@pytest.mark.parametrize(("url", "secret"), [
    ("https://admin:hunter2@keystone:5000/v3", "hunter2"),
    ("https://keystone:5000/v3?password=hunter2&region=r1", "hunter2"),
    ("http://sensu:8080/api?token=abc123&x=1", "abc123"),
    ("amqp://nova:s3:cr@et@rabbit:5672//", "cr@et"),
])
def test_redact_url_masks_user_info_and_credential_parameters(url: str, secret: str) -> None:
    shown = redact_url(url)
    assert secret not in shown and "***" in shown
    assert urlsplit(shown).hostname == urlsplit(url).hostname


def test_redact_url_leaves_plain_urls_alone() -> None:
    for url in ("https://keystone:5000/v3", "amqp://nova@rabbit:5672//", "http://h/p?region=r1", "not a url"):
        assert redact_url(url) == url
