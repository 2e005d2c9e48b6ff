"""Cliques: the subgraph reached from a focal point (a VM, a vservice, a network) by following the
ordered link types of its clique type, in either direction (DESIGN §3, REFERENCE "Clique types").

Clique types are documents in MongoDB (`clique_types`), seeded from graphmodel.schema.CLIQUE_TYPES;
users add their own. The most specific variant match wins (distribution, mechanism driver, type
driver; ANY as fallback). In Neo4j a clique is one query, never a stored copy.

The walk: each link type, in order, is followed from the nodes of the type reached first (so a VM's
clique reaches its vedge through its own bridge, and does not come back from the vedge to every other
port of the switch), and a link carrying a `network` attribute that is not one of the focal point's
networks is not followed, nor a link into another network.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import neo4j
from pymongo.errors import BulkWriteError

from core.errors import CalipsoError
from core.stores import MongoDatabase
from graphmodel.inventory import OBJECTS
from graphmodel.schema import CLIQUE_TYPES, LINK_TYPES_BY_NAME, OBJECT_TYPES_BY_NAME, CliqueType, uid
from queries.loader import run_query
from queries.results import Tabular

CLIQUE_TYPES_COLLECTION = "clique_types"
ENVIRONMENTS = "environments"  # core.environments.ENVIRONMENTS; read raw so the variant is optional
ANY = "ANY"
KNOWN_CONSTRAINTS = ("network",)

#: Neutron's names for the mechanism drivers, as environment documents or agents may spell them.
MECHANISM_ALIASES = {"openvswitch": "ovs", "linuxbridge": "lxb", "sriovnicswitch": "sriov", "vpp": "vpp"}


class CliqueError(CalipsoError):
    """A clique cannot be computed: unknown object, no clique type for it, or a bad clique type."""


# -- clique types: documents, validation, variant matching (pure) ---------------------------------

def clique_type_document(clique_type: CliqueType, builtin: bool = False) -> dict[str, Any]:
    """A clique type as its MongoDB document."""
    return {"name": clique_type.name, "focal_point_type": clique_type.focal_point_type,
            "link_types": list(clique_type.link_types), "distribution": clique_type.distribution,
            "mechanism_driver": clique_type.mechanism_driver, "type_driver": clique_type.type_driver,
            "constraints": list(clique_type.constraints), "builtin": builtin}


def validate_clique_type(doc: Mapping[str, Any]) -> CliqueType:
    """A user's clique type document as a CliqueType; CliqueError names every bad field."""
    problems = []
    allowed = {"name", "focal_point_type", "link_types", "distribution", "mechanism_driver", "type_driver",
               "constraints", "builtin", "_id"}
    problems += [f"{key}: unknown key (allowed: {', '.join(sorted(allowed - {'_id', 'builtin'}))})"
                 for key in doc if key not in allowed]
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append("name: a non-empty string is required")
    focal = doc.get("focal_point_type")
    if focal not in OBJECT_TYPES_BY_NAME:
        problems.append(f"focal_point_type: {focal!r} is not an object type "
                        f"(known: {', '.join(sorted(OBJECT_TYPES_BY_NAME))})")
    link_types = doc.get("link_types")
    if not isinstance(link_types, (list, tuple)) or not link_types:
        problems.append("link_types: a non-empty list of link type names is required")
        link_types = []
    for index, name_ in enumerate(link_types):
        if name_ not in LINK_TYPES_BY_NAME:
            problems.append(f"link_types.{index}: {name_!r} is not a link type "
                            f"(known: {', '.join(sorted(LINK_TYPES_BY_NAME))})")
    for key in ("distribution", "mechanism_driver", "type_driver"):
        value = doc.get(key, ANY)
        if not isinstance(value, str) or not value:
            problems.append(f"{key}: a string is required ({ANY} fits every value)")
    constraints = doc.get("constraints", list(KNOWN_CONSTRAINTS))
    if not isinstance(constraints, (list, tuple)) or any(c not in KNOWN_CONSTRAINTS for c in constraints):
        problems.append(f"constraints: a list of {', '.join(KNOWN_CONSTRAINTS)} is expected, got {constraints!r}")
    if not problems and len(reachable_types(str(focal), link_types)) == 1:
        problems.append(f"link_types: none of them touches a {focal}, so the walk would never start")
    if problems:
        raise CliqueError("invalid clique type: " + "; ".join(problems))
    return CliqueType(name=str(name), focal_point_type=str(focal), link_types=tuple(link_types),
                      mechanism_driver=_normal_mechanism(doc.get("mechanism_driver", ANY)),
                      type_driver=str(doc.get("type_driver", ANY)).lower() if doc.get("type_driver", ANY) != ANY
                      else ANY, distribution=str(doc.get("distribution", ANY)),
                      constraints=tuple(constraints))


