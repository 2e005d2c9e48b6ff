"""Every host parser on mutated real output (hypothesis): truncated, with garbage lines, with huge or
negative numbers, with JSON keys dropped or retyped, with non-UTF-8 bytes as the transport decodes
them (errors="replace"), or empty.

A parser (and the join that makes the scanner's facts of what it parsed) must return a result or raise
its own ParseError naming the command; anything else is a bug. The parsers are also run without their
`guarded` safety net (`__wrapped__`), so that a surprise the net would only turn into "unexpected
structure (IndexError: ...)" is caught here and fixed where it happens. Every number in a result must
fit the 64-bit integers MongoDB and Neo4j store.

Seeds: the real captures in tests/fixtures/real/ and the VPP recordings in tests/fixtures/reference/vpp/.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ingest.sources.host import parsers
from ingest.sources.host.parsers import bridge, iproute, libvirt, ovs, sysfs, vpp
from ingest.sources.host.parsers.errors import ParseError

FIXTURES = Path(__file__).resolve().parents[5] / "fixtures"
REAL = FIXTURES / "real"
VPP = FIXTURES / "reference" / "vpp"
INT64 = 2**63

# Moderate example counts keep the whole file well under a minute on the 2 shared cores;
# CALIPSO_FUZZ_EXAMPLES=5000 digs deeper.
EXAMPLES = int(os.environ.get("CALIPSO_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                         HealthCheck.data_too_large])


def seeds(folder: Path, *patterns: str) -> list[str]:
    found = sorted({p for pattern in patterns for p in folder.glob(pattern)})
    assert found, f"no seed matches {patterns} in {folder}"
    return [p.read_text() for p in found]


# -- mutations -------------------------------------------------------------------------------------------

NUMBER = re.compile(r"\d+")
ODD_NUMBERS = ["-1", "0", "-0", "4294967296", str(INT64), "-" + str(INT64 + 1), "1" + "0" * 30, "9" * 5000,
               "0x7fffffffffffffffff", "1e999", "nan", "1.5"]
GARBAGE_LINES = ["", "   ", "\t", "{", "}", "]", "[", "<", ">", "-", ":", "::", " : ", "null", "Error: nothing",
                 "Segmentation fault", "<!DOCTYPE html><html>", "<html><body>502 Bad Gateway</body></html>",
                 "0: : <>", "1: x: <UP,LOWER_UP> mtu", "    link/ether", "    vf", "    vxlan id", "port : x",
                 "    port 1: (", "Bridge", "        Port", "            Interface", "Settings for :",
                 "Bonding Mode: x", "Slave Interface:", "lrwxrwxrwx x -> ", "  carrier",
                 "  Link speed: 9999999999999999999999 Gbps",
                 "Name Idx State", "l2 bridge", "Id Name State", "----", " - x", "\x00\x01\x02", "\ufffd\ufffd",
                 "a" * 3000]


def _truncate(draw: st.DrawFn, text: str) -> str:
    return text[:draw(st.integers(0, len(text)))]


def _insert_line(draw: st.DrawFn, text: str) -> str:
    lines = text.splitlines()
    # a garbage line, random text, or a real line at another indentation
    indent = draw(st.sampled_from(["", " ", "    ", "\t"]))
    line = draw(st.sampled_from(GARBAGE_LINES) | st.text(max_size=60)
                | st.sampled_from(lines or [""]).map(lambda existing: indent + existing.strip()))
    lines.insert(draw(st.integers(0, len(lines))), line)
    return "\n".join(lines) + "\n"


def _drop_line(draw: st.DrawFn, text: str) -> str:
    lines = text.splitlines()
    if lines:
        del lines[draw(st.integers(0, len(lines) - 1))]
    return "\n".join(lines) + "\n"


def _numbers(draw: st.DrawFn, text: str) -> str:
    matches = list(NUMBER.finditer(text))
    if not matches:
        return text
    match = draw(st.sampled_from(matches))
    number = draw(st.sampled_from(ODD_NUMBERS) | st.integers().map(str))
    return text[:match.start()] + number + text[match.end():]


def _bytes(draw: st.DrawFn, text: str) -> str:
    """Bytes the tool never prints, decoded as the transport decodes them (errors="replace")."""
    raw = text.encode()
    at = draw(st.integers(0, len(raw)))
    junk = draw(st.binary(min_size=1, max_size=8))
    return (raw[:at] + junk + raw[at:]).decode(errors="replace")


def _empty(draw: st.DrawFn, text: str) -> str:
    return draw(st.sampled_from(["", "\n", "   \n\n"]))


def _words(draw: st.DrawFn, text: str) -> str:
    """A word dropped or duplicated within a line: fields missing, or in the wrong place."""
    lines = text.splitlines()
    if not lines:
        return text
    index = draw(st.integers(0, len(lines) - 1))
    words = lines[index].split(" ")
    at = draw(st.integers(0, len(words) - 1))
    if draw(st.booleans()):
        del words[at]
    else:
        words.insert(at, words[at])
    lines[index] = " ".join(words)
    return "\n".join(lines) + "\n"


TEXT_MUTATIONS = [_truncate, _insert_line, _drop_line, _numbers, _bytes, _empty, _words]

ODD_VALUES = st.sampled_from([None, "", "x", -1, 0, INT64, -INT64 - 1, 10**30, 1.5, True, [], {}, [[]], {"": None},
                              ["set", []], ["map", [["a"]]], ["uuid", 5], ["set", [["uuid", "u"], 7]], "\ufffd"])


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _json(draw: st.DrawFn, text: str) -> str:
    """A JSON value replaced by an odd one (wrong type, huge or negative number), or a key dropped."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return text
    path = draw(st.sampled_from(_paths(document)))
    if not path:
        return json.dumps(draw(ODD_VALUES))
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    if isinstance(parent, dict) and draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(ODD_VALUES)
    return json.dumps(document)


