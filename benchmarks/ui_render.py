"""The web UI on a large world: page load and focal-graph render time after the API's answer.

    .venv/bin/python benchmarks/ui_render.py --hosts 1000 --vms-per-host 20

1. Generate an OVS/VXLAN world, scan it in process (its APIs on loopback, its hosts answering through
   the lab's simulator) into a throw-away database, and project it into Neo4j.
2. Serve the API and the UI (waitress, loopback, a free port), log in with Debian's Chromium driven
   by Playwright, then for --samples VMs: open the VM's focal view by its URL and read the UI's own
   figures (window.calipsoMetrics): the API calls of the picture (clique, then /graph of its nodes),
   the health call, and the drawing (Cytoscape, from model to first frame). Also the whole page
   load (navigation to drawn graph), one "+N more" expansion of the network node (its fan-out is the
   largest), and the overview and dashboard pages.

Needs the local stack (`calipso stack up`, or the test stack's variables) and the UI built
(`make bootstrap`). `--keep` leaves the scanned world for another run (which then skips the scan).
Prints p50/p95/max; asserts nothing.
"""

from __future__ import annotations

import logging
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import world_parser  # noqa: E402
from projection import drop_graph  # noqa: E402

from api.auth import UserStore  # noqa: E402
from calipso.lab_scan import scan_world_in_process  # noqa: E402
from core.settings import load_settings  # noqa: E402
from core.stores import Stores  # noqa: E402
from graphmodel.inventory import OBJECTS  # noqa: E402
from graphmodel.projector import Projector  # noqa: E402
from lab.generate import generate_world  # noqa: E402
from migrations.runner import apply_mongo, apply_neo4j  # noqa: E402

DATABASE = "calipso_bench_ui"
ENV = "bench-ui"
USER, PASSWORD = "bench-ui", "bench-ui-pw"