def _normal_mechanism(value: str | None) -> str:
    if value is None or value == ANY:
        return ANY
    return MECHANISM_ALIASES.get(value.lower(), value.lower())


def match_clique_type(types: Iterable[CliqueType], focal_type: str, distribution: str | None = None,
                      mechanism: str | None = None, type_driver: str | None = None) -> CliqueType | None:
    """The clique type for a focal point of `focal_type` in this variant: among the types whose every
    field is ANY or equal, the most specific (most exact fields; then distribution before mechanism
    driver before type driver) wins. None when no type fits."""
    wanted = {"distribution": (distribution or "").lower(), "mechanism_driver": _normal_mechanism(mechanism).lower(),
              "type_driver": (type_driver or "").lower()}
    best: tuple[tuple[int, ...], CliqueType] | None = None
    for candidate in types:
        if candidate.focal_point_type != focal_type:
            continue
        exact = []
        fits = True
        for key in ("distribution", "mechanism_driver", "type_driver"):
            value = getattr(candidate, key)
            if value == ANY:
                exact.append(0)
            elif value.lower() == wanted[key]:
                exact.append(1)
            else:
                fits = False
                break
        if not fits:
            continue
        score = (sum(exact), *exact)
        if best is None or score > best[0]:
            best = (score, candidate)
    return best[1] if best else None


def walk_steps(link_types: Sequence[str]) -> list[dict[str, str]]:
    """The clique walk's steps, in order: each link type's relationship and its two end types (the
    query follows each from the end type it found first)."""
    return [{"relationship": LINK_TYPES_BY_NAME[name].relationship, "source_type": LINK_TYPES_BY_NAME[name].source,
             "target_type": LINK_TYPES_BY_NAME[name].target} for name in link_types]


def reachable_types(focal_type: str, link_types: Sequence[str]) -> list[str]:
    """The object types a walk of these link types can reach from a focal type, in order (pure)."""
    reached = [focal_type]
    for name in link_types:
        link = LINK_TYPES_BY_NAME[name]
        if link.source in reached and link.target not in reached:
            reached.append(link.target)
        elif link.target in reached and link.source not in reached:
            reached.append(link.source)
    return reached


# -- clique types in MongoDB --------------------------------------------------------------------------

def seed_clique_types(database: MongoDatabase) -> int:
    """Insert the declared clique types that are missing (idempotent; a user's edits are kept).
    Returns how many were inserted."""
    collection = database[CLIQUE_TYPES_COLLECTION]
    present = {d["name"] for d in collection.find({}, {"name": 1})}
    missing = [clique_type_document(t, builtin=True) for t in CLIQUE_TYPES if t.name not in present]
    if missing:
        try:
            collection.insert_many(missing, ordered=False)
        except BulkWriteError as exc:  # another process seeded them at the same time (unique name index)
            if any(error.get("code") != 11000 for error in exc.details.get("writeErrors", [])):
                raise
    return len(missing)


def clique_types(database: MongoDatabase) -> list[CliqueType]:
    """Every clique type (seeding the declared ones on first use)."""
    seed_clique_types(database)
    return [validate_clique_type(d) for d in database[CLIQUE_TYPES_COLLECTION].find({}, {"_id": 0})]


def add_clique_type(database: MongoDatabase, doc: Mapping[str, Any]) -> CliqueType:
    """Validate and store a user's clique type; a type of the same name is replaced, unless built in."""
    clique_type = validate_clique_type({k: v for k, v in doc.items() if k != "builtin"})
    seed_clique_types(database)
    existing = database[CLIQUE_TYPES_COLLECTION].find_one({"name": clique_type.name})
    if existing is not None and existing.get("builtin"):
        raise CliqueError(f"clique type {clique_type.name!r} is built in; choose another name")
    database[CLIQUE_TYPES_COLLECTION].replace_one({"name": clique_type.name},
                                                  clique_type_document(clique_type), upsert=True)
    return clique_type


