"""`calipso lab up|down|status`: the lab process (lab/serve.py) in the background, like the stack's servers."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from core.settings import Settings
from stack.process import ManagedProcess, StackError, wait_until

READY_LINE = "CALIPSO-LAB READY"


class LabService:
    def __init__(self, settings: Settings) -> None:
        self.state_dir = settings.home / "lab"
        self.process = ManagedProcess("lab", settings.home / "run" / "lab.pid", settings.home / "logs" / "lab.log")

    @property
    def endpoints_file(self) -> Path:
        return self.state_dir / "endpoints.json"

    def up(self, world_file: str | Path, api_port: int = 0, ssh_port: int = 0, timeout: float = 60) -> dict[str, Any]:
        """Serve the world; if a lab is already running, stop it first (one lab at a time)."""
        self.down()
        self.endpoints_file.unlink(missing_ok=True)
        self.process.start([sys.executable, "-m", "lab.serve", "--world", str(Path(world_file).resolve()),
                            "--api-port", str(api_port), "--ssh-port", str(ssh_port),
                            "--state-dir", str(self.state_dir)])
        wait_until(lambda: READY_LINE in self.process.log_since_start(), self.process, timeout, "serving")
        return self.endpoints()

    def down(self) -> bool:
        return self.process.stop(timeout=15)

    def running(self) -> bool:
        return self.process.pid() is not None

    def endpoints(self) -> dict[str, Any]:
        if not self.running() or not self.endpoints_file.exists():
            raise StackError("no lab is running: start one with `calipso lab up WORLD_FILE`")
        return json.loads(self.endpoints_file.read_text())


def lab_known_host_keys(endpoints: dict[str, Any], host_names: list[str]) -> dict[str, dict[str, str]]:
    """The known host keys of a served lab (host -> key type -> base64), from its endpoints alone:
    its SSH server's key for the jump host (named `[address]:port`, as known_hosts names it) and for
    every simulated host behind it, which show the same key."""
    cli = endpoints["cli"]
    key_type, key = cli["host_key"].split()[:2]
    port = int(cli["port"])
    jump = cli["host"] if port == 22 else f"[{cli['host']}]:{port}"
    return {name: {key_type: key} for name in [jump, *host_names]}