def figures(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (f"{name:<34} p50 {statistics.median(ordered):8.1f} ms   p95 {p95:8.1f} ms   max {ordered[-1]:8.1f} ms"
            f"   (n={len(ordered)})")


def main() -> None:
    parser = world_parser(__doc__, hosts=100, vms_per_host=20)
    parser.add_argument("--samples", type=int, default=20, help="VMs whose focal view is timed")
    parser.add_argument("--concurrency", type=int, default=8, help="hosts scanned at once")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the scanned world (and reuse a kept one)")
    args = parser.parse_args()
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth" lines say nothing here

    import waitress.server
    from playwright.sync_api import sync_playwright

    from api import create_app

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        sys.exit("needs Debian's chromium (scripts/install-system-packages.sh)")
    settings = load_settings(mongo_database=DATABASE)
    world = generate_world(args.hosts, args.vms_per_host, max(2, args.hosts // 10), "ovs", "vxlan", seed=args.seed)
    print(f"world: {len(world.hosts)} hosts, {len(world.instances)} VMs", flush=True)
    with Stores(settings) as stores:
        database = stores.mongo
        kept = args.keep and database[OBJECTS].find_one({"environment": ENV}) is not None
        if not kept:
            database.client.drop_database(DATABASE)
            apply_mongo(database)
            apply_neo4j(stores.neo4j)
            drop_graph(stores, ENV)
            started = time.perf_counter()
            result = scan_world_in_process(world, database, ENV, concurrency=args.concurrency)
            print(f"scan: {result.status} in {time.perf_counter() - started:.1f}s", flush=True)
            started = time.perf_counter()
            stats = Projector(database, stores.neo4j, ENV).sync()
            print(f"projection: {stats.changes} changes in {time.perf_counter() - started:.1f}s", flush=True)
        users = UserStore(database)
        if users.get(USER) is None:
            users.add(USER, PASSWORD)
            users.grant(USER, ENV, "view")
        server = waitress.server.create_server(create_app(settings, stores), host="127.0.0.1", port=0, threads=4)
        threading.Thread(target=server.run, name="bench-ui-api", daemon=True).start()
        url = f"http://127.0.0.1:{server.effective_port}"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
                measure(browser.new_page(viewport={"width": 1400, "height": 950}), url, world, args.samples)
                browser.close()
        finally:
            server.close()
            if not args.keep:
                drop_graph(stores, ENV)
                database.client.drop_database(DATABASE)


def measure(page: Any, url: str, world: Any, samples: int) -> None:
    page.goto(f"{url}/")
    page.fill("#username", USER)
    page.fill("#password", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_selector(".card dl.facts", timeout=120_000)
    step = max(1, len(world.instances) // samples)
    chosen = world.instances[::step][:samples]
    api, health, draw, load, nodes = [], [], [], [], []
    for index, vm in enumerate(chosen):
        started = time.perf_counter()
        page.goto(f"{url}/#/env/{ENV}/focal/{vm.id}")
        page.wait_for_function("id => document.querySelector('.graph[data-rendered]') && "
                               "document.querySelector('h1')?.textContent.endsWith(id)", arg=vm.name, timeout=120_000)
        elapsed = (time.perf_counter() - started) * 1000
        metrics = page.evaluate("window.calipsoMetrics")
        if index == 0:  # the first view warms the server's and the browser's caches: not counted
            continue
        load.append(elapsed)
        api.append(metrics["apiMs"])
        health.append(metrics["healthMs"])
        draw.append(metrics["renderMs"])
        nodes.append(metrics["nodes"])
        page.evaluate("() => { const s = document.querySelector('#main'); s.replaceChildren(); }")
    print(f"\nfocal view of a VM (its clique; {min(nodes)}-{max(nodes)} objects drawn):")
    for name, values in (("page load (navigation -> drawn)", load), ("API: the clique (cliques/{id})", api),
                         ("API: health of the drawn objects", health), ("draw (model -> first frame)", draw)):
        print(figures(name, values))

    # The network node: the largest fan-out ("+N more"); expanding it asks /graph for one hop around it.
    vm = chosen[-1]
    page.goto(f"{url}/#/")
    page.wait_for_selector(".cards")
    page.goto(f"{url}/#/env/{ENV}/focal/{vm.id}")
    page.wait_for_selector(".graph[data-rendered]")
    hidden = page.evaluate("() => document.querySelector('.graph')._cyreg.cy.$('node.more').map(n => n.data('label'))")
    before = page.evaluate("window.calipsoMetrics.nodes")
    started = time.perf_counter()
    page.evaluate("() => { const cy = document.querySelector('.graph')._cyreg.cy;"
                  " const net = cy.$('node.more').filter(n => cy.$id(n.data('of')).data('type') === 'network');"
                  " (net.length ? net : cy.$('node.more'))[0].emit('tap'); }")
    page.wait_for_function("n => window.calipsoMetrics.nodes > n", arg=before, timeout=120_000)
    expand = (time.perf_counter() - started) * 1000
    metrics = page.evaluate("window.calipsoMetrics")
    print(f"\nexpand the network node ({', '.join(hidden)}): {before} -> {metrics['nodes']} objects; "
          f"click -> drawn {expand:.0f} ms (API {metrics['apiMs']:.0f}, health {metrics['healthMs']:.0f}, "
          f"draw {metrics['renderMs']:.0f})")

    # The search box: a VM's name, then a MAC (both regex scans of the inventory in MongoDB).
    searches = []
    for vm in chosen[1:2]:
        mac = world.port(vm.port_ids[0]).mac_address
        for text in (vm.name, mac):
            page.fill("#search", "")
            started = time.perf_counter()
            page.fill("#search", text)
            page.wait_for_function("t => document.querySelector('#search-results').dataset.q === t", arg=text,
                                   timeout=120_000)
            searches.append((time.perf_counter() - started) * 1000 - 200)  # the box waits 200 ms after typing
    print(figures("search (typed -> hits shown)", searches))

    for name, path, ready in (("overview page", "", "#crit-title"),
                              ("dashboard page", "/dashboard", "text=Objects by type")):
        times = []
        for _ in range(2):
            page.goto(f"{url}/#/")
            started = time.perf_counter()
            page.goto(f"{url}/#/env/{ENV}{path}")
            page.wait_for_selector(ready, timeout=600_000)
            page.wait_for_load_state("networkidle", timeout=600_000)
            times.append((time.perf_counter() - started) * 1000)
        print(figures(name + " (to network idle)", times))
    page.goto("about:blank")  # no request left in flight when the server stops


if __name__ == "__main__":
    main()
