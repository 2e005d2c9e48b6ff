"""The listener's pure handlers on the envelopes the lab's publisher (lab/notify.py) really sends."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import kombu.serialization
import pytest

from ingest.listener.handlers import (
    HANDLERS,
    MalformedMessage,
    Notification,
    keep_stored_fields,
    parse_notification,
    plan_for,
    renamed_descendants,
)
from ingest.sources.openstack import fetch
from ingest.sources.openstack.fetch import RawOpenStack
from ingest.sources.openstack.transform import instances, networks_and_ports
from lab import changes
from lab.changes import Event
from lab.cloud.compute import ComputeDocs
from lab.cloud.network import NetworkDocs
from lab.generate import generate_world
from lab.notify import BASE, envelope, payload_for
from lab.truth import compute_truth
from lab.world import World


def world() -> World:
    return generate_world(3, 2, 2, "ovs", "vxlan", seed=21)


def wire(world: World, events: list[Event]) -> list[tuple[str, bytes]]:
    """(exchange, body bytes) of each event, serialised as lab/notify.py's producer publishes it."""
    published = []
    for event in events:
        _, _, body = kombu.serialization.dumps(envelope(event, payload_for(world, event)), serializer="json")
        published.append((event.service, body.encode() if isinstance(body, str) else body))
    return published


def notifications(world: World, events: list[Event]) -> list[Notification]:
    return [parse_notification(body, exchange) for exchange, body in wire(world, events)]


def scanned_server(world: World, instance_id: str) -> dict[str, Any]:
    """The instance document a scan makes of the lab's Nova API answer."""
    raw = fetch.server(ComputeDocs(world, BASE).servers.get(instance_id))
    return instances(RawOpenStack(region="", servers=[raw]))[-1]


# -- parsing ----------------------------------------------------------------------------------------

def test_v2_envelope_and_v1_bare_message_give_the_same_notification() -> None:
    w = world()
    events = changes.rename_vm(w, "vm-1", "renamed")
    exchange, body = wire(w, events)[0]
    v2 = parse_notification(body, exchange)
    inner = json.loads(json.loads(body)["oslo.message"])
    v1 = parse_notification(json.dumps(inner).encode(), exchange)
    assert v2 == v1
    assert v2.exchange == "nova" and v2.event_type == "compute.instance.update"
    assert v2.publisher_id == "compute.compute-1" and v2.payload["display_name"] == "renamed"
    assert parse_notification(json.loads(body), exchange) == v2  # already decoded by a client library


@pytest.mark.parametrize(("body", "reason"), [
    (b"\xff\xfe garbage", "not UTF-8"),
    (b"this is not json", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"oslo.version": "2.0", "oslo.message": "{broken"}', "oslo.message is not JSON"),
    (b'{"oslo.version": "2.0", "oslo.message": "[]"}', "oslo.message is not a JSON object"),
    (b'{"payload": {}}', "no event_type"),
    (b'{"event_type": "port.create.end", "payload": "x"}', "payload of port.create.end is not an object"),
])
def test_malformed_bodies_are_refused_with_a_reason_and_an_excerpt(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedMessage) as refused:
        parse_notification(body, "neutron")
    assert reason in refused.value.reason
    assert refused.value.excerpt


def test_a_known_event_with_a_payload_of_another_shape_is_malformed_and_unknown_types_are_ignored() -> None:
    w = world()
    port_event = notifications(w, changes.boot_vm(w, "x", "compute-1", "net-1"))[0]
    wrong = Notification("neutron", "port.create.end", {"network": port_event.payload["port"]})
    with pytest.raises(MalformedMessage, match="has no port"):
        plan_for(wrong)
    with pytest.raises(MalformedMessage, match="no instance_id"):
        plan_for(Notification("nova", "compute.instance.delete.end", {"display_name": "x"}))
    assert plan_for(Notification("nova", "compute.instance.power_off.end", {"instance_id": "x"})) is None
    assert plan_for(Notification("neutron", "port.create.start", {"port": {}})) is None


