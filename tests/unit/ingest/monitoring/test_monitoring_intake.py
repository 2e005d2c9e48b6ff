"""Sensu Go events and collectd write_http JSON (tests/fixtures/monitoring, in the tools' documented
formats) mapped to objects by host and device name; malformed bodies refused naming what is wrong."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from ingest.monitoring.intake import HostIndex, IntakeError, map_collectd, map_sensu

FIXTURES = Path(__file__).parents[3] / "fixtures" / "monitoring"
PORT = "5504be82-8fba-48ef-b799-6df5d62b7bde"


def _load(name: str):  # type: ignore[no-untyped-def]
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def index() -> HostIndex:
    return HostIndex([
        {"id": "compute-1", "type": "host", "host": "compute-1", "name": "compute-1"},
        {"id": "compute-1/eth1", "type": "host_pnic", "host": "compute-1", "name": "eth1"},
        {"id": "compute-1/fa:16:3e:44:5c:8f", "type": "vnic", "host": "compute-1", "name": "tap5504be82-8f",
         "port_id": PORT},
        {"id": "compute-1/fa:16:3e:00:00:0f", "type": "vnic", "host": "compute-1", "name": "tap0f0f0f0f-0f",
         "port_id": "0f0f0f0f-0f00-0000-0000-000000000000"},
        {"id": "compute-1/otep-vxlan", "type": "otep", "host": "compute-1", "name": "vxlan-192.168.0.12",
         "remote_ips": ["192.168.0.11", "192.168.0.13"]},
    ])


def test_sensu_event_maps_to_the_device_on_the_entity_host(index: HostIndex) -> None:
    event = _load("sensu-event-status.json")
    mapped = map_sensu(event, index)
    [verdict] = mapped.verdicts
    assert (verdict.key, verdict.status) == ("compute-1/eth1", "critical")
    assert "eth1 has no carrier" in verdict.text and not mapped.unmapped
    bare = copy.deepcopy(event["spec"])  # the API's and a handler's shape: entity + check at the top
    bare["check"]["status"] = 0
    bare["check"]["metadata"]["labels"] = {}
    [ok] = map_sensu([bare], index).verdicts  # the device from the check name calipso-<check>-<device>
    assert (ok.key, ok.status) == ("compute-1/eth1", "ok")
    bare["entity"]["metadata"]["name"] = "elsewhere"
    assert map_sensu(bare, index).unmapped[0].host == "elsewhere"


@pytest.mark.parametrize(("change", "message"), [
    (lambda e: e["spec"].pop("entity"), "entity is missing"),
    (lambda e: e["spec"]["check"].update(status="2"), "check.status must be a non-negative integer"),
    (lambda e: e["spec"]["check"]["metadata"].pop("name"), "check.metadata.name is missing"),
    (lambda e: e["spec"]["entity"]["metadata"].update(name=""), "entity.metadata.name is missing"),
    (lambda e: e.update(type="Silenced"), "type must be Event"),
])
def test_malformed_sensu_events_are_refused_naming_the_part(index: HostIndex, change, message: str) -> None:  # type: ignore[no-untyped-def]
    event = _load("sensu-event-status.json")
    change(event)
    with pytest.raises(IntakeError, match=message):
        map_sensu(event, index)
    with pytest.raises(IntakeError, match="event"):
        map_sensu([], index)


def test_collectd_values_map_by_host_device_and_port(index: HostIndex) -> None:
    mapped = map_collectd(_load("collectd-write-http.json"), index)
    found = {v.key: v for v in mapped.verdicts}
    vnic = found["compute-1/fa:16:3e:44:5c:8f"]  # qvo... of the hybrid plug, and its iface-id meta
    assert vnic.status == "critical" and "qvo5504be82-8f is down" in vnic.text
    assert found["compute-1/fa:16:3e:00:00:0f"].status == "ok"  # by the hybrid name alone
    otep = found["compute-1/otep-vxlan"]
    assert otep.status == "warning" and "192.168.0.13 unreachable" in otep.text
    assert mapped.stateless == 2  # ping latency and interface octets carry no state
    assert [(u.host, u.device) for u in mapped.unmapped] == [("unknown-host", "eth9")]


def test_collectd_notifications_map_by_severity(index: HostIndex) -> None:
    notification = _load("collectd-notification.json")
    [verdict] = map_collectd(notification, index).verdicts  # a link going down: critical, though WARNING
    assert (verdict.key, verdict.status) == ("compute-1/eth1", "critical")
    assert "changed to \"DOWN\"" in verdict.text
    notification[0].update(plugin="pcie_errors", type_instance="correctable")  # any other: by severity
    [other] = map_collectd(notification, index).verdicts
    assert (other.key, other.status) == ("compute-1/eth1", "warning")


@pytest.mark.parametrize(("body", "message"), [
    ({"values": [1]}, "host is missing"),
    ([{"host": "compute-1", "plugin": "ovs_events", "values": [1], "dstypes": ["gauge"]}], "dsnames must list"),
    ([{"host": "compute-1", "plugin": "ping", "values": ["x"], "dstypes": ["gauge"], "dsnames": ["v"]}],
     "values must be numbers"),
    ([{"host": "compute-1", "plugin": "ovs_events", "severity": "BAD", "message": "m"}], "severity must be"),
    ([{"host": "compute-1", "plugin": "cpu", "values": []}], "values is missing or empty"),
    (["text"], "JSON object"),
    ([], "holds no value list"),
])
def test_malformed_collectd_bodies_are_refused_naming_the_part(index: HostIndex, body, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IntakeError, match=message):
        map_collectd(body, index)


@pytest.fixture
def lab_index() -> HostIndex:
    """compute-1 of the real lab the collectd-real-* fixtures were recorded on (names from its world)."""
    return HostIndex([
        {"id": "compute-1", "type": "host", "host": "compute-1", "name": "compute-1"},
        {"id": "compute-1/eth1", "type": "host_pnic", "host": "compute-1", "name": "eth1"},
        {"id": "compute-1/fa:16:3e:53:a7:35", "type": "vnic", "host": "compute-1", "name": "tap9b16f809-fd",
         "port_id": "9b16f809-fdb1-4f54-8799-7b6bdb3d1150"},
    ])


def test_real_collectd_notifications_are_link_state(lab_index: HostIndex) -> None:
    """collectd 5.12's write_http notifications (Alertmanager-shaped) of connectivity and ovs_events: down
    is critical whatever the severity (ovs_events says WARNING), OKAY is ok; the vNIC by its iface-id."""
    down, ovs_down, up, ovs_up = _load("collectd-real-notifications.json")
    [nic] = map_collectd([down], lab_index).verdicts
    assert (nic.key, nic.status) == ("compute-1/eth1", "critical") and "link of eth1 is down" in nic.text
    [vnic] = map_collectd([ovs_down], lab_index).verdicts
    assert (vnic.key, vnic.status) == ("compute-1/fa:16:3e:53:a7:35", "critical")
    assert "changed to \"DOWN\"" in vnic.text
    assert [v.status for v in map_collectd([up, ovs_up], lab_index).verdicts] == ["ok", "ok"]
    ovs_down["annotations"].pop("iface-id")  # without the meta, qvo... still names the VM's tap
    assert map_collectd([ovs_down], lab_index).verdicts[0].key == "compute-1/fa:16:3e:53:a7:35"


def test_real_collectd_values(lab_index: HostIndex) -> None:
    """Value lists as real collectd posts them: ovs_events link_status 0 of the VM's qvo is critical, its
    counters (interface) carry no state, the switch's own ports name no object."""
    mapped = map_collectd(_load("collectd-real-values.json"), lab_index)
    assert [(v.key, v.status) for v in mapped.verdicts] == [("compute-1/fa:16:3e:53:a7:35", "critical")]
    assert mapped.stateless == 4
    assert sorted(u.device for u in mapped.unmapped) == ["br-int", "br-tun", "patch-int", "patch-tun",
                                                         "vxlan-c0a8000b"]


@pytest.mark.parametrize(("change", "message"), [
    (lambda a: a["labels"].pop("instance"), "labels.instance"),
    (lambda a: a["labels"].update(alertname="cpu"), "labels.alertname must be collectd_"),
    (lambda a: a["labels"].update(severity="BAD"), "severity must be"),
    (lambda a: a.update(annotations=[]), "annotations must be an object"),
    (lambda a: a["labels"].update(other="x"), "more than one plugin"),
])
def test_malformed_collectd_alerts_are_refused(lab_index: HostIndex, change, message: str) -> None:  # type: ignore[no-untyped-def]
    alert = _load("collectd-real-notifications.json")[0]
    change(alert)
    with pytest.raises(IntakeError, match=message):
        map_collectd([alert], lab_index)
