"""The environment store on the real MongoDB: credentials encrypted at rest, masked when read."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet

from core.environments import ENVIRONMENTS, MASK, Environment, EnvironmentExists, EnvironmentNotFound, EnvironmentStore
from core.errors import ConfigError

SECRETS = ("os-secret-123", "-----KEY TEXT-----", "bus-secret-456")


def environment(name: str) -> Environment:
    return Environment.parse({
        "name": name,
        "openstack": {"auth_url": "http://127.0.0.1:5000/v3", "username": "admin", "password": SECRETS[0]},
        "cli": {"user": "lab", "private_key": SECRETS[1], "jump_host": "lab@127.0.0.1:2222"},
        "amqp": {"url": f"amqp://guest:{SECRETS[2]}@127.0.0.1:5672//"}})


def test_credentials_are_encrypted_at_rest_and_masked_when_read(mongo_db, env_name: str) -> None:  # type: ignore[no-untyped-def]
    store = EnvironmentStore(mongo_db, Fernet.generate_key())
    store.add(environment(env_name))
    raw = json.dumps(list(mongo_db[ENVIRONMENTS].find({})), default=str)
    for secret in SECRETS:
        assert secret not in raw
    masked = store.get(env_name)
    assert masked.openstack.password.get_secret_value() == MASK
    assert SECRETS[0] not in json.dumps(store.list(), default=str)
    assert store.list()[0]["cli"]["private_key"] == MASK
    revealed = store.decrypt(env_name)
    assert revealed.openstack.password.get_secret_value() == SECRETS[0]
    assert revealed.cli.private_key.get_secret_value() == SECRETS[1]
    assert revealed.amqp.connection_url() == f"amqp://guest:{SECRETS[2]}@127.0.0.1:5672//"


def test_update_keeps_masked_credentials_and_replaces_given_ones(mongo_db, env_name: str) -> None:  # type: ignore[no-untyped-def]
    store = EnvironmentStore(mongo_db, Fernet.generate_key())
    store.add(environment(env_name))
    edited = store.get(env_name).public()  # what an API client reads back
    edited["openstack"]["password"] = "new-password"
    edited["cli"]["sudo"] = True
    store.update(Environment.parse(edited))
    revealed = store.decrypt(env_name)
    assert revealed.openstack.password.get_secret_value() == "new-password"
    assert revealed.cli.private_key.get_secret_value() == SECRETS[1]  # was "***": kept
    assert revealed.cli.sudo is True


def test_names_are_unique_and_unknown_names_are_reported(mongo_db, env_name: str) -> None:  # type: ignore[no-untyped-def]
    store = EnvironmentStore(mongo_db, Fernet.generate_key())
    store.add(environment(env_name))
    with pytest.raises(EnvironmentExists):
        store.add(environment(env_name))
    store.delete(env_name)
    with pytest.raises(EnvironmentNotFound, match=env_name):
        store.get(env_name)
    with pytest.raises(EnvironmentNotFound):
        store.delete(env_name)


def test_another_secret_key_cannot_read_the_credentials(mongo_db, env_name: str) -> None:  # type: ignore[no-untyped-def]
    EnvironmentStore(mongo_db, Fernet.generate_key()).add(environment(env_name))
    other = EnvironmentStore(mongo_db, Fernet.generate_key())
    assert other.get(env_name).openstack.username == "admin"  # the readable part stays readable
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        other.decrypt(env_name)


@pytest.mark.parametrize(("change", "secrets"), [
    ({"openstack": {"auth_url": "http://evil.example:5000/v3"}}, ["openstack.password", "cli.private_key"]),
    ({"cli": {"jump_host": "lab@127.0.0.2:2222"}}, ["cli.private_key"]),
    ({"cli": {"addresses": {"compute-1": "127.0.0.9"}}}, ["cli.private_key"]),
    ({"amqp": {"url": "amqp://guest@127.0.0.3:5672//"}}, ["amqp.password"]),
])
def test_a_kept_credential_cannot_follow_a_changed_destination(mongo_db, env_name: str, change, secrets) -> None:  # type: ignore[no-untyped-def]
    store = EnvironmentStore(mongo_db, Fernet.generate_key())
    store.add(environment(env_name))
    edited = store.get(env_name).public()
    for section, values in change.items():
        edited[section].update(values)
    with pytest.raises(ConfigError) as refused:
        store.update(Environment.parse(edited))
    for path in secrets:
        assert path in str(refused.value)
    assert store.decrypt(env_name).openstack.auth_url == "http://127.0.0.1:5000/v3"  # nothing was written
    # Sending the secrets again moves them on purpose.
    for path in secrets:
        section, key = path.split(".")
        edited[section][key] = f"new-{key}"
    store.update(Environment.parse(edited))
    assert store.decrypt(env_name).secrets()[secrets[0]] == f"new-{secrets[0].split('.')[1]}"


@pytest.mark.parametrize(("section", "key", "url"), [
    ("openstack", "auth_url", "http://admin:os-secret@127.0.0.1:5000/v3"),
    ("openstack", "auth_url", "http://127.0.0.1:5000/v3?password=os-secret"),
    ("monitoring", "api_url", "http://127.0.0.1:8080/api?token=os-secret"),
    ("amqp", "url", "amqp://guest@127.0.0.1:5672//?auth=os-secret"),
])
def test_credentials_inside_urls_are_refused_naming_the_field_to_use(section: str, key: str, url: str) -> None:
    data = json.loads(json.dumps(environment("e1").public()))
    data["openstack"]["password"] = SECRETS[0]
    data["cli"]["private_key"] = SECRETS[1]
    data["amqp"]["password"] = SECRETS[2]
    data.setdefault(section, {})[key] = url
    with pytest.raises(ConfigError) as refused:
        Environment.parse(data)
    assert f"{section}.{key}" in str(refused.value) and "os-secret" not in str(refused.value)
