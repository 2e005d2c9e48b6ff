"""Results from the monitoring people already run, mapped to objects (pure).

Sensu Go: an event as its API and handlers carry it (`{"entity": ..., "check": ...}`, or the full
resource `{"type": "Event", "api_version": "core/v2", "spec": {...}}`), or a list of them. The check's
`status` is 0 ok, 1 warning, 2 critical, anything else unknown; `output` becomes the text.
The object: the check's label `calipso_object_id` (what `calipso monitoring sensu-checks` puts
there), else its label `calipso_device` or the check name's last part after `calipso-<check>-`, as a
device name on the entity's host (the entity name is the host); else the host itself.

collectd `write_http` with `Format "JSON"`: a list of value lists (`values`, `dstypes`, `dsnames`,
`host`, `plugin`, `plugin_instance`, `type`, `type_instance`, `time`, `interval`, optional `meta`)
or notifications. collectd 5.12 posts a notification as an Alertmanager v1 alert (src/utils/format_json:
`labels` with `alertname` collectd_<plugin>_<type>, `instance` the host, `<plugin>` the plugin instance,
`type` the type instance, `severity` FAILURE|WARNING|OKAY; `annotations` with `summary` the message and
the notification's meta); the flat form (`severity`, `message` next to the identifiers) is accepted too.
Barometer's plugins map as: `ovs_events` gauge `link_status` (1 up, 0 down) of interface
`plugin_instance`, and `connectivity` gauge `interface_status` (the kernel's link state of a device,
over netlink) the same way; their notifications (ovs_events says WARNING when a link goes down) are
link state too: critical unless OKAY. `ping` `ping_droprate` (0..1) towards `type_instance` on the
host's tunnel endpoint; a notification of any other plugin about a device (`plugin_instance`) by its
severity. `interface` and `ovs_stats` counters carry no state: they are accepted and counted, not
mapped to a status (a rate of zero must not clear a link that is down).

Devices are found by name among the host's objects (NICs, bonds, vNICs' taps, bridges); OVS's
hybrid-plug names (qvo/qvb/qbr + port prefix) and the `iface-id` meta (a Neutron port) find the vNIC.
Whatever names nothing becomes an `Unmapped` entry (the caller writes a message).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ingest.monitoring.checks import Verdict

Document = dict[str, Any]
SENSU_STATUS = {0: "ok", 1: "warning", 2: "critical"}
COLLECTD_SEVERITY = {"OKAY": "ok", "WARNING": "warning", "FAILURE": "critical", "UNKNOWN": "unknown"}
#: (plugin, type instance) of the value lists and notifications that carry a device's link state
LINK_STATE = {("ovs_events", "link_status"), ("connectivity", "interface_status")}
#: the labels of collectd's Alertmanager-shaped notification that are not the plugin's own
_ALERT_LABELS = {"alertname", "instance", "type", "severity", "service"}
MAX_ITEMS = 5000
_HYBRID = ("qvo", "qvb", "qbr", "tap")


class IntakeError(ValueError):
    """A body that is not in the tool's format: the message names what is wrong."""


@dataclass
class Unmapped:
    host: str | None
    device: str | None
    what: str


@dataclass
class Mapped:
    """Verdicts for known objects, what named nothing, and samples that carry no state."""

    verdicts: list[Verdict] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)
    stateless: int = 0


class HostIndex:
    """The inventory's monitored objects, by host and device name (and by Neutron port)."""

    def __init__(self, objects: list[Document]) -> None:
        self.ids = {d["id"]: d for d in objects}
        self.hosts = {d["id"] for d in objects if d.get("type") == "host"}
        self.short = {h.split(".")[0]: h for h in self.hosts}
        self.by_name: dict[tuple[str, str], Document] = {}
        self.by_port: dict[str, Document] = {}
        for doc in objects:
            if doc.get("host") and doc.get("name") and doc.get("type") != "host":
                self.by_name.setdefault((doc["host"], str(doc["name"])), doc)
            if doc.get("type") == "vnic" and doc.get("port_id"):
                self.by_port[str(doc["port_id"])] = doc

    def host(self, name: Any) -> str | None:
        if not isinstance(name, str) or not name:
            return None
        return name if name in self.hosts else self.short.get(name.split(".")[0])

    def device(self, host: str, name: Any, port_id: Any = None) -> Document | None:
        if isinstance(port_id, str) and port_id in self.by_port:
            return self.by_port[port_id]
        if not isinstance(name, str) or not name:
            return None
        found = self.by_name.get((host, name))
        if found is None and name[:3] in _HYBRID:  # qvoXXXX and qbrXXXX speak of the VM's tapXXXX
            found = self.by_name.get((host, "tap" + name[3:]))
        return found


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise IntakeError(message)


