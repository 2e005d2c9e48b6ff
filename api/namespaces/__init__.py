"""One flask-restx namespace per concern; `register_all` adds them to the Api in a fixed order."""

from __future__ import annotations

from flask_restx import Api


def register_all(api: Api) -> None:
    from api.namespaces import (
        analysis,
        auth,
        cliques,
        environments,
        graph,
        health,
        inventory,
        links,
        messages,
        scans,
        schedules,
        statistics,
        types,
    )

    for module in (health, auth, environments, types, inventory, links, cliques, scans, schedules, messages,
                   statistics, graph, analysis):
        api.add_namespace(module.ns, path=getattr(module, "PATH", None))
    api.add_namespace(health.metrics_ns)
    api.add_namespace(cliques.cliques_ns, path=cliques.CLIQUES_PATH)
    from api.namespaces import exports, reports
    api.add_namespace(exports.ns, path=exports.PATH)
    api.add_namespace(reports.ns, path=reports.PATH)
    from api.namespaces import overview  # the web UI's environment overview, object health, message timeline
    api.add_namespace(overview.ns, path=overview.PATH)
    from api.namespaces import watches  # watches on VMs' paths with webhooks (issue 15)
    api.add_namespace(watches.ns, path=watches.PATH)
    from api.namespaces import monitoring  # monitoring summary and Sensu/collectd intake (issue 15)
    api.add_namespace(monitoring.ns, path=monitoring.PATH)
