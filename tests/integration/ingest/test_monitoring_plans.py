"""load_plans hands each host only the links touching its objects (an index, not the whole list per host):
its plans equal plan_host's over the whole link list, on a lab world's ground truth stored in MongoDB."""

from __future__ import annotations

from graphmodel.inventory import LINKS, OBJECTS
from ingest.monitoring.checks import plan_host
from ingest.monitoring.runner import MONITORED_TYPES, PATH_LINKS, load_plans, plan_from_json, plan_to_json
from lab.generate import generate_world
from lab.truth import compute_truth


def test_plans_from_the_link_index_equal_plans_from_every_link(mongo_db, env_name: str) -> None:  # type: ignore[no-untyped-def]
    truth = compute_truth(generate_world(5, 2, 3, "ovs", "vxlan", seed=21))
    objects = [{"id": o.id, "type": o.type, "name": o.name, "host": o.host, **o.attributes, "environment": env_name}
               for o in truth.objects.values()]
    links = [{"link_type": k.link_type, "source_id": k.source_id, "target_id": k.target_id, **k.attributes,
              "environment": env_name} for k in truth.links.values()]
    mongo_db[OBJECTS].insert_many([dict(d) for d in objects])
    mongo_db[LINKS].insert_many([dict(d) for d in links])
    stored_objects = [d for d in mongo_db[OBJECTS].find({"environment": env_name}, {"_id": 0})
                      if d["type"] in (*MONITORED_TYPES, "network")]
    stored_links = [d for d in mongo_db[LINKS].find({"environment": env_name}, {"_id": 0})
                    if d["link_type"] in PATH_LINKS]
    networks = {d["id"]: d for d in stored_objects if d["type"] == "network"}

    plans = load_plans(mongo_db, env_name, round_number=1)
    assert len(plans) == 5 and sum(len(p.links) for p in plans) > 0
    for plan in plans:
        expected = plan_host(plan.host, [d for d in stored_objects if d.get("host") == plan.host], stored_links,
                             networks, 1)
        assert plan.sections == expected.sections
        assert plan.objects.keys() == expected.objects.keys()
        key = lambda d: (d["link_type"], d["source_id"], d["target_id"])  # noqa: E731
        assert sorted(map(key, plan.links)) == sorted(map(key, expected.links))
        # and a plan travels to a worker's task and back unchanged
        again = plan_from_json(plan_to_json(plan), plan.networks)
        assert (again.sections, again.objects, again.links, again.checks) == \
            (plan.sections, plan.objects, plan.links, plan.checks)
