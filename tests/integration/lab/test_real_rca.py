"""Root cause on faults the kernel makes: a real lab (lab/real) scanned in process and projected, a fault
made with real commands (`ip`, `ovs-vsctl`), a rescan, and RCA asked from the VMs the fault breaks names
the broken device's own object first. One case per rule a real fault once slipped past (the misses of
benchmarks/rca_real.py); the benchmark measures the rest.

Needs root and the packages of scripts/install-system-packages.sh: skipped, naming what is missing,
without them. Each world is small (a controller and two computes, one VM each).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from calipso.lab_scan import real_lab_scanner
from graphmodel.inventory import OBJECTS
from graphmodel.projector import Projector
from lab.generate import generate_world
from lab.real import RealLab, missing_prerequisites, real_lab_world
from lab.real.faults import broken_vms, clear_real_fault, fault_targets, inject_real_fault
from migrations.runner import apply_neo4j
from queries.rca import rca

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def prerequisites() -> None:
    missing = missing_prerequisites()
    if missing:
        pytest.skip("the real lab needs " + "; ".join(missing) + " — run scripts/install-system-packages.sh as root")


class ScannedLab:
    """A real lab scanned and projected as one environment; `fault` makes a real fault and answers RCA."""

    def __init__(self, lab: RealLab, scanner: Any, database: Any, driver: Any, environment: str,
                 state_dir: Path) -> None:
        self.lab, self.scanner, self.database, self.driver = lab, scanner, database, driver
        self.environment, self.state_dir = environment, state_dir

    def rescan(self) -> None:
        assert self.scanner.scan().status == "completed"
        Projector(self.database, self.driver, self.environment).sync()

    def suspects_of(self, kind: str, device: str) -> tuple[str, list[str], list[str]]:
        """Make fault `kind` on the first target whose HOST/DEVICE contains `device`, rescan, ask RCA from the
        VMs it breaks, clear it: the expected root cause, the suspects' ids and the first one's evidence."""
        target = next(t for t in fault_targets(self.lab, kind) if device in t and broken_vms(self.lab, t))
        known = {d["id"] for d in self.database[OBJECTS].find({"environment": self.environment}, {"id": 1})}
        fault = inject_real_fault(self.lab, self.state_dir, kind, target, known)
        try:
            self.rescan()
            answer = rca(self.driver, self.environment, broken_vms(self.lab, target))
        finally:
            clear_real_fault(self.lab, self.state_dir, kind, target)
            self.rescan()
        return fault.root_cause, [s.id for s in answer.suspects], answer.suspects[0].evidence


# The variants the tests name: (mechanism, type driver, firewall) of the world's generator.
VARIANTS = {
    "lxb-flat": ("lxb", "flat", "hybrid"),
    "lxb-vxlan": ("lxb", "vxlan", "hybrid"),
    "ovs-native": ("ovs", "vxlan", "native"),
    "ovs-hybrid": ("ovs", "vxlan", "hybrid"),
}


def variant(name: str) -> pytest.MarkDecorator:
    """Parametrise a test's `scanned` fixture with the variant `name` of VARIANTS."""
    assert name in VARIANTS, f"unknown real-lab variant {name!r}: one of {sorted(VARIANTS)}"
    return pytest.mark.parametrize("scanned", [name], indirect=True)


@pytest.fixture
def scanned(request: pytest.FixtureRequest, mongo_db: Any, neo4j_driver: Any, env_name: str,
            tmp_path: Path) -> Iterator[ScannedLab]:
    """The real lab of the variant the test names (`@variant(NAME)`), scanned and projected as `env_name`."""
    mechanism, type_driver, firewall = VARIANTS[request.param]
    world = real_lab_world(generate_world(3, 1, 1 if type_driver == "flat" else 2, mechanism, type_driver, seed=2026,
                                          name=f"rca-{mechanism}-{type_driver}", firewall=firewall))
    apply_neo4j(neo4j_driver)
    with RealLab(world, f"rca{os.getpid() % 10000}") as lab, \
            real_lab_scanner(lab, mongo_db, env_name) as scanner:
        lab_scanned = ScannedLab(lab, scanner, mongo_db, neo4j_driver, env_name, tmp_path)
        lab_scanned.rescan()
        yield lab_scanned
    neo4j_driver.execute_query("MATCH (n:Object {env: $env}) DETACH DELETE n", env=env_name)


@variant("lxb-flat")
def test_linux_bridge_flat_faults_name_the_bridge_the_nic_and_the_routers_gateway(scanned: ScannedLab) -> None:
    # the bridge of a network is its own suspect even with one VM on the host (not that VM's port)
    expected, suspects, evidence = scanned.suspects_of("mtu_lowered", "compute-2/brq")
    assert suspects[0] == expected and expected.startswith("compute-2/brq")
    assert any("mtu_falling: Linux bridge" in e for e in evidence), evidence
    # the NIC taken out of the bridge is still there: the path that ends at the bridge is the NIC's doing
    expected, suspects, evidence = scanned.suspects_of("bridge_member_removed", "compute-2/eth1")
    assert suspects[0] == expected == "compute-2/eth1"
    assert any("path ends here" in e for e in evidence), evidence
    # a router's gateway port on the external network is the VMs' way out, though on no VM's network
    expected, suspects, evidence = scanned.suspects_of("service_port_down", "/qg-")
    assert suspects[0] == expected
    assert any("routes the VMs' network through it" in e for e in evidence), evidence


@variant("lxb-vxlan")
def test_a_vxlan_device_with_a_small_mtu_is_blamed_not_its_bridge(scanned: ScannedLab) -> None:
    # the kernel lowers the bridge's MTU with its smallest member's: the member is the cause
    expected, suspects, evidence = scanned.suspects_of("mtu_lowered", "compute-2/vxlan-")
    assert suspects[0] == expected and "/vxlan-" in expected
    assert any("mtu_falling: bridge member vxlan-" in e for e in evidence), evidence


@variant("ovs-native")
def test_a_native_tap_set_down_is_its_ovs_port(scanned: ScannedLab) -> None:
    expected, suspects, evidence = scanned.suspects_of("tap_down", "compute-2/tap")
    assert suspects[0] == expected and "/br-int/tap" in expected
    assert any("administratively down" in e for e in evidence), evidence


@variant("ovs-hybrid")
def test_a_qvo_with_a_small_mtu_is_blamed_as_its_ovs_port(scanned: ScannedLab) -> None:
    # an OVS port's MTU is its kernel device's: the qvo end of the hybrid plug's veth cable
    expected, suspects, evidence = scanned.suspects_of("mtu_lowered", "compute-2/qvo")
    assert suspects[0] == expected and "/br-int/qvo" in expected
    assert any("mtu_falling: OVS port qvo" in e for e in evidence), evidence
