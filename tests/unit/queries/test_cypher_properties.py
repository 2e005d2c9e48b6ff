"""Every property a `.cypher` file reads is one the scanner writes.

A rename in the scanner (`remote_endpoints` -> `remote_ips`) once left two of the three branches of
invariant_tunnel_without_peer reading a property no node has: they returned nothing and nothing
noticed. This test parses each query (a small regex reader of Cypher, not a full parser) for the
variables bound to nodes and relationships in its patterns, the types those patterns name (labels,
`{type: '...'}`, relationship types), and the properties read from them (`x.prop`, `x {.prop}`,
`(x {prop: ...})`), and checks each against what the schema declares for those types
(graphmodel/schema.py), the fields every object or link has (DESIGN §3), and the properties the
projector writes itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from graphmodel.projector import CHECKPOINT_LABEL, RECENT_CHANGE_LABEL, link_properties, node_properties, recent_change
from graphmodel.schema import LINK_FIELDS, LINK_TYPES, OBJECT_FIELDS, OBJECT_TYPES
from queries.loader import CYPHER_DIR

ANY = "*"
#: Fields every object and link has (graphmodel/schema.py declares them with the types' attributes).
OBJECT_COMMON = frozenset(OBJECT_FIELDS)
LINK_COMMON = frozenset(LINK_FIELDS)
#: What the projector adds to every node and relationship itself (uid, env), derived from its own code.
PROJECTOR_NODE = frozenset(node_properties("e", {"id": "x"})) - {"id"}
PROJECTOR_LINK = frozenset(link_properties("e", {"source_id": "a", "target_id": "b"}))
#: The projector's own nodes: what it keeps of a change, and its checkpoint.
RECENT_CHANGE = frozenset(recent_change("e", {"id": "x"}, datetime.now(UTC))) | {"op", "log"}
CHECKPOINT = frozenset({"env", "seq"})

#: Properties the scanner writes that the schema does not declare, each with why it may be read.
#: (type, property) -> reason. Keep this short: declare an attribute in graphmodel/schema.py instead.
EXCEPTIONS: dict[tuple[str, str], str] = {}
#: Reads in one query that nothing writes, left as they are: query stem -> {"var.prop": reason}.
QUERY_EXCEPTIONS: dict[str, dict[str, str]] = {}

OBJECT_ATTRIBUTES = {t.name: OBJECT_COMMON | PROJECTOR_NODE | set(t.attributes) for t in OBJECT_TYPES}
LINK_ATTRIBUTES = {t.relationship: LINK_COMMON | PROJECTOR_LINK | set(t.attributes) for t in LINK_TYPES}
TYPE_OF_LABEL = {t.label: t.name for t in OBJECT_TYPES}
SPECIAL_LABELS = {RECENT_CHANGE_LABEL: RECENT_CHANGE, CHECKPOINT_LABEL: CHECKPOINT}

# A node pattern: (var:Label:Other {key: value, ...}); not a function call (`count(x)`: a word before it).
NODE = re.compile(r"(?<![\w.])\(\s*(?P<var>[A-Za-z_]\w*)?\s*(?P<labels>(?::\s*\w+\s*)*)(?P<props>\{[^{}]*\})?\s*\)")
# A relationship pattern: [var:TYPE_A|TYPE_B {key: value}] (a list comprehension `[x IN ...]` has no ':' or ']').
REL = re.compile(r"-\[\s*(?P<var>[A-Za-z_]\w*)?\s*(?::\s*(?P<types>[\w|]+))?\s*(?P<props>\{[^{}]*\})?\s*\]-")
# x.prop, but not $param.prop, not a number, not inside a string.
READ = re.compile(r"(?<![\w$.])(?P<var>[A-Za-z_]\w*)\.(?P<prop>[A-Za-z_]\w*)\b(?!\s*\()")
# A map projection: x {.a, .b, key: expr}
PROJECTION = re.compile(r"(?<![\w:])(?P<var>[A-Za-z_]\w*)\s*\{(?P<body>\s*\.[^{}]*)")  # up to a nested {
# CALL apoc.path.subgraphNodes(...) YIELD node: a node of any type.
YIELD_NODE = re.compile(r"\bYIELD\s+(?P<var>node)\b")
KEY = re.compile(r"(?:^|,)\s*(?P<key>[A-Za-z_]\w*)\s*:")
STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
COMMENT = re.compile(r"//[^\n]*")
TYPE_PROPERTY = re.compile(r"\btype\s*:\s*'(?P<type>\w+)'")


@dataclass
class Binding:
    """What a variable of one query stands for: node or relationship, and the types it may have."""

    kind: str  # "node" or "rel"
    types: set[str] = field(default_factory=set)  # ANY: not narrowed by the pattern
    extra: set[str] = field(default_factory=set)  # keys a map projection of it adds

    def allowed(self) -> set[str]:
        table = OBJECT_ATTRIBUTES if self.kind == "node" else LINK_ATTRIBUTES
        names = set(table) if ANY in self.types else {t for t in self.types if t in table}
        allowed = set().union(*(table[t] for t in names)) if names else set()
        for special in self.types & set(SPECIAL_LABELS):
            allowed |= SPECIAL_LABELS[special]
        exceptions = {prop for (owner, prop) in EXCEPTIONS
                      if owner in self.types or ANY in self.types
                      or (self.kind == "rel" and owner.upper() in self.types)}
        return allowed | exceptions | self.extra


@dataclass(frozen=True)
class Read:
    variable: str
    prop: str
    where: str  # the line, for the message


def without_strings(text: str) -> str:
    """The query with comments and string literals blanked (a property name in a message is no read)."""
    text = COMMENT.sub(lambda m: " " * len(m.group(0)), text)
    return STRING.sub(lambda m: m.group(0)[0] + " " * (len(m.group(0)) - 2) + m.group(0)[-1], text)


def keys_of(props: str | None) -> list[str]:
    return [m.group("key") for m in KEY.finditer(props.strip("{}"))] if props else []


def bindings_and_reads(text: str) -> tuple[dict[str, Binding], list[Read]]:
    """The node and relationship variables a query binds in its patterns, and every property it reads
    from them (pure). A variable bound several times (UNION branches, subqueries) may be any of its types."""
    code = without_strings(text)  # same length as text: positions match
    bindings: dict[str, Binding] = {}
    reads: list[Read] = []
    # the property maps of patterns are read (matched) too, even when the pattern binds no variable
    anonymous = 0
    for match in NODE.finditer(code):
        labels = [label.strip() for label in match.group("labels").split(":") if label.strip()]
        typed = {TYPE_OF_LABEL[label] for label in labels if label in TYPE_OF_LABEL}
        typed |= {label for label in labels if label in SPECIAL_LABELS}
        typed |= {m.group("type") for m in TYPE_PROPERTY.finditer(text[match.start():match.end()])}
        unknown = [label for label in labels if label not in TYPE_OF_LABEL and label not in SPECIAL_LABELS
                   and label != "Object"]
        assert not unknown, f"label(s) {unknown} are no declared object type: {match.group(0)}"
        var = match.group("var")
        if var is None:
            anonymous += 1
            var = f"<anonymous {anonymous}>"
        binding = bindings.setdefault(var, Binding("node"))
        binding.types |= typed or {ANY}
        reads += [Read(var, key, match.group(0)) for key in keys_of(match.group("props"))]
    for match in REL.finditer(code):
        types = set((match.group("types") or "").split("|")) - {""}
        # a relationship type the schema does not declare (a renamed link type) matches nothing, silently
        undeclared = types - set(LINK_ATTRIBUTES) - {"CONTAINS"}
        assert not undeclared, f"relationship type(s) {sorted(undeclared)} are no declared link type: {match.group(0)}"
        var = match.group("var")
        if var is None:
            anonymous += 1
            var = f"<anonymous {anonymous}>"
        binding = bindings.setdefault(var, Binding("rel"))
        binding.types |= types or {ANY}
        reads += [Read(var, key, match.group(0)) for key in keys_of(match.group("props"))]
    for match in YIELD_NODE.finditer(code):
        bindings.setdefault(match.group("var"), Binding("node")).types.add(ANY)
    for match in PROJECTION.finditer(code):
        var = match.group("var")
        if var in bindings:
            entries = [entry.strip() for entry in match.group("body").split(",")]
            reads += [Read(var, entry[1:], match.group(0)) for entry in entries if entry.startswith(".")]
            bindings[var].extra |= {m.group("key") for m in KEY.finditer(match.group("body"))}
    for match in READ.finditer(code):
        if match.group("var") in bindings:
            line = code[code.rfind("\n", 0, match.start()) + 1:code.find("\n", match.end())].strip()
            reads.append(Read(match.group("var"), match.group("prop"), line))
    return bindings, reads


def unknown_reads(text: str) -> list[str]:
    """Every property the query reads that nothing writes on the types it reads it from (pure)."""
    bindings, reads = bindings_and_reads(text)
    return [f"{read.variable}.{read.prop} (a {bindings[read.variable].kind} of type(s) "
            f"{sorted(bindings[read.variable].types)}) in: {read.where}"
            for read in reads if read.prop not in bindings[read.variable].allowed()]


QUERIES = sorted(CYPHER_DIR.glob("*.cypher"))


def test_there_are_queries_to_check() -> None:
    assert len(QUERIES) >= 15


@pytest.mark.parametrize("query", QUERIES, ids=[q.stem for q in QUERIES])
def test_every_property_a_query_reads_is_written(query) -> None:  # type: ignore[no-untyped-def]
    excepted = QUERY_EXCEPTIONS.get(query.stem, {})
    found = unknown_reads(query.read_text())
    assert [f for f in found if f.split(" ")[0] not in excepted] == []
    assert {f.split(" ")[0] for f in found} >= set(excepted), "an exception is no longer needed: drop it"


def test_the_reader_finds_a_renamed_property() -> None:
    # The query as it was before the fix: the scanner writes remote_ips.
    old = """
    MATCH (x:Object {env: $env, type: 'otep'})
    WITH collect(x) AS oteps
    MATCH (o:Object {env: $env, host: host, type: 'otep'})
    WITH o, [x IN oteps WHERE x.remote_endpoints IS NOT NULL] AS others
    RETURN coalesce(o.remote_endpoints, []) AS ips, o.ip_address AS ip
    """
    found = unknown_reads(old)
    assert len(found) == 2 and all("remote_endpoints" in f for f in found), found
    assert unknown_reads(old.replace("remote_endpoints", "remote_ips")) == []


def test_the_reader_narrows_by_label_type_and_relationship() -> None:
    # mtu is a vNIC's and a NIC's attribute, not a network agent's; vlan_tag is on VNIC_VEDGE, not on
    # HOST_PNIC_NETWORK; a pattern's own property map is read too; a string or a comment is no read.
    assert unknown_reads("MATCH (a:NetworkAgent) RETURN a.mtu") != []
    assert unknown_reads("MATCH (a:Vnic) RETURN a.mtu, a.network_id") == []
    assert unknown_reads("MATCH (a:Object {type: 'network_agent'}) RETURN a.alive") == []
    assert unknown_reads("MATCH (a:Object {type: 'network_agent'}) RETURN a.mtu") != []
    assert unknown_reads("MATCH ()-[r:VNIC_VEDGE]->() RETURN r.vlan_tag") == []
    assert unknown_reads("MATCH ()-[r:HOST_PNIC_NETWORK]->() RETURN r.vlan_tag") != []
    with pytest.raises(AssertionError, match="VNIC_VSWITCH"):
        unknown_reads("MATCH ()-[r:VNIC_VSWITCH]->() RETURN r.state")
    assert unknown_reads("MATCH (n:Object {colour: 1}) RETURN n") != []
    assert unknown_reads("MATCH (n:Vnic) RETURN 'n.colour' AS s // n.colour\n") == []
    assert unknown_reads("MATCH (n:Vnic) RETURN n {.id, .colour}") != []
    assert unknown_reads("MATCH (n:Vnic) WITH n {.id, up: true} AS m, n RETURN n.up") == []
    assert unknown_reads("MATCH (c:RecentChange {uid: $u}) RETURN c.at, c.op, c.log") == []


def test_exceptions_are_still_needed() -> None:
    # An exception nothing reads any more, or whose attribute the schema now declares, goes.
    read = {(t, r.prop) for q in QUERIES for bindings, reads in [bindings_and_reads(q.read_text())]
            for r in reads for t in bindings[r.variable].types}
    for (owner, prop), reason in EXCEPTIONS.items():
        declared = OBJECT_ATTRIBUTES.get(owner) or LINK_ATTRIBUTES.get(owner.upper(), set())
        assert prop not in declared, f"{owner}.{prop} is declared now: drop its exception"
        assert any(p == prop and (t == owner or t == owner.upper() or t == ANY) for t, p in read), \
            f"no query reads {owner}.{prop} any more: drop its exception ({reason})"