def _items(body: Any, what: str) -> list[Any]:
    items = body if isinstance(body, list) else [body]
    _require(len(items) > 0, f"the body holds no {what}")
    _require(len(items) <= MAX_ITEMS, f"at most {MAX_ITEMS} {what}s per request, got {len(items)}")
    return items


# -- Sensu Go ---------------------------------------------------------------------------------------

def map_sensu(body: Any, index: HostIndex) -> Mapped:
    """Sensu Go events -> verdicts; IntakeError naming the first malformed part."""
    mapped = Mapped()
    for number, item in enumerate(_items(body, "event"), 1):
        where = f"event {number}"
        _require(isinstance(item, dict), f"{where}: an event is a JSON object")
        if "spec" in item:
            _require(item.get("type") in (None, "Event"), f"{where}: type must be Event, not {item.get('type')!r}")
            item = item["spec"]
            _require(isinstance(item, dict), f"{where}: spec must be an object")
        entity, check = item.get("entity"), item.get("check")
        _require(isinstance(entity, dict), f"{where}: entity is missing or not an object")
        _require(isinstance(check, dict), f"{where}: check is missing or not an object (metrics-only events "
                                          "carry no status)")
        entity_name = (entity.get("metadata") or {}).get("name") if isinstance(entity.get("metadata"), dict) else None
        _require(isinstance(entity_name, str) and entity_name != "", f"{where}: entity.metadata.name is missing")
        metadata = check.get("metadata")
        _require(isinstance(metadata, dict) and isinstance(metadata.get("name"), str) and metadata["name"] != "",
                 f"{where}: check.metadata.name is missing")
        status = check.get("status", None)
        _require(isinstance(status, int) and not isinstance(status, bool) and 0 <= status < 2**31,
                 f"{where}: check.status must be a non-negative integer, not {status!r}")
        output = check.get("output", "")
        _require(isinstance(output, str), f"{where}: check.output must be a string")
        labels = metadata.get("labels") or {}
        _require(isinstance(labels, dict), f"{where}: check.metadata.labels must be an object")
        name = metadata["name"]
        host = index.host(entity_name)
        target = None
        object_id = labels.get("calipso_object_id")
        if isinstance(object_id, str) and object_id in index.ids:
            target = index.ids[object_id]
        elif host is not None:
            device = labels.get("calipso_device") or (name.split("-", 2)[2] if name.startswith("calipso-")
                                                      and name.count("-") >= 2 else name)
            target = index.device(host, device) or index.ids.get(host)
        if target is None:
            mapped.unmapped.append(Unmapped(entity_name, labels.get("calipso_device"), f"Sensu check {name}"))
            continue
        state = SENSU_STATUS.get(status, "unknown")
        text = f"Sensu {name}: " + (output.strip().splitlines() or [state])[0][:300]
        mapped.verdicts.append(Verdict("object", target["id"], state, text, [f"sensu:{name}"], {}))
    return mapped


# -- collectd -----------------------------------------------------------------------------------------

def _number(value: Any, where: str) -> float | None:
    _require(value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)),
             f"{where}: values must be numbers or null, not {value!r}")
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return float(value)


