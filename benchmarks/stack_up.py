"""Measure the local stack: time from `stack up` to ready per server (cold = first start of an empty
data directory, warm = restart), and the resident memory of each server with its child processes.

    .venv/bin/python benchmarks/stack_up.py [--home DIR]

Uses its own CALIPSO_HOME (default: a temporary directory) and the settings' ports: stop any
stack on those ports first. Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from core.settings import load_settings
from stack.manager import Stack


def rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants, in KiB."""
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (OSError, StopIteration):
            continue
        pids.extend(int(child) for child in children)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", default=None)
    args = parser.parse_args()
    home = args.home or tempfile.mkdtemp(prefix="calipso-bench-")
    settings = load_settings(calipso_home=home)
    stack = Stack(settings)
    print(f"CALIPSO_HOME={home}  (builds are reused: cold means an empty data directory)")

    started = time.monotonic()
    cold = stack.up()
    cold_total = time.monotonic() - started
    time.sleep(5)  # let start-up work settle before reading memory
    memory = {status.name: rss_kib(status.pid) for status in stack.status() if status.pid}
    stack.down()

    started = time.monotonic()
    warm = stack.up()
    warm_total = time.monotonic() - started
    stack.down()

    print(f"{'server':10} {'cold s':>8} {'warm s':>8} {'RSS MiB':>9}")
    for name in cold:
        print(f"{name:10} {cold[name]:8.1f} {warm.get(name, float('nan')):8.1f} {memory.get(name, 0) / 1024:9.0f}")
    print(f"{'all':10} {cold_total:8.1f} {warm_total:8.1f} {sum(memory.values()) / 1024:9.0f}")
    print(f"cores: {os.cpu_count()}")


if __name__ == "__main__":
    main()
