"""`bridge fdb` parsers on real captures (tests/fixtures/real/bridge) and recorded samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.sources.host.parsers.bridge import parse_bridge_fdb_json, parse_bridge_fdb_text, vxlan_remotes
from ingest.sources.host.parsers.errors import ParseError

FIXTURES = Path(__file__).resolve().parents[5] / "fixtures" / "real" / "bridge"


def real(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_fdb_json_and_text_agree_on_the_live_capture() -> None:
    from_json = parse_bridge_fdb_json(real("bridge-j-fdb-show.json"))
    assert from_json == parse_bridge_fdb_text(real("bridge-fdb-show.txt"))
    remotes = sorted(e.dst for e in from_json if e.dev == "vxlan-1001" and e.mac == "00:00:00:00:00:00")
    assert remotes == ["192.168.50.12", "192.168.50.13"]
    learned = next(e for e in from_json if e.mac == "22:71:c5:e4:25:0c")
    assert (learned.dev, learned.master, learned.state, learned.permanent) == ("tapns0", "brqcalfix", None, False)
    static = next(e for e in from_json if e.mac == "fa:16:3e:44:55:66")
    assert (static.dev, static.state) == ("tapcalfix0", "static")
    vtep = next(e for e in from_json if e.mac == "fa:16:3e:11:22:33")
    assert (vtep.dst, vtep.self_entry, vtep.permanent, vtep.master) == ("192.168.50.12", True, True, None)


def test_fdb_text_samples_with_vlans_vxlan_remotes_and_netnsid() -> None:
    evpn = parse_bridge_fdb_text(real("sample-bridge-fdb-show-evpn.txt"))
    assert (evpn[0].vlan, evpn[0].state, evpn[0].master) == (10, None, "br0")
    assert evpn[2].flags == ["extern_learn"] and evpn[5].flags == ["self", "extern_learn"]
    assert evpn[4].dst == "10.255.1.22" and evpn[4].permanent
    overlay = parse_bridge_fdb_text(real("sample-bridge-fdb-show-link-netnsid.txt"))
    remote = next(e for e in overlay if e.dst)
    assert (remote.dev, remote.dst, remote.link_netnsid) == ("vxlan0", "172.31.29.77", 0)


def test_empty_output_is_no_entries() -> None:
    assert parse_bridge_fdb_json("") == [] and parse_bridge_fdb_text("") == []


HTML = "<html><body><h1>403 Forbidden</h1></body></html>\n"


@pytest.mark.parametrize(("parse", "command", "text"), [
    (parse_bridge_fdb_json, "bridge -j fdb show", real("bridge-j-fdb-show.json")[:300]),
    (parse_bridge_fdb_json, "bridge -j fdb show", HTML),
    (parse_bridge_fdb_json, "bridge -j fdb show", '[{"ifname": "eth0"}]'),
    (parse_bridge_fdb_text, "bridge fdb show", HTML),
    (parse_bridge_fdb_text, "bridge fdb show", real("bridge-j-fdb-show.json")),
    (parse_bridge_fdb_text, "bridge fdb show", "00:00:00:00:00:00 dev vxlan0 vlan ten\n"),
])
def test_malformed_input_raises_parse_error_naming_the_command(parse, command: str, text: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert f"`{command}`" in str(caught.value)


def test_vxlan_remotes_are_the_dst_of_each_device() -> None:
    # flood entries to .12 and .13, and a per-MAC entry to .12 again
    assert vxlan_remotes(parse_bridge_fdb_json(real("bridge-j-fdb-show.json"))) == {
        "vxlan-1001": ["192.168.50.12", "192.168.50.13"]}
    assert vxlan_remotes(parse_bridge_fdb_text(real("sample-bridge-fdb-show-link-netnsid.txt"))) == {
        "vxlan0": ["172.31.29.77"]}
