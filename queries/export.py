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
NetBox writer makes every record in one pass over the objects (and one over the links), spooling each
section to a temporary file, and keeps only small per-object facts in memory (a VM's name, a port's
addresses, a network's VLAN and prefixes) for the records that name them.
"""

from __future__ import annotations

import ipaddress
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from core.errors import CalipsoError
from core.stores import MongoDatabase
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


def check_environment(database: MongoDatabase, environment: str) -> None:
    """Refuse an environment without objects (a typo, or never scanned) before anything is written."""
    if database[OBJECTS].find_one({"environment": environment}, {"_id": 1}) is None:
        raise ExportError(f"environment {environment!r} has no objects: is the name right, and was it scanned?")


def check_export(database: MongoDatabase, environment: str, output_format: str) -> None:
    """Raise ExportError for an unknown format or an environment without objects."""
    check_format(output_format)
    check_environment(database, environment)


def export(database: MongoDatabase, environment: str, output_format: str) -> Chunks:
    """The environment in `output_format`, as text chunks; checks the format and the environment
    before the first chunk, so a caller can still answer with an error."""
    writer = WRITERS[check_format(output_format)]
    check_environment(database, environment)
    return writer(database, environment)


def write_export(database: MongoDatabase, environment: str, output_format: str, handle: Any) -> int:
    """Write the export to an open text file; the number of characters written."""
    written = 0
    for chunk in export(database, environment, output_format):
        handle.write(chunk)
        written += len(chunk)
    return written


# -- reading -------------------------------------------------------------------------------------------

def objects(database: MongoDatabase, environment: str, query: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """The environment's objects (not folders unless asked for), one at a time."""
    selector = {"environment": environment, "type": {"$nin": list(NOT_NODES)}, **(query or {})}
    return database[OBJECTS].find(selector, {"_id": 0}).batch_size(BATCH)


def links(database: MongoDatabase, environment: str, query: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    return database[LINKS].find({"environment": environment, **(query or {})}, {"_id": 0}).batch_size(BATCH)


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

def graphml(database: MongoDatabase, environment: str) -> Chunks:
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

def gexf(database: MongoDatabase, environment: str) -> Chunks:
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


def node_link(database: MongoDatabase, environment: str) -> Chunks:
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


def dot(database: MongoDatabase, environment: str) -> Chunks:
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


class _Spool:
    """Records of each NetBox section written to a file of their own as they are made, so that one
    pass over the inventory fills every section and they still come out in import order."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)
        self.handles: dict[str, Any] = {}

    def add(self, section: str, record: Mapping[str, Any]) -> None:
        if section not in self.handles:
            self.handles[section] = tempfile.TemporaryFile("w+", encoding="utf-8", dir=self.directory)
        self.handles[section].write(_json({k: v for k, v in record.items() if v is not None and v != ""}) + "\n")

    def lines(self, section: str) -> Iterator[str]:
        handle = self.handles.get(section)
        if handle is None:
            return
        handle.flush()
        handle.seek(0)
        for line in handle:
            yield line.rstrip("\n")

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()


#: NetBox's import models in the order they must be imported: devices before their interfaces (LAGs
#: before the members that name them), interfaces before the MAC and IP addresses and cables naming them.
NETBOX_MODELS = ("dcim.device", "dcim.interface", "virtualization.virtualmachine", "virtualization.vminterface",
                 "dcim.macaddress", "ipam.ipaddress", "dcim.cable")
#: Only these objects' fields are read (a projection: the rest of each document never leaves MongoDB).
NETBOX_FIELDS = ("id", "type", "name", "host", "parent_id", "id_path", "host_type", "model", "mac_address", "mtu",
                 "speed", "duplex", "link_detected", "master", "bond_members", "ip_address", "vm_state", "flavor",
                 "port_id", "network_id", "addresses", "fixed_ips", "network_type", "segmentation_id", "cidrs")
NETBOX_TYPES = ("host", "switch", "host_pnic", "switch_pnic", "instance", "vservice", "vnic", "port", "network")


def _switch_of(port: Mapping[str, Any]) -> str:
    """The switch a switch port belongs to: the first id on its path (switches sit at the top of the tree)."""
    path = port.get("id_path") or []
    return str(path[0]) if path else str(port.get("parent_id") or "").split("/", 1)[0]


def _owner_id(vnic: Mapping[str, Any]) -> str:
    """The VM or network service a vNIC belongs to: its id_path runs owner / owner's vnics folder / vNIC."""
    path = vnic.get("id_path") or []
    return str(path[-3]) if len(path) >= 3 else str(vnic.get("parent_id") or "").rsplit("/", 1)[0]


def _vlan_of(network: Mapping[str, Any] | None) -> int | None:
    if network and network.get("network_type") == "vlan" and network.get("segmentation_id") is not None:
        return int(network["segmentation_id"])
    return None


def _netbox_records(database: MongoDatabase, environment: str, spool: _Spool) -> None:
    """Every record of every section, spooled: one pass over the links, one over the objects, then one
    over the spooled vNICs (which need their VM, port and network, wherever those came in the pass).
    What is kept in memory is small and per object: names of VMs and switches, ports' addresses,
    networks' VLANs and prefixes, the VLANs each NIC carries, the ends of physical links."""
    carried: dict[str, list[int]] = {}  # NIC -> VLAN ids of the vlan networks it carries
    physical: list[dict[str, Any]] = []
    for link in links(database, environment, {"link_type": {"$in": ["host_pnic-network", *PHYSICAL_LINKS]}}):
        if link["link_type"] in PHYSICAL_LINKS:
            physical.append({k: link.get(k) for k in ("link_type", "source_id", "target_id", "state", "provenance")})
        elif link.get("network_type") == "vlan" and link.get("segmentation_id") is not None:
            carried.setdefault(link["source_id"], []).append(int(link["segmentation_id"]))
    cable_ends = {i for l in physical for i in (l["source_id"], l["target_id"])}

    owners: dict[str, tuple[str, str]] = {}  # VM or network service id -> (type, name)
    ports: dict[str, list[Any]] = {}  # port id -> fixed IPs
    networks: dict[str, dict[str, Any]] = {}
    switches: dict[str, str] = {}  # switch id -> name
    ends: dict[str, tuple[str, str]] = {}  # a cabled NIC or port -> (device, interface name); switch ids resolved later
    switch_ports: list[dict[str, Any]] = []  # their switch's name may come later in the pass
    vnics = _Spool(str(spool.directory))  # raw vNICs, for the third pass

    def nic_record(nic: Mapping[str, Any], device: str | None) -> dict[str, Any]:
        vlans = sorted(set(carried.get(nic["id"], [])))
        return {"device": device, "name": nic["name"], "type": _interface_type(nic),
                "enabled": nic.get("link_detected") is not False, "lag": nic.get("master") or None, "mtu": nic.get("mtu"),
                "speed": int(nic["speed"]) * 1000 if nic.get("speed") else None,  # NetBox counts Kbit/s
                "duplex": nic.get("duplex") if nic.get("duplex") in ("full", "half", "auto") else None,
                "mode": "tagged" if vlans else None, "tagged_vlans": vlans or None,
                "description": f"calipso id {nic['id']}"}

    selector = {"environment": environment, "type": {"$in": list(NETBOX_TYPES)}}
    projection = {"_id": 0, **{f: 1 for f in NETBOX_FIELDS}}
    for doc in database[OBJECTS].find(selector, projection).batch_size(BATCH):
        kind = doc["type"]
        if kind == "host":
            spool.add("dcim.device", {"name": doc["name"], "role": _role(doc), "manufacturer": "Generic",
                                      "device_type": "server", "status": "active", "site": environment,
                                      "description": f"calipso id {doc['id']}"})
        elif kind == "switch":
            switches[doc["id"]] = doc.get("name") or doc["id"]
            spool.add("dcim.device", {"name": doc.get("name") or doc["id"], "role": "switch", "manufacturer": "Generic",
                                      "device_type": doc.get("model") or "switch", "status": "active",
                                      "site": environment, "description": f"calipso id {doc['id']}"})
        elif kind == "host_pnic":
            # A LAG must exist before the members that name it: bonds go to a section of their own, first.
            spool.add("lags" if doc.get("bond_members") else "nics", nic_record(doc, doc.get("host")))
            if doc.get("mac_address"):
                spool.add("dcim.macaddress", {"mac_address": doc["mac_address"], "device": doc.get("host"),
                                              "interface": doc["name"], "is_primary": True})
            if doc.get("ip_address"):
                spool.add("ipam.ipaddress", {"address": _with_prefix(str(doc["ip_address"])), "status": "active",
                                             "device": doc.get("host"), "interface": doc["name"],
                                             "description": f"calipso id {doc['id']}"})
            if doc["id"] in cable_ends:
                ends[doc["id"]] = (str(doc.get("host")), str(doc["name"]))
        elif kind == "switch_pnic":
            switch_ports.append({k: doc.get(k) for k in ("id", "name", "speed", "mtu", "mac_address", "duplex",
                                                         "link_detected", "id_path", "parent_id")})
        elif kind in ("instance", "vservice"):
            owners[doc["id"]] = (kind, doc.get("name") or doc["id"])
            if kind == "instance":
                spool.add("virtualization.virtualmachine", {
                    "name": doc.get("name") or doc["id"],
                    "status": "active" if doc.get("vm_state") in (None, "active") else "offline",
                    "site": environment, "device": doc.get("host"),
                    "description": f"calipso id {doc['id']}; flavor {doc.get('flavor') or '?'}"})
        elif kind == "vnic":
            vnics.add("vnic", {k: doc.get(k) for k in ("id", "name", "host", "mac_address", "mtu", "port_id",
                                                       "network_id", "addresses", "id_path", "parent_id")})
        elif kind == "port":
            ports[doc["id"]] = list(doc.get("fixed_ips") or [])
        elif kind == "network":
            networks[doc["id"]] = {k: doc.get(k) for k in ("network_type", "segmentation_id", "cidrs")}

    for port in switch_ports:
        device = switches.get(_switch_of(port)) or _switch_of(port)
        spool.add("nics", nic_record(port, device))
        if port["id"] in cable_ends:
            ends[port["id"]] = (device, str(port["name"]))

    for line in vnics.lines("vnic"):
        vnic = json.loads(line)
        kind, owner = owners.get(_owner_id(vnic), (None, None))
        if kind == "vservice":  # a namespace's interface lives on its host
            spool.add("nics", {"device": vnic.get("host"), "name": vnic["name"], "type": "virtual",
                               "mtu": vnic.get("mtu"), "description": f"calipso id {vnic['id']}"})
            if vnic.get("mac_address"):
                spool.add("dcim.macaddress", {"mac_address": vnic["mac_address"], "device": vnic.get("host"),
                                              "interface": vnic["name"], "is_primary": True})
            continue
        if kind != "instance":
            continue
        network = networks.get(vnic.get("network_id") or "")
        vlan = _vlan_of(network)
        spool.add("virtualization.vminterface", {
            "virtual_machine": owner, "name": vnic["name"], "enabled": True, "mtu": vnic.get("mtu"),
            "mode": "access" if vlan is not None else None, "untagged_vlan": vlan,
            "description": f"calipso id {vnic['id']}"})
        if vnic.get("mac_address"):
            spool.add("dcim.macaddress", {"mac_address": vnic["mac_address"], "virtual_machine": owner,
                                          "interface": vnic["name"], "is_primary": True})
        for address in ports.get(vnic.get("port_id") or "") or vnic.get("addresses") or []:
            address = address.get("ip_address") if isinstance(address, Mapping) else address
            if address:
                spool.add("ipam.ipaddress", {"address": _with_prefix(str(address), (network or {}).get("cidrs") or []),
                                             "status": "active", "virtual_machine": owner, "interface": vnic["name"],
                                             "description": f"calipso port {vnic.get('port_id')}"})
    vnics.close()

    for link in physical:
        a, b = ends.get(link["source_id"]), ends.get(link["target_id"])
        if a and b:
            spool.add("dcim.cable", {"side_a_device": a[0], "side_a_type": "dcim.interface", "side_a_name": a[1],
                                     "side_b_device": b[0], "side_b_type": "dcim.interface", "side_b_name": b[1],
                                     "status": "connected" if link.get("state") != "down" else "planned",
                                     "description": f"calipso {link.get('provenance') or link['link_type']}"})


def netbox(database: MongoDatabase, environment: str) -> Chunks:
    """One JSON document: `meta`, then a list of import records per NetBox model, in import order.
    VLANs are VLAN ids (`tagged_vlans`, `untagged_vlan`): NetBox's CSV import does not assign VLANs;
    pynetbox can, once the VLANs exist. Two queries in all (links, then objects): each record is
    spooled to a temporary file as it is made, and the files are read back in order."""
    yield "{" + json.dumps("meta") + ": " + _json({
        "environment": environment, "generator": "calipso", "site": environment,
        "note": "devices need the site, roles, manufacturer 'Generic' and device types 'server'/'switch' "
                "(or the switches' models) to exist in NetBox first"})
    with tempfile.TemporaryDirectory(prefix="calipso-netbox-") as directory:
        spool = _Spool(directory)
        try:
            _netbox_records(database, environment, spool)
            for model in NETBOX_MODELS:
                yield ",\n" + json.dumps(model) + ": ["
                parts = ("lags", "nics") if model == "dcim.interface" else (model,)
                separator = "\n"
                for part in parts:
                    for line in spool.lines(part):
                        yield separator + line
                        separator = ",\n"
                yield "\n]"
        finally:
            spool.close()
    yield "\n}\n"


# -- Batfish ---------------------------------------------------------------------------------------------

def batfish(database: MongoDatabase, environment: str) -> Chunks:
    """layer1_topology.json: one edge per physical link Calipso knows (host NIC to switch port, switch
    port to switch port). Empty when no switch source was scanned: Calipso then knows no cables."""
    physical = [{k: l[k] for k in ("source_id", "target_id")}
                for l in links(database, environment, {"link_type": {"$in": list(PHYSICAL_LINKS)}})]
    wanted = sorted({i for l in physical for i in (l["source_id"], l["target_id"])})
    found: dict[str, dict[str, Any]] = {}
    switches: dict[str, str] = {}
    if wanted:
        selector = {"environment": environment, "$or": [{"id": {"$in": wanted}}, {"type": "switch"}]}
        for doc in database[OBJECTS].find(selector, {"_id": 0, "id": 1, "type": 1, "name": 1, "host": 1,
                                                     "id_path": 1, "parent_id": 1}):
            if doc["type"] == "switch":
                switches[doc["id"]] = doc.get("name") or doc["id"]
            if doc["id"] in wanted:
                found[doc["id"]] = doc

    def end(object_id: str) -> dict[str, str] | None:
        doc = found.get(object_id)
        if doc is None:
            return None
        host = switches.get(_switch_of(doc)) or _switch_of(doc) if doc["type"] == "switch_pnic" else doc.get("host")
        return {"hostname": str(host), "interfaceName": str(doc.get("name"))}

    yield '{"edges": ['
    separator = "\n"
    for link in physical:
        node1, node2 = end(link["source_id"]), end(link["target_id"])
        if node1 and node2:
            yield separator + _json({"node1": node1, "node2": node2})
            separator = ",\n"
    yield "\n]}\n"


WRITERS: dict[str, Callable[[MongoDatabase, str], Chunks]] = {
    "graphml": graphml, "gexf": gexf, "json": node_link, "dot": dot, "netbox": netbox, "batfish": batfish}
