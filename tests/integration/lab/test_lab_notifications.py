"""`calipso lab change` publishes what OpenStack would: oslo.messaging envelopes on `nova` and `neutron`."""

from __future__ import annotations

import json
from pathlib import Path

import kombu
from click.testing import CliRunner

from calipso.cli import main
from core.settings import Settings
from lab.generate import generate_world
from lab.world import load_world, save_world
from stack.manager import Stack


def drain(queue: kombu.simple.SimpleQueue, count: int) -> list[dict]:  # type: ignore[type-arg]
    messages = []
    for _ in range(count):
        message = queue.get(timeout=10)
        message.ack()
        messages.append(message.payload)
    return messages


def test_boot_and_delete_vm_publish_envelopes_with_real_payloads(settings: Settings, local_stack: Stack,
                                                                  tmp_path: Path) -> None:
    world_file = tmp_path / "world.yaml"
    save_world(generate_world(3, 1, 1, "ovs", "vxlan", seed=8), world_file)
    queue_spec = kombu.Queue("calipso-test-notifications", exchange=kombu.Exchange("neutron", type="topic",
                                                                                    durable=False),
                             routing_key="notifications.info", auto_delete=True,
                             bindings=[kombu.binding(kombu.Exchange(name, type="topic", durable=False),
                                                     routing_key="notifications.info") for name in ("nova", "neutron")])
    with kombu.Connection(settings.amqp_url, connect_timeout=5) as connection:
        queue = connection.SimpleQueue(queue_spec)
        result = CliRunner().invoke(main, ["lab", "change", "boot-vm", str(world_file), "--name", "bus-vm",
                                           "--host", "compute-1", "--network", "net-1"])
        assert result.exit_code == 0, result.output
        booted = drain(queue, 2)
        result = CliRunner().invoke(main, ["lab", "change", "delete-vm", str(world_file), "bus-vm"])
        assert result.exit_code == 0, result.output
        deleted = drain(queue, 2)
        queue.close()

    world = load_world(world_file)
    assert "bus-vm" not in {i.name for i in world.instances}
    envelopes = [json.loads(body["oslo.message"]) for body in booted + deleted]
    assert all(body["oslo.version"] == "2.0" for body in booted + deleted)
    assert [e["event_type"] for e in envelopes] == ["port.create.end", "compute.instance.create.end",
                                                    "compute.instance.delete.end", "port.delete.end"]
    port = envelopes[0]["payload"]["port"]
    instance = envelopes[1]["payload"]
    assert port["binding:host_id"] == "compute-1" and port["device_id"] == instance["instance_id"]
    assert instance["host"] == "compute-1" and instance["display_name"] == "bus-vm"
    assert instance["fixed_ips"][0]["vif_mac"] == port["mac_address"]
    assert envelopes[1]["publisher_id"] == "compute.compute-1"
    assert envelopes[2]["payload"]["instance_id"] == instance["instance_id"]
    assert envelopes[3]["payload"] == {"port_id": port["id"]}


def test_a_change_without_rabbitmq_is_saved_and_says_so(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from core.settings import get_settings

    world_file = tmp_path / "world.yaml"
    save_world(generate_world(3, 1, 1, "ovs", "vxlan", seed=8), world_file)
    monkeypatch.setenv("AMQP_URL", "amqp://guest:guest@127.0.0.1:1//")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["lab", "change", "rename-vm", str(world_file), "vm-1", "renamed"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "not published" in result.output
    assert "renamed" in {i.name for i in load_world(world_file).instances}
