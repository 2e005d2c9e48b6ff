"""`calipso lab up|down|status`: the lab process (lab/serve.py) in the background, like the stack's servers.

`up(..., real=True)` serves a real lab (lab/real, root); `down()` removes it even when the lab
process had to be killed (from the record STATE_DIR/real.json the lab process writes before building).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from core.settings import Settings
from stack.process import ManagedProcess, StackError, wait_until

READY_LINE = "CALIPSO-LAB READY"
REAL_STATE = "real.json"  # lab/serve.py's record of the real lab it serves
REAL_UP_TIMEOUT = 300.0  # building a real lab takes seconds per host on a loaded machine


class LabService:
    def __init__(self, settings: Settings) -> None:
        self.state_dir = settings.home / "lab"
        self.process = ManagedProcess("lab", settings.home / "run" / "lab.pid", settings.home / "logs" / "lab.log")

    @property
    def endpoints_file(self) -> Path:
        return self.state_dir / "endpoints.json"

    def up(self, world_file: str | Path, api_port: int = 0, ssh_port: int = 0, timeout: float | None = None,
           real: bool = False) -> dict[str, Any]:
        """Serve the world (`real`: built from kernel objects); if a lab is already running, stop it first
        (one lab at a time). StackError when the lab process fails (its log's end says why)."""
        if real:
            from lab.real import missing_prerequisites

            missing = missing_prerequisites()
            if missing:
                packages = any("Debian package" in m for m in missing)
                raise StackError("the real lab needs: " + "; ".join(missing)
                                 + (" (scripts/install-system-packages.sh installs the packages)" if packages else ""))
        self.down()
        self.endpoints_file.unlink(missing_ok=True)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.process.start([sys.executable, "-m", "lab.serve", "--world", str(Path(world_file).resolve()),
                            "--api-port", str(api_port), "--ssh-port", str(ssh_port),
                            "--state-dir", str(self.state_dir), *(["--real"] if real else [])])
        wait_until(lambda: READY_LINE in self.process.log_since_start(), self.process,
                   timeout if timeout is not None else (REAL_UP_TIMEOUT if real else 60), "serving")
        return self.endpoints()

    def down(self) -> bool:
        """Stop the lab process, and remove the real lab it served if it could not (killed)."""
        stopped = self.process.stop(timeout=30)
        return self._remove_real_lab() or stopped

    def real_lab(self) -> dict[str, Any] | None:
        """The record of the real lab being served (tag, base, world_file), or None."""
        try:
            return json.loads((self.state_dir / REAL_STATE).read_text())
        except (OSError, ValueError):
            return None

    def _remove_real_lab(self) -> bool:
        record = self.real_lab()
        if record is None:
            return False
        from lab.real import RealLab
        from lab.world import load_world

        try:
            world = load_world(record["world_file"])
        except Exception:  # noqa: BLE001 - the record is enough to remove the lab by its tag
            world = None
        if world is not None:
            RealLab(world, record["tag"], Path(record["base"])).down()
        else:
            from lab.real import sweep_abandoned

            sweep_abandoned(Path(record["base"]))
        (self.state_dir / REAL_STATE).unlink(missing_ok=True)
        return True

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
