"""Every command the reference system runs (REFERENCE.md, DESIGN.md §4) answers on every host of every variant.

A command of a tool the host has must succeed with nothing on stderr (JSON forms must parse);
a tool the host does not have (OVS on a Linux bridge host, VPP off VPP hosts, libvirt off
computes, teamd everywhere) must fail as bash does.
"""

from __future__ import annotations

import json

import pytest

from lab.generate import generate_world
from lab.hostmodel import LabHosts
from lab.hosts import LabResponder
from lab.hosts.catalog import commands
from lab.world import VARIANTS


@pytest.mark.parametrize(("mechanism", "type_driver"), VARIANTS)
def test_every_reference_command_answers_on_every_host(mechanism: str, type_driver: str) -> None:
    world = generate_world(3, 2, 1 if type_driver == "flat" else 2, mechanism, type_driver, seed=71)
    answer, hosts = LabResponder(world), LabHosts(world)
    checked = 0
    for host in world.hosts:
        good, missing = commands(host, hosts.get(host.name))
        for command in good:
            status, out, err = answer(host.name, command)
            assert (status, err) == (0, ""), f"{host.name}: {command}: {err}"
            if "-j" in command or "json" in command:
                json.loads(out)
            checked += 1
        for command in missing:
            tool = command.split()[0]
            assert answer(host.name, command) == (127, "", f"bash: line 1: {tool}: command not found\n")
    assert checked > 90


@pytest.mark.parametrize(("mechanism", "type_driver"), VARIANTS)
def test_output_is_deterministic(mechanism: str, type_driver: str) -> None:
    def snapshot() -> list[str]:
        world = generate_world(2, 1, 1, mechanism, type_driver, seed=72)
        answer = LabResponder(world)
        return [answer(h.name, c)[1] for h in world.hosts for c in ("ip -d -j link", "bridge fdb show")]
    assert snapshot() == snapshot()