def map_collectd(body: Any, index: HostIndex) -> Mapped:
    """collectd write_http JSON -> verdicts; IntakeError naming the first malformed part."""
    mapped = Mapped()
    found: dict[str, Verdict] = {}
    for number, item in enumerate(_items(body, "value list"), 1):
        where = f"item {number}"
        _require(isinstance(item, dict), f"{where}: a value list or notification is a JSON object")
        if "labels" in item:  # a notification as collectd's write_http sends it (Alertmanager v1 alert)
            item = _from_alert(item, where)
        for key in ("host", "plugin"):
            _require(isinstance(item.get(key), str) and item[key] != "", f"{where}: {key} is missing or not a string")
        for key in ("plugin_instance", "type", "type_instance"):
            _require(isinstance(item.get(key, ""), str), f"{where}: {key} must be a string")
        plugin, instance = item["plugin"], item.get("plugin_instance", "")
        kind, kind_instance = item.get("type", ""), item.get("type_instance", "")
        meta = item.get("meta") if isinstance(item.get("meta"), dict) else {}
        host = index.host(item["host"])
        if "severity" in item:
            severity = item["severity"]
            _require(severity in COLLECTD_SEVERITY, f"{where}: severity must be FAILURE, WARNING, OKAY or "
                                                    f"UNKNOWN, not {severity!r}")
            _require(isinstance(item.get("message", ""), str), f"{where}: message must be a string")
            state, text = COLLECTD_SEVERITY[severity], f"collectd {plugin}: {str(item.get('message') or severity)[:300]}"
            if (plugin, kind_instance) in LINK_STATE:  # a link's change of state: down unless OKAY
                state = "ok" if severity == "OKAY" else "critical"
                text = f"collectd {plugin}: link of {instance} is {'up' if state == 'ok' else 'down'}" + (
                    f" ({item['message'][:200]})" if item.get("message") else "")
            device = index.device(host, instance, meta.get("iface-id")) if host else None
            _collect(found, mapped, device, state, text, plugin, item["host"], instance)
            continue
        values = item.get("values")
        _require(isinstance(values, list) and len(values) > 0, f"{where}: values is missing or empty")
        for key in ("dstypes", "dsnames"):
            _require(isinstance(item.get(key), list) and len(item[key]) == len(values),
                     f"{where}: {key} must list one entry per value")
        numbers = [_number(v, where) for v in values]
        if (plugin, kind_instance) in LINK_STATE:
            device = index.device(host, instance, meta.get("iface-id")) if host else None
            up = numbers[0]
            state = "unknown" if up is None else "ok" if up >= 1 else "critical"
            _collect(found, mapped, device, state, f"collectd {plugin}: link of {instance} is "
                     + ("unknown" if up is None else "up" if up >= 1 else "down"), plugin, item["host"], instance)
        elif plugin == "ping" and kind == "ping_droprate":
            otep = next((d for d in index.ids.values() if d.get("type") == "otep" and d.get("host") == host
                         and kind_instance in (d.get("remote_ips") or [])), None) if host else None
            rate = numbers[0]
            state = "unknown" if rate is None else "ok" if rate == 0 else "warning"
            text = f"collectd ping: drop rate to {kind_instance} is " + ("unknown" if rate is None else f"{rate:.0%}")
            if rate is not None and rate > 0:
                text = f"collectd ping: tunnel peer {kind_instance} " + ("unreachable" if rate >= 1 else "loses packets")
            _collect(found, mapped, otep, state, text, plugin, item["host"], kind_instance)
        else:
            mapped.stateless += 1
    mapped.verdicts = list(found.values())
    return mapped


def _from_alert(item: Document, where: str) -> Document:
    """collectd's Alertmanager-shaped notification as the flat identifiers (src/utils/format_json:
    the plugin instance is the label named after the plugin, the type instance the label `type`)."""
    labels, annotations = item["labels"], item.get("annotations", {})
    _require(isinstance(labels, dict), f"{where}: labels must be an object")
    _require(isinstance(annotations, dict), f"{where}: annotations must be an object")
    _require(isinstance(labels.get("instance"), str) and labels["instance"] != "",
             f"{where}: labels.instance (the host) is missing or not a string")
    alertname = labels.get("alertname")
    _require(isinstance(alertname, str) and alertname.startswith("collectd_"),
             f"{where}: labels.alertname must be collectd_<plugin>_<type>, not {alertname!r}")
    own = [key for key in labels if key not in _ALERT_LABELS]
    _require(len(own) <= 1, f"{where}: labels name more than one plugin: {', '.join(sorted(own))}")
    plugin = own[0] if own else alertname[len("collectd_"):]
    kind = alertname[len(f"collectd_{plugin}_"):] if alertname.startswith(f"collectd_{plugin}_") \
        else alertname[len("collectd_"):]
    meta = {key: value for key, value in annotations.items() if key != "summary"}
    return {"host": labels["instance"], "plugin": plugin, "plugin_instance": labels.get(plugin, ""),
            "type": kind, "type_instance": labels.get("type", ""), "severity": labels.get("severity"),
            "message": annotations.get("summary", ""), "meta": meta}


