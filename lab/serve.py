"""The lab as one process: the simulated OpenStack APIs and the SSH server of the simulated hosts.

Run by `calipso lab up` (through lab/service.py) as `python -m lab.serve ...`. It re-reads the
world file when it changes, so `calipso lab change` and `calipso lab fault` show at once.

With `--real` the hosts are real (lab/real, root): the world, less what this kernel cannot build
(lab.real.real_lab_world, saved as STATE_DIR/real-world.yaml and served by the APIs), is built from
network namespaces, and every command the SSH server receives runs in its host's namespace. This
process holds the lab (its taps are open here) and removes it when it stops; `calipso lab fault
--real` finds it through STATE_DIR/real.json.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lab.cloud.server import serve
from lab.cloud.source import FileWorldSource
from lab.hosts import LabResponder
from lab.ssh_server import LabSSHServer, Responder, UnknownHost, host_key_line
from lab.world import load_world, save_world

if TYPE_CHECKING:
    from lab.real import RealLab

READY_LINE = "CALIPSO-LAB READY"
REAL_STATE = "real.json"  # the real lab being served: its tag and world file (lab/real/faults.py reads it)
REAL_WORLD = "real-world.yaml"
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
    parser.add_argument("--real", action="store_true", help="build the hosts from kernel objects (root)")
    args = parser.parse_args(argv)

    real_lab = None
    world_file = args.world.resolve()
    responder: Responder
    if args.real:
        from lab.real import RealLabError

        try:
            real_lab, world_file = build_real_lab(world_file, args.state_dir)
        except (RealLabError, ValueError) as exc:  # ValueError: the world has what cannot be built here
            raise SystemExit(f"calipso lab: the real lab cannot be served: {exc}") from None
        responder = real_responder(real_lab)
    source = FileWorldSource(world_file)
    if not args.real:
        responder = LabResponder(source)
    try:
        client_key = ensure_client_key(args.state_dir)
        api = serve(source, host="127.0.0.1", port=args.api_port, password=LAB_PASSWORD)
        ssh = LabSSHServer(responder, authorized_keys=[client_key], host_key=ensure_host_key(args.state_dir),
                           host="127.0.0.1", port=args.ssh_port)
        ssh.start()
    except BaseException:
        if real_lab is not None:
            real_lab.down()
        raise
    endpoints = {
        "world_file": str(world_file),
        "openstack": {"auth_url": f"{api.url}/identity/v3", "username": "admin", "password": LAB_PASSWORD,
                      "project_name": "admin", "user_domain_name": "Default", "project_domain_name": "Default",
                      "region_name": "RegionOne"},
        "cli": {"host": "127.0.0.1", "port": ssh.port, "user": "lab", "jump": True,
                "key_file": str(args.state_dir / "id_ed25519"),
                # The key the server and every simulated host behind it show (`type base64`).
                "host_key": host_key_line(ssh.host_key)},
    }
    if real_lab is not None:
        endpoints["real"] = {"tag": real_lab.tag, "base": str(real_lab.base.parent)}
    (args.state_dir / "endpoints.json").write_text(json.dumps(endpoints, indent=2))
    print(f"{READY_LINE} api={api.url} ssh=127.0.0.1:{ssh.port}", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    ssh.stop()
    api.shutdown()
    if real_lab is not None:
        real_lab.down()
        (args.state_dir / REAL_STATE).unlink(missing_ok=True)


def build_real_lab(world_file: Path, state_dir: Path) -> tuple[RealLab, Path]:
    """Build the world's hosts for real; (the lab, the file of the world it serves). Records the lab in
    STATE_DIR/real.json before building, so that `calipso lab down` can remove it even if this process
    is killed half-way."""
    from lab.real import RealLab, real_lab_world

    world = real_lab_world(load_world(world_file))
    served = state_dir / REAL_WORLD
    save_world(world, served)
    lab = RealLab(world, real_lab_tag(state_dir))
    (state_dir / REAL_STATE).write_text(json.dumps({"tag": lab.tag, "base": str(lab.base.parent),
                                                    "world_file": str(served), "source": str(world_file)}))
    lab.up()
    return lab, served


def real_lab_tag(state_dir: Path) -> str:
    """The real lab's tag: one per CALIPSO_HOME (its lab state directory), so two homes never share one."""
    import hashlib

    return "lab-" + hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:10]


def real_responder(lab: RealLab) -> Responder:
    """The SSH server's responder for the real lab: the command runs in the host's namespace."""
    def respond(host: str, command: str) -> tuple[int, str, str]:
        if host not in lab.model:
            raise UnknownHost(host)
        return lab.execute(host, command)
    return respond


if __name__ == "__main__":
    main()
