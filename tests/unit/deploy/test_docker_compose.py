"""docker-compose.yml is the production path; no Docker engine runs here, so check its structure:
valid against the Compose Specification's JSON schema, every Calipso service's command a real
`calipso` command, health checks and volumes where the services need them."""

import json
from pathlib import Path

import click
import jsonschema
import pytest
import yaml

from calipso.cli import main

CHECKOUT = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((CHECKOUT / "docker-compose.yml").read_text())
CALIPSO_SERVICES = ("migrate", "api", "worker", "scheduler", "listener", "projector")
LONG_RUNNING = ("api", "worker", "scheduler", "listener", "projector")
#: The Compose Specification's schema, from the docker-compose 1.29.2 wheel (see tests/fixtures/compose/SOURCE.md).
SCHEMA = json.loads((CHECKOUT / "tests" / "fixtures" / "compose" / "compose_spec.json").read_text())
# Commands whose issues have not landed yet. strict=True: the test fails as soon as one exists,
# so this list cannot outlive them.
NOT_YET_BUILT: dict[str, str] = {}


def resolve(argv: list[str]) -> click.Command | None:
    command: click.Command = main
    ctx = click.Context(main)
    for word in argv:
        if word.startswith("-") or not isinstance(command, click.Group):
            break
        found = command.get_command(ctx, word)
        if found is None:
            return None
        command = found
    return command


def test_stores_and_services_are_declared() -> None:
    services = COMPOSE["services"]
    assert services["neo4j"]["image"].startswith("neo4j:5.26")
    assert services["mongo"]["image"].startswith("mongo:")
    assert services["rabbitmq"]["image"].startswith("rabbitmq:")
    for name in CALIPSO_SERVICES:
        service = services[name]
        assert service["build"] == "."
        assert {"mongo", "neo4j"} <= set(service["depends_on"])
        if name != "migrate":
            assert service["depends_on"]["rabbitmq"] == {"condition": "service_healthy"}
            assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        environment = service["environment"]
        for variable in ("MONGO_URI", "NEO4J_URI", "NEO4J_PASSWORD", "AMQP_URL", "CALIPSO_SECRET_KEY"):
            assert variable in environment
        assert "mongo:27017" in environment["MONGO_URI"] and "neo4j:7687" in environment["NEO4J_URI"]


def test_no_secret_is_written_into_the_file() -> None:
    environment = COMPOSE["services"]["api"]["environment"]
    assert environment["NEO4J_PASSWORD"].startswith("${")
    assert environment["CALIPSO_SECRET_KEY"].startswith("${")


@pytest.mark.parametrize("service", CALIPSO_SERVICES)
def test_every_service_command_exists_in_the_cli(service: str, request: pytest.FixtureRequest) -> None:
    argv = COMPOSE["services"][service]["command"]
    if argv[0] in NOT_YET_BUILT:
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"arrives with the {NOT_YET_BUILT[argv[0]]}"))
    assert resolve(argv) is not None, f"`calipso {' '.join(argv)}` is not a command"


def test_the_file_is_valid_against_the_compose_specification() -> None:
    validator = jsonschema.Draft201909Validator(SCHEMA)
    errors = sorted(validator.iter_errors(COMPOSE), key=lambda e: list(e.path))
    assert not errors, [f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors]


def test_the_schema_catches_a_broken_file() -> None:
    """The validation above can fail: a misspelt service key and a bad health check are refused."""
    broken = json.loads(json.dumps(COMPOSE))
    broken["services"]["worker"]["comand"] = ["worker"]
    broken["services"]["api"]["healthcheck"]["retries"] = "three"
    messages = [e.message for e in jsonschema.Draft201909Validator(SCHEMA).iter_errors(broken)]
    assert any("comand" in m for m in messages) and any("three" in m for m in messages)


def test_mongo_is_a_single_node_replica_set_and_the_stores_keep_their_data() -> None:
    services = COMPOSE["services"]
    mongo = services["mongo"]
    assert mongo["command"][:2] == ["--replSet", "rs0"]
    assert "rs.initiate" in " ".join(mongo["healthcheck"]["test"])
    assert "replicaSet=rs0" in services["api"]["environment"]["MONGO_URI"]
    for name, path in (("mongo", "/data/db"), ("neo4j", "/data"), ("rabbitmq", "/var/lib/rabbitmq")):
        volume = next(v.split(":")[0] for v in services[name]["volumes"] if v.endswith(":" + path))
        assert volume in COMPOSE["volumes"]
    assert services["neo4j"]["image"] == "neo4j:5.26-community"


@pytest.mark.parametrize("service", LONG_RUNNING)
def test_every_long_running_service_has_a_health_check_that_is_a_real_command(service: str) -> None:
    check = COMPOSE["services"][service]["healthcheck"]
    assert check["test"][0] == "CMD" and check["interval"] and check["retries"] >= 1
    if check["test"][1] == "calipso":
        command = resolve(check["test"][2:])
        assert command is not None
        # `status --alive KIND` names a kind the status command knows: the one the service runs.
        option = next(p for p in command.params if p.name == "alive_kind")
        assert check["test"][3:5] == ["--alive", service] and service in option.type.choices  # type: ignore[attr-defined]


def test_the_worker_scales_and_is_given_time_to_finish_its_scan() -> None:
    worker = COMPOSE["services"]["worker"]
    assert "container_name" not in worker and "ports" not in worker  # both would stop --scale worker=N
    assert worker["deploy"]["replicas"] >= 1
    assert worker["stop_grace_period"]