def _collect(found: dict[str, Verdict], mapped: Mapped, target: Document | None, state: str, text: str,
             plugin: str, host: str, device: str) -> None:
    if target is None:
        mapped.unmapped.append(Unmapped(host, device, f"collectd {plugin}"))
        return
    previous = found.get(target["id"])
    order = ("ok", "unknown", "warning", "critical")
    if previous is None or order.index(state) > order.index(previous.status):
        found[target["id"]] = Verdict("object", target["id"], state, text, [f"collectd:{plugin}"], {})


# -- configurations for the tools ------------------------------------------------------------------

#: Per object type: a shell check for Sensu (exit 0 ok, 2 critical, as Sensu reads exit statuses).
_LINK_UP = "ip -j link show {name} | grep -q LOWER_UP"
_SENSU_COMMANDS = {
    "host_pnic": _LINK_UP + " && echo '{name} is up' || {{ echo '{name} has no carrier'; exit 2; }}",
    "vnic": _LINK_UP + " && echo '{name} is up' || {{ echo '{name} is down or gone'; exit 2; }}",
    "vconnector": "ip -j link show {name} | grep -q '\"UP\"' && echo '{name} is up' "
                  "|| {{ echo '{name} is down or gone'; exit 2; }}",
    "vservice": "ip netns list | grep -q '^{name}\\b' && echo '{name} exists' || {{ echo '{name} is gone'; exit 2; }}",
    "network_agent": "systemctl is-active --quiet {binary} && echo '{binary} is active' "
                     "|| {{ echo '{binary} is not active'; exit 2; }}",
    "otep": "for peer in {remote_ips}; do ping -c 2 -W 1 -i 0.2 -I {ip_address} $peer >/dev/null "
            "|| {{ echo \"peer $peer unreachable\"; exit 2; }}; done; echo 'all peers answer'",
}
_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-@")


def sensu_checks(objects: list[Document], handler: str = "calipso", interval_s: int = 60) -> list[Document]:
    """Sensu Go CheckConfig resources (core/v2), one per object the checks speak about, each pinned to its
    host's entity (`entity:<host>` subscription) and labelled with the object it maps back to."""
    checks = []
    for doc in sorted(objects, key=lambda d: (str(d.get("host")), str(d.get("type")), str(d["id"]))):
        template = _SENSU_COMMANDS.get(str(doc.get("type")))
        host = doc.get("host")
        values = {"name": doc.get("name"), "binary": doc.get("binary"), "ip_address": doc.get("ip_address"),
                  "remote_ips": " ".join(doc.get("remote_ips") or [])}
        if template is None or not host or not all(set(str(v or "")) <= _SAFE | {" "} for v in values.values()):
            continue  # names that would need quoting are left out rather than put on a command line
        if doc.get("type") == "otep" and not values["remote_ips"]:
            continue
        device = str(doc.get("name") if doc.get("type") != "network_agent" else doc.get("binary"))
        checks.append({
            "type": "CheckConfig", "api_version": "core/v2",
            "metadata": {"name": f"calipso-{doc['type']}-{device}"[:63].replace("/", "_").replace(":", "_"),
                         "namespace": "default",
                         "labels": {"calipso_object_id": str(doc["id"]), "calipso_device": device}},
            "spec": {"command": template.format(**values), "subscriptions": [f"entity:{host}"],
                     "interval": interval_s, "publish": True, "handlers": [handler]}})
    return checks


