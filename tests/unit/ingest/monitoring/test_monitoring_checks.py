"""The checks' pure half: a host's plan from inventory documents, and results from real tool output
(tests/fixtures/real: iproute2, ovs, ping)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ingest.monitoring.checks import (
    MARK,
    PEERS_PER_ROUND,
    evaluate,
    parse_ping,
    peers_this_round,
    plan_host,
    split_sections,
    verdicts,
)

REAL = Path(__file__).parents[3] / "fixtures" / "real"


def _read(*parts: str) -> str:
    return REAL.joinpath(*parts).read_text()


def _section(key: str, text: str) -> str:
    return f"{MARK} {key}\n{text}"


def test_parse_ping_reads_loss_rtt_and_errors() -> None:
    reachable = parse_ping(_read("ping", "ping-reachable.txt"))
    assert (reachable.transmitted, reachable.received, reachable.loss, reachable.error) == (2, 2, 0.0, None)
    assert reachable.rtt_avg_ms is not None and 0 < reachable.rtt_avg_ms < 10
    lost = parse_ping(_read("ping", "ping-lost.txt"))
    assert (lost.loss, lost.rtt_avg_ms) == (100.0, None)
    bind = parse_ping(_read("ping", "ping-bind-source-missing.txt"))
    assert bind.loss is None and bind.error and "Cannot assign requested address" in bind.error
    unreachable = parse_ping(_read("ping", "ping-network-unreachable.txt"))
    assert unreachable.error and "Network is unreachable" in unreachable.error


def test_split_sections_cuts_at_markers() -> None:
    output = _section("link", "[]\n") + _section("ping:10.0.0.1", "line one\nline two\n") + f"{MARK} end\n"
    assert split_sections(output) == {"link": "[]\n", "ping:10.0.0.1": "line one\nline two\n"}


def _otep(remotes: list[str]) -> dict:  # type: ignore[type-arg]
    return {"id": "h1/otep-vxlan", "type": "otep", "host": "h1", "ip_address": "192.168.77.1", "remote_ips": remotes}


def test_plan_batches_one_command_and_never_passes_unsafe_names() -> None:
    docs = [_otep(["192.168.78.1", "not-an-ip; rm -rf /"]),
            {"id": "a1", "type": "network_agent", "host": "h1", "binary": "neutron-l3-agent"},
            {"id": "a2", "type": "network_agent", "host": "h1", "binary": "x; reboot"},
            {"id": "h1/eth0", "type": "host_pnic", "host": "h1", "name": "eth0"}]
    plan = plan_host("h1", docs, [], {})
    keys = [key for key, _ in plan.sections]
    assert keys == ["link", "ping:192.168.78.1", "agent:neutron-l3-agent"]
    assert "reboot" not in plan.command and "rm -rf" not in plan.command
    assert plan.command.endswith(f"echo {MARK} end") and plan.command.count(MARK) == 4


def test_tunnel_peers_from_real_ping_output() -> None:
    plan = plan_host("h1", [_otep(["192.168.78.1", "192.168.77.9"])], [], {})
    ok_and_lost = _section("ping:192.168.78.1", _read("ping", "ping-reachable.txt")) + \
        _section("ping:192.168.77.9", _read("ping", "ping-lost.txt"))
    [result] = evaluate(plan, ok_and_lost)
    assert (result.status, result.text) == ("warning", "1 of 2 tunnel peers unreachable: 192.168.77.9")
    assert result.metrics["peers"]["192.168.77.9"]["loss_pct"] == 100.0
    both_lost = _section("ping:192.168.78.1", _read("ping", "ping-lost.txt")) + \
        _section("ping:192.168.77.9", _read("ping", "ping-lost.txt"))
    assert evaluate(plan, both_lost)[0].status == "critical"
    no_source = _section("ping:192.168.78.1", _read("ping", "ping-bind-source-missing.txt"))
    [result] = evaluate(plan, no_source)
    assert result.status == "critical" and "192.168.77.1 is not configured" in result.text


def test_link_state_from_real_ip_link_json() -> None:
    # ip-d-j-link.json (live capture): tapcalfix0 is a tap nobody reads (NO-CARRIER), qvbcalfix a veth in brqcalfix.
    docs = [{"id": "h1/tapcalfix0", "type": "host_pnic", "host": "h1", "name": "tapcalfix0"},
            {"id": "h1/brqcalfix", "type": "vconnector", "host": "h1", "name": "brqcalfix"},
            {"id": "h1/gone0", "type": "host_pnic", "host": "h1", "name": "gone0"},
            {"id": "h1/fa:16:3e:00:00:01", "type": "vnic", "host": "h1", "name": "qvbcalfix", "network_id": "n1"}]
    links = [{"link_type": "instance-vnic", "source_id": "vm", "target_id": "h1/fa:16:3e:00:00:01"},
             {"link_type": "vnic-vconnector", "source_id": "h1/fa:16:3e:00:00:01", "target_id": "h1/brqcalfix"}]
    plan = plan_host("h1", docs, links, {"n1": {"id": "n1", "name": "net-1", "mtu": 1450}})
    found = {(v.kind, v.key): v for v in verdicts(evaluate(plan, _section("link", _read("iproute2", "ip-d-j-link.json"))))}
    assert found[("object", "h1/tapcalfix0")].status == "critical"
    assert "no carrier" in found[("object", "h1/tapcalfix0")].text
    assert found[("object", "h1/gone0")].text == "device gone0 is gone"
    assert found[("object", "h1/brqcalfix")].status == "ok"
    vnic = found[("object", "h1/fa:16:3e:00:00:01")]
    assert vnic.status == "critical" and "MTU 1500 is larger than network net-1's 1450" in vnic.text
    assert found[("link", "vnic-vconnector|h1/fa:16:3e:00:00:01|h1/brqcalfix")].status == "ok"


def test_ovs_interface_states_from_real_ovsdb_output() -> None:
    # Live captures: with ovs-vswitchd stopped the port's interface has no ofport and no link_state;
    # with it running, the port is absent from the table (only eth1 and the bridges are there).
    port_id = "0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9"
    docs = [{"id": "h1/vedge-ovs", "type": "vedge", "host": "h1", "mechanism": "ovs"},
            {"id": "h1/fa:16:3e:00:00:02", "type": "vnic", "host": "h1", "name": "tap0a1b2c3d-4e", "port_id": port_id}]
    links = [{"link_type": "vnic-vedge", "source_id": "h1/fa:16:3e:00:00:02", "target_id": "h1/vedge-ovs",
              "vlan_tag": 1}]
    plan = plan_host("h1", docs, links, {})
    assert [k for k, _ in plan.sections] == ["link", "ovs_interface", "ovs_port"]
    stopped = _section("ovs_interface", _read("ovs", "ovs-vsctl-format-json-list-Interface-no-vswitchd.json"))
    found = {v.key: v for v in verdicts(evaluate(plan, stopped))}
    assert found["h1/vedge-ovs"].status == "ok"
    assert found["h1/fa:16:3e:00:00:02"].status == "critical"
    assert "tap0a1b2c3d-4e: no OpenFlow port" in found["h1/fa:16:3e:00:00:02"].text
    assert found["vnic-vedge|h1/fa:16:3e:00:00:02|h1/vedge-ovs"].status == "critical"
    other = _section("ovs_interface", _read("ovs", "ovs-vsctl-format-json-list-Interface.json"))
    found = {v.key: v for v in verdicts(evaluate(plan, other))}
    assert "not on the virtual switch" in found["h1/fa:16:3e:00:00:02"].text
    refused = _section("ovs_interface", "ovs-vsctl: unix:/var/run/openvswitch/db.sock: database connection failed "
                                        "(No such file or directory)\n")
    found = {v.key: v for v in verdicts(evaluate(plan, refused))}
    assert found["h1/vedge-ovs"].status == "critical" and "database connection failed" in found["h1/vedge-ovs"].text
    assert found["h1/fa:16:3e:00:00:02"].status == "unknown"


def test_verdict_text_is_stable_without_measurements() -> None:
    plan = plan_host("h1", [_otep(["192.168.78.1"])], [], {})
    first = verdicts(evaluate(plan, _section("ping:192.168.78.1", _read("ping", "ping-reachable.txt"))))
    again = _read("ping", "ping-reachable.txt").replace("0.047", "0.512")
    second = verdicts(evaluate(plan, _section("ping:192.168.78.1", again)))
    assert first[0].text == second[0].text and first[0].status == "ok"


def test_a_full_mesh_pings_a_rotating_window_and_keeps_lost_peers() -> None:
    remotes = [f"10.0.{i // 200}.{i % 200 + 1}" for i in range(100)]
    otep = {"id": "h1/otep-vxlan", "type": "otep", "host": "h1", "ip_address": "10.9.9.9", "remote_ips": remotes}
    first, second = peers_this_round(otep, 0), peers_this_round(otep, 1)
    assert len(first) == len(second) == PEERS_PER_ROUND and not set(first) & set(second)
    covered = set().union(*(peers_this_round(otep, n) for n in range(7)))
    assert covered == set(remotes)
    lost = {**otep, "status": "warning", "status_text": f"1 of 16 tunnel peers unreachable: {first[3]}"}
    assert first[3] in peers_this_round(lost, 1) and len(peers_this_round(lost, 1)) == PEERS_PER_ROUND + 1
    plan = plan_host("h1", [otep], [], {}, round_number=1)
    assert sorted(k.split(":", 1)[1] for k, _ in plan.sections) == second


def test_a_plan_runs_only_the_sections_of_the_checks_due() -> None:
    docs = [_otep(["192.168.78.1"]), {"id": "a1", "type": "network_agent", "host": "h1", "binary": "neutron-l3-agent"},
            {"id": "h1/eth0", "type": "host_pnic", "host": "h1", "name": "eth0"},
            {"id": "h1/vedge-ovs", "type": "vedge", "host": "h1", "mechanism": "ovs"}]
    everything = [key for key, _ in plan_host("h1", docs, [], {}).sections]
    assert everything == ["link", "ovs_interface", "ovs_port", "ping:192.168.78.1", "agent:neutron-l3-agent"]
    tunnels = plan_host("h1", docs, [], {}, checks=frozenset({"tunnel_peers"}))
    assert [key for key, _ in tunnels.sections] == ["ping:192.168.78.1"]
    vlan = plan_host("h1", docs, [], {}, checks=frozenset({"ovs_vlan_tag"}))  # needs the Interface table too
    assert [key for key, _ in vlan.sections] == ["ovs_interface", "ovs_port"]
    # a check not run says nothing: no "unknown" for the link state the round did not look at
    links = plan_host("h1", docs, [], {}, checks=frozenset({"agent_service"}))
    results = evaluate(links, _section("agent:neutron-l3-agent", "active\n"))
    assert [(r.key, r.check, r.status) for r in results] == [("a1", "agent_service", "ok")]


def test_error_counters_warn_when_they_grow_between_runs() -> None:
    """Real `ip -s -j link` before and after veta's ARP requests were dropped (its peer vetb down)."""
    from ingest.monitoring.checks import parse_link_counters

    before, after = _read("iproute2", "ip-s-j-link-before.json"), _read("iproute2", "ip-s-j-link-after.json")
    assert parse_link_counters(after)["veta"]["tx_dropped"] == 2 and parse_link_counters("[]") == {}
    assert parse_link_counters(_read("iproute2", "ip-d-j-link.json")) == {}  # no -s: no statistics, no result
    docs = [{"id": "h1/veta", "type": "host_pnic", "host": "h1", "name": "veta"},
            {"id": "h1/vetb", "type": "host_pnic", "host": "h1", "name": "vetb"}]
    plan = plan_host("h1", docs, [], {}, checks=frozenset({"error_counters"}))
    first = {r.key: r for r in evaluate(plan, _section("link", before))}
    assert {(r.status, r.text) for r in first.values()} == {("ok", "veta: counters recorded"),
                                                           ("ok", "vetb: counters recorded")}
    plan.counters = {r.metrics["device"]: r.metrics["counters"] for r in first.values()}
    second = {r.key: r for r in evaluate(plan, _section("link", after))}
    assert (second["h1/veta"].status, second["h1/veta"].text) == ("warning", "veta: tx dropped growing")
    assert second["h1/veta"].metrics["grown"] == {"tx_dropped": 2}
    assert second["h1/vetb"].status == "ok"
    plan.counters = {r.metrics["device"]: r.metrics["counters"] for r in second.values()}
    assert {r.status for r in evaluate(plan, _section("link", after))} == {"ok"}  # no growth since: ok again
    assert {r.text for r in evaluate(plan, _section("link", before))} >= {"veta: counters recorded"}  # a reset


