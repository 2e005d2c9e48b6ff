import socket

from calipso.demo import smoke_round_trip
from core.settings import Settings, load_settings
from core.stores import Stores


def test_round_trip_through_every_server(settings: Settings, stores: Stores) -> None:
    checks = smoke_round_trip(settings, stores)
    assert [(c.server, c.ok) for c in checks] == [
        ("mongodb", True), ("neo4j", True), ("rabbitmq", True), ("slapd", True)], checks


def test_a_server_that_is_down_is_reported_not_raised(settings: Settings, stores: Stores) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        unused = probe.getsockname()[1]
    broken = load_settings(amqp_url=f"amqp://guest:guest@127.0.0.1:{unused}//")
    checks = {check.server: check for check in smoke_round_trip(broken, stores)}
    assert checks["rabbitmq"].ok is False
    assert "Error" in checks["rabbitmq"].detail
    assert checks["mongodb"].ok and checks["slapd"].ok
