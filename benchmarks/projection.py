"""Projection throughput next to raw batched Cypher MERGE, on the same Neo4j in the same run.

    .venv/bin/python benchmarks/projection.py --hosts 100 --vms-per-host 20

Both sides write the same graph: nodes, the CONTAINS tree, and link relationships. The
inventory is a lab world's ground truth (objects and links as the scanner would write them),
written through InventoryWriter (timed), projected by the Projector from the changes feed
(timed), and then the same node and relationship rows are written again by plain
`UNWIND ... MERGE` statements into another environment (timed). Needs the local stack
(`calipso stack up`); writes into a throw-away MongoDB database (calipso_bench_projection) and
Neo4j environments named bench-*, all removed at the end. Prints; asserts nothing.
"""

from __future__ import annotations

import time
from dataclasses import asdict

from common import world_parser

from core.settings import get_settings
from core.stores import Stores
from graphmodel.inventory import InventoryWriter
from graphmodel.projector import Projector, link_properties, node_properties, relationship_of
from graphmodel.schema import uid
from lab.generate import generate_world
from lab.truth import compute_truth
from migrations.runner import apply_mongo, apply_neo4j

MONGO_DATABASE = "calipso_bench_projection"


def main() -> None:
    parser = world_parser(__doc__, hosts=100, vms_per_host=20, whole_doc=True)
    parser.add_argument("--networks", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=5000)
    args = parser.parse_args()

    started = time.perf_counter()
    world = generate_world(args.hosts, args.vms_per_host, args.networks, "ovs", "vxlan", seed=1)
    truth = compute_truth(world)
    objects = [{**{k: v for k, v in asdict(o).items() if k != "attributes"}, **o.attributes}
               for o in truth.objects.values()]
    links = [{**{k: v for k, v in asdict(l).items() if k != "attributes"}, **l.attributes}
             for l in truth.links.values()]
    print(f"world: {len(world.hosts)} hosts, {len(world.instances)} VMs -> {len(objects)} objects, "
          f"{len(links)} links ({time.perf_counter() - started:.1f}s)")

    with Stores(get_settings()) as stores:
        # A database of its own, dropped whole: FerretDB cannot delete_many more than ~32k documents
        # in one statement (SQLite's limit on variables), and a drop costs nothing.
        database = stores.mongo.client[MONGO_DATABASE]
        database.client.drop_database(MONGO_DATABASE)
        apply_mongo(database)
        apply_neo4j(stores.neo4j)
        for env in ("bench-projector", "bench-raw"):
            drop_graph(stores, env)

        writer = InventoryWriter(database, "bench-projector")
        t0 = time.perf_counter()
        writer.write_objects(objects, "scan-1")
        writer.write_links(links, "scan-1")
        write_s = time.perf_counter() - t0
        total = len(objects) + len(links)
        print(f"MongoDB write (inventory + history + feed): {total} docs in {write_s:.1f}s = {total / write_s:,.0f}/s",
              flush=True)

        t0 = time.perf_counter()
        stats = Projector(database, stores.neo4j, "bench-projector", args.batch_size).sync()
        projector_s = time.perf_counter() - t0
        print(f"projector: {stats.changes} changes in {projector_s:.1f}s = {stats.changes / projector_s:,.0f}/s "
              f"(reading the feed {stats.read_seconds:.1f}s, Neo4j transactions {stats.write_seconds:.1f}s)",
              flush=True)

        t0 = time.perf_counter()
        raw_merge(stores, "bench-raw", objects, links, args.batch_size)
        raw_s = time.perf_counter() - t0
        print(f"raw batched MERGE: {total} rows in {raw_s:.1f}s = {total / raw_s:,.0f}/s")
        print(f"projector / raw throughput ratio: {(stats.changes / projector_s) / (total / raw_s):.2f} end to end, "
              f"{(stats.changes / stats.write_seconds) / (total / raw_s):.2f} counting only the Neo4j writes "
              f"(target >= 0.5)")
        for env in ("bench-projector", "bench-raw"):
            drop_graph(stores, env)
        database.client.drop_database(MONGO_DATABASE)


def raw_merge(stores: Stores, env: str, objects: list[dict], links: list[dict], batch: int) -> None:  # type: ignore[type-arg]
    """The baseline: the same rows, MERGEd with the simplest batched statements."""
    rows = [{"uid": uid(env, o["id"]), "props": node_properties(env, o)} for o in objects]
    with stores.neo4j.session() as session:
        for start in range(0, len(rows), batch):
            session.run("UNWIND $rows AS row MERGE (n:Object {uid: row.uid}) SET n = row.props",
                        rows=rows[start:start + batch]).consume()
        # The tree too, so that both sides write the same graph.
        tree = [{"uid": uid(env, o["id"]), "parent": uid(env, o["parent_id"])} for o in objects
                if o.get("parent_id") and o["parent_id"] != "environment"]
        for start in range(0, len(tree), batch):
            session.run("UNWIND $rows AS row MATCH (n:Object {uid: row.uid}) MERGE (p:Object {uid: row.parent}) "
                        "MERGE (p)-[:CONTAINS]->(n)", rows=tree[start:start + batch]).consume()
        by_type: dict[str, list[dict]] = {}  # type: ignore[type-arg]
        for link in links:
            by_type.setdefault(link["link_type"], []).append({
                "a": uid(env, link["source_id"]), "b": uid(env, link["target_id"]),
                "props": link_properties(env, link)})
        for link_type, link_rows in by_type.items():
            for start in range(0, len(link_rows), batch):
                session.run(f"UNWIND $rows AS row MATCH (a:Object {{uid: row.a}}) MATCH (b:Object {{uid: row.b}}) "
                            f"MERGE (a)-[r:{relationship_of(link_type)}]->(b) SET r = row.props",
                            rows=link_rows[start:start + batch]).consume()


def drop_graph(stores: Stores, env: str) -> None:
    """Remove an environment's nodes and its projector checkpoint from Neo4j."""
    with stores.neo4j.session() as session:
        session.run("MATCH (n:Object {env: $env}) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS",
                    env=env).consume()
        session.run("MATCH (c:ProjectorCheckpoint {env: $env}) DELETE c", env=env).consume()


if __name__ == "__main__":
    main()
