"""Environment documents: validation that names the bad keys, masking, the secret key file."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.environments import MASK, Environment, EnvironmentConfigError, secret_key
from core.settings import load_settings


def valid() -> dict:  # type: ignore[type-arg]
    return {"name": "prod", "distribution": "Kolla", "mechanism_drivers": ["ovs"], "type_drivers": ["vlan"],
            "openstack": {"auth_url": "https://keystone:5000/v3", "username": "admin", "password": "os-secret"},
            "cli": {"user": "calipso", "private_key": "KEY-TEXT", "jump_host": "ops@bastion:2222", "sudo": True,
                    "translation": {"prefix": "docker exec {container}", "containers": {"compute": "ovs"}}},
            "amqp": {"url": "amqp://nova:bus-secret@rabbit:5672//"},
            "monitoring": {"enabled": True, "api_url": "http://sensu:4567", "password": "mon-secret"}}


def test_a_valid_document_parses() -> None:
    env = Environment.parse(valid())
    assert env.cli.jump_host == "ops@bastion:2222"
    assert env.amqp is not None and env.amqp.url == "amqp://nova@rabbit:5672//"  # the password left the URL
    assert env.amqp.connection_url() == "amqp://nova:bus-secret@rabbit:5672//"


def test_unknown_keys_are_named_with_the_allowed_ones() -> None:
    data = valid()
    data["openstack"]["pasword"] = "typo"
    data["colour"] = "blue"
    with pytest.raises(EnvironmentConfigError) as error:
        Environment.parse(data)
    text = str(error.value)
    assert "openstack.pasword: unknown key" in text and "auth_url" in text
    assert "colour: unknown key" in text


@pytest.mark.parametrize(("path", "value", "named"), [
    (("openstack", "auth_url"), "keystone:5000", "openstack.auth_url"),
    (("cli", "port"), 70000, "cli.port"),
    (("cli", "jump_host"), "a@b@c:x", "cli.jump_host"),
    (("amqp", "url"), "http://rabbit", "amqp.url"),
    (("mechanism_drivers",), ["ovn-ish"], "mechanism_drivers.0"),
    (("name",), "has space", "name"),
])
def test_bad_values_name_their_key(path: tuple[str, ...], value: object, named: str) -> None:
    data = valid()
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    with pytest.raises(EnvironmentConfigError, match=rf"\b{named.replace('.', '[.]')}: "):
        Environment.parse(data)


def test_missing_sections_and_credentials_are_named() -> None:
    data = valid()
    del data["openstack"]["password"]
    data["cli"] = {"user": "calipso"}
    with pytest.raises(EnvironmentConfigError) as error:
        Environment.parse(data)
    assert "openstack.password: required" in str(error.value)
    assert "cli: give key_file, private_key or password" in str(error.value)


def test_public_masks_every_credential_and_only_those() -> None:
    env = Environment.parse(valid())
    shown = env.public()
    text = repr(shown)
    for secret in ("os-secret", "KEY-TEXT", "bus-secret", "mon-secret"):
        assert secret not in text
    assert shown["openstack"]["password"] == MASK
    assert shown["cli"]["private_key"] == MASK and shown["cli"]["password"] is None  # unset stays unset
    assert shown["openstack"]["username"] == "admin"
    assert set(env.secrets()) == {"openstack.password", "cli.private_key", "amqp.password", "monitoring.password"}
    assert "os-secret" not in repr(env) and "os-secret" not in str(env)


def test_a_secret_key_is_generated_once_under_home(tmp_path: Path) -> None:
    settings = load_settings(calipso_home=str(tmp_path), calipso_secret_key=None)
    first = secret_key(settings)
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0
    assert secret_key(settings) == first
    configured = "x" * 43 + "="
    assert secret_key(load_settings(calipso_home=str(tmp_path), calipso_secret_key=configured)) == configured.encode()
