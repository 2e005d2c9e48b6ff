"""The real lab scanned like a cloud, through the `calipso` command line (real processes): `calipso lab up
--real` builds the world from kernel objects and serves it (APIs from the spec, every host over SSH into
its namespace), `calipso env add --from-lab` and `calipso scan` work unchanged, and the inventory equals
the ground truth of the world the lab built. `calipso lab fault --real` changes the kernel's objects and
the next scan shows it; `calipso lab down` leaves nothing behind.

Needs root and the packages of scripts/install-system-packages.sh: skipped, naming what is missing,
without them. Worlds are small (a controller and two computes, one VM each) so that each variant takes
seconds to build and scan.

The real lab's Open vSwitch runs the userspace datapath (this kernel has no openvswitch module), whose
ovs-vswitchd loses sight of an internal port moved into a qdhcp/qrouter namespace and reports it down in
OVSDB; the scanner takes such a port's state from the device in the namespace, so the truth holds whole.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from core.settings import Settings, load_settings
from graphmodel.inventory import LINKS, OBJECTS
from lab.generate import generate_world
from lab.hostmodel import LabHosts
from lab.real import missing_prerequisites
from lab.real.lab import DEFAULT_BASE, GLOBAL_NETNS, PREFIX
from lab.service import LabService
from lab.truth import compute_truth
from lab.world import World, load_world, save_world

pytestmark = pytest.mark.integration

CALIPSO = str(Path(sys.executable).with_name("calipso"))
# tag -> (mechanism, type driver, firewall)
VARIANTS = {"ovs-hybrid-vxlan": ("ovs", "vxlan", "hybrid"), "ovs-native-vxlan": ("ovs", "vxlan", "native"),
            "lxb-vxlan": ("lxb", "vxlan", "hybrid"), "lxb-flat": ("lxb", "flat", "hybrid")}


@pytest.fixture(autouse=True)
def prerequisites() -> None:
    missing = missing_prerequisites()
    if missing:
        pytest.skip("the real lab needs " + "; ".join(missing) + " — run scripts/install-system-packages.sh as root")


@dataclass
class Home:
    """A CALIPSO_HOME for the real lab, with the secret key its environments are stored under."""

    path: Path
    settings: Settings
    secret_key: str

    def calipso(self, mongo_db: Any, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        environment = {**os.environ, "CALIPSO_HOME": str(self.path), "CALIPSO_SECRET_KEY": self.secret_key,
                       "MONGO_DATABASE": mongo_db.name, "CALIPSO_LOG_LEVEL": "WARNING", "COLUMNS": "250"}
        done = subprocess.run([CALIPSO, *args], env=environment, capture_output=True, text=True, timeout=300)
        if check:
            assert done.returncode == 0, f"calipso {' '.join(args)}: {done.stdout}\n{done.stderr}"
        return done

    def tag(self) -> str:
        record = LabService(self.settings).real_lab()
        assert record is not None, "no real lab is recorded"
        return str(record["tag"])


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, local_stack: Any) -> Iterator[Home]:
    path = tmp_path_factory.mktemp("real-lab")
    secret_key = Fernet.generate_key().decode()
    settings = load_settings(calipso_home=str(path), calipso_secret_key=secret_key)
    yield Home(path, settings, secret_key)
    LabService(settings).down()


def small_world(variant: str, seed: int = 13) -> World:
    mechanism, type_driver, firewall = VARIANTS[variant]
    return generate_world(3, 1, 1 if type_driver == "flat" else 2, mechanism, type_driver, seed=seed,
                          name=f"real-{variant}", firewall=firewall)


def serve_and_scan(home: Home, mongo_db: Any, env_name: str, world: World) -> tuple[World, dict[str, float]]:
    """`lab up --real`, `env add --from-lab`, `scan`: the world the lab built, and how long each took."""
    save_world(world, home.path / "world.yaml")
    timings = {}
    started = time.monotonic()
    endpoints = json.loads(home.calipso(mongo_db, "lab", "up", "--real", str(home.path / "world.yaml"),
                                        "--format", "json").stdout)
    timings["lab_up_s"] = time.monotonic() - started
    home.calipso(mongo_db, "env", "add", env_name, "--from-lab")
    started = time.monotonic()
    home.calipso(mongo_db, "scan", "run", env_name)
    timings["scan_s"] = time.monotonic() - started
    return load_world(endpoints["world_file"]), timings


def stored(mongo_db: Any, environment: str) -> tuple[set[str], dict[tuple[str, str, str], str]]:
    objects = {d["id"] for d in mongo_db[OBJECTS].find({"environment": environment})
               if not (d["type"] == "project" and d["name"] == "admin")}  # Keystone's own, not in the spec
    links = {(d["link_type"], d["source_id"], d["target_id"]): d["state"]
             for d in mongo_db[LINKS].find({"environment": environment})}
    return objects, links


def traces(tag: str) -> dict[str, object]:
    """What of a real lab with this tag is still on the machine."""
    namespaces = sorted(n for n in os.listdir(GLOBAL_NETNS) if n.startswith(f"{PREFIX}-{tag}-")) \
        if GLOBAL_NETNS.is_dir() else []
    daemons = subprocess.run(["pgrep", "-f", f"calipso-lab/{tag}/"], capture_output=True, text=True).stdout.split()
    return {"namespaces": namespaces, "directory": (DEFAULT_BASE / tag).exists(), "daemons": daemons}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_real_lab_scans_as_its_ground_truth(variant: str, home: Home, mongo_db: Any, env_name: str) -> None:
    world, timings = serve_and_scan(home, mongo_db, env_name, small_world(variant))
    print(f"{variant}: " + ", ".join(f"{key}={value:.1f}" for key, value in timings.items()))
    truth = compute_truth(world)
    objects, links = stored(mongo_db, env_name)
    assert any(o.type == "host_pnic" for o in truth.objects.values())  # the veth NICs, declared as uplinks
    assert any(o.type == "vnic" and "/fa:16:3e" in o.id for o in truth.objects.values())
    assert objects == set(truth.objects)
    assert links == {key: link.state for key, link in truth.links.items()}
    for vedge in mongo_db[OBJECTS].find({"environment": env_name, "type": "vedge", "mechanism": "ovs"}):
        expected = truth.objects[vedge["id"]].attributes  # the flows lab/real/flows.py programmed, read back
        assert (vedge.get("local_vlans"), vedge.get("flood_tunnels")) == \
            (expected["local_vlans"], expected.get("flood_tunnels")), vedge["id"]


def test_a_real_fault_shows_in_the_next_scan_and_clearing_it_restores_the_truth(home: Home, mongo_db: Any,
                                                                                env_name: str) -> None:
    world, _ = serve_and_scan(home, mongo_db, env_name, small_world("ovs-hybrid-vxlan", seed=14))
    compute = next(h for h in world.hosts if "compute" in h.roles)
    nic = next(n.name for n in compute.nics if n.role == "tunnel" and compute.tunnel_ip)
    qvo = next(p for b in LabHosts(world).get(compute.name).ovs_bridges for p in b.ports if p.name.startswith("qvo"))

    injected = [json.loads(home.calipso(mongo_db, "lab", "fault", "--real", kind, f"{compute.name}/{device}",
                                        "--format", "json").stdout)[0]
                for kind, device in (("nic_down", nic), ("ovs_tag_changed", qvo.name))]
    assert [f["root_cause"] for f in injected] == [f"{compute.name}/{nic}", f"{compute.name}/br-int/{qvo.name}"]
    refused = home.calipso(mongo_db, "lab", "fault", "--real", "nic_down", f"{compute.name}/{nic}", check=False)
    assert refused.returncode != 0 and "already injected" in refused.stderr + refused.stdout

    home.calipso(mongo_db, "scan", "run", env_name)
    pnic = mongo_db[OBJECTS].find_one({"environment": env_name, "id": f"{compute.name}/{nic}"})
    assert pnic is not None and pnic["link_detected"] is False
    otep_link = mongo_db[LINKS].find_one({"environment": env_name, "link_type": "otep-host_pnic",
                                          "target_id": f"{compute.name}/{nic}"})
    assert otep_link is not None and otep_link["state"] == "down"
    wrong_tag = {"environment": env_name, "vlan_tag": 4000}
    assert mongo_db[OBJECTS].count_documents(wrong_tag) + mongo_db[LINKS].count_documents(wrong_tag) >= 1

    for fault in injected:
        home.calipso(mongo_db, "lab", "fault", "--real", fault["kind"], fault["target"], "--clear")
    home.calipso(mongo_db, "scan", "run", env_name)
    truth = compute_truth(world)
    objects, links = stored(mongo_db, env_name)
    assert objects == set(truth.objects)
    assert links == {key: link.state for key, link in truth.links.items()}
    assert mongo_db[OBJECTS].count_documents(wrong_tag) + mongo_db[LINKS].count_documents(wrong_tag) == 0


def test_lab_down_removes_the_real_lab(home: Home, mongo_db: Any, tmp_path: Path) -> None:
    save_world(small_world("ovs-native-vxlan", seed=15), tmp_path / "world.yaml")
    home.calipso(mongo_db, "lab", "up", "--real", str(tmp_path / "world.yaml"))
    tag = home.tag()
    assert traces(tag)["namespaces"] and traces(tag)["directory"] and traces(tag)["daemons"]
    home.calipso(mongo_db, "lab", "down")
    assert traces(tag) == {"namespaces": [], "directory": False, "daemons": []}
    assert LabService(home.settings).real_lab() is None