def test_every_event_type_of_the_reference_is_handled() -> None:
    reference = ["compute.instance.create.end", "compute.instance.rebuild.end", "compute.instance.update",
                 "compute.instance.delete.end", "network.create.end", "network.update", "network.update.end",
                 "network.delete", "network.delete.end"]
    for resource in ("subnet", "port", "router", "router.interface"):
        for verb in ("create", "update", "delete"):
            if not (resource == "router.interface" and verb == "update"):
                reference += [f"{resource}.{verb}", f"{resource}.{verb}.end"]
    assert set(reference) <= set(HANDLERS)


# -- VMs --------------------------------------------------------------------------------------------

def test_boot_vm_writes_port_and_instance_as_a_scan_shapes_them_and_refreshes_the_host() -> None:
    w = world()
    port_event, instance_event = notifications(w, changes.boot_vm(w, "new-vm", "compute-2", "net-1"))
    truth = compute_truth(w).objects

    port_plan = plan_for(port_event)
    assert port_plan is not None and port_plan.refresh_hosts == ["compute-2"]
    port_id = port_event.payload["port"]["id"]
    folder, port = port_plan.write
    api_port = fetch.port(NetworkDocs(w, BASE).ports.get(port_id))
    assert port_plan.write == networks_and_ports(RawOpenStack(region="", ports=[api_port]))
    assert (folder["id"], port["id"], port["host"], port["parent_id"]) == (
        truth[port_id].parent_id, port_id, "compute-2", truth[port_id].parent_id)

    plan = plan_for(instance_event)
    assert plan is not None
    vm = next(i for i in w.instances if i.name == "new-vm")
    assert [d["id"] for d in plan.write] == ["compute-2/instances", vm.id]
    assert plan.refresh_hosts == ["compute-2"] and plan.subject_name == "new-vm"
    instance = plan.write[-1]
    scanned = scanned_server(w, vm.id)
    unknown = set(plan.keep_stored[vm.id])
    assert unknown == {"flavor", "image", "power_state"}  # the lab's legacy payload does not carry them
    assert {k: v for k, v in instance.items() if k not in unknown} == {k: v for k, v in scanned.items()
                                                                       if k not in unknown}
    assert instance["network_info"][0]["mac"] == port["mac_address"]
    assert (instance["name"], instance["parent_id"], instance["host"]) == (
        truth[vm.id].name, truth[vm.id].parent_id, truth[vm.id].host)


def test_rename_keeps_what_the_payload_does_not_carry_from_the_stored_version() -> None:
    w = world()
    vm = w.instances[0]
    before = scanned_server(w, vm.id)
    (event,) = notifications(w, changes.rename_vm(w, vm.id, "renamed"))
    plan = plan_for(event)
    assert plan is not None
    renamed = keep_stored_fields(plan.write[-1], before, plan.keep_stored[vm.id])
    assert renamed == {**before, "name": "renamed"}
    assert plan.refresh_hosts == [vm.host]


def test_delete_vm_deletes_the_instance_subtree_and_its_port_and_refreshes_where_they_were() -> None:
    w = world()
    vm = w.instances[0]
    instance_event, port_event = notifications(w, changes.delete_vm(w, vm.name))
    plan = plan_for(instance_event)
    assert plan is not None
    assert plan.delete == [vm.id] and plan.refresh_hosts == [vm.host] and plan.refresh_hosts_of == [vm.id]
    port_plan = plan_for(port_event)
    assert port_plan is not None
    assert port_plan.delete == vm.port_ids and port_plan.refresh_hosts_of == vm.port_ids and not port_plan.write


def test_an_update_whose_state_is_deleted_deletes_the_instance() -> None:
    # Nova's last compute.instance.update of a deleted VM carries state "deleted" (then, not always
    # received, compute.instance.delete.end): the instance goes, it is not written as vm_state deleted.
    w = world()
    vm = w.instances[0]
    (event,) = notifications(w, changes.rename_vm(w, vm.id, vm.name))
    deleted = dataclasses.replace(event, event_type="compute.instance.update", payload={**event.payload, "state": "deleted"})
    plan = plan_for(deleted)
    assert plan is not None
    assert plan.delete == [vm.id] and not plan.write and plan.refresh_hosts == [vm.host]


# -- networks, subnets, routers ------------------------------------------------------------------------

