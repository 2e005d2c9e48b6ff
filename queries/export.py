"""Exports of an environment to the tools operators already run, streamed from MongoDB.

Formats:
- `graphml` (yEd, networkx, Gephi), `gexf` (Gephi), `json` (networkx node-link), `dot` (Graphviz):
  the environment as a directed graph. Nodes are the objects (folders left out: they only group
  the tree; each node keeps `parent_id`), edges are the links (CONTAINS is not an edge).
- `netbox`: one JSON document whose sections are lists of records named by NetBox's bulk-import
  models and fields (`dcim.device`, `dcim.interface`, `dcim.macaddress`, `ipam.ipaddress`,
  `dcim.cable`, `virtualization.virtualmachine`, `virtualization.vminterface`), each section
  importable as it is (NetBox's import takes JSON) or through pynetbox.
- `batfish`: Batfish's `layer1_topology.json`: the physical links Calipso knows between host NICs
  and switch ports (and switch to switch), as edges with node1/node2 {hostname, interfaceName}.

Every writer is a generator of text chunks: it reads MongoDB through cursors and writes each
object as it comes, so no whole environment is held in memory. The attribute keys GraphML and GEXF
declare up front come from the model's declarations (graphmodel.schema), not from the data. The
NetBox writer looks up what a record names (a vNIC's VM, a port's addresses, a switch's name) in
batches of `BATCH` documents.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from pymongo.database import Database

from core.errors import CalipsoError
from graphmodel.inventory import LINKS, OBJECTS
from graphmodel.schema import LINK_TYPES, OBJECT_TYPES

FORMATS = ("graphml", "gexf", "json", "dot", "netbox", "batfish")
#: What each format is, for HTTP answers and file names.
MEDIA_TYPES = {"graphml": "application/graphml+xml", "gexf": "application/gexf+xml", "json": "application/json",
               "dot": "text/vnd.graphviz", "netbox": "application/json", "batfish": "application/json"}
FILE_SUFFIXES = {"graphml": ".graphml", "gexf": ".gexf", "json": ".json", "dot": ".dot", "netbox": "-netbox.json",
                 "batfish": "-layer1_topology.json"}
BATCH = 1000

#: Fields every object or link has, declared first; then the attributes the model declares.
NODE_FIELDS = ("type", "name", "host", "parent_id", "status", "state")
EDGE_FIELDS = ("link_type", "link_name", "state", "status", "host", "provenance")
NODE_KEYS: tuple[str, ...] = tuple(dict.fromkeys(NODE_FIELDS + tuple(a for t in OBJECT_TYPES for a in t.attributes)))
EDGE_KEYS: tuple[str, ...] = tuple(dict.fromkeys(EDGE_FIELDS + tuple(a for t in LINK_TYPES for a in t.attributes)))
#: Object types that are not nodes of the graph exports: folders only group the tree.
NOT_NODES = ("folder",)
#: Links between physical ports: what a cable (NetBox) or a layer-1 edge (Batfish) is.
PHYSICAL_LINKS = ("host_pnic-switch_pnic", "switch_pnic-switch_pnic")


class ExportError(CalipsoError):
    """A format that does not exist, or an environment with nothing to export."""


Chunks = Iterator[str]


def check_format(output_format: str) -> str:
    if output_format not in FORMATS:
        raise ExportError(f"unknown export format {output_format!r}; choose from {', '.join(FORMATS)}")
    return output_format


def check_environment(database: Database, environment: str) -> None:
    """Refuse an environment without objects (a typo, or never scanned) before anything is written."""
    if database[OBJECTS].find_one({"environment": environment}, {"_id": 1}) is None:
        raise ExportError(f"environment {environment!r} has no objects: is the name right, and was it scanned?")


def check_export(database: Database, environment: str, output_format: str) -> None:
    """Raise ExportError for an unknown format or an environment without objects."""
    check_format(output_format)
    check_environment(database, environment)


def export(database: Database, environment: str, output_format: str) -> Chunks:
    """The environment in `output_format`, as text chunks; checks the format and the environment
    before the first chunk, so a caller can still answer with an error."""
    writer = WRITERS[check_format(output_format)]
    check_environment(database, environment)
    return writer(database, environment)


def write_export(database: Database, environment: str, output_format: str, handle: Any) -> int:
    """Write the export to an open text file; the number of characters written."""
    written = 0
    for chunk in export(database, environment, output_format):
        handle.write(chunk)
        written += len(chunk)
    return written


# -- reading -------------------------------------------------------------------------------------------

def objects(database: Database, environment: str, query: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """The environment's objects (not folders unless asked for), one at a time."""
    selector = {"environment": environment, "type": {"$nin": list(NOT_NODES)}, **(query or {})}
    return database[OBJECTS].find(selector, {"_id": 0}).batch_size(BATCH)


