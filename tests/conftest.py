"""Fixtures shared by every test.

Tests run against their own local stack: the same servers as `calipso stack up`, on other ports
and under var/test, so that a running demo is never touched. The stack is started once per
session by the first test that asks for it and stopped at the end if this session started it.

Keep fixtures here, not in conftest.py files deeper down: the test folders mirror the packages
(tests/unit/lab, tests/integration/ingest, ...), and pytest would put such a folder on sys.path,
where it would shadow the real package of the same name.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHECKOUT = Path(__file__).resolve().parents[1]


def read_stack_env(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of tests/stack.env; relative paths are taken from the checkout."""
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split("=", 1)
            values[key] = value
    values["CALIPSO_HOME"] = str(CHECKOUT / values["CALIPSO_HOME"])
    return values


# CALIPSO_TEST_STACK_ENV names another such file: the suite against a stack of one's own
# (other ports, another FerretDB backend) without touching the shared one.
TEST_ENVIRONMENT = read_stack_env(Path(os.environ.get("CALIPSO_TEST_STACK_ENV") or CHECKOUT / "tests" / "stack.env"))
# Set before any test module reads the settings; a developer's own variables are overridden
# so that tests never reach the demo's databases.
os.environ.update(TEST_ENVIRONMENT)
os.environ.pop("CALIPSO_CONFIG", None)

import warnings  # noqa: E402

import openstack  # noqa: E402

from core.settings import Settings, get_settings, load_settings  # noqa: E402
from core.stores import Stores  # noqa: E402
from stack.manager import Stack  # noqa: E402


@pytest.fixture(scope="session")
def settings() -> Settings:
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture(scope="session")
def local_stack(settings: Settings) -> Iterator[Stack]:
    """The test stack, up and ready."""
    servers = Stack(settings)
    started_here = [status.name for status in servers.status() if not status.running]
    servers.up()
    yield servers
    if started_here:  # stop what this session started, and only that
        Stack(settings, started_here).down()


@pytest.fixture(scope="session")
def stores(settings: Settings, local_stack: Stack) -> Iterator[Stores]:
    with Stores(settings) as opened:
        yield opened


@pytest.fixture
def mongo_db(settings: Settings, local_stack: Stack):  # type: ignore[no-untyped-def]
    """A fresh, empty MongoDB database for one test, dropped afterwards."""
    isolated = load_settings(mongo_uri=settings.mongo_uri, mongo_database=f"test_{uuid.uuid4().hex[:12]}")
    with Stores(isolated) as opened:
        yield opened.mongo
        opened.mongo.client.drop_database(opened.mongo.name)


@pytest.fixture
def env_name() -> str:
    """A unique environment name, so that tests sharing the one Neo4j database never collide."""
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def neo4j_driver(stores: Stores, env_name: str):  # type: ignore[no-untyped-def]
    """The Neo4j driver; nodes of this test's environment are deleted afterwards."""
    yield stores.neo4j
    stores.neo4j.execute_query("MATCH (n {env: $env}) DETACH DELETE n", env=env_name)


def connect_to_lab(cloud) -> openstack.connection.Connection:  # type: ignore[no-untyped-def]
    """openstacksdk connected to a lab cloud (lab.cloud.server.serve) as its admin, the lab's fixed
    test credentials. Import it in tests with `from conftest import connect_to_lab`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openstacksdk's deprecation notices about itself
        return openstack.connect(auth_url=cloud.auth_url, username="admin", password="lab-admin-pw",
                                 project_name="admin", user_domain_name="Default", project_domain_name="Default",
                                 region_name="RegionOne")


class ScannedWorld:
    """A small lab scanned into its own MongoDB database and projected into Neo4j (see `api_world`)."""

    def __init__(self, settings: Settings, environment: str, world, stores: Stores) -> None:  # type: ignore[no-untyped-def]
        self.settings, self.environment, self.world, self.stores = settings, environment, world, stores


@pytest.fixture(scope="session")
def api_world(settings: Settings, stores: Stores) -> Iterator[ScannedWorld]:
    """An OVS/VXLAN lab of 3 hosts scanned in-process into a MongoDB database of its own, and
    projected into Neo4j under a unique environment name. Shared by the API and client tests,
    which only read it."""
    from lab.generate import generate_world
    from migrations import runner

    isolated = load_settings(mongo_uri=settings.mongo_uri, mongo_database=f"test_api_{uuid.uuid4().hex[:10]}")
    environment = f"test-api-{uuid.uuid4().hex[:8]}"
    world = generate_world(3, 2, 2, "ovs", "vxlan", seed=7)
    opened = Stores(isolated)
    runner.apply_mongo(opened.mongo)
    result = scan_and_project(world, opened.mongo, stores.neo4j, environment)
    assert result.status == "completed", result.errors
    try:
        yield ScannedWorld(isolated, environment, world, opened)
    finally:
        stores.neo4j.execute_query("MATCH (n {env: $env}) DETACH DELETE n", env=environment)
        opened.mongo.client.drop_database(opened.mongo.name)
        opened.close()


@pytest.fixture(scope="session")
def api_app(api_world: ScannedWorld):  # type: ignore[no-untyped-def]
    """The REST API on `api_world`'s database, in-process (use `.test_client()`)."""
    from api import create_app

    app = create_app(api_world.settings, api_world.stores)
    app.testing = True
    return app


