"""A monitoring round's one shell line per host gets sudo and the container prefix before every
section's command, not only before the line's first command (as a scan's transport would add them)."""

from __future__ import annotations

from functools import partial

from core.environments import CommandTranslation
from ingest.monitoring.checks import MARK, HostPlan, split_sections
from ingest.monitoring.runner import BatchTransport
from ingest.transport import SSHConfig, SSHTransport, build_command

SECTIONS = [("link", "ip -j link"), ("ovs_port", "ovs-vsctl --format=json --columns=name,tag list Port"),
            ("netns", "ip netns list")]


def _transport(sudo: bool) -> BatchTransport:
    ssh = SSHTransport(SSHConfig(user="calipso", password="unused", addresses={"compute-2": "root@10.0.0.2"}))
    translation = CommandTranslation(prefix="docker exec {container}", containers={"compute": "openvswitch_vswitchd"},
                                     tools=["ovs-vsctl"])
    return BatchTransport(ssh, sudo, translation, {"compute-1": ["compute"], "compute-2": ["compute"]})


def test_every_section_is_under_sudo_and_translated() -> None:
    plan = HostPlan("compute-1", "ovs", SECTIONS, {}, [], {})
    line = plan.batch(partial(_transport(sudo=True).prepare, "compute-1"))
    assert line.count("sudo -n ") == len(SECTIONS)  # the scan's transport would have put one, before `echo`
    assert f"echo {MARK} link; sudo -n ip -j link 2>&1" in line
    assert "sudo -n docker exec openvswitch_vswitchd ovs-vsctl --format=json" in line
    assert "sudo -n ip netns list 2>&1" in line and "docker exec openvswitch_vswitchd ip" not in line
    # what a scan's transport makes of the whole line: sudo before the first command only
    assert build_command(plan.command, user="calipso", sudo=True).count("sudo -n ") == 1
    # the markers are untouched, so the answer splits as before
    answer = f"{MARK} link\n[]\n{MARK} ovs_port\n{{}}\n{MARK} netns\n\n{MARK} end\n"
    assert set(split_sections(answer)) == {"link", "ovs_port", "netns"}


def test_a_root_login_or_no_sudo_adds_no_sudo() -> None:
    plan = HostPlan("compute-2", "ovs", SECTIONS, {}, [], {})
    as_root = plan.batch(partial(_transport(sudo=True).prepare, "compute-2"))  # root@ in cli.addresses
    assert "sudo" not in as_root and "docker exec openvswitch_vswitchd ovs-vsctl" in as_root
    assert "sudo" not in plan.batch(partial(_transport(sudo=False).prepare, "compute-1"))
    assert plan.batch() == plan.command and "sudo" not in plan.command