def links(database: Database, environment: str, query: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    return database[LINKS].find({"environment": environment, **(query or {})}, {"_id": 0}).batch_size(BATCH)


def batches(documents: Iterable[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for doc in documents:
        batch.append(doc)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def by_id(database: Database, environment: str, ids: Iterable[str], fields: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Some fields of the objects with these ids (one query for a batch)."""
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    projection = {"_id": 0, "id": 1, **{f: 1 for f in fields}}
    return {d["id"]: d for d in database[OBJECTS].find({"environment": environment, "id": {"$in": wanted}},
                                                      projection)}


def text(value: Any) -> str:
    """A value as one string attribute: scalars as they print, lists and mappings as JSON."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, default=str, sort_keys=True)
    return str(value)


def link_id(link: Mapping[str, Any]) -> str:
    return f"{link['link_type']}|{link['source_id']}|{link['target_id']}"


def _present(doc: Mapping[str, Any], keys: Iterable[str]) -> Iterator[tuple[str, Any]]:
    for key in keys:
        value = doc.get(key)
        if value is not None and value != "" and value != [] and value != {}:
            yield key, value


# -- GraphML ---------------------------------------------------------------------------------------------

def graphml(database: Database, environment: str) -> Chunks:
    yield ('<?xml version="1.0" encoding="UTF-8"?>\n'
           '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
           'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n')
    for key in NODE_KEYS:
        yield f'  <key id="n_{key}" for="node" attr.name={quoteattr(key)} attr.type="string"/>\n'
    for key in EDGE_KEYS:
        yield f'  <key id="e_{key}" for="edge" attr.name={quoteattr(key)} attr.type="string"/>\n'
    yield f'  <graph id={quoteattr(environment)} edgedefault="directed">\n'
    for doc in objects(database, environment):
        data = "".join(f'<data key="n_{k}">{escape(text(v))}</data>' for k, v in _present(doc, NODE_KEYS))
        yield f'    <node id={quoteattr(str(doc["id"]))}>{data}</node>\n'
    for link in links(database, environment):
        data = "".join(f'<data key="e_{k}">{escape(text(v))}</data>' for k, v in _present(link, EDGE_KEYS))
        yield (f'    <edge id={quoteattr(link_id(link))} source={quoteattr(str(link["source_id"]))} '
               f'target={quoteattr(str(link["target_id"]))}>{data}</edge>\n')
    yield "  </graph>\n</graphml>\n"


# -- GEXF ------------------------------------------------------------------------------------------------

def gexf(database: Database, environment: str) -> Chunks:
    yield ('<?xml version="1.0" encoding="UTF-8"?>\n'
           '<gexf xmlns="http://www.gexf.net/1.2draft" version="1.2">\n'
           f'  <meta><creator>Calipso</creator><description>{escape(environment)}</description></meta>\n'
           '  <graph defaultedgetype="directed" mode="static">\n')
    yield '    <attributes class="node">\n'
    for index, key in enumerate(NODE_KEYS):
        yield f'      <attribute id="{index}" title={quoteattr(key)} type="string"/>\n'
    yield '    </attributes>\n    <attributes class="edge">\n'
    for index, key in enumerate(EDGE_KEYS):
        yield f'      <attribute id="{index}" title={quoteattr(key)} type="string"/>\n'
    yield '    </attributes>\n    <nodes>\n'
    node_index = {key: i for i, key in enumerate(NODE_KEYS)}
    edge_index = {key: i for i, key in enumerate(EDGE_KEYS)}
    for doc in objects(database, environment):
        values = "".join(f'<attvalue for="{node_index[k]}" value={quoteattr(text(v))}/>'
                         for k, v in _present(doc, NODE_KEYS))
        label = doc.get("name") or doc["id"]
        yield (f'      <node id={quoteattr(str(doc["id"]))} label={quoteattr(str(label))}>'
               f'<attvalues>{values}</attvalues></node>\n')
    yield '    </nodes>\n    <edges>\n'
    for link in links(database, environment):
        values = "".join(f'<attvalue for="{edge_index[k]}" value={quoteattr(text(v))}/>'
                         for k, v in _present(link, EDGE_KEYS))
        yield (f'      <edge id={quoteattr(link_id(link))} source={quoteattr(str(link["source_id"]))} '
               f'target={quoteattr(str(link["target_id"]))} label={quoteattr(str(link["link_type"]))}>'
               f'<attvalues>{values}</attvalues></edge>\n')
    yield "    </edges>\n  </graph>\n</gexf>\n"


# -- node-link JSON --------------------------------------------------------------------------------------

def _json(value: Any) -> str:
    return json.dumps(value, default=text, sort_keys=False)


def _plain(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in ("environment", "_id")}


def node_link(database: Database, environment: str) -> Chunks:
    """networkx's node-link form (`networkx.node_link_graph(data, edges="links")` reads it back)."""
    yield ('{"directed": true, "multigraph": false, "graph": ' + _json({"environment": environment})
           + ', "nodes": [\n')
    first = True
    for doc in objects(database, environment):
        yield ("" if first else ",\n") + _json(_plain(doc))
        first = False
    yield '\n], "links": [\n'
    first = True
    for link in links(database, environment):
        edge = {"source": link["source_id"], "target": link["target_id"], "key": link_id(link),
                **{k: v for k, v in _plain(link).items() if k not in ("source_id", "target_id", "key")}}
        yield ("" if first else ",\n") + _json(edge)
        first = False
    yield "\n]}\n"


# -- DOT -------------------------------------------------------------------------------------------------

def dot_quote(value: Any) -> str:
    """A DOT double-quoted string: backslashes and quotes escaped, line breaks as \\n."""
    return '"' + text(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def dot(database: Database, environment: str) -> Chunks:
    yield f"digraph {dot_quote(environment)} {{\n  rankdir=LR;\n  node [shape=box];\n"
    for doc in objects(database, environment):
        # The name goes in as the label: `name` is a reserved word for DOT readers such as pydot.
        attributes = [("label", doc.get("name") or doc["id"])] + [(k, v) for k, v in _present(doc, NODE_FIELDS)
                                                                  if k != "name"]
        yield f"  {dot_quote(doc['id'])} [" + ", ".join(f"{k}={dot_quote(v)}" for k, v in attributes) + "];\n"
    for link in links(database, environment):
        attributes = list(_present(link, EDGE_FIELDS))
        yield (f"  {dot_quote(link['source_id'])} -> {dot_quote(link['target_id'])} ["
               + ", ".join(f"{k}={dot_quote(v)}" for k, v in attributes) + "];\n")
    yield "}\n"


# -- NetBox ----------------------------------------------------------------------------------------------

#: NetBox interface types (dcim InterfaceTypeChoices) by link speed in Mbit/s, as Calipso reads it.
SPEED_TYPES = {100: "100base-tx", 1000: "1000base-t", 10000: "10gbase-x-sfpp", 25000: "25gbase-x-sfp28",
               40000: "40gbase-x-qsfpp", 100000: "100gbase-x-qsfp28"}
SITE = "calipso"  # stands in when nothing better names the place: NetBox devices need a site


def _role(doc: Mapping[str, Any]) -> str:
    kinds = doc.get("host_type") or []
    return "-".join(sorted(str(k).lower() for k in kinds)) or "host"


def _interface_type(nic: Mapping[str, Any]) -> str:
    if nic.get("bond_members"):
        return "lag"
    return SPEED_TYPES.get(int(nic.get("speed") or 0), "other")


def _with_prefix(address: str, cidrs: Iterable[str] = ()) -> str:
    """An address as NetBox wants it (with a prefix length): the length of the subnet it is in, else a host route."""
    try:
        ip = ipaddress.ip_address(address.split("/")[0])
    except ValueError:
        return address
    if "/" in address:
        return address
    for cidr in cidrs:
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            continue
        if ip in network:
            return f"{ip}/{network.prefixlen}"
    return f"{ip}/{ip.max_prefixlen}"


def _section(name: str, records: Iterable[dict[str, Any]], first: bool) -> Chunks:
    yield ("" if first else ",\n") + f"{json.dumps(name)}: ["
    separator = "\n"
    for record in records:
        yield separator + _json({k: v for k, v in record.items() if v is not None and v != ""})
        separator = ",\n"
    yield "\n]"


def _devices(database: Database, environment: str) -> Iterator[dict[str, Any]]:
    for doc in objects(database, environment, {"type": {"$in": ["host", "switch"]}}):
        if doc["type"] == "host":
            yield {"name": doc["name"], "role": _role(doc), "manufacturer": "Generic", "device_type": "server",
                   "status": "active", "site": environment, "description": f"calipso id {doc['id']}"}
        else:
            yield {"name": doc.get("name") or doc["id"], "role": "switch", "manufacturer": "Generic",
                   "device_type": doc.get("model") or "switch", "status": "active", "site": environment,
                   "description": f"calipso id {doc['id']}"}


def _switch_of(port: Mapping[str, Any]) -> str:
    """The switch a switch port belongs to: the first id on its path (switches sit at the top of the tree)."""
    path = port.get("id_path") or []
    return str(path[0]) if path else str(port.get("parent_id") or "").split("/", 1)[0]


def _network_info(database: Database, environment: str, network_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    return by_id(database, environment, network_ids, ("name", "network_type", "segmentation_id", "cidrs"))


def _device_interfaces(database: Database, environment: str) -> Iterator[dict[str, Any]]:
    """Host NICs and bonds, switch ports, and the vNICs of network services (they live on the host)."""
    carried: dict[str, list[int]] = {}  # NIC -> VLAN ids of the vlan networks it carries
    for link in links(database, environment, {"link_type": "host_pnic-network", "network_type": "vlan"}):
        if link.get("segmentation_id") is not None:
            carried.setdefault(link["source_id"], []).append(int(link["segmentation_id"]))

    def record(nic: Mapping[str, Any], device: str | None) -> dict[str, Any]:
        vlans = sorted(set(carried.get(nic["id"], [])))
        return {"device": device, "name": nic["name"], "type": _interface_type(nic),
                "enabled": nic.get("link_detected") is not False,
                "lag": nic.get("master") or None, "mtu": nic.get("mtu"),
                "speed": int(nic["speed"]) * 1000 if nic.get("speed") else None,  # NetBox counts Kbit/s
                "duplex": nic.get("duplex") if nic.get("duplex") in ("full", "half", "auto") else None,
                "mode": "tagged" if vlans else None, "tagged_vlans": vlans or None,
                "mac_address": nic.get("mac_address"), "description": f"calipso id {nic['id']}"}

    # Bonds first: NetBox needs a LAG to exist before the members that name it.
    for nic in objects(database, environment, {"type": "host_pnic"}):
        if nic.get("bond_members"):
            yield record(nic, nic.get("host"))
    for batch in batches(objects(database, environment, {"type": {"$in": ["host_pnic", "switch_pnic"]}})):
        switches = by_id(database, environment, [_switch_of(d) for d in batch if d["type"] == "switch_pnic"], ("name",))
        for nic in batch:
            if nic["type"] == "host_pnic":
                if not nic.get("bond_members"):
                    yield record(nic, nic.get("host"))
            else:
                yield record(nic, (switches.get(_switch_of(nic)) or {}).get("name") or _switch_of(nic))
    for vnic, owner in _vnics_with_owner(database, environment):
        if owner.get("type") == "vservice":  # a namespace's interface lives on its host
            yield {"device": vnic.get("host"), "name": vnic["name"], "type": "virtual", "mtu": vnic.get("mtu"),
                   "mac_address": vnic.get("mac_address"), "description": f"calipso id {vnic['id']}"}


def _owner_id(vnic: Mapping[str, Any]) -> str:
    """The VM or network service a vNIC belongs to: its id_path runs owner / owner's vnics folder / vNIC."""
    path = vnic.get("id_path") or []
    return str(path[-3]) if len(path) >= 3 else str(vnic.get("parent_id") or "").rsplit("/", 1)[0]


def _vnics_with_owner(database: Database, environment: str) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(vNIC, its VM or network service) for every vNIC, the owners looked up a batch at a time."""
    for batch in batches(objects(database, environment, {"type": "vnic"})):
        owners = by_id(database, environment, [_owner_id(v) for v in batch], ("type", "name"))
        for vnic in batch:
            owner = owners.get(_owner_id(vnic))
            if owner:
                yield vnic, owner


def _vm_pairs(database: Database, environment: str) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(vNIC, its VM) for every vNIC of a VM."""
    return ((v, o) for v, o in _vnics_with_owner(database, environment) if o.get("type") == "instance")


def _vlan_of(network: Mapping[str, Any] | None) -> int | None:
    if network and network.get("network_type") == "vlan" and network.get("segmentation_id") is not None:
        return int(network["segmentation_id"])
    return None


def _vminterface_records(database: Database, environment: str) -> Iterator[dict[str, Any]]:
    for batch in batches(_vm_pairs(database, environment)):
        networks = _network_info(database, environment, [v.get("network_id") for v, _ in batch])
        for vnic, vm in batch:
            vlan = _vlan_of(networks.get(vnic.get("network_id") or ""))
            yield {"virtual_machine": vm["name"], "name": vnic["name"], "enabled": True, "mtu": vnic.get("mtu"),
                   "mode": "access" if vlan is not None else None, "untagged_vlan": vlan,
                   "mac_address": vnic.get("mac_address"), "description": f"calipso id {vnic['id']}"}


def _mac_records(database: Database, environment: str) -> Iterator[dict[str, Any]]:
    """NetBox 4.2+ keeps MAC addresses as objects of their own, assigned to an interface."""
    for record in _device_interfaces(database, environment):
        if record.get("mac_address"):
            yield {"mac_address": record["mac_address"], "device": record["device"], "interface": record["name"],
                   "is_primary": True}
    for record in _vminterface_records(database, environment):
        if record.get("mac_address"):
            yield {"mac_address": record["mac_address"], "virtual_machine": record["virtual_machine"],
                   "interface": record["name"], "is_primary": True}


def _ip_records(database: Database, environment: str) -> Iterator[dict[str, Any]]:
    for nic in objects(database, environment, {"type": "host_pnic", "ip_address": {"$nin": [None, ""]}}):
        yield {"address": _with_prefix(str(nic["ip_address"])), "status": "active", "device": nic.get("host"),
               "interface": nic["name"], "description": f"calipso id {nic['id']}"}
    for batch in batches(_vm_pairs(database, environment)):
        ports = by_id(database, environment, [v.get("port_id") for v, _ in batch], ("fixed_ips",))
        networks = _network_info(database, environment, [v.get("network_id") for v, _ in batch])
        for vnic, vm in batch:
            addresses = (ports.get(vnic.get("port_id") or "") or {}).get("fixed_ips") or vnic.get("addresses") or []
            cidrs = (networks.get(vnic.get("network_id") or "") or {}).get("cidrs") or []
            for address in addresses:
                address = address.get("ip_address") if isinstance(address, Mapping) else address
                if address:
                    yield {"address": _with_prefix(str(address), cidrs), "status": "active",
                           "virtual_machine": vm["name"], "interface": vnic["name"],
                           "description": f"calipso port {vnic.get('port_id')}"}


def _physical_ends(database: Database, environment: str) -> Iterator[tuple[dict[str, Any], tuple[str, str], tuple[str, str]]]:
    """Each physical link with its two ends as (device name, interface name)."""
    for batch in batches(links(database, environment, {"link_type": {"$in": list(PHYSICAL_LINKS)}})):
        ends = by_id(database, environment, [i for l in batch for i in (l["source_id"], l["target_id"])],
                     ("type", "name", "host", "parent_id", "id_path"))
        switches = by_id(database, environment, [_switch_of(e) for e in ends.values() if e.get("type") == "switch_pnic"],
                         ("name",))

        def end(object_id: str) -> tuple[str, str] | None:
            doc = ends.get(object_id)
            if doc is None:
                return None
            if doc.get("type") == "switch_pnic":
                return (switches.get(_switch_of(doc)) or {}).get("name") or _switch_of(doc), str(doc.get("name"))
            return str(doc.get("host")), str(doc.get("name"))

        for link in batch:
            a, b = end(link["source_id"]), end(link["target_id"])
            if a and b:
                yield link, a, b


def _cable_records(database: Database, environment: str) -> Iterator[dict[str, Any]]:
    for link, (device_a, name_a), (device_b, name_b) in _physical_ends(database, environment):
        yield {"side_a_device": device_a, "side_a_type": "dcim.interface", "side_a_name": name_a,
               "side_b_device": device_b, "side_b_type": "dcim.interface", "side_b_name": name_b,
               "status": "connected" if link.get("state") != "down" else "planned",
               "description": f"calipso {link.get('provenance') or link['link_type']}"}


def _vm_records(database: Database, environment: str) -> Iterator[dict[str, Any]]:
    for doc in objects(database, environment, {"type": "instance"}):
        yield {"name": doc.get("name") or doc["id"], "status": "active" if doc.get("vm_state") in (None, "active")
               else "offline", "site": environment, "device": doc.get("host"),
               "description": f"calipso id {doc['id']}; flavor {doc.get('flavor') or '?'}"}


NETBOX_SECTIONS: tuple[tuple[str, Callable[[Database, str], Iterator[dict[str, Any]]]], ...] = (
    ("dcim.device", _devices),
    ("dcim.interface", lambda db, env: ({k: v for k, v in r.items() if k != "mac_address"}
                                        for r in _device_interfaces(db, env))),
    ("virtualization.virtualmachine", _vm_records),
    ("virtualization.vminterface", lambda db, env: ({k: v for k, v in r.items() if k != "mac_address"}
                                                    for r in _vminterface_records(db, env))),
    ("dcim.macaddress", _mac_records),
    ("ipam.ipaddress", _ip_records),
    ("dcim.cable", _cable_records),
)


def netbox(database: Database, environment: str) -> Chunks:
    """Sections in the order NetBox needs them imported: devices before their interfaces, interfaces
    before the MAC and IP addresses and cables that name them. VLANs are VLAN ids (`tagged_vlans`,
    `untagged_vlan`): NetBox's CSV import does not assign VLANs; pynetbox can, once the VLANs exist."""
    yield "{" + json.dumps("meta") + ": " + _json({
        "environment": environment, "generator": "calipso", "site": environment,
        "note": "devices need the site, roles, manufacturer 'Generic' and device types 'server'/'switch' "
                "to exist in NetBox first"}) + ",\n"
    for index, (name, records) in enumerate(NETBOX_SECTIONS):
        yield from _section(name, records(database, environment), index == 0)
    yield "\n}\n"


# -- Batfish ---------------------------------------------------------------------------------------------

def batfish(database: Database, environment: str) -> Chunks:
    """layer1_topology.json: one edge per physical link Calipso knows (host NIC to switch port, switch
    port to switch port). Empty when no switch source was scanned: Calipso then knows no cables."""
    yield '{"edges": ['
    separator = "\n"
    for _link, (host_a, name_a), (host_b, name_b) in _physical_ends(database, environment):
        yield separator + _json({"node1": {"hostname": host_a, "interfaceName": name_a},
                                 "node2": {"hostname": host_b, "interfaceName": name_b}})
        separator = ",\n"
    yield "\n]}\n"


WRITERS: dict[str, Callable[[Database, str], Chunks]] = {
    "graphml": graphml, "gexf": gexf, "json": node_link, "dot": dot, "netbox": netbox, "batfish": batfish}