# -- the variant of a focal point --------------------------------------------------------------------

@dataclass(frozen=True)
class Variant:
    distribution: str | None
    mechanism: str | None
    type_driver: str | None


def choose_variant(environment_doc: Mapping[str, Any], focal: Mapping[str, Any]) -> Variant:
    """The variant that decides a focal point's clique type (pure): the environment document's when it
    names one driver, else what the graph shows around the focal point (`mechanism`: the vedge on its
    host; `network_types`: the types of its networks)."""
    mechanisms = [_normal_mechanism(m) for m in environment_doc.get("mechanism_drivers") or []]
    type_drivers = [str(t).lower() for t in environment_doc.get("type_drivers") or []]
    mechanism = mechanisms[0] if len(mechanisms) == 1 else None
    if mechanism is None:
        mechanism = focal.get("mechanism") or (mechanisms[0] if mechanisms else None)
    type_driver = type_drivers[0] if len(type_drivers) == 1 else None
    if type_driver is None:
        seen = Counter(t for t in focal.get("network_types") or [] if t)
        type_driver = seen.most_common(1)[0][0] if seen else (type_drivers[0] if type_drivers else None)
    return Variant(environment_doc.get("distribution"), mechanism, type_driver)


# -- the clique ---------------------------------------------------------------------------------------

@dataclass
class CliqueResult(Tabular):
    """A focal point's clique: the clique type used, the objects and the links between them."""

    environment: str
    focal_id: str
    focal_type: str
    clique_type: str
    variant: dict[str, str | None]
    networks: list[str] = field(default_factory=list)
    nodes: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        return self.nodes

    @property
    def title(self) -> str:
        return f"Clique of {self.focal_type} {self.focal_id} ({self.clique_type})"


def clique(driver: neo4j.Driver, database: MongoDatabase, environment: str, focal_id: str,
           distribution: str | None = None, mechanism: str | None = None, type_driver: str | None = None,
           clique_type_name: str | None = None) -> CliqueResult:
    """The clique of one object. The variant is inferred (see choose_variant) where not given; a named
    clique type overrides the variant match."""
    found = run_query(driver, "clique_focal", focal_uid=uid(environment, focal_id), env=environment)
    if not found:
        if database[OBJECTS].count_documents({"environment": environment, "id": focal_id}, limit=1):
            raise CliqueError(f"{focal_id!r} is in MongoDB but not in the graph; run `calipso graph sync {environment}`")
        raise CliqueError(f"no object {focal_id!r} in environment {environment!r}")
    focal = found[0]
    types = clique_types(database)
    inferred = choose_variant(database[ENVIRONMENTS].find_one({"name": environment}) or {}, focal)
    variant = Variant(distribution or inferred.distribution, mechanism or inferred.mechanism,
                      type_driver or inferred.type_driver)
    if clique_type_name:
        chosen = next((t for t in types if t.name == clique_type_name), None)
        if chosen is None:
            raise CliqueError(f"no clique type named {clique_type_name!r} "
                              f"(known: {', '.join(sorted(t.name for t in types))})")
        if chosen.focal_point_type != focal["type"]:
            raise CliqueError(f"clique type {chosen.name!r} starts from a {chosen.focal_point_type}, "
                              f"not a {focal['type']}")
    else:
        chosen = match_clique_type(types, focal["type"], variant.distribution, variant.mechanism, variant.type_driver)
        if chosen is None:
            raise CliqueError(f"no clique type starts from a {focal['type']} "
                              f"(types have focal points: {', '.join(sorted({t.focal_point_type for t in types}))})")
    records = run_query(driver, "clique", focal_uid=uid(environment, focal_id),
                        steps=walk_steps(chosen.link_types),
                        constrained="network" in chosen.constraints)
    record = records[0]
    nodes = sorted(record["nodes"], key=lambda n: (n["id"] != focal_id, n["type"], n["id"]))
    for node in nodes:
        node["focal"] = node["id"] == focal_id
    links = sorted(record["links"], key=lambda l: (l["link_type"] or "", l["source"], l["target"]))
    return CliqueResult(environment, focal_id, focal["type"], chosen.name,
                        {"distribution": variant.distribution, "mechanism": variant.mechanism,
                         "type_driver": variant.type_driver},
                        sorted(record["networks"]), nodes, links)