def test_network_and_subnet_events_reread_the_network_and_its_dhcp_port_refreshes_the_network_node() -> None:
    w = world()
    network_event, subnet_event, port_event = notifications(w, changes.add_network(w, "net-new", "10.99.0.0/24"))
    net = next(n for n in w.networks if n.name == "net-new")
    network_plan, subnet_plan, port_plan = plan_for(network_event), plan_for(subnet_event), plan_for(port_event)
    assert network_plan is not None and network_plan.reread_networks == [net.id]
    assert subnet_plan is not None and subnet_plan.reread_networks == [net.id]
    assert port_plan is not None and port_plan.refresh_hosts == ["controller-1"]
    assert port_plan.write[-1]["device_owner"] == "network:dhcp"

    off = notifications(w, changes.set_subnet_dhcp(w, net.subnets[0].id, False))
    assert [plan_for(n).reread_networks for n in off[:1]] == [[net.id]]  # type: ignore[union-attr]
    deleted = notifications(w, changes.delete_network(w, net.id))
    plan = plan_for(deleted[-1])
    assert plan is not None and plan.delete == [net.id]


def test_subnet_delete_finds_its_network_through_the_inventory() -> None:
    plan = plan_for(Notification("neutron", "subnet.delete.end", {"subnet_id": "s-1"}))
    assert plan is not None and plan.reread_networks_of_subnets == ["s-1"] and not plan.reread_networks
    newer = plan_for(Notification("neutron", "subnet.delete.end", {"subnet": {"id": "s-2", "network_id": "n"}}))
    assert newer is not None and newer.reread_networks_of_subnets == ["s-2"]


def test_router_events_refresh_where_the_router_lives() -> None:
    w = world()
    created = notifications(w, changes.add_router(w, "r-new"))
    router = next(r for r in w.routers if r.name == "r-new")
    interface = notifications(w, changes.add_router_interface(w, "r-new", "net-1"))
    gateway = notifications(w, changes.set_router_gateway(w, "r-new", next(n.name for n in w.networks if n.external)))
    removed = notifications(w, changes.remove_router_interface(w, "r-new", "net-1"))
    deleted = notifications(w, changes.delete_router(w, "r-new"))
    routers = [n for n in created + interface + gateway + removed + deleted if n.event_type.startswith("router.")]
    assert [n.event_type for n in routers] == ["router.create.end", "router.interface.create", "router.update.end",
                                               "router.interface.delete", "router.delete.end"]
    for notification in routers:
        plan = plan_for(notification)
        assert plan is not None and plan.refresh_routers == [router.id], notification.event_type
    ports = [plan_for(n) for n in interface + gateway if n.event_type == "port.create.end"]
    assert all(p is not None and p.refresh_hosts == [router.host] for p in ports)
    # The router object itself: written as a scan would make it on create and update, deleted on delete.
    by_type = {n.event_type: plan_for(n) for n in routers}
    for event_type in ("router.create.end", "router.update.end"):
        written = {d["id"]: d for d in by_type[event_type].write}  # type: ignore[union-attr]
        assert written[router.id]["name"] == "r-new" and written[router.id]["parent_id"] == f"{router.project_id}/routers"
    assert by_type["router.update.end"].write[-1]["gateway_network_id"] == router.gateway_network_id  # type: ignore[union-attr]
    assert by_type["router.delete.end"].delete == [router.id]  # type: ignore[union-attr]
    assert not by_type["router.interface.create"].write  # type: ignore[union-attr]


# -- document helpers ------------------------------------------------------------------------------------

def test_renamed_descendants_get_the_new_name_in_their_name_path() -> None:
    renamed = {"id": "vm", "name": "new", "id_path": ["h", "h/instances", "vm"], "name_path": ["h", "Instances", "new"]}
    below = [{"id": "vm/vnics", "id_path": ["h", "h/instances", "vm", "vm/vnics"],
              "name_path": ["h", "Instances", "old", "Vnics"]},
             {"id": "vm", "id_path": renamed["id_path"], "name_path": ["h", "Instances", "old"]}]
    assert renamed_descendants(renamed, below) == [{**below[0], "name_path": ["h", "Instances", "new", "Vnics"]}]
    assert renamed_descendants(renamed, [{**below[0], "name_path": ["h", "Instances", "new", "Vnics"]}]) == []