def _nesting(draw: st.DrawFn, text: str) -> str:
    depth = draw(st.sampled_from([50, 5000, 100_000]))
    return "[" * depth + "]" * depth


JSON_MUTATIONS = [_json, _json, _json, _nesting]


@st.composite
def mutated(draw: st.DrawFn, texts: list[str], structured: bool = False) -> str:
    """One of `texts` with one to three mutations (JSON ones too when `structured`)."""
    text = draw(st.sampled_from(texts))
    mutations = TEXT_MUTATIONS + (JSON_MUTATIONS if structured else [])
    for _ in range(draw(st.integers(1, 3))):
        text = draw(st.sampled_from(mutations))(draw, text)
    return text


# -- the property ------------------------------------------------------------------------------------------

def huge_numbers(value: Any, where: str = "result") -> list[str]:
    """Where in a parsed result a number lies outside the signed 64-bit range."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [where] if not -INT64 <= value < INT64 else []
    if isinstance(value, float):
        return [where] if value != value or value in (float("inf"), float("-inf")) else []
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [w for f in dataclasses.fields(value) for w in huge_numbers(getattr(value, f.name), f"{where}.{f.name}")]
    if isinstance(value, dict):
        return [w for k, v in value.items()
                for w in huge_numbers(k, f"{where} key") + huge_numbers(v, f"{where}[{k!r}]")]
    if isinstance(value, (list, tuple, set)):
        return [w for n, item in enumerate(value) for w in huge_numbers(item, f"{where}[{n}]")]
    return []


def holds(parse: Callable[[str], Any], text: str, command: str) -> None:
    """parse(text) returns a result whose numbers fit 64 bits, or raises ParseError naming `command`."""
    try:
        result = parse(text)
    except ParseError as error:
        assert error.command.startswith(command.split()[0]), (error.command, command)
        assert error.reason
        event("ParseError")
        return
    event("parsed")
    assert not huge_numbers(result), f"numbers out of range at {huge_numbers(result)}"


def strict(parser: Callable[..., Any]) -> Callable[..., Any]:
    """The parser without its `guarded` net: only the ParseErrors it raises itself get out."""
    return parser.__wrapped__  # type: ignore[attr-defined,no-any-return]


# (name, parse text -> facts, seeds, JSON?) -- each parser followed by the join that makes facts of it
def _ovsdb(table: str) -> Callable[..., Any]:
    def parse(text: str, **kwargs: Any) -> Any:
        return ovs.parse_ovsdb_table(text, table, **kwargs)
    parse.__wrapped__ = lambda text, **kwargs: strict(ovs.parse_ovsdb_table)(  # type: ignore[attr-defined]
        text, table, command=f"ovs-vsctl --format=json list {table}")
    return parse


CASES: list[tuple[str, Callable[..., Any], Callable[[Any], Any], list[str], bool]] = [
    ("ip -d -j link", iproute.parse_ip_link_json, lambda links: [parsers.interface_fact(x) for x in links],
     seeds(REAL / "iproute2", "*link*.json"), True),
    ("ip -d link show", iproute.parse_ip_link_text, lambda links: [parsers.interface_fact(x) for x in links],
     seeds(REAL / "iproute2", "*link-show*.txt"), False),
    ("ip -j addr", iproute.parse_ip_addr_json, parsers.global_addresses, seeds(REAL / "iproute2", "ip-j-addr.json"),
     True),
    ("ip address show", iproute.parse_ip_addr_text, parsers.global_addresses,
     seeds(REAL / "iproute2", "ip-address-show*.txt"), False),
    ("ip netns list", iproute.parse_netns_list, list, seeds(REAL / "iproute2", "ip-netns-list*.txt"), False),
    ("bridge -j fdb show", bridge.parse_bridge_fdb_json, parsers.vxlan_remotes, seeds(REAL / "bridge", "*.json"),
     True),
    ("bridge fdb show", bridge.parse_bridge_fdb_text, parsers.vxlan_remotes, seeds(REAL / "bridge", "*.txt"), False),
    ("ovs-vsctl show", ovs.parse_ovs_vsctl_show, parsers.ovs_ports_from_show, seeds(REAL / "ovs", "*vsctl-show*.txt"),
     False),
    ("ovs-vsctl --format=json list Bridge", _ovsdb("Bridge"), list,
     seeds(REAL / "ovs", "*list-Bridge.json", "*list-Open_vSwitch.json", "*list-Controller.json"), True),
    ("ovs-vsctl --format=json list Port", _ovsdb("Port"), list, seeds(REAL / "ovs", "*list-Port.json"), True),
    ("ovs-vsctl --format=json list Interface", _ovsdb("Interface"), list,
     seeds(REAL / "ovs", "*list-Interface*.json"), True),
    ("ovs-dpctl show", ovs.parse_ovs_dpctl_show, parsers.dpctl_ports,
     seeds(REAL / "ovs", "*dpctl-show*.txt"), False),
    ("ovs-appctl dpif/show", ovs.parse_ovs_dpif_show, parsers.dpif_ports, seeds(REAL / "ovs", "*dpif-show*.txt"),
     False),
    ("virsh list --all", libvirt.parse_virsh_list, list, seeds(REAL / "libvirt", "*virsh-list*.txt"), False),
    ("virsh dumpxml", libvirt.parse_virsh_dumpxml, lambda xml: parsers.domain_fact(xml, "running"),
     seeds(REAL / "libvirt", "*dumpxml*.xml"), False),
    ("ls -l /sys/class/net", sysfs.parse_sys_class_net, list, seeds(REAL / "sysfs", "*.txt"), False),
    ("ethtool", sysfs.parse_ethtool_link, lambda x: x, seeds(REAL / "ethtool", "*.txt"), False),
    ("cat /proc/net/bonding", sysfs.parse_bonding, lambda x: x, seeds(REAL / "bonding", "*.txt"), False),
    ("vppctl show int", vpp.parse_vpp_show_int, list, seeds(VPP, "vppctl-show-int.txt"), False),
    ("vppctl show mode", vpp.parse_vpp_show_mode, list, seeds(VPP, "vppctl-show-mode.txt"), False),
    ("vppctl show hardware-interfaces", vpp.parse_vpp_hardware, list,
     seeds(VPP, "vppctl-show-hardware-interfaces.txt"), False),
]
IDS = [case[0] for case in CASES]


@pytest.mark.parametrize(("command", "parse", "join", "texts", "structured"), CASES, ids=IDS)
def test_seeds_parse(command: str, parse: Callable[..., Any], join: Callable[[Any], Any], texts: list[str],
                     structured: bool) -> None:
    """The unmutated captures parse (bar the captured error output of a tool) -- the fuzzing starts from
    real, accepted text."""
    parsed = 0
    for text in texts:
        try:
            join(parse(text))
            parsed += 1
        except ParseError:
            pass
    assert parsed >= 1


@pytest.mark.parametrize(("command", "parse", "join", "texts", "structured"), CASES, ids=IDS)
@FUZZ
@given(data=st.data())
def test_mutated_output_gives_a_result_or_a_parse_error(command: str, parse: Callable[..., Any],
                                                        join: Callable[[Any], Any], texts: list[str],
                                                        structured: bool, data: st.DataObject) -> None:
    text = data.draw(mutated(texts, structured), label="output")
    holds(lambda t: join(parse(t)), text, command)
    holds(lambda t: join(strict(parse)(t)), text, command)


# -- joins of several tables: one table mutated, the others real ----------------------------------------------

OVS_TABLES = {table: seeds(REAL / "ovs", f"ovs-vsctl-format-json-list-{table}.json")[0]
              for table in ("Bridge", "Port", "Interface")}


@FUZZ
@given(table=st.sampled_from(sorted(OVS_TABLES)), data=st.data())
def test_ovs_ports_of_a_mutated_table(table: str, data: st.DataObject) -> None:
    """ovs_ports joins three tables by uuid: a row without its columns, or a uuid of the wrong type in
    one of them, is a ParseError naming that table."""
    texts = dict(OVS_TABLES)
    texts[table] = data.draw(mutated([OVS_TABLES[table]], structured=True))

    def join(_: str) -> Any:
        rows = {name: ovs.parse_ovsdb_table(text, name, command=f"ovs-vsctl --format=json list {name}")
                for name, text in texts.items()}
        return parsers.ovs_ports(rows["Bridge"], rows["Port"], rows["Interface"])

    holds(join, texts[table], "ovs-vsctl")


VPP_OUTPUTS = {"show int": (VPP / "vppctl-show-int.txt").read_text(),
               "show mode": (VPP / "vppctl-show-mode.txt").read_text(),
               "show hardware-interfaces": (VPP / "vppctl-show-hardware-interfaces.txt").read_text()}


@FUZZ
@given(which=st.sampled_from(sorted(VPP_OUTPUTS)), data=st.data())
def test_vpp_interfaces_of_a_mutated_output(which: str, data: st.DataObject) -> None:
    texts = dict(VPP_OUTPUTS)
    texts[which] = data.draw(mutated([VPP_OUTPUTS[which]]))

    def join(_: str) -> Any:
        return parsers.vpp_interfaces(parsers.parse_vpp_show_int(texts["show int"]),
                                      parsers.parse_vpp_show_mode(texts["show mode"]),
                                      parsers.parse_vpp_hardware(texts["show hardware-interfaces"]))

    holds(join, texts[which], "vppctl")


# -- what the fuzzing found, kept as plain examples ----------------------------------------------------------

HUGE = "9" * 5000  # beyond Python's 4300-digit int conversion limit
WIDE = "1" + "0" * 30  # parses, but beyond the 64-bit integers MongoDB and Neo4j store
OVSDB_PORT = '{"headings": ["_uuid", "name", "interfaces", "tag"], "data": [[["uuid", "p1"], "eth1", %s, %s]]}'


@pytest.mark.parametrize(("parse", "text", "reason"), [
    # JSON nested deeper than the decoder's recursion: RecursionError
    (lambda t: parsers.parse_ip_link_json(t), "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    # a number of 5000 digits: json raises ValueError, not JSONDecodeError
    (lambda t: parsers.parse_ip_addr_json(t), f'[{{"ifname": "eth0", "ifindex": {HUGE}}}]', "not JSON"),
    # `linkinfo` an array, `flags` a number: AttributeError, TypeError
    (lambda t: parsers.parse_ip_link_json(t), '[{"ifname": "eth0", "linkinfo": []}]', "`linkinfo` of 'eth0'"),
    (lambda t: parsers.parse_ip_addr_json(t), '[{"ifname": "eth0", "flags": 5}]', "`flags` of 'eth0'"),
    # a device index wider than 64 bits in the text form
    (lambda t: parsers.parse_ip_link_text(t), f"{WIDE}: eth0: <UP> mtu 1500\n", "ifindex"),
    (lambda t: parsers.parse_netns_list(t), f"ns1 (id: {HUGE})\n", "nsid"),
    # control characters (NUL from a broken pipe) are no file name: `ip netns exec` would be asked for them
    (lambda t: parsers.parse_netns_list(t), "\x00\x01\x02\n", "not a namespace name"),
    # `link-netnsid` followed by no number: ValueError
    (lambda t: parsers.parse_bridge_fdb_text(t), "fa:16:3e:00:00:01 dev tap0 link-netnsid self\n", "link-netnsid"),
    # OVSDB: a map that is not a list of pairs (TypeError), a uuid that is no string, a 100-bit integer
    (lambda t: parsers.parse_ovsdb_table(t, "Interface"),
     '{"headings": ["_uuid", "options"], "data": [[["uuid", "i1"], ["map", null]]]}', "column options"),
    (lambda t: parsers.parse_ovsdb_table(t, "Port"), OVSDB_PORT % ('["uuid", null]', "[\"set\", []]"),
     "column interfaces"),
    (lambda t: parsers.parse_ovsdb_table(t, "Port"), OVSDB_PORT % ('["set", []]', WIDE), "column tag"),
    (lambda t: parsers.parse_ovsdb_table(t, "Interface"),
     '{"headings": ["_uuid", "mtu"], "data": [[["uuid", "i1"], 1e999]]}', "not finite"),
    (lambda t: parsers.parse_ovs_vsctl_show(t),
     "0b5a3d0e-5c1b-4b8e-9e57-3f1f4d5e6a7b\n    Bridge br-int\n        Port p\n            tag: x\n", "tag"),
    (lambda t: parsers.parse_ovs_dpctl_show(t), f"system@ovs-system:\n  port {HUGE}: br-int (internal)\n",
     "port number"),
    (lambda t: parsers.parse_ovs_dpctl_show(t), "system@ovs-system:\n  port 1: vx (vxlan: dst_port)\n", "key=value"),
    (lambda t: parsers.parse_virsh_list(t), f" Id   Name   State\n----------------\n {HUGE}  vm1  running\n", "Id"),
    (lambda t: parsers.parse_virsh_dumpxml(t),
     "<domain><name>vm</name><uuid>u</uuid><devices><interface type='bridge'><mac address='fa:16:3e:00:00:01'/>"
     "<mtu size='x'/></interface></devices></domain>", "<mtu size=...>"),
    (lambda t: parsers.parse_ethtool_link(t), f"Settings for eth0:\n\tSpeed: {WIDE}Mb/s\n", "Speed"),
    (lambda t: parsers.parse_bonding(t), "Bonding Mode: fault-tolerance (active-backup)\n"
     "MII Polling Interval (ms): x\n", "MII Polling Interval"),
    # `speed` as the last word: IndexError; a 400-digit link speed: OverflowError, which escaped the guard
    (lambda t: parsers.parse_vpp_hardware(t), "Name Idx Link Hardware\neth0 1 up eth0\n  carrier up speed\n",
     "no number after `speed`"),
    (lambda t: parsers.parse_vpp_hardware(t),
     f"Name Idx Link Hardware\neth0 1 up eth0\n  Link speed: {'9' * 400} Gbps\n", "Link speed"),
])
def test_what_the_fuzzing_found_is_a_parse_error_naming_the_field(parse: Callable[[str], Any], text: str,
                                                                  reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert reason in caught.value.reason


def test_fdb_json_fields_of_another_type_are_left_out() -> None:
    """A `dst` that is a list made vxlan_remotes fail (TypeError: unhashable) outside the parser's guard."""
    entries = parsers.parse_bridge_fdb_json('[{"mac": "00:00:00:00:00:00", "ifname": "vx", "dst": ["10.0.0.2"]},'
                                            ' {"mac": "00:00:00:00:00:00", "ifname": "vx", "dst": "10.0.0.3"}]')
    assert parsers.vxlan_remotes(entries) == {"vx": ["10.0.0.3"]}


