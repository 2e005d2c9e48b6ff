"""ovs-ofctl dump-flows parser and the agent-table derivation, on real captures (tests/fixtures/ovs/)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.sources.host.parsers.errors import ParseError
from ingest.sources.host.parsers.openflow import DEFAULT_PRIORITY, derive_openflow, parse_dump_flows, split_top

FIXTURES = Path(__file__).resolve().parents[5] / "fixtures" / "ovs"
# OpenFlow port numbers of the capture (README.md there: ofport_request)
PORT_NAMES = {"br-tun": {1: "patch-int", 2: "vxlan-c0a80015", 3: "vxlan-c0a80016"},
              "br-int": {1: "patch-tun", 2: "int-br-ex", 3: "qvoaaaa1111-11", 4: "qvobbbb2222-22",
                         5: "tapdddd4444-44"}}


def real(name: str) -> str:
    return (FIXTURES / name).read_text()


def flows_of(prefix: str) -> dict:  # type: ignore[type-arg]
    return {bridge: parse_dump_flows(real(f"{prefix}dump-flows-{bridge}.txt")) for bridge in ("br-int", "br-tun")}


def test_plain_dump_every_line_a_flow() -> None:
    text = real("ovs-ofctl-dump-flows-br-tun.txt")
    flows = parse_dump_flows(text)
    assert len(flows) == len(text.splitlines()) - 1  # the NXST_FLOW reply header is not a flow
    first = flows[0]
    assert (first.table, first.priority, first.match, first.actions) == (0, 1, {"in_port": "1"}, ["resubmit(,2)"])
    assert first.n_packets == 9 and first.cookie == 0x5E1F4C2D9A7B3E81
    flood = next(f for f in flows if f.table == 22 and f.match == {"dl_vlan": "1"})
    assert flood.actions == ["strip_vlan", "load:0x65->NXM_NX_TUN_ID[]", "output:2", "output:3"]
    learn = next(f for f in flows if f.table == 10)
    # the commas inside learn(...) do not split it
    assert len(learn.actions) == 2 and learn.actions[0].startswith("learn(") and learn.actions[1] == "output:1"
    assert sorted({f.table for f in flows}) == [0, 2, 3, 4, 6, 10, 20, 22]


def test_names_form_unquotes_port_names() -> None:
    flows = parse_dump_flows(real("ovs-ofctl-names-dump-flows-br-int.txt"))
    provider = next(f for f in flows if f.priority == 3 and f.table == 0)
    assert provider.match == {"in_port": "int-br-ex", "vlan_tci": "0x0000/0x1fff"}
    assert provider.actions == ["mod_vlan_vid:3", "resubmit(,58)"]
    spoof = next(f for f in flows if f.table == 71 and f.priority == 95)
    assert spoof.match["arp"] == "" and spoof.match["arp_spa"] == "10.0.1.5" and spoof.match["in_port"] == "qvoaaaa1111-11"
    assert next(f for f in flows if f.table == 71 and f.priority == 65).actions == ["ct(table=72,zone=NXM_NX_REG6[0..15])"]


def test_no_stats_form_has_no_counters_and_implicit_table_zero() -> None:
    flows = parse_dump_flows(real("ovs-ofctl-no-stats-dump-flows-br-tun.txt"))
    assert all(f.n_packets is None for f in flows)
    assert [f.table for f in flows[:4]] == [0, 0, 0, 0] and flows[4].table == 2


def test_openflow13_form_reset_counts_and_pop_vlan() -> None:
    flows = parse_dump_flows(real("ovs-ofctl-O-OpenFlow13-dump-flows-br-tun.txt"))
    assert len(flows) == 17
    assert next(f for f in flows if f.table == 22 and f.match == {"dl_vlan": "1"}).actions[0] == "pop_vlan"


def test_every_form_derives_the_same_mapping() -> None:
    plain = derive_openflow(flows_of("ovs-ofctl-"), PORT_NAMES)
    named = derive_openflow(flows_of("ovs-ofctl-names-"), {})
    assert plain == named
    assert plain.tunnel_vlans == {("vxlan", 101): 1, ("vxlan", 102): 2}
    assert plain.floods == {1: (101, ["vxlan-c0a80015", "vxlan-c0a80016"]), 2: (102, ["vxlan-c0a80015"])}
    assert plain.provider_vlans == {("int-br-ex", None): 3}
    assert plain.dead_vlan_drop
    of13 = derive_openflow({"br-tun": parse_dump_flows(real("ovs-ofctl-O-OpenFlow13-dump-flows-br-tun.txt"))},
                           PORT_NAMES)
    assert of13.floods == plain.floods and of13.tunnel_vlans == plain.tunnel_vlans


def test_numbers_without_names_stay_numbers() -> None:
    derived = derive_openflow(flows_of("ovs-ofctl-"), {})
    assert derived.floods[1] == (101, ["2", "3"])


def test_provider_vlan_translation_and_openflow13_set_field() -> None:
    flows = parse_dump_flows(
        " cookie=0x1, duration=1.0s, table=0, n_packets=0, n_bytes=0, priority=3,in_port=\"int-br-phy\",dl_vlan=2001"
        " actions=mod_vlan_vid:4,resubmit(,58)\n"
        " cookie=0x1, duration=1.0s, table=4, n_packets=0, n_bytes=0, reset_counts priority=1,tun_id=0x3e9"
        " actions=push_vlan:0x8100,set_field:4101->vlan_vid,goto_table:10\n")
    derived = derive_openflow({"br-int": flows, "br-tun": flows}, {})
    assert derived.provider_vlans == {("int-br-phy", 2001): 4}
    assert derived.tunnel_vlans == {("vxlan", 1001): 5}  # 4101 = 0x1000 (VLAN present) | 5
    assert not derived.dead_vlan_drop


def test_empty_and_header_only_answers_have_no_flows() -> None:
    assert parse_dump_flows("") == []
    assert parse_dump_flows("NXST_FLOW reply (xid=0x4):\n") == []


def test_default_priority_is_left_out_by_ovs_ofctl() -> None:
    flow = parse_dump_flows(" cookie=0x0, duration=2.5s, table=0, n_packets=1, n_bytes=60, idle_age=1, actions=NORMAL")[0]
    assert (flow.priority, flow.match, flow.actions) == (DEFAULT_PRIORITY, {}, ["NORMAL"])


@pytest.mark.parametrize(("text", "reason"), [
    ("NXST_FLOW reply (xid=0x4):\n cookie=0x0, table=0 priority=1\n", "line 2 is not a flow"),
    (" cookie=0x0, table=300, n_packets=0, priority=1 actions=drop\n", "line 1: table 300 is out of range"),
    (" cookie=0x0, table=0, n_packets=x, priority=1 actions=drop\n", "line 1: n_packets 'x' is not"),
    (" priority=70000 actions=drop\n", "line 1: priority 70000 is out of range"),
    (" cookie=zz, priority=1 actions=drop\n", "line 1: cookie 'zz'"),
    (" cookie=0x0, table=0, bogus priority=1 actions=drop\n", "line 1: unexpected 'bogus'"),
    (" cookie=0x0, priority=1 actions=\n", "line 1 has empty actions"),
    ("<html>502 Bad Gateway</html>\n", "line 1 is not a flow"),
])
def test_malformed_lines_are_a_parse_error_naming_the_line(text: str, reason: str) -> None:
    with pytest.raises(ParseError) as raised:
        parse_dump_flows(text, command="ovs-ofctl dump-flows br-tun")
    assert raised.value.command == "ovs-ofctl dump-flows br-tun"
    assert reason in raised.value.reason


def test_split_top_keeps_parentheses_brackets_and_quotes() -> None:
    assert split_top('a,b(c,d),e[0..1],"x,y",') == ["a", "b(c,d)", "e[0..1]", '"x,y"']


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_anything_parses_or_is_a_parse_error(text: str) -> None:
    seed = real("ovs-ofctl-dump-flows-br-int.txt")
    for candidate in (text, seed[: len(text)] + text, seed.replace("priority", text[:5])):
        try:
            flows = parse_dump_flows(candidate)
        except ParseError:
            continue
        assert all(0 <= f.table <= 254 and 0 <= f.priority <= 65535 for f in flows)


def test_one_table_dumps_as_the_scanner_asks_for_them() -> None:
    flood = parse_dump_flows(real("ovs-ofctl-dump-flows-br-tun-table-22.txt"))
    assert [f.table for f in flood] == [22, 22, 22]  # the NXST_FLOW reply (xid=0x8) header is not a flow
    assert parse_dump_flows(real("ovs-ofctl-dump-flows-br-tun-table-99-empty.txt")) == []
    tables = {"br-int": parse_dump_flows(real("ovs-ofctl-dump-flows-br-int-table-0.txt")),
              "br-tun": parse_dump_flows(real("ovs-ofctl-dump-flows-br-tun-table-4.txt")) + flood}
    assert derive_openflow(tables, PORT_NAMES) == derive_openflow(flows_of("ovs-ofctl-"), PORT_NAMES)
