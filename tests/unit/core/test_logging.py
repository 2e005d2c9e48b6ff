import logging

import pytest

from core.logging import RedactingFilter, redact


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


def test_filter_rewrites_formatted_records(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.redaction")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="test.redaction"):
        logger.info("bind as %s with password=%s", "alice", "hunter2")
    assert "hunter2" not in caplog.text
    assert "alice" in caplog.text
