"""Invariants of a healthy network path, checked over an environment's graph: each check is one
`.cypher` file (queries/cypher/invariant_<kind>.cypher) returning the objects that break it and the
evidence, so that an operator (and RCA) can see what is wrong before a user notices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import neo4j

from core.errors import CalipsoError
from queries.loader import run_queries, run_query
from queries.results import Tabular


@dataclass(frozen=True)
class Check:
    kind: str
    description: str

    @property
    def query(self) -> str:
        return f"invariant_{self.kind}"


CHECKS: tuple[Check, ...] = (
    Check("mtu_falling", "a vNIC's MTU is larger than its network's, or a NIC carrying the network is too small "
                         "for the vNIC's MTU plus the overlay's overhead"),
    Check("vlan_tag", "a port on a switch carries another local VLAN tag than its network's (the tag most of the "
                      "network's ports carry there), or one tag serves several networks"),
    Check("segmentation_id", "a NIC, VXLAN device, VLAN sub-interface or VF carries a network with another "
                             "segmentation id than the network's, or hosts disagree on it"),
    Check("port_without_switch_port", "a Neutron port is ACTIVE on a host where nothing plugs it into a "
                                      "bridge or switch"),
    Check("orphan_tap", "a vNIC or tap device with no instance, service or Neutron port behind it"),
    Check("tunnel_without_peer", "a tunnel endpoint no NIC carries, that tunnels to unknown addresses, or "
                                 "that no other endpoint tunnels to"),
    Check("bond_one_live_member", "a bond with at most one live member"),
    Check("tag_mismatch", "a port's local VLAN tag is not the one the OVS agent's flows map its network to on "
                          "that host"),
    Check("no_flood_tunnel", "a network's broadcasts on a host reach no tunnel to a peer that hosts the same "
                             "network (OVS flood flows)"),
    Check("asymmetric_mesh", "a tunnel endpoint has no tunnel back to an endpoint that tunnels to it"),
)
CHECKS_BY_KIND = {check.kind: check for check in CHECKS}
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


class UnknownCheck(CalipsoError):
    """An invariant kind that does not exist."""


@dataclass
class Violation:
    """One broken invariant: which kind, which objects, and the evidence for it."""

    kind: str
    severity: str
    objects: list[str]
    evidence: str
    host: str | None = None
    #: The objects that break the rule (the NIC whose MTU is too small, the port with the wrong tag);
    #: the other objects are the other side, named in the evidence. Empty: every object.
    blamed: list[str] = field(default_factory=list)

    @property
    def culprits(self) -> list[str]:
        """The objects to blame: `blamed`, or every object when the check does not tell."""
        return self.blamed or self.objects


@dataclass
class InvariantsResult(Tabular):
    """The violations found in an environment by the checks that ran."""

    environment: str
    checked_at: datetime
    checks: list[str]
    violations: list[Violation] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        return [{"kind": v.kind, "severity": v.severity, "host": v.host, "objects": ", ".join(v.objects),
                 "evidence": v.evidence} for v in self.violations]

    @property
    def summary(self) -> dict[str, int]:
        counts = {kind: 0 for kind in self.checks}
        for violation in self.violations:
            counts[violation.kind] += 1
        return counts

    @property
    def title(self) -> str:
        return f"Invariants of {self.environment}: {len(self.violations)} violation(s)"

    def of_kind(self, kind: str) -> list[Violation]:
        return [v for v in self.violations if v.kind == kind]


def invariants(driver: neo4j.Driver, environment: str, kinds: Sequence[str] = (),
               hosts: Sequence[str] | None = None) -> InvariantsResult:
    """Run the invariant checks (all, or those named) over an environment's graph, or only over the
    objects on some hosts (root cause asks about the focal VMs' hosts only)."""
    unknown = [k for k in kinds if k not in CHECKS_BY_KIND]
    if unknown:
        raise UnknownCheck(f"unknown invariant(s) {', '.join(unknown)}; choose from {', '.join(CHECKS_BY_KIND)}")
    chosen = [CHECKS_BY_KIND[k] for k in kinds] if kinds else list(CHECKS)
    scope = list(hosts) if hosts is not None else [r["name"] for r in run_query(driver, "host_names", env=environment)]
    answers = run_queries(driver, [(check.query, {"env": environment, "hosts": scope}) for check in chosen])
    violations = [Violation(check.kind, row["severity"], list(row["objects"]), row["evidence"], row.get("host"),
                            list(row.get("blamed") or []))
                  for check, rows in zip(chosen, answers) for row in rows]
    violations.sort(key=lambda v: (SEVERITY_ORDER.get(v.severity, 9), v.kind, v.host or "", v.objects))
    return InvariantsResult(environment, datetime.now(UTC), [c.kind for c in chosen], violations)
