"""The lab as one process: the simulated OpenStack APIs and the SSH server of the simulated hosts.

Run by `calipso lab up` (through lab/service.py) as `python -m lab.serve ...`. It re-reads the
world file when it changes, so `calipso lab change` and `calipso lab fault` show at once.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lab.cloud.server import serve
from lab.cloud.source import FileWorldSource
from lab.hosts import LabResponder
from lab.ssh_server import LabSSHServer, host_key_line

READY_LINE = "CALIPSO-LAB READY"
LAB_PASSWORD = "lab-admin-pw"  # the simulated Keystone's admin password: a loopback-only test cloud


def ensure_client_key(key_dir: Path) -> paramiko.PKey:
    """The SSH key the scanner logs in with (made once, kept under CALIPSO_HOME)."""
    key_dir.mkdir(parents=True, exist_ok=True)
    private = key_dir / "id_ed25519"
    if not private.exists():
        key = Ed25519PrivateKey.generate()
        private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                              serialization.NoEncryption()))
        private.chmod(0o600)
    return paramiko.Ed25519Key.from_private_key_file(str(private))


def ensure_host_key(key_dir: Path) -> paramiko.PKey:
    """The lab SSH server's host key (made once, kept under CALIPSO_HOME like a real host's key, so
    that a restarted lab shows the key environments enrolled)."""
    key_dir.mkdir(parents=True, exist_ok=True)
    private = key_dir / "ssh_host_ed25519_key"
    if not private.exists():
        key = Ed25519PrivateKey.generate()
        private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                              serialization.NoEncryption()))
        private.chmod(0o600)
    return paramiko.Ed25519Key.from_private_key_file(str(private))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--world", required=True, type=Path)
    parser.add_argument("--api-port", type=int, default=0)
    parser.add_argument("--ssh-port", type=int, default=0)
    parser.add_argument("--state-dir", required=True, type=Path, help="keys and endpoints.json")
    args = parser.parse_args(argv)

    source = FileWorldSource(args.world)
    client_key = ensure_client_key(args.state_dir)
    api = serve(source, host="127.0.0.1", port=args.api_port, password=LAB_PASSWORD)
    ssh = LabSSHServer(LabResponder(source), authorized_keys=[client_key], host_key=ensure_host_key(args.state_dir),
                       host="127.0.0.1", port=args.ssh_port)
    ssh.start()
    endpoints = {
        "world_file": str(args.world.resolve()),
        "openstack": {"auth_url": f"{api.url}/identity/v3", "username": "admin", "password": LAB_PASSWORD,
                      "project_name": "admin", "user_domain_name": "Default", "project_domain_name": "Default",
                      "region_name": "RegionOne"},
        "cli": {"host": "127.0.0.1", "port": ssh.port, "user": "lab", "jump": True,
                "key_file": str(args.state_dir / "id_ed25519"),
                # The key the server and every simulated host behind it show (`type base64`).
                "host_key": host_key_line(ssh.host_key)},
    }
    (args.state_dir / "endpoints.json").write_text(json.dumps(endpoints, indent=2))
    print(f"{READY_LINE} api={api.url} ssh=127.0.0.1:{ssh.port}", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    ssh.stop()
    api.shutdown()


if __name__ == "__main__":
    main()
