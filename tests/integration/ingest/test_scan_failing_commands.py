"""A whole lab scan (in process: the lab's OpenStack APIs served, its hosts answering through
CallableTransport) where a seeded random subset of one host's commands fail: exit 1, 124 or 127,
empty output, or garbage. The scan completes with errors naming that host's failed commands, writes
that host's other facts (nothing invented), and leaves every other host complete."""

from __future__ import annotations

import random

import pytest
from conftest import connect_to_lab

from graphmodel.inventory import LINKS, OBJECTS
from ingest.hierarchy import fetch_host, openstack_documents
from ingest.records import MESSAGES
from ingest.scanner import Scanner
from ingest.sources.openstack.fetch import fetch_openstack
from ingest.transport import CallableTransport, CommandResult
from lab.cloud.server import serve
from lab.cloud.source import StaticWorldSource
from lab.generate import generate_world
from lab.hosts import LabResponder
from lab.truth import compute_truth

FAILING_HOST = "compute-2"
GARBAGE = ["<html><body>502 Bad Gateway</body></html>\n", "Segmentation fault\n", "\x00\x01\x02\n", "[{]\n",
           "\ufffd\ufffd\n"]


def commands_of(responder: LabResponder, host: str) -> list[str]:
    """The commands a clean fetch of `host` runs, in order."""
    ran: list[str] = []

    class Recording:
        def run(self, host: str, command: str, timeout: float = 30.0) -> CommandResult:
            ran.append(command)
            return CommandResult(*responder(host, command))

        def close(self) -> None:
            pass

    assert not fetch_host(Recording(), host).failures
    return ran


@pytest.mark.parametrize(("mechanism", "type_driver", "seed"), [("ovs", "vxlan", 1), ("ovs", "vxlan", 2),
                                                                ("lxb", "vxlan", 3)])
def test_a_host_with_failing_commands_is_reported_and_the_scan_completes(
        mongo_db, mechanism: str, type_driver: str, seed: int) -> None:  # type: ignore[no-untyped-def]
    world = generate_world(3, 2, 2, mechanism, type_driver, seed=31)
    honest = LabResponder(world)
    rng = random.Random(seed)
    commands = commands_of(honest, FAILING_HOST)
    chosen = rng.sample(commands, k=max(2, len(commands) // 3))
    # one command without a fallback always fails outright, so that the scan surely has an error
    chosen.append("ls -l /sys/class/net")
    failures = {c: rng.choice([(1, None), (124, None), (127, None), (0, ""), (0, rng.choice(GARBAGE))])
                for c in chosen}
    failures["ls -l /sys/class/net"] = (1, None)

    ran: list[str] = []

    def responder(host: str, command: str) -> tuple[int, str, str]:
        if host == FAILING_HOST:
            ran.append(command)
        if host == FAILING_HOST and command in failures:
            status, output = failures[command]
            return status, output or "", "" if status == 0 else f"{command.split()[0]}: failed\n"
        return honest(host, command)

    with serve(StaticWorldSource(world)) as cloud:
        def docs() -> list[dict]:  # type: ignore[type-arg]
            return [d for d in openstack_documents(fetch_openstack(connect_to_lab(cloud), "RegionOne"))
                    if not (d["type"] == "project" and d["name"] == "admin")]
        result = Scanner(mongo_db, "lab", docs, CallableTransport(responder), fetch_host).scan()

    assert result.status == "completed_with_errors"
    assert result.errors and all(e.startswith(f"{FAILING_HOST}: ") for e in result.errors)
    messages = list(mongo_db[MESSAGES].find({"environment": "lab", "scan_id": result.scan_id}))
    named = {m["details"]["command"] for m in messages if m["related_object"] == FAILING_HOST}
    # each names a command the host was asked (garbage may lead to others: `vppctl show int` answering
    # with exit 0 makes the fetch ask for `vppctl show mode` too)
    assert "ls -l /sys/class/net" in named and named <= set(ran)
    assert all(m["level"] == "error" for m in messages if m["related_object"] == FAILING_HOST)

    truth = compute_truth(world)
    objects = {d["id"]: d for d in mongo_db[OBJECTS].find({"environment": "lab"})}
    links = {(d["link_type"], d["source_id"], d["target_id"]): d["state"]
             for d in mongo_db[LINKS].find({"environment": "lab"})}
    on_failing = {i for i, d in objects.items() if d.get("host") == FAILING_HOST}
    # the failing host's objects are true ones: whatever its failed commands would have told is missing,
    # not made up
    assert on_failing <= set(truth.objects)
    # every other host is complete: its objects, and the links between them in their true state
    others = {i for i, o in truth.objects.items() if o.host not in (None, FAILING_HOST)}
    assert others <= set(objects)
    other_links = {key: link.state for key, link in truth.links.items()
                   if truth.objects[key[1]].host not in (None, FAILING_HOST)
                   and truth.objects[key[2]].host not in (None, FAILING_HOST)}
    assert other_links and {key: links.get(key) for key in other_links} == other_links
