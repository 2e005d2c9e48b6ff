"""Prometheus metrics: requests and latencies per endpoint and status, scans, projection lag.

Each application has its own registry (several apps in one process, as in tests, never collide).
Scan and projection figures are read from the stores when /metrics is scraped, not kept in memory,
so every API process reports the same numbers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from core.stores import Stores
from graphmodel.inventory import feed_counters
from graphmodel.projector import CHECKPOINT_LABEL

log = logging.getLogger(__name__)

SCANS = "scans"  # ingest.records.SCANS (api may import ingest, but this module needs only the name)
SCAN_DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600)
#: How many recent scans the duration histogram is computed from.
SCAN_WINDOW = 1000


class StoreFigures(Collector):
    """Scan counts and durations from `scans`, projection lag from the feed counters and Neo4j's checkpoints."""

    def __init__(self, stores: Callable[[], Stores]) -> None:
        self.stores = stores

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily("calipso_metrics_stores_up", "Whether the store answered this scrape", labels=["store"])
        try:
            yield from self._scans(self.stores().mongo)
            up.add_metric(["mongodb"], 1)
        except Exception as exc:  # noqa: BLE001 - a scrape reports what it can
            log.warning("metrics: MongoDB figures unavailable: %s", exc)
            up.add_metric(["mongodb"], 0)
        try:
            yield from self._projection(self.stores())
            up.add_metric(["neo4j"], 1)
        except Exception as exc:  # noqa: BLE001
            log.warning("metrics: projection figures unavailable: %s", exc)
            up.add_metric(["neo4j"], 0)
        yield up

    def _scans(self, database: Any) -> Iterator[Any]:
        counts = GaugeMetricFamily("calipso_scans", "Scans per environment and status", labels=["environment", "status"])
        for row in database[SCANS].aggregate([{"$group": {"_id": {"e": "$environment", "s": "$status"},
                                                          "n": {"$sum": 1}}}]):
            counts.add_metric([str(row["_id"].get("e")), str(row["_id"].get("s"))], int(row["n"]))
        yield counts
        durations: dict[str, list[float]] = {}
        for doc in database[SCANS].find({"duration_s": {"$exists": True}}, {"environment": 1, "duration_s": 1}) \
                .sort("created_at", -1).limit(SCAN_WINDOW):
            durations.setdefault(str(doc.get("environment")), []).append(float(doc["duration_s"]))
        histogram = HistogramMetricFamily("calipso_scan_duration_seconds",
                                          f"Durations of the last {SCAN_WINDOW} finished scans", labels=["environment"])
        for environment, values in sorted(durations.items()):
            buckets = [(str(float(b)), sum(1 for v in values if v <= b)) for b in SCAN_DURATION_BUCKETS]
            buckets.append(("+Inf", len(values)))
            histogram.add_metric([environment], buckets, sum(values))
        yield histogram

    def _projection(self, stores: Stores) -> Iterator[Any]:
        records, _, _ = stores.neo4j.execute_query(f"MATCH (c:{CHECKPOINT_LABEL}) RETURN c.env AS env, c.seq AS seq")
        checkpoints = {r["env"]: int(r["seq"] or 0) for r in records}
        lag = GaugeMetricFamily("calipso_projection_lag_changes",
                                "Changes in MongoDB's feed not yet applied to Neo4j", labels=["environment"])
        last = GaugeMetricFamily("calipso_changes_last_seq", "Last sequence number of the changes feed",
                                 labels=["environment"])
        # The feed counters, not the feed: the newest entry is a sorted find per environment, which
        # FerretDB does not push down (it reads and sorts the whole feed); the counters are one small read.
        # A counter is the last number handed out; its entry is inserted under the same write lock.
        newest = feed_counters(stores.mongo)
        for environment in sorted(set(newest) | set(checkpoints)):
            newest_seq = newest.get(environment, 0)
            last.add_metric([str(environment)], newest_seq)
            lag.add_metric([str(environment)], max(0, newest_seq - checkpoints.get(environment, 0)))
        yield last
        yield lag


class ApiMetrics:
    """Request counters and latency histograms of one app, and the /metrics text."""

    def __init__(self, stores: Callable[[], Stores]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("calipso_api_requests", "API requests", ["method", "endpoint", "status"],
                                registry=self.registry)
        self.latency = Histogram("calipso_api_request_duration_seconds", "API request latency",
                                 ["method", "endpoint", "status"], registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.registry.register(StoreFigures(stores))

    def install(self, app: Flask) -> None:
        @app.before_request
        def start_timer() -> None:
            g.metrics_started = time.perf_counter()

        @app.after_request
        def count(response: Response) -> Response:
            started = g.get("metrics_started")
            # The URL rule, not the path: ids in paths would make a metric per object.
            endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
            labels = (request.method, endpoint, str(response.status_code))
            self.requests.labels(*labels).inc()
            if started is not None:
                self.latency.labels(*labels).observe(time.perf_counter() - started)
            return response

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