VPP = Path(__file__).parents[3] / "fixtures" / "reference" / "vpp"


def _vpp_plan() -> Any:
    docs = [{"id": "h1/vedge-vpp", "type": "vedge", "host": "h1", "mechanism": "vpp"},
            {"id": "h1/TenGigabitEthernetc/0/0", "type": "host_pnic", "host": "h1", "name": "TenGigabitEthernetc/0/0"},
            {"id": "h1/eth0", "type": "host_pnic", "host": "h1", "name": "eth0"},
            {"id": "h1/bd-5", "type": "vconnector", "host": "h1", "name": "bd-5"},
            {"id": "h1/fa:16:3e:aa:bb:cc", "type": "vnic", "host": "h1", "name": "fa:16:3e:aa:bb:cc",
             "mac_address": "fa:16:3e:aa:bb:cc"}]
    links = [{"link_type": "instance-vnic", "source_id": "vm", "target_id": "h1/fa:16:3e:aa:bb:cc"},
             {"link_type": "vnic-vconnector", "source_id": "h1/fa:16:3e:aa:bb:cc", "target_id": "h1/bd-5"}]
    return plan_host("h1", docs, links, {})


def test_vpp_interfaces_from_the_real_vppctl_recordings() -> None:
    """VPP 16.09's recorded `show int` / `show hardware-interfaces` (tests/fixtures/reference/vpp): the NIC VPP
    drives is checked there, not by the kernel's `ip link`; the recording has no interface with the VM's MAC
    (critical); bridge domains are left alone. (A VM's interface that is up: tests/integration/ingest.)"""
    plan = _vpp_plan()
    assert [k for k, _ in plan.sections] == ["link", "vpp_int", "vpp_hw"]  # type: ignore[attr-defined]
    show_int = (VPP / "vppctl-show-int.txt").read_text()
    hardware = (VPP / "vppctl-show-hardware-interfaces.txt").read_text()
    link = _section("link", _read("iproute2", "ip-d-j-link.json"))  # no eth0 there: the kernel check says so

    def found(show: str, hw: str) -> dict[str, Any]:
        output = link + _section("vpp_int", show) + _section("vpp_hw", hw)
        return {v.key: v for v in verdicts(evaluate(plan, output))}  # type: ignore[arg-type]

    healthy = found(show_int, hardware)
    assert healthy["h1/vedge-vpp"].status == "ok" and healthy["h1/TenGigabitEthernetc/0/0"].status == "ok"
    assert healthy["h1/TenGigabitEthernetc/0/0"].checks == ["vpp_interface"]  # no "gone" from `ip link`
    vnic = healthy["h1/fa:16:3e:aa:bb:cc"]
    assert (vnic.status, vnic.checks) == ("critical", ["vpp_interface"])
    assert "no interface with the VM's MAC fa:16:3e:aa:bb:cc" in vnic.text
    assert healthy["vnic-vconnector|h1/fa:16:3e:aa:bb:cc|h1/bd-5"].status == "critical"
    assert "h1/bd-5" not in healthy  # a bridge domain is no kernel device: no "gone"
    assert healthy["h1/eth0"].text == "device eth0 is gone"  # a kernel NIC still is checked by the kernel
    admin_down = found(show_int.replace("TenGigabitEthernetc/0/0           5         up",
                                        "TenGigabitEthernetc/0/0           5        down"), hardware)
    assert "administratively down" in admin_down["h1/TenGigabitEthernetc/0/0"].text
    no_link = found(show_int, hardware.replace("TenGigabitEthernetc/0/0            5     up",
                                               "TenGigabitEthernetc/0/0            5    down"))
    assert "has no link" in no_link["h1/TenGigabitEthernetc/0/0"].text
    refused = found("vppctl: cannot connect to /run/vpp/cli.sock\n", "")
    assert refused["h1/vedge-vpp"].status == "critical" and "vppctl does not answer" in refused["h1/vedge-vpp"].text
    assert refused["h1/fa:16:3e:aa:bb:cc"].status == "unknown"
