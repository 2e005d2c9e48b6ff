from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import CHECKOUT, load_settings, redact_url


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No Calipso variable set: what a new user has."""
    for name in ("CALIPSO_HOME", "MONGO_URI", "NEO4J_URI", "NEO4J_HTTP_PORT", "NEO4J_PASSWORD", "AMQP_URL",
                 "RABBITMQ_DIST_PORT", "EPMD_PORT", "LDAP_URL", "CALIPSO_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_point_at_the_local_stack(clean_environment: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.home == CHECKOUT / "var"
    assert settings.mongo_address == ("127.0.0.1", 27017)
    assert settings.neo4j_address == ("127.0.0.1", 7687)
    assert settings.amqp_address == ("127.0.0.1", 5672)
    assert settings.ldap_address == ("127.0.0.1", 3890)


def test_unrelated_home_variable_is_not_taken_for_calipso_home(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("HOME", "/somewhere/else")
    assert load_settings().home == CHECKOUT / "var"


def test_environment_variables_override_defaults(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("NEO4J_URI", "neo4j://graph.example:7000")
    clean_environment.setenv("CALIPSO_HOME", "/data/calipso")
    settings = load_settings()
    assert settings.neo4j_address == ("graph.example", 7000)
    assert settings.home == Path("/data/calipso")


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("NEO4J_URI", "http://localhost:7474", "NEO4J_URI: expected a URL of the form bolt://"),
    ("MONGO_URI", "localhost:27017", "MONGO_URI: expected a URL of the form mongodb://"),
    ("AMQP_URL", "amqp://guest:hunter2@host:notaport/", "AMQP_URL: the port in"),
    ("NEO4J_HTTP_PORT", "70000", "NEO4J_HTTP_PORT: Input should be less than or equal to 65535"),
    ("NEO4J_HEAP", "lots", "NEO4J_HEAP: expected a memory size such as 512m"),
    ("CALIPSO_SECRET_KEY", "short", "CALIPSO_SECRET_KEY: expected a Fernet key"),
    ("CALIPSO_LOG_LEVEL", "LOUD", "CALIPSO_LOG_LEVEL: Input should be"),
    ("CALIPSO_MONITOR_CHECK_INTERVALS", "link_state=0", "CALIPSO_MONITOR_CHECK_INTERVALS: 'link_state=0': expected"),
    ("CALIPSO_SMTP_FROM", "Ops <ops@example.org>", "CALIPSO_SMTP_FROM: expected one e-mail address"),
    ("CALIPSO_SMTP_HOST", "mail host", "CALIPSO_SMTP_HOST: expected a host name"),
    ("CALIPSO_SMTP_HOST", "127.0.0.1", "CALIPSO_SMTP_HOST is set: CALIPSO_SMTP_FROM (the From address) is needed"),
    ("CALIPSO_SMTP_USER", "mailer", "CALIPSO_SMTP_USER and CALIPSO_SMTP_PASSWORD go together"),
])
def test_invalid_value_names_the_variable_and_what_is_expected(
        clean_environment: pytest.MonkeyPatch, variable: str, value: str, expected: str) -> None:
    clean_environment.setenv(variable, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert expected in str(error.value)


def test_an_invalid_url_error_never_shows_the_password(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("AMQP_URL", "amqp://guest:hunter2@host:notaport/")
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "hunter2" not in str(error.value)


def test_config_file_is_read_and_environment_wins(clean_environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "calipso.yaml"
    config.write_text("NEO4J_URI: bolt://from-file:1111\nmongo_uri: mongodb://from-file:2222/\n")
    clean_environment.setenv("CALIPSO_CONFIG", str(config))
    clean_environment.setenv("MONGO_URI", "mongodb://from-env:3333/")
    settings = load_settings()
    assert settings.neo4j_address == ("from-file", 1111)
    assert settings.mongo_address == ("from-env", 3333)


def test_config_file_with_unknown_key_is_rejected(clean_environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "calipso.yaml"
    config.write_text("NEO4J_URL: bolt://typo:1\n")
    clean_environment.setenv("CALIPSO_CONFIG", str(config))
    with pytest.raises(ConfigError, match="NEO4J_URL: unknown setting"):
        load_settings()


@pytest.mark.parametrize("content", ["- a\n- list\n", "key: [unclosed\n"])
def test_config_file_that_is_not_a_mapping_is_rejected(
        clean_environment: pytest.MonkeyPatch, tmp_path: Path, content: str) -> None:
    config = tmp_path / "calipso.yaml"
    config.write_text(content)
    clean_environment.setenv("CALIPSO_CONFIG", str(config))
    with pytest.raises(ConfigError, match="CALIPSO_CONFIG"):
        load_settings()


def test_missing_config_file_is_named(clean_environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_environment.setenv("CALIPSO_CONFIG", str(tmp_path / "absent.yaml"))
    with pytest.raises(ConfigError, match="absent.yaml"):
        load_settings()


def test_redact_url_hides_only_the_password() -> None:
    assert redact_url("amqp://guest:s3cret@rabbit:5672//") == "amqp://guest:***@rabbit:5672//"
    assert redact_url("bolt://127.0.0.1:7687") == "bolt://127.0.0.1:7687"