@pytest.fixture(scope="session")
def api_tokens(api_app, api_world: ScannedWorld) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Bearer tokens, logged in through the API: `admin` (LDAP, admin group), `alice` (LDAP, may view
    the environment), `carol` (local user, may edit it), `bob` (LDAP, no grant)."""
    from api.auth import UserStore

    users = UserStore(api_world.stores.mongo)
    users.add("carol", "carol-pw")
    users.grant("carol", api_world.environment, "edit")
    users.grant("alice", api_world.environment, "view")
    client = api_app.test_client()
    tokens = {}
    for name in ("admin", "alice", "carol", "bob"):
        answer = client.post("/api/v1/auth/tokens", json={"username": name, "password": f"{name}-pw"})
        assert answer.status_code == 201, answer.get_json()
        tokens[name] = answer.get_json()["token"]
    return tokens


@pytest.fixture
def get(api_app, api_tokens):  # type: ignore[no-untyped-def]
    """GET on the API: `get(path under /api/v1, user="alice", **query)`; user=None sends no token."""
    client = api_app.test_client()

    def call(path: str, user: str | None = "alice", **params):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {api_tokens[user]}"} if user else {}
        return client.get(f"/api/v1{path}", query_string=params, headers=headers)
    return call


def ok(answer) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """The JSON of a 200 answer (fails the test on any other status). `from conftest import ok`."""
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()  # type: ignore[no-any-return]


def error_of(answer, status: int) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """The `error` of an answer with that status, checked to have the API's one error shape.
    `from conftest import error_of`."""
    body = answer.get_json()
    assert answer.status_code == status, body
    assert list(body) == ["error"] and set(body["error"]) == {"status", "code", "message", "details"}
    assert body["error"]["status"] == status
    return body["error"]  # type: ignore[no-any-return]


def calipso(mongo_db, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    """Run the `calipso` command as a real process on the test database (`from conftest import
    calipso`); with `check`, fail the test unless it exits 0."""
    command = str(Path(sys.executable).with_name("calipso"))
    environment = {**os.environ, "MONGO_DATABASE": mongo_db.name, "CALIPSO_LOG_LEVEL": "WARNING", "COLUMNS": "250"}
    done = subprocess.run([command, *args], env=environment, capture_output=True, text=True, timeout=120)
    if check:
        assert done.returncode == 0, f"calipso {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done


def relay(source, sink) -> None:  # type: ignore[no-untyped-def]
    """Copy bytes from one socket to the other until either end closes, then shut both down: one
    direction of a test's TCP proxy. `from conftest import relay`."""
    import socket

    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def wait_for(what: str, condition: Callable[[], Any], deadline_s: float = 120.0,
             log: Callable[[], str] = str, interval_s: float = 0.1) -> Any:
    """Poll until condition() is truthy and return its value; past the deadline, fail naming `what`
    with `log()` (e.g. a process's output). `from conftest import wait_for`."""
    deadline = time.monotonic() + deadline_s
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {deadline_s:g}s: {what}\n{log()}")
        time.sleep(interval_s)
    return value


def scan_and_project(world, database, driver, environment: str):  # type: ignore[no-untyped-def]
    """Scan a lab world in process (its APIs on loopback, its hosts answering through the lab's
    responder) into `environment`, then project it into Neo4j. Call it again after changing the world
    (a fault, a change) for a rescan. Returns the scan result. Import it with
    `from conftest import scan_and_project`."""
    from calipso.lab_scan import scan_world_in_process
    from graphmodel.projector import Projector
    from migrations.runner import apply_neo4j

    apply_neo4j(driver)
    result = scan_world_in_process(world, database, environment)
    Projector(database, driver, environment).sync()
    return result


@pytest.fixture(scope="session")
def api_schema(api_app):  # type: ignore[no-untyped-def]
    """The API's live OpenAPI document, loaded by schemathesis from the in-process app."""
    import schemathesis

    return schemathesis.openapi.from_wsgi("/api/v1/swagger.json", api_app)


