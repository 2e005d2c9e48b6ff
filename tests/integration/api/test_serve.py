"""`calipso serve`: the real command under waitress on a free loopback port, reached over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

CHECKOUT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_calipso_serve_answers_over_http(api_world, api_tokens) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    environment = {**os.environ, "MONGO_DATABASE": api_world.settings.mongo_database}
    process = subprocess.Popen([sys.executable, "-m", "calipso.cli", "serve", "--port", str(port), "--threads", "2"],
                               cwd=CHECKOUT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 90  # a loaded machine takes a while to import the app
        while True:
            try:
                health = requests.get(f"{base}/health", timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.communicate()[1].decode()
                assert time.monotonic() < deadline, "calipso serve never answered"
                time.sleep(0.2)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert health.headers["Server"] == "calipso"  # waitress, not Flask's development server
        login = requests.post(f"{base}/auth/tokens", json={"username": "alice", "password": "alice-pw"}, timeout=10)
        assert login.status_code == 201
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        vms = requests.get(f"{base}/environments/{api_world.environment}/inventory", params={"type": "instance"},
                           headers=headers, timeout=10)
        assert vms.status_code == 200 and vms.json()["total"] == len(api_world.world.instances)
        assert requests.get(f"{base}/environments/{api_world.environment}/inventory", timeout=10).status_code == 401
        assert requests.get(f"{base}/metrics", headers=headers, timeout=10).status_code == 403
        admin = requests.post(f"{base}/auth/tokens", json={"username": "admin", "password": "admin-pw"}, timeout=10)
        metrics = requests.get(f"{base}/metrics", headers={"Authorization": f"Bearer {admin.json()['token']}"},
                               timeout=60).text  # reads scan and projection figures from the stores
        assert "calipso_api_requests_total" in metrics
    finally:
        process.terminate()
        process.wait(timeout=10)
    _, stderr = process.communicate()
    assert "Calipso API on http://127.0.0.1" in stderr.decode()