def sensu_handler(url: str, environment: str, handler: str = "calipso") -> Document:
    """A Sensu Go pipe handler posting each event (on stdin) to the intake; the token comes from the
    backend's environment variable CALIPSO_TOKEN, never from this definition."""
    target = f"{url.rstrip('/')}/api/v1/environments/{environment}/monitoring/sensu"
    return {"type": "Handler", "api_version": "core/v2", "metadata": {"name": handler, "namespace": "default"},
            "spec": {"type": "pipe", "timeout": 10,
                     "command": "curl -sf -X POST -H 'Content-Type: application/json' "
                                f"-H \"Authorization: Bearer $CALIPSO_TOKEN\" --data-binary @- '{target}'"}}


def collectd_config(host: str, objects: list[Document], url: str, environment: str, interval_s: int = 10,
                    ovs_socket: str | None = None) -> str:
    """A collectd.conf fragment for one host (checked by Debian's collectd 5.12 in the real lab): the host
    named as the inventory names it; interface (its NICs' counters), connectivity (the link state of its
    NICs and VMs' taps, from netlink), ovs_events on an OVS host (the link state of the VMs' ports, from
    ovsdb at `ovs_socket`, else the plugin's default), ping (its tunnel peers), and write_http posting JSON
    values and notifications to the intake."""
    mine = [d for d in objects if d.get("host") == host]
    nics = sorted({str(d["name"]) for d in mine if d.get("type") == "host_pnic" and d.get("name")})
    taps = sorted({str(d["name"]) for d in mine if d.get("type") == "vnic" and str(d.get("name", "")).startswith("tap")})
    peers = sorted({ip for d in mine if d.get("type") == "otep" for ip in d.get("remote_ips") or []})
    ovs = any(d.get("type") == "vedge" and str(d.get("id", "")).endswith("/vedge-ovs") for d in mine)
    target = f"{url.rstrip('/')}/api/v1/environments/{environment}/monitoring/collectd"
    lines = [f"# collectd for {host}: posts to Calipso environment {environment} (generated by calipso)",
             f'Hostname "{host}"', "FQDNLookup false", f"Interval {interval_s}", "",
             "LoadPlugin interface", "<Plugin interface>"]
    lines += [f'  Interface "{nic}"' for nic in nics] + ["  IgnoreSelected false", "</Plugin>", ""]
    # link state as the kernel reports it (up/down, carrier), sent as a notification on each change
    lines += ["LoadPlugin connectivity", "<Plugin connectivity>"]
    lines += [f'  Interface "{name}"' for name in nics + taps] + ["</Plugin>", ""]
    if ovs:
        # a VM's port on the switch: its tap (native) or the hybrid plug's qvo; the iface-id meta names the port
        ports = sorted({prefix + name[3:] for name in taps for prefix in ("tap", "qvo")})
        lines += ["LoadPlugin ovs_events", "<Plugin ovs_events>"]
        lines += [f'  Socket "{ovs_socket}"'] if ovs_socket else []
        lines += ["  Interfaces " + " ".join(f'"{port}"' for port in ports)] if ports else []
        lines += ["  SendNotification true", "  DispatchValues true", "</Plugin>", ""]
    source = next((d.get("ip_address") for d in mine if d.get("type") == "otep" and d.get("ip_address")), None)
    if peers:
        lines += ["LoadPlugin ping", "<Plugin ping>"] + [f'  Host "{ip}"' for ip in peers]
        lines += [f'  SourceAddress "{source}"'] if source else []  # over the underlay, as the tunnel goes
        lines += ["</Plugin>", ""]
    lines += ["LoadPlugin write_http", "<Plugin write_http>", '  <Node "calipso">', f'    URL "{target}"',
              '    Format "JSON"', "    StoreRates true", "    Notifications true",
              "    LogHttpError true",  # a refusal (401, 403, 400 with the reason) shows in collectd's log
              '    # a token of a user granted `edit` on the environment: calipso token issue USER',
              '    Header "Authorization: Bearer CALIPSO_TOKEN"', "  </Node>", "</Plugin>", ""]
    return "\n".join(lines)