@pytest.mark.parametrize(("table", "row", "column"), [
    ("Bridge", '{"headings": ["_uuid", "name"], "data": [[["uuid", "b1"], "br-int"]]}', "ports"),
    ("Port", '{"headings": ["_uuid", "interfaces", "tag"], "data": [[["uuid", "p1"], ["set", []], 5]]}', "name"),
])
def test_ovs_ports_names_the_table_and_column_a_row_lacks(table: str, row: str, column: str) -> None:
    """The join of the three tables raised KeyError (outside any parser's guard, so it failed the scan)."""
    texts = {**OVS_TABLES, table: row}
    rows = {name: ovs.parse_ovsdb_table(text, name) for name, text in texts.items()}
    if table == "Port":  # make the bridge point at the odd port
        rows["Bridge"] = [{**rows["Bridge"][0], "ports": ["p1"]}]
    with pytest.raises(ParseError) as caught:
        parsers.ovs_ports(rows["Bridge"], rows["Port"], rows["Interface"])
    assert f"list {table}" in caught.value.command and f"`{column}`" in caught.value.reason


def test_good_output_still_parses_to_the_same_facts() -> None:
    """The fixes change nothing for real output: the captures' numbers come through as before."""
    links = parsers.parse_ip_link_text((REAL / "iproute2" / "ip-d-link-show.txt").read_text())
    assert all(isinstance(link.ifindex, int) and link.ifindex > 0 for link in links)
    hardware = parsers.parse_vpp_hardware((VPP / "vppctl-show-hardware-interfaces.txt").read_text())
    assert any(h.speed for h in hardware) and all(h.mtu is None or h.mtu > 0 for h in hardware)
