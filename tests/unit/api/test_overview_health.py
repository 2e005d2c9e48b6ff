"""The health the UI colours an object with, from its own document (pure)."""

from __future__ import annotations

import pytest

from api.namespaces.overview import health_of


@pytest.mark.parametrize(("doc", "down_links", "health", "reason"), [
    ({"type": "host_pnic", "link_detected": False}, 0, "down", "no carrier"),
    ({"type": "network_agent", "alive": False}, 0, "down", "agent not alive"),
    ({"type": "instance", "vm_state": "error"}, 0, "down", "VM in error"),
    ({"type": "vedge", "status": "Warning", "status_text": "slow"}, 0, "warning", "status warning: slow"),
    ({"type": "vedge", "status": "error"}, 0, "critical", "status error"),
    ({"type": "host_pnic", "link_detected": False, "status": "ok"}, 0, "down", "no carrier"),  # evidence first
    ({"type": "host_pnic", "link_detected": True, "status": "passing"}, 0, "ok", "status passing"),
    ({"type": "vconnector"}, 2, "critical", "2 links of it down"),
    ({"type": "vconnector", "status": "unknown"}, 1, "unknown", "status unknown"),
    ({"type": "vnic"}, 0, "ok", "no fault seen"),
])
def test_health_of_an_object(doc: dict, down_links: int, health: str, reason: str) -> None:  # type: ignore[type-arg]
    got, why = health_of(doc, down_links)
    assert got == health
    assert reason in why
