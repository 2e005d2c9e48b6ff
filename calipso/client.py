"""The Python client of Calipso's REST API, for notebooks and scripts.

    from calipso.client import Client
    api = Client.login("http://127.0.0.1:8080", "alice", "alice-pw")
    api.inventory("lab1", type="instance", as_frame=True)
    api.impact("lab1", ["compute-1/eth1"])

Lists come back whole (the client walks the pages) as a list of dicts, or as a pandas DataFrame
with `as_frame=True`. Any answer other than success raises CalipsoAPIError, which carries the
HTTP status and the API's error body.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

import pandas as pd
import requests

PREFIX = "/api/v1"
#: The API's largest page: fewest round trips when walking a list.
PAGE_SIZE = 500


class CalipsoAPIError(Exception):
    """The API answered with an error: `status` (HTTP), `code` and `message` from its body, `body` whole."""

    def __init__(self, status: int, body: Any, method: str = "", url: str = "") -> None:
        error = body.get("error", {}) if isinstance(body, Mapping) else {}
        self.status = status
        self.body = body
        self.code = error.get("code", "error")
        self.message = error.get("message") or (body if isinstance(body, str) else "") or f"HTTP {status}"
        self.details = error.get("details", {})
        super().__init__(f"{method} {url}: {status} {self.code}: {self.message}".strip())


def _segment(value: str) -> str:
    """A path segment: every character outside unreserved ones escaped (ids may hold '/', kept for
    routes whose id is a path)."""
    return quote(str(value), safe="")


def _path_id(value: str) -> str:
    return quote(str(value), safe="/")


def _clean(params: Mapping[str, Any]) -> dict[str, Any]:
    """Query parameters without the unset ones; times as ISO 8601, booleans as true/false."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None or (isinstance(value, (list, tuple, set)) and not value):
            continue
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (list, tuple, set)):
            value = [v.isoformat() if isinstance(v, datetime) else v for v in value]
        out[key] = value
    return out


