"""lab.real.RealLab's life cycle on this machine: it builds, answers commands per host, and leaves
nothing behind — after a normal run, after a build that fails half-way, and after its owner is killed.

Needs root and the packages of scripts/install-system-packages.sh; a missing one fails the test
with its name (CI installs them).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lab.generate import generate_world
from lab.real import RealLab, RealLabError, missing_prerequisites, real_lab_world, sweep_abandoned, unbuildable
from lab.real.lab import DEFAULT_BASE, GLOBAL_NETNS, PREFIX

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def prerequisites() -> None:
    missing = missing_prerequisites()
    if missing:
        pytest.fail("the real lab needs " + "; ".join(missing) + " — run scripts/install-system-packages.sh as root")


def traces(tag: str) -> dict[str, object]:
    """What of a lab with this tag is still on the machine: namespaces, run directory, mounts, daemons."""
    namespaces = sorted(n for n in os.listdir(GLOBAL_NETNS) if n.startswith(f"{PREFIX}-{tag}-")) \
        if GLOBAL_NETNS.is_dir() else []
    mounts = [line for line in Path("/proc/self/mountinfo").read_text().splitlines() if f"/{tag}/" in line]
    daemons = subprocess.run(["pgrep", "-f", f"calipso-lab/{tag}/"], capture_output=True, text=True).stdout.split()
    return {"namespaces": namespaces, "directory": (DEFAULT_BASE / tag).exists(), "mounts": mounts,
            "daemons": daemons}


NOTHING = {"namespaces": [], "directory": False, "mounts": [], "daemons": []}


def test_a_lab_builds_answers_and_leaves_nothing() -> None:
    world = real_lab_world(generate_world(2, 1, 1, "ovs", "vxlan", seed=3))
    tag = f"life-{os.getpid()}"
    with RealLab(world, tag) as lab:
        assert traces(tag)["namespaces"] == sorted(
            [f"{PREFIX}-{tag}-fabric", f"{PREFIX}-{tag}-controller-1", f"{PREFIX}-{tag}-compute-1"])
        assert len(traces(tag)["daemons"]) == 4  # ovsdb-server and ovs-vswitchd on both hosts
        assert lab.run("compute-1", "hostname -I").split()[0] == "10.0.0.12"  # eth0, from the world spec
        assert "Bridge br-int" in lab.run("compute-1", "ovs-vsctl show")
        # the host's own namespaces, and commands inside them
        namespace = lab.run("controller-1", "ip netns list").split()[0]
        assert namespace.startswith(("qdhcp-", "qrouter-"))
        assert "inet " in lab.run("controller-1", f"ip netns exec {namespace} ip address show")
        # the hosts are cabled: compute-1 reaches the controller's tunnel address over the fabric
        lab.run("compute-1", "ping -c 1 -W 2 192.168.0.11")
        with pytest.raises(RealLabError, match="exited 1"):
            lab.run("compute-1", "false")
        assert lab.execute("nosuch", "true")[0] == 255
    assert traces(tag) == NOTHING


def test_a_build_failing_half_way_is_removed() -> None:
    world = generate_world(2, 1, 1, "lxb", "vxlan", seed=4)
    data = real_lab_world(world).model_dump(mode="json")
    data["hosts"][1]["nics"][0]["name"] = "eth-name-too-long-for-the-kernel"  # compute-1, after controller-1
    broken = type(world).model_validate(data)
    tag = f"half-{os.getpid()}"
    with pytest.raises(RealLabError, match="compute-1|eth-name-too-long"):
        RealLab(broken, tag).up()
    assert traces(tag) == NOTHING


def test_unbuildable_objects_are_named() -> None:
    world = generate_world(2, 1, 1, "lxb", "vlan", seed=5)
    problems = unbuildable(world)
    assert any("bond" in p for p in problems) and any("8021q" in p for p in problems)
    with pytest.raises(RealLabError, match="cannot be built here"):
        RealLab(world, "refused")
    with pytest.raises(ValueError, match="8021q"):
        real_lab_world(world)


def test_the_lab_of_a_killed_run_is_swept() -> None:
    script = textwrap.dedent("""
        import os, sys, time
        from lab.generate import generate_world
        from lab.real import RealLab, real_lab_world
        lab = RealLab(real_lab_world(generate_world(2, 1, 1, "ovs", "vxlan", seed=6)), sys.argv[1])
        lab.up()
        print("up", flush=True)
        time.sleep(120)
    """)
    tag = f"killed-{os.getpid()}"
    process = subprocess.Popen([sys.executable, "-c", script, tag], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "up"
        assert traces(tag)["namespaces"] and traces(tag)["daemons"]
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    time.sleep(0.2)
    assert tag in sweep_abandoned()
    assert traces(tag) == NOTHING
