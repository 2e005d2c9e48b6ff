"""The real lab's `virsh` (lab/real/virsh.py): the script a compute host gets answers as the simulator's
virsh does for the same world (so with the taps the real lab builds), and fails as virsh would otherwise."""

from __future__ import annotations

import subprocess
from pathlib import Path

from lab.generate import generate_world
from lab.hosts import LabResponder
from lab.real.virsh import install_virsh, virsh_bin


def run(bin_dir: Path, args: str) -> tuple[int, str, str]:
    done = subprocess.run(["bash", "-c", f"virsh {args}"], capture_output=True, text=True, check=False,
                          env={"PATH": f"{bin_dir}:/usr/bin:/bin"})
    return done.returncode, done.stdout, done.stderr


def test_a_compute_hosts_virsh_answers_as_the_simulator(tmp_path: Path) -> None:
    world = generate_world(3, 2, 2, "ovs", "vxlan", seed=9)
    simulated = LabResponder(world)
    bin_dir = install_virsh(tmp_path / "compute-1", world, "compute-1")
    assert bin_dir is not None and virsh_bin(tmp_path / "compute-1") == bin_dir
    for args in ("list --all", "list --uuid", "list --all --name"):
        assert run(bin_dir, args) == simulated("compute-1", f"virsh {args}")
    domains = [d for d in world.instances if d.host == "compute-1"]
    assert len(domains) == 2
    for domain in domains:
        xml = run(bin_dir, f"dumpxml {domain.libvirt_name}")
        assert xml == simulated("compute-1", f"virsh dumpxml {domain.libvirt_name}")
        assert run(bin_dir, f"dumpxml {domain.id}")[1] == xml[1]  # by uuid too
        assert "<target dev='tap" in xml[1]
    assert run(bin_dir, "dumpxml instance-99999999") == simulated("compute-1", "virsh dumpxml instance-99999999")
    status, _, err = run(bin_dir, "undefine x")
    assert status == 1 and "answers only virsh" in err


def test_a_host_without_vms_gets_no_virsh(tmp_path: Path) -> None:
    world = generate_world(3, 1, 1, "lxb", "vxlan", seed=9)
    assert install_virsh(tmp_path / "controller-1", world, "controller-1") is None
    assert virsh_bin(tmp_path / "controller-1") is None