@pytest.fixture(scope="session")
def api_url(api_app, api_tokens) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """`api_app` served by waitress (the WSGI server `calipso serve` uses) on a free loopback port,
    with the users and grants of `api_tokens` in place."""
    import threading

    import waitress.server

    server = waitress.server.create_server(api_app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="api-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()

class ServedLab:
    """A lab world served as `calipso lab up` serves it (APIs and SSH on free loopback ports) under a
    CALIPSO_HOME of its own, with the secret key its environments are stored under."""

    def __init__(self, home: Path, settings: Settings, world_file: Path, secret_key: str) -> None:
        self.home, self.settings, self.world_file, self.secret_key = home, settings, world_file, secret_key

    def command_environment(self, mongo_database: str) -> dict[str, str]:
        """Environment variables for a `calipso` process working on this lab and that database."""
        return {**os.environ, "CALIPSO_HOME": str(self.home), "MONGO_DATABASE": mongo_database,
                "CALIPSO_SECRET_KEY": self.secret_key, "CALIPSO_LOG_LEVEL": "WARNING", "COLUMNS": "200"}

    def enrol(self, database, environment: str, **sections: object):  # type: ignore[no-untyped-def]
        """Add this lab as `environment` to a test database (migrations applied first), its hosts' SSH keys
        enrolled as `calipso env add --from-lab` does; returns the database's EnvironmentStore. `sections`
        replace sections of the lab's environment (e.g. `scan_outputs=ScanOutputsSection(keep=1)`)."""
        from calipso.env_commands import enrol_lab_host_keys, lab_environment
        from core.environments import EnvironmentStore
        from migrations.runner import apply_mongo

        apply_mongo(database)
        store = EnvironmentStore(database, self.secret_key)
        store.add(lab_environment(environment, self.settings).model_copy(update=sections))
        enrol_lab_host_keys(database, environment, self.settings)
        return store


@pytest.fixture(scope="module")
def served_lab(tmp_path_factory: pytest.TempPathFactory, settings: Settings, local_stack: Stack) -> Iterator[ServedLab]:
    """An OVS/VXLAN lab of 3 hosts (controller-1, compute-1, compute-2; vm-1, vm-2; net-1, net-2, public),
    served for one test module. Its world file is the lab's: `calipso lab change` on it shows at once."""
    from cryptography.fernet import Fernet

    from lab.generate import generate_world
    from lab.service import LabService
    from lab.world import save_world

    home = tmp_path_factory.mktemp("served-lab")
    secret_key = Fernet.generate_key().decode()
    lab_settings = load_settings(calipso_home=str(home), calipso_secret_key=secret_key)
    world_file = home / "world.yaml"
    save_world(generate_world(3, 1, 2, "ovs", "vxlan", seed=47), world_file)
    service = LabService(lab_settings)
    service.up(world_file)
    try:
        yield ServedLab(home, lab_settings, world_file, secret_key)
    finally:
        service.down()


class WorkerProcess:
    """`calipso worker` (Celery on the test stack's RabbitMQ) for a served lab, in a session of its own
    (kill -9 takes its pool process too, as a machine or container going away does); its output goes to
    a file. Start it with the `started_workers` fixture."""

    def __init__(self, lab: ServedLab, database: str, log_file: Path, environment: dict[str, str]) -> None:
        self.log_file = log_file
        with log_file.open("a") as sink:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).with_name("calipso")), "worker"],
                env={**lab.command_environment(database), **environment},
                stdout=sink, stderr=sink, start_new_session=True)

    def log(self) -> str:
        return self.log_file.read_text()

    def runs(self, pid: int) -> bool:
        """Whether `pid` is this worker or one of its pool processes."""
        if pid == self.process.pid:
            return True
        try:
            return f"PPid:\t{self.process.pid}\n" in Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return False

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()


def live_workers(database) -> set[int]:  # type: ignore[no-untyped-def]
    """The pids of the `calipso worker` processes alive by their heartbeats in `database`."""
    from core.services import alive

    return {doc["pid"] for doc in alive(database, "worker")}


@pytest.fixture
def started_workers(mongo_db, settings: Settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Starts `calipso worker` processes for a served lab on the test's database and waits for their
    heartbeats: `[first, second] = started_workers(lab, "worker-1", "worker-2", CALIPSO_LOG_LEVEL="INFO")`
    (the names of their log files under tmp_path; keywords: environment variables). After the test,
    every worker it started is stopped and the database's (durable) task queue deleted from RabbitMQ."""
    import kombu

    started: list[WorkerProcess] = []

    def start(lab: ServedLab, *names: str, **environment: str) -> list[WorkerProcess]:
        workers = [WorkerProcess(lab, mongo_db.name, tmp_path / f"{name}.log", environment) for name in names]
        started.extend(workers)
        wait_for(f"the heartbeats of {', '.join(names)}",
                 lambda: {w.process.pid for w in workers} <= live_workers(mongo_db),
                 log=lambda: "".join(w.log() for w in workers))
        return workers

    yield start
    for worker in started:
        worker.stop()
    if started:
        with kombu.Connection(settings.amqp_url, connect_timeout=5) as connection:
            kombu.Queue(f"calipso.{mongo_db.name}.tasks")(connection.default_channel).delete()