def _listify(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


class Client:
    """A session with one Calipso API server."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 60.0,
                 session: requests.Session | None = None) -> None:
        self.url = url.rstrip("/")
        if self.url.endswith(PREFIX):
            self.url = self.url[: -len(PREFIX)]
        self.token = token
        self.timeout = timeout
        self.session = session or requests.Session()

    @classmethod
    def login(cls, url: str, username: str, password: str, ttl_seconds: int | None = None,
              **options: Any) -> Client:
        """A client holding a fresh token for this user."""
        client = cls(url, **options)
        body: dict[str, Any] = {"username": username, "password": password}
        if ttl_seconds is not None:
            body["ttl_seconds"] = ttl_seconds
        answer = client.request("POST", "/auth/tokens", json=body)
        client.token = answer["token"]
        return client

    def logout(self) -> None:
        """Revoke this client's token."""
        self.request("DELETE", "/auth/tokens/current")
        self.token = None

    # -- plumbing ---------------------------------------------------------------------------------

    def request(self, method: str, path: str, params: Mapping[str, Any] | None = None, json: Any = None) -> Any:
        """One call: the decoded JSON answer (text for non-JSON answers, None for 204)."""
        url = f"{self.url}{PREFIX}{path}"
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        response = self.session.request(method, url, params=_clean(params or {}), json=json, headers=headers,
                                        timeout=self.timeout)
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        if response.status_code >= 400:
            raise CalipsoAPIError(response.status_code, body, method, url)
        if response.status_code == 204:
            return None
        return body

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params)

    def page(self, path: str, **params: Any) -> dict[str, Any]:
        """One page of a list: items, total, page, page_size."""
        return self.request("GET", path, params)

    def all_items(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a list, page by page."""
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            answer = self.page(path, **params, page=page, page_size=PAGE_SIZE)
            items.extend(answer["items"])
            if not answer["items"] or len(items) >= answer["total"]:
                return items
            page += 1

    def _list(self, path: str, as_frame: bool, **params: Any) -> list[dict[str, Any]] | pd.DataFrame:
        items = self.all_items(path, **params)
        return pd.DataFrame(items) if as_frame else items

    @staticmethod
    def _env(environment: str) -> str:
        return f"/environments/{_segment(environment)}"

    # -- service -----------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """Each store's state (no token needed). A degraded service raises CalipsoAPIError(503)."""
        return self.get("/health")

    def metrics(self) -> str:
        return self.get("/metrics")

    def whoami(self) -> dict[str, Any]:
        return self.get("/auth/whoami")

    def types(self) -> dict[str, Any]:
        """Object, link and clique types of the model."""
        return self.get("/types")

    def clique_types(self, focal_point_type: str | None = None, as_frame: bool = False) -> Any:
        rows = self.get("/clique-types", focal_point_type=focal_point_type)
        return pd.DataFrame(rows) if as_frame else rows

    # -- environments ------------------------------------------------------------------------------

    def environments(self, as_frame: bool = False) -> Any:
        return self._list("/environments", as_frame)

    def environment(self, name: str) -> dict[str, Any]:
        return self.get(self._env(name))

    def add_environment(self, config: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("POST", "/environments", json=dict(config))

    def delete_environment(self, name: str) -> None:
        self.request("DELETE", self._env(name))

    # -- inventory and links ----------------------------------------------------------------------

    def inventory(self, environment: str, *, type: str | Iterable[str] | None = None, parent_id: str | None = None,
                  subtree: str | None = None, name: str | None = None, host: str | None = None,
                  status: str | None = None, seen_after: datetime | None = None, seen_before: datetime | None = None,
                  as_of: datetime | None = None, as_frame: bool = False) -> Any:
        """Objects, filtered (all pages); `as_of` gives the inventory as it was at that time."""
        return self._list(f"{self._env(environment)}/inventory", as_frame, type=_listify(type), parent_id=parent_id,
                          subtree=subtree, name=name, host=host, status=status, seen_after=seen_after,
                          seen_before=seen_before, as_of=as_of)

    def object(self, environment: str, object_id: str) -> dict[str, Any]:
        return self.get(f"{self._env(environment)}/inventory/{_path_id(object_id)}")

    def object_history(self, environment: str, object_id: str, as_frame: bool = False) -> Any:
        return self._list(f"{self._env(environment)}/inventory/{_path_id(object_id)}/history", as_frame)

    def links(self, environment: str, *, link_type: str | Iterable[str] | None = None, host: str | None = None,
              state: str | None = None, status: str | None = None, source_id: str | None = None,
              target_id: str | None = None, object_id: str | None = None,
              attributes: Mapping[str, Any] | None = None, as_of: datetime | None = None,
              as_frame: bool = False) -> Any:
        """Links, filtered (all pages); `attributes` must all hold, e.g. {"network": id}."""
        attribute = [f"{k}={v}" for k, v in (attributes or {}).items()]
        return self._list(f"{self._env(environment)}/links", as_frame, link_type=_listify(link_type), host=host,
                          state=state, status=status, source_id=source_id, target_id=target_id, object_id=object_id,
                          attribute=attribute, as_of=as_of)

    def link(self, environment: str, key: str) -> dict[str, Any]:
        return self.get(f"{self._env(environment)}/links/{_path_id(key)}")

    def messages(self, environment: str, *, level: str | Iterable[str] | None = None,
                 source_system: str | None = None, related_object: str | None = None,
                 related_object_type: str | None = None, scan_id: str | None = None,
                 since: datetime | None = None, until: datetime | None = None, as_frame: bool = False) -> Any:
        return self._list(f"{self._env(environment)}/messages", as_frame, level=_listify(level),
                          source_system=source_system, related_object=related_object,
                          related_object_type=related_object_type, scan_id=scan_id, since=since, until=until)

    def statistics(self, environment: str) -> dict[str, Any]:
        return self.get(f"{self._env(environment)}/statistics")

    # -- exploring ---------------------------------------------------------------------------------

    def search(self, environment: str, text: str, type: str | Iterable[str] | None = None,
               as_frame: bool = False) -> Any:
        return self._list(f"{self._env(environment)}/search", as_frame, q=text, type=_listify(type))

    def tree(self, environment: str, parent: str | None = None, as_frame: bool = False) -> Any:
        return self._list(f"{self._env(environment)}/tree", as_frame, parent=parent)

    def graph(self, environment: str, focal: str | Iterable[str] | None = None, search: str | None = None,
              hops: int = 2, max_nodes: int | None = None, link_types: Iterable[str] | None = None,
              tree: bool = False, as_frame: bool = False) -> Any:
        """The subgraph around focal objects or a search: a dict with nodes and links, or with
        `as_frame=True` a pair of DataFrames (nodes, links)."""
        answer = self.get(f"{self._env(environment)}/graph", focal=_listify(focal), search=search, hops=hops,
                          max_nodes=max_nodes, link_type=_listify(link_types), tree=tree)
        if as_frame:
            return pd.DataFrame(answer["nodes"]), pd.DataFrame(answer["links"])
        return answer

    def clique(self, environment: str, focal_id: str, as_frame: bool = False) -> Any:
        answer = self.get(f"{self._env(environment)}/cliques/{_path_id(focal_id)}")
        return _frame(answer) if as_frame else answer

    # -- scans -------------------------------------------------------------------------------------

    def scans(self, environment: str, status: str | Iterable[str] | None = None, as_frame: bool = False) -> Any:
        return self._list(f"{self._env(environment)}/scans", as_frame, status=_listify(status))

    def scan(self, environment: str, scan_id: str) -> dict[str, Any]:
        return self.get(f"{self._env(environment)}/scans/{_segment(scan_id)}")

    def start_scan(self, environment: str, **options: Any) -> dict[str, Any]:
        return self.request("POST", f"{self._env(environment)}/scans", json=options)

    def abort_scan(self, environment: str, scan_id: str) -> dict[str, Any]:
        return self.request("DELETE", f"{self._env(environment)}/scans/{_segment(scan_id)}")

    def schedules(self, environment: str, as_frame: bool = False) -> Any:
        return self._list(f"{self._env(environment)}/schedules", as_frame)

    def add_schedule(self, environment: str, **schedule: Any) -> dict[str, Any]:
        return self.request("POST", f"{self._env(environment)}/schedules", json=schedule)

    def delete_schedule(self, environment: str, schedule_id: str) -> None:
        self.request("DELETE", f"{self._env(environment)}/schedules/{_segment(schedule_id)}")

    # -- analysis ----------------------------------------------------------------------------------

    def analysis(self, environment: str, name: str, as_frame: bool = False, **params: Any) -> Any:
        """Any analysis by name (impact, rca, path, whatif, diff, invariants): the result as a dict,
        or its `rows` as a DataFrame."""
        answer = self.get(f"{self._env(environment)}/analysis/{name}", **params)
        return _frame(answer) if as_frame else answer

    def impact(self, environment: str, targets: str | Iterable[str], as_frame: bool = False, **params: Any) -> Any:
        """What taking `targets` down would cut off (down) or leave without redundancy (degraded)."""
        return self.analysis(environment, "impact", as_frame, target=_listify(targets), **params)

    def rca(self, environment: str, focal_points: str | Iterable[str], as_frame: bool = False, **params: Any) -> Any:
        """Ranked suspects, with evidence, for focal points that cannot communicate."""
        return self.analysis(environment, "rca", as_frame, focal=_listify(focal_points), **params)

    def path(self, environment: str, source: str, target: str, as_frame: bool = False, **params: Any) -> Any:
        return self.analysis(environment, "path", as_frame, source=source, target=target, **params)

    def whatif(self, environment: str, remove: str | Iterable[str], as_frame: bool = False, **params: Any) -> Any:
        return self.analysis(environment, "whatif", as_frame, remove=_listify(remove), **params)

    def diff(self, environment: str, since: datetime | str, until: datetime | str | None = None,
             around: str | None = None, as_frame: bool = False, **params: Any) -> Any:
        return self.analysis(environment, "diff", as_frame, since=since, until=until, around=around, **params)

    def invariants(self, environment: str, as_frame: bool = False, **params: Any) -> Any:
        return self.analysis(environment, "invariants", as_frame, **params)

    # -- exports and reports ----------------------------------------------------------------------

    def _download(self, path: str, params: Mapping[str, Any]) -> bytes:
        """A document the API answers with (not JSON), as bytes; errors raise CalipsoAPIError."""
        url = f"{self.url}{PREFIX}{path}"
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = self.session.get(url, params=_clean(params), headers=headers, timeout=self.timeout)
        if response.status_code >= 400:
            try:
                body: Any = response.json()
            except ValueError:
                body = response.text
            raise CalipsoAPIError(response.status_code, body, "GET", url)
        return response.content

    def export(self, environment: str, format: str) -> str:
        """The environment as graphml, gexf, json (networkx node-link), dot, netbox or batfish text."""
        return self._download(f"{self._env(environment)}/export", {"format": format}).decode("utf-8")

    def maintenance_report(self, environment: str, hosts: str | Iterable[str], window: str | None = None,
                           format: str = "json") -> Any:
        """The maintenance report for hosts going down in a window: a dict (json), the document's text
        (html, md), or the PDF's bytes."""
        params = {"host": _listify(hosts), "window": window, "format": format}
        return self._report(f"{self._env(environment)}/reports/maintenance", params, format)

    def incident_report(self, environment: str, vms: str | Iterable[str], since: datetime | str | None = None,
                        format: str = "json") -> Any:
        """The incident report for broken VMs: a dict (json), text (html, md) or PDF bytes."""
        params = {"vm": _listify(vms), "since": since, "format": format}
        return self._report(f"{self._env(environment)}/reports/incident", params, format)

    def _report(self, path: str, params: Mapping[str, Any], format: str) -> Any:
        if format == "json":
            return self.get(path, **params)
        data = self._download(path, params)
        return data if format == "pdf" else data.decode("utf-8")


def _frame(answer: Any) -> pd.DataFrame:
    """An analysis result as a table: its `rows` if it has them, else the answer itself."""
    if isinstance(answer, Mapping) and "rows" in answer:
        return pd.DataFrame(answer["rows"])
    if isinstance(answer, list):
        return pd.DataFrame(answer)
    return pd.DataFrame([answer])
