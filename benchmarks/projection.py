"""Projection throughput next to raw batched Cypher MERGE, on the same Neo4j in the same run.

    .venv/bin/python benchmarks/projection.py --hosts 100 --vms-per-host 20

Both sides write the same graph: nodes with their type's label, the CONTAINS tree, and link
relationships. The inventory is a lab world's ground truth (objects and links as the scanner would
write them), written through InventoryWriter (timed), then projected by the Projector from the changes
feed, and written as the same node and relationship rows by plain `UNWIND ... MERGE` statements into
another environment. Both sides are first run once untimed on a small world (Neo4j's query plans and
its JIT warm for both alike), then each is timed --rounds times, alternating which goes first, each run
into an empty environment (the previous run's graph is dropped, so every run starts from the same
Neo4j state). Every run is printed with the machine's load (1, 5 and 15 minutes, at its end); the
ratio is taken from each side's best run and from their medians. Needs the local stack (`calipso
stack up`); writes into a throw-away MongoDB database (calipso_bench_projection) and Neo4j
environments named bench-*, all removed at the end. Prints; asserts nothing.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict

from common import load_average, world_parser

from core.settings import get_settings
from core.stores import MongoDatabase, Stores
from graphmodel.inventory import InventoryWriter
from graphmodel.projector import Projector, SyncStats, label_of, link_properties, node_properties, relationship_of
from graphmodel.schema import uid
from lab.generate import generate_world
from lab.truth import compute_truth
from migrations.runner import apply_mongo, apply_neo4j

MONGO_DATABASE = "calipso_bench_projection"
Rows = list[dict]


def main() -> None:
    parser = world_parser(__doc__, hosts=100, vms_per_host=20, whole_doc=True)
    parser.add_argument("--networks", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=2, help="timed runs of each side (default 2)")
    args = parser.parse_args()

    started = time.perf_counter()
    objects, links = world_rows(args.hosts, args.vms_per_host, args.networks)
    print(f"world: {args.hosts} hosts -> {len(objects)} objects, {len(links)} links "
          f"({time.perf_counter() - started:.1f}s)")
    total = len(objects) + len(links)

    with Stores(get_settings()) as stores:
        # A database of its own, dropped whole: FerretDB cannot delete_many more than ~32k documents
        # in one statement (SQLite's limit on variables), and a drop costs nothing.
        database = stores.mongo.client[MONGO_DATABASE]
        database.client.drop_database(MONGO_DATABASE)
        apply_mongo(database)
        apply_neo4j(stores.neo4j)
        for env in ("bench-warm", "bench-warm-raw", "bench-projector", "bench-raw"):
            drop_graph(stores, env)

        # Warm-up, untimed: the same statements on a small world, for both sides.
        warm_objects, warm_links = world_rows(2, 2, 2)
        write_inventory(database, "bench-warm", warm_objects, warm_links)
        Projector(database, stores.neo4j, "bench-warm", args.batch_size).sync()
        raw_merge(stores, "bench-warm-raw", warm_objects, warm_links, args.batch_size)
        for env in ("bench-warm", "bench-warm-raw"):
            drop_graph(stores, env)

        t0 = time.perf_counter()
        write_inventory(database, "bench-projector", objects, links)
        write_s = time.perf_counter() - t0
        print(f"MongoDB write (inventory + history + feed): {total} docs in {write_s:.1f}s = {total / write_s:,.0f}/s",
              flush=True)

        projector_runs: list[float] = []
        raw_runs: list[float] = []
        for round_number in range(1, args.rounds + 1):
            sides = ("projector", "raw") if round_number % 2 else ("raw", "projector")
            for side in sides:
                if side == "projector":
                    drop_graph(stores, "bench-projector")  # and its checkpoint: the whole feed again
                    t0 = time.perf_counter()
                    stats = Projector(database, stores.neo4j, "bench-projector", args.batch_size).sync()
                    seconds = time.perf_counter() - t0
                    load = load_average()
                    assert stats.changes == total, (stats.changes, total)
                    projector_runs.append(seconds)
                    print(f"round {round_number} projector: {stats.changes} changes in {seconds:.1f}s = "
                          f"{stats.changes / seconds:,.0f}/s ({detail(stats)}; load {load})", flush=True)
                else:
                    drop_graph(stores, "bench-raw")
                    t0 = time.perf_counter()
                    raw_merge(stores, "bench-raw", objects, links, args.batch_size)
                    seconds = time.perf_counter() - t0
                    load = load_average()
                    raw_runs.append(seconds)
                    print(f"round {round_number} raw batched MERGE: {total} rows in {seconds:.1f}s = "
                          f"{total / seconds:,.0f}/s (load {load})", flush=True)
        best = min(raw_runs) / min(projector_runs)
        median = statistics.median(raw_runs) / statistics.median(projector_runs)
        print(f"projector / raw throughput ratio, end to end: {best:.2f} best run against best run, "
              f"{median:.2f} median against median (target >= 0.5); load now {load_average()}")
        for env in ("bench-projector", "bench-raw"):
            drop_graph(stores, env)
        database.client.drop_database(MONGO_DATABASE)


def world_rows(hosts: int, vms_per_host: int, networks: int) -> tuple[Rows, Rows]:
    """A lab world's ground truth as the scanner's object and link documents."""
    truth = compute_truth(generate_world(hosts, vms_per_host, networks, "ovs", "vxlan", seed=1))
    objects = [{**{k: v for k, v in asdict(o).items() if k != "attributes"}, **o.attributes}
               for o in truth.objects.values()]
    links = [{**{k: v for k, v in asdict(l).items() if k != "attributes"}, **l.attributes}
             for l in truth.links.values()]
    return objects, links


def write_inventory(database: MongoDatabase, env: str, objects: Rows, links: Rows) -> None:
    writer = InventoryWriter(database, env)
    writer.write_objects(objects, "scan-1")
    writer.write_links(links, "scan-1")


def detail(stats: SyncStats) -> str:
    """Where a sync's time went: the feed is read while the previous batch is written."""
    return (f"{stats.batches} batches; Neo4j transactions {stats.write_seconds:.1f}s, "
            f"waiting for the feed {stats.read_seconds:.1f}s")


def raw_merge(stores: Stores, env: str, objects: list[dict], links: list[dict], batch: int) -> None:
    """The baseline: the same rows, MERGEd with the simplest batched statements (one per object type, for
    its label, and one per link type)."""
    nodes_by_type: dict[str, list[dict]] = {}
    for o in objects:
        nodes_by_type.setdefault(o["type"], []).append({"uid": uid(env, o["id"]), "props": node_properties(env, o)})
    with stores.neo4j.session() as session:
        for object_type, rows in nodes_by_type.items():
            for start in range(0, len(rows), batch):
                session.run(f"UNWIND $rows AS row MERGE (n:Object {{uid: row.uid}}) "
                            f"SET n = row.props, n:{label_of(object_type)}", rows=rows[start:start + batch]).consume()
        # The tree too, so that both sides write the same graph.
        tree = [{"uid": uid(env, o["id"]), "parent": uid(env, o["parent_id"])} for o in objects
                if o.get("parent_id") and o["parent_id"] != "environment"]
        for start in range(0, len(tree), batch):
            session.run("UNWIND $rows AS row MATCH (n:Object {uid: row.uid}) MERGE (p:Object {uid: row.parent}) "
                        "MERGE (p)-[:CONTAINS]->(n)", rows=tree[start:start + batch]).consume()
        by_type: dict[str, list[dict]] = {}
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
