import json
import socket
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import kombu
import ldap3
import pytest
from click.testing import CliRunner

from calipso.cli import main
from core.settings import Settings, load_settings
from core.stores import Stores
from stack.manager import Stack
from stack.process import StackError, port_open
from stack.servers.slapd import SEED_USERS


def test_status_json_shows_every_server_up_with_its_ports(local_stack: Stack, settings: Settings) -> None:
    result = CliRunner().invoke(main, ["stack", "status", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    # The ports of the settings the suite runs with (tests/stack.env, or CALIPSO_TEST_STACK_ENV's file).
    with_postgresql = settings.ferretdb_backend == "postgresql"
    assert set(rows) == {"neo4j", "ferretdb", "rabbitmq", "slapd"} | ({"postgresql"} if with_postgresql else set())
    assert all(row["running"] and row["ready"] and row["pid"] for row in rows.values())
    assert rows["neo4j"]["ports"] == {"bolt": urlsplit(settings.neo4j_uri).port, "http": settings.neo4j_http_port}
    assert rows["ferretdb"]["ports"] == {"mongodb": settings.mongo_address[1]}
    assert rows["rabbitmq"]["ports"]["amqp"] == urlsplit(settings.amqp_url).port
    assert rows["slapd"]["ports"] == {"ldap": urlsplit(settings.ldap_url).port}
    if with_postgresql:
        assert rows["postgresql"]["ports"] == {"postgresql": settings.postgres_port}


def test_up_again_starts_nothing(local_stack: Stack) -> None:
    pids = {status.name: status.pid for status in local_stack.status()}
    assert local_stack.up() == {}
    assert {status.name: status.pid for status in local_stack.status()} == pids


def test_ferretdb_keeps_data_across_a_restart(settings: Settings, local_stack: Stack) -> None:
    with Stores(settings) as stores:
        stores.mongo.restart_probe.replace_one({"_id": "probe"}, {"_id": "probe", "n": 42}, upsert=True)
    ferretdb = Stack(settings, ["ferretdb"])
    # Its PostgreSQL (postgresql backend) is part of it: stopped and started along.
    assert ferretdb.down() == ["ferretdb"] + (["postgresql"] if settings.ferretdb_backend == "postgresql" else [])
    assert not port_open(*settings.mongo_address)
    ferretdb.up()
    with Stores(settings) as stores:
        assert stores.mongo.restart_probe.find_one({"_id": "probe"}) == {"_id": "probe", "n": 42}


def test_neo4j_keeps_data_across_a_restart(settings: Settings, local_stack: Stack, env_name: str) -> None:
    with Stores(settings) as stores:
        stores.neo4j.execute_query("MERGE (:RestartProbe {env: $env})", env=env_name)
    neo4j_only = Stack(settings, ["neo4j"])
    neo4j_only.down()
    assert not port_open(*settings.neo4j_address)
    neo4j_only.up()
    with Stores(settings) as stores:
        records, _, _ = stores.neo4j.execute_query(
            "MATCH (p:RestartProbe {env: $env}) DETACH DELETE p RETURN count(*) AS n", env=env_name)
        assert records[0]["n"] == 1


def test_neo4j_serves_apoc_and_http(stores: Stores, settings: Settings) -> None:
    records, _, _ = stores.neo4j.execute_query("RETURN apoc.version() AS version")
    assert records[0]["version"].startswith("5.26")
    with urllib.request.urlopen(f"http://127.0.0.1:{settings.neo4j_http_port}/", timeout=10) as response:
        assert "bolt_direct" in json.loads(response.read())


def test_rabbitmq_round_trip_and_clean_stop(settings: Settings, local_stack: Stack) -> None:
    queue = kombu.Queue("calipso-test-roundtrip", kombu.Exchange("calipso-test", type="topic"),
                        routing_key="notifications.info")
    with kombu.Connection(settings.amqp_url, connect_timeout=5) as connection:
        with connection.Producer() as producer:
            producer.publish({"event_type": "port.create.end"}, exchange=queue.exchange,
                             routing_key="notifications.info", declare=[queue], serializer="json")
        with connection.SimpleQueue(queue) as simple:
            message = simple.get(timeout=10)
            assert message.payload == {"event_type": "port.create.end"}
            message.ack()
    rabbitmq = Stack(settings, ["rabbitmq"])
    server = rabbitmq.servers[0]
    rabbitmq.down()
    assert server.process.pid() is None
    assert server.epmd.pid() is None  # no Erlang port mapper left behind
    assert not port_open("127.0.0.1", settings.epmd_port)
    rabbitmq.up()
    assert port_open(*settings.amqp_address)


def test_slapd_is_seeded_with_users_and_groups(settings: Settings, local_stack: Stack) -> None:
    server = ldap3.Server(settings.ldap_url, connect_timeout=5)
    alice = SEED_USERS[1]
    user_dn = f"uid={alice.uid},ou=people,{settings.ldap_base_dn}"
    with ldap3.Connection(server, user_dn, alice.password, auto_bind=True) as connection:
        connection.search(f"ou=groups,{settings.ldap_base_dn}", f"(member={user_dn})", attributes=["cn"])
        assert sorted(str(entry.cn) for entry in connection.entries) == ["calipso-users"]
    with pytest.raises(ldap3.core.exceptions.LDAPBindError):
        ldap3.Connection(server, user_dn, "wrong-password", auto_bind=True)


def test_start_refuses_a_port_taken_by_another_process(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        other = load_settings(calipso_home=str(tmp_path), ldap_url=f"ldap://127.0.0.1:{port}")
        with pytest.raises(StackError, match=f"port {port} \\(ldap\\) is already in use"):
            Stack(other, ["slapd"]).up()


def test_missing_programs_are_named_with_how_to_install_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty PATH: nothing is installed
    with pytest.raises(StackError) as error:
        Stack(load_settings(calipso_home=str(tmp_path))).check_tools()
    message = str(error.value)
    for program, hint in (("java", "openjdk-17"), ("mvn", "maven"), ("go", "Go"), ("slapd", "apt-get install slapd")):
        assert f"`{program}` not found" in message
        assert hint in message


def test_a_remote_address_is_refused(tmp_path: Path) -> None:
    remote = load_settings(calipso_home=str(tmp_path), ldap_url="ldap://ldap.example.org:389")
    with pytest.raises(StackError, match="not at this machine"):
        Stack(remote, ["slapd"]).up()


def test_unknown_server_name_is_refused(settings: Settings) -> None:
    with pytest.raises(StackError, match="unknown server"):
        Stack(settings, ["mysql"])
