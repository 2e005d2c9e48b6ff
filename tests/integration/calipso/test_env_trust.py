"""`calipso env trust` and the host key side of `env add --from-lab` and `env test`, as real processes
against a served lab: enrolled keys match what the lab shows, a forgotten or changed key is
reported by `env test` with both fingerprints and recorded again by `env trust` only when confirmed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from core.known_hosts import KnownHosts
from core.settings import Settings, load_settings
from ingest.transport import fingerprint
from lab.generate import generate_world
from lab.service import LabService, lab_known_host_keys
from lab.ssh_server import generate_host_key
from lab.world import save_world

CALIPSO = str(Path(sys.executable).with_name("calipso"))
SECRET_KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="module")
def lab_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("trust-lab")


@pytest.fixture(scope="module")
def lab_settings(lab_home: Path, settings: Settings) -> Settings:
    return load_settings(calipso_home=str(lab_home), calipso_secret_key=SECRET_KEY)


@pytest.fixture(scope="module")
def endpoints(lab_home: Path, lab_settings: Settings) -> Iterator[dict]:  # type: ignore[type-arg]
    path = lab_home / "world.yaml"
    save_world(generate_world(3, 2, 2, "ovs", "vxlan", seed=31), path)
    service = LabService(lab_settings)
    yield service.up(path)
    service.down()


def calipso(mongo_db, lab_home: Path, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    environment = {**os.environ, "CALIPSO_HOME": str(lab_home), "MONGO_DATABASE": mongo_db.name,
                   "CALIPSO_SECRET_KEY": SECRET_KEY, "CALIPSO_LOG_LEVEL": "WARNING", "COLUMNS": "250"}
    return subprocess.run([CALIPSO, *args], env=environment, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def cli_checks(done: subprocess.CompletedProcess[str]) -> dict[str, dict]:  # type: ignore[type-arg]
    return {check["target"]: check for check in json.loads(done.stdout) if check["section"] == "cli"}


def test_from_lab_enrols_the_keys_env_test_reports_changes_and_trust_records_them(  # type: ignore[no-untyped-def]
        mongo_db, lab_home: Path, endpoints: dict) -> None:  # type: ignore[type-arg]
    added = calipso(mongo_db, lab_home, "env", "add", "lab", "--from-lab")
    assert added.returncode == 0, added.stderr
    known = KnownHosts(mongo_db)
    hosts = ["controller-1", "compute-1", "compute-2"]
    lab_keys = lab_known_host_keys(endpoints, hosts)
    assert known.keys("lab") == lab_keys  # the jump host and every host, without a network round trip
    lab_fingerprint = fingerprint(endpoints["cli"]["host_key"].split()[1])

    trusted = calipso(mongo_db, lab_home, "env", "trust", "lab", "--format", "json")
    assert trusted.returncode == 0, trusted.stderr
    rows = json.loads(trusted.stdout)
    assert {row["host"] for row in rows} == set(lab_keys)
    assert {(row["state"], row["fingerprint"]) for row in rows} == {("known", lab_fingerprint)}
    assert "nothing new" in trusted.stderr

    # compute-1's key is forgotten, compute-2's replaced by another: both fail `env test`.
    known.forget("lab", "compute-1")
    other = generate_host_key()
    known.record("lab", "compute-2", "ssh-ed25519", other.get_base64())
    tested = calipso(mongo_db, lab_home, "env", "test", "lab", "--format", "json")
    assert tested.returncode == 1
    checks = cli_checks(tested)
    assert checks["controller-1"]["ok"]
    assert not checks["compute-1"]["ok"] and "compute-1 is unknown" in checks["compute-1"]["detail"]
    assert lab_fingerprint in checks["compute-1"]["detail"]
    assert not checks["compute-2"]["ok"] and "compute-2 has CHANGED" in checks["compute-2"]["detail"]
    assert fingerprint(other.get_base64()) in checks["compute-2"]["detail"]
    assert lab_fingerprint in checks["compute-2"]["detail"]

    # Without a terminal, nothing is recorded unless --yes says so.
    refused = calipso(mongo_db, lab_home, "env", "trust", "lab", "--host", "compute-1", "--host", "compute-2",
                      "--format", "json")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert "compute-1" not in known.keys("lab")
    shown = {row["host"]: row for row in json.loads(refused.stdout)}
    assert (shown["compute-1"]["state"], shown["compute-2"]["state"]) == ("new", "changed")
    assert fingerprint(other.get_base64()) in shown["compute-2"]["detail"]  # what was expected

    confirmed = calipso(mongo_db, lab_home, "env", "trust", "lab", "--host", "compute-1", "--host", "compute-2",
                        "--yes")
    assert confirmed.returncode == 0, confirmed.stderr
    assert "compute-1" in confirmed.stdout and lab_fingerprint in confirmed.stdout  # the table
    assert known.keys("lab") == lab_keys
    assert {d["fingerprint"] for d in known.list("lab")} == {lab_fingerprint}
    assert all(check["ok"] for check in cli_checks(calipso(mongo_db, lab_home, "env", "test", "lab",
                                                           "--format", "json")).values())


def test_an_unknown_host_key_policy_is_refused_naming_the_key(mongo_db, lab_home: Path,  # type: ignore[no-untyped-def]
                                                              tmp_path: Path) -> None:
    config = tmp_path / "env.yaml"
    config.write_text("openstack: {auth_url: 'http://127.0.0.1:5000/v3', username: admin, password: pw}\n"
                      "cli: {password: pw, host_key_policy: yes-please}\n")
    done = calipso(mongo_db, lab_home, "env", "add", "bad", "--config", str(config))
    assert done.returncode != 0
    assert "cli.host_key_policy" in done.stderr
    assert "'strict', 'trust-on-first-use' or 'accept'" in done.stderr


def test_trust_through_the_jump_host_shows_the_targets_keys(mongo_db, lab_home: Path,  # type: ignore[no-untyped-def]
                                                           endpoints: dict) -> None:  # type: ignore[type-arg]
    # An environment added by hand knows no key: strict refuses every host until they are trusted.
    assert calipso(mongo_db, lab_home, "env", "add", "fresh", "--from-lab").returncode == 0
    KnownHosts(mongo_db).forget("fresh")
    assert calipso(mongo_db, lab_home, "env", "test", "fresh", "--format", "json").returncode == 1
    done = calipso(mongo_db, lab_home, "env", "trust", "fresh", "--yes", "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    jump = f"[{endpoints['cli']['host']}]:{endpoints['cli']['port']}"
    assert [row["host"] for row in rows][0] == jump
    assert {row["state"] for row in rows} == {"new"}
    assert {row["fingerprint"] for row in rows} == {fingerprint(endpoints["cli"]["host_key"].split()[1])}
    tested = calipso(mongo_db, lab_home, "env", "test", "fresh", "--format", "json")
    assert tested.returncode == 0, tested.stdout
