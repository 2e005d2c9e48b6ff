"""Benchmark the simulated OpenStack APIs on a large world.

    .venv/bin/python benchmarks/lab_api.py [--hosts 1000] [--vms-per-host 20] [--networks 50] [--runs 5]

Prints the world generation time, the time of the first (cold) listing, which builds the
documents, then p50/p95 over --runs of a full server listing through openstacksdk and of a raw
GET /servers/detail?all_tenants=1&limit=1000 loop that follows the next links, and peak RSS.
At the default size the openstacksdk runs take minutes each: openstacksdk spends ~10 ms of CPU
building each Server object (with its nested Flavor and Image), whatever the server does; the
raw loop shows the simulated cloud's own share.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import openstack  # noqa: E402
from common import world_parser  # noqa: E402

from lab.cloud.app import DEFAULT_PASSWORD  # noqa: E402
from lab.cloud.server import CloudServer, serve  # noqa: E402
from lab.cloud.source import StaticWorldSource  # noqa: E402
from lab.generate import generate_world  # noqa: E402


def timed(action: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile (with 5 samples, p95 is the slowest)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


def raw_listing(server: CloudServer, token: str) -> int:
    """Every server through GET /servers/detail pages of 1000, following servers_links; the count."""
    url: str | None = f"{server.url}/compute/v2.1/servers/detail?all_tenants=1&limit=1000"
    count = 0
    while url:
        request = urllib.request.Request(url, headers={"X-Auth-Token": token,
                                                       "OpenStack-API-Version": "compute 2.96"})
        with urllib.request.urlopen(request) as response:
            body = json.loads(response.read())
        count += len(body["servers"])
        links = [link["href"] for link in body.get("servers_links", []) if link["rel"] == "next"]
        url = links[0] if links else None
    return count


def report(name: str, samples: list[float]) -> None:
    print(f"{name:<44} p50 {statistics.median(samples):7.3f} s   p95 {percentile(samples, 0.95):7.3f} s"
          f"   ({len(samples)} runs: {', '.join(f'{s:.3f}' for s in samples)})")


def main() -> None:
    parser = world_parser(__doc__, hosts=1000, vms_per_host=20)
    parser.add_argument("--networks", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    seconds, world = timed(lambda: generate_world(args.hosts, args.vms_per_host, args.networks, "ovs", "vxlan"))
    print(f"world: {len(world.hosts)} hosts, {len(world.instances)} servers, {len(world.ports)} ports, "
          f"{len(world.networks)} networks")
    print(f"{'generation':<44} {seconds:7.3f} s")

    with serve(StaticWorldSource(world)) as server:
        conn = openstack.connect(auth_url=server.auth_url, username="admin", password=DEFAULT_PASSWORD,
                                 project_name="admin", user_domain_name="Default", project_domain_name="Default",
                                 region_name="RegionOne")
        token = conn.session.get_token()

        def sdk_listing() -> int:
            return len(list(conn.compute.servers(details=True, all_projects=True)))

        cold, count = timed(lambda: raw_listing(server, token))
        assert count == len(world.instances), count
        print(f"{'first raw listing (builds the documents)':<44} {cold:7.3f} s")
        sdk_samples, raw_samples = [], []
        for _ in range(args.runs):
            seconds, count = timed(sdk_listing)
            assert count == len(world.instances), count
            sdk_samples.append(seconds)
        for _ in range(args.runs):
            seconds, count = timed(lambda: raw_listing(server, token))
            assert count == len(world.instances), count
            raw_samples.append(seconds)
        report(f"openstacksdk: all {len(world.instances)} servers", sdk_samples)
        report("raw GET /servers/detail loop (limit=1000)", raw_samples)
        print(f"{'openstacksdk cost per server object':<44} "
              f"{(statistics.median(sdk_samples) - statistics.median(raw_samples)) / count * 1000:7.2f} ms")
        conn.close()

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # ru_maxrss is in KiB on Linux
    print(f"{'peak RSS (client and server, one process)':<44} {peak_mb:7.0f} MiB")


if __name__ == "__main__":
    main()
