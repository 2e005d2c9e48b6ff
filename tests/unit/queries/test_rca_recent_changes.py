"""Root cause's reading of the projector's change log: what is not back to its state at the start of
the window, and how much a change weighs by its age (pure functions of queries/rca.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from queries.rca import OLDEST_SHARE, NetChange, net_changes, recency

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def ms(hours_ago: float) -> int:
    return int((NOW - timedelta(hours=hours_ago)).timestamp() * 1000)


def at(hours_ago: float) -> datetime:
    return datetime.fromtimestamp(ms(hours_ago) / 1000, UTC)


SINCE = NOW - timedelta(hours=24)


def test_a_change_within_the_window_counts_with_its_time() -> None:
    assert net_changes({"object": [[None, "A"], [ms(2), "B"]]}, SINCE) == [NetChange("object", at(2), False)]


def test_a_change_undone_within_the_window_is_no_change() -> None:
    assert net_changes({"object": [[None, "A"], [ms(3), "B"], [ms(1), "A"]]}, SINCE) == []


def test_back_to_the_state_at_the_start_of_the_window_not_to_the_first_one() -> None:
    # A -> B two days ago, B -> C -> B today: at `since` it was B, and it is B again.
    log = {"object": [[None, "A"], [ms(48), "B"], [ms(3), "C"], [ms(1), "B"]]}
    assert net_changes(log, SINCE) == []
    # ... but B -> A today is a change (from B), even though A was its first state.
    assert net_changes({"object": [[None, "A"], [ms(48), "B"], [ms(1), "A"]]}, SINCE) == [
        NetChange("object", at(1), False)]


def test_a_change_before_the_window_is_no_change() -> None:
    assert net_changes({"object": [[None, "A"], [ms(30), "B"]]}, SINCE) == []


def test_gone_and_back_as_it_was_is_no_change_gone_is_one() -> None:
    link = "VNIC_VEDGE>env|h/vedge-ovs"
    assert net_changes({link: [[None, "A"], [ms(2), "absent"], [ms(1), "A"]]}, SINCE) == []
    assert net_changes({link: [[None, "A"], [ms(2), "absent"]]}, SINCE) == [NetChange(link, at(2), True)]
    assert net_changes({"object": [[None, "A"], [ms(2), "absent"], [ms(1), "B"]]}, SINCE) == [
        NetChange("object", at(1), False)]


def test_each_facet_on_its_own() -> None:
    log = {"object": [[None, "A"], [ms(3), "B"], [ms(2), "A"]], "VNIC_VEDGE>e|x": [[None, "T1"], [ms(1), "T2"]]}
    assert net_changes(log, SINCE) == [NetChange("VNIC_VEDGE>e|x", at(1), False)]


def test_newer_changes_weigh_more_from_full_now_to_the_oldest_share_at_since() -> None:
    assert recency(NOW, SINCE, NOW) == 1.0
    assert recency(SINCE, SINCE, NOW) == OLDEST_SHARE
    assert recency(at(1), SINCE, NOW) > recency(at(12), SINCE, NOW) > recency(at(23), SINCE, NOW) > OLDEST_SHARE
    assert recency(at(30), SINCE, NOW) == OLDEST_SHARE  # never below, never above 1
    assert recency(NOW + timedelta(minutes=1), SINCE, NOW) == 1.0


def test_a_path_that_ends_where_something_was_removed_blames_the_removed_thing() -> None:
    from collections import defaultdict

    from queries.rca import explain_by_removals

    evidence: dict = defaultdict(lambda: defaultdict(list))  # type: ignore[type-arg]
    evidence["h/fa:16:3e:00:00:01"]["path ends here"].append("the path of vm-1 stops at tap1")
    evidence["h/fa:16:3e:00:00:01"]["changed recently"].append("its link went away")
    evidence["h/br-int/qvo1"]["removed recently"].append("removed at t")
    evidence["h/fa:16:3e:00:00:02"]["path ends here"].append("the path of vm-2 stops at tap2")  # nothing removed
    explain_by_removals(evidence, {"h/fa:16:3e:00:00:01": {"h/br-int/qvo1", "h/gone-but-not-removed"}},
                      {"h/br-int/qvo1": "h/br-int/qvo1"})
    assert "path ends here" not in evidence["h/fa:16:3e:00:00:01"]
    assert evidence["h/fa:16:3e:00:00:01"]["changed recently"] == ["its link went away"]
    assert evidence["h/br-int/qvo1"]["path ends here"] == [
        "the path of vm-1 stops at tap1 (where h/fa:16:3e:00:00:01 lost its link to it)"]
    assert evidence["h/fa:16:3e:00:00:02"]["path ends here"] == ["the path of vm-2 stops at tap2"]
    # a removed child whose evidence went to its removed parent: the parent takes the path's end
    explain_by_removals(evidence, {"h/fa:16:3e:00:00:02": {"h/brqX/vxlan-5"}}, {"h/brqX/vxlan-5": "h/brqX"})
    assert list(evidence["h/brqX"]["path ends here"]) and "path ends here" not in evidence["h/fa:16:3e:00:00:02"]


def test_what_a_neighbour_shows_because_something_was_removed_moves_to_the_removed_thing() -> None:
    from collections import defaultdict

    from queries.rca import explain_by_removals

    evidence: dict = defaultdict(lambda: defaultdict(list))  # type: ignore[type-arg]
    # patch-tun deleted: its peer patch-int fails ("no usable peer") and lost its link to it
    evidence["h/br-tun/patch-int"]["failing"].append("OVS interface error: No usable peer 'patch-tun'")
    evidence["h/br-tun/patch-int"]["changed recently"].append("its link went away")
    evidence["h/br-int/patch-tun"]["removed recently"].append("removed at t")
    # a tunnel port deleted: the endpoint it sent through breaks the mesh; the removed port lost its link to it
    evidence["h/otep-vxlan"]["broken invariant"].append("asymmetric_mesh: ...")
    evidence["h/br-tun/vxlan-c0a8000b"]["removed recently"].append("removed at t")
    # a NIC down with nothing removed next to it keeps its evidence
    evidence["h/eth1"]["failing"].append("no carrier")
    explain_by_removals(evidence, {"h/br-tun/patch-int": {"h/br-int/patch-tun"},
                                   "h/br-tun/vxlan-c0a8000b": {"h/otep-vxlan"}},
                        {"h/br-int/patch-tun": "h/br-int/patch-tun", "h/br-tun/vxlan-c0a8000b": "h/br-tun/vxlan-c0a8000b"})
    assert "failing" not in evidence["h/br-tun/patch-int"]
    assert evidence["h/br-tun/patch-int"]["changed recently"] == ["its link went away"]  # its own change stays
    assert evidence["h/br-int/patch-tun"]["failing"] == [
        "OVS interface error: No usable peer 'patch-tun' (where h/br-tun/patch-int lost its link to it)"]
    assert "broken invariant" not in evidence["h/otep-vxlan"]
    assert evidence["h/br-tun/vxlan-c0a8000b"]["broken invariant"]
    assert evidence["h/eth1"]["failing"] == ["no carrier"]
