"""A private Open vSwitch for one lab host: its own ovsdb-server and ovs-vswitchd (userspace datapath).

Both run inside the host's network namespace (so the taps the userspace datapath creates for
internal ports appear there), as children managed by pid file (stack.process.ManagedProcess),
never the system service. Everything lives under one run directory; the OVS_* variables of
`environment()` point the OVS tools at it, so `ovs-vsctl show` and `ovs-appctl dpif/show` run
unchanged, as the scanner sends them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from lab.real.prerequisites import OVS_SCHEMA
from stack.process import ManagedProcess, StackError, wait_until

START_TIMEOUT = 20.0


class PrivateOvs:
    """ovsdb-server + ovs-vswitchd of one host, under `directory`."""

    def __init__(self, directory: Path, namespace: str) -> None:
        self.directory = directory
        self.namespace = namespace
        self.socket = directory / "db.sock"
        self.database = ManagedProcess("ovsdb-server", directory / "ovsdb-server.managed.pid",
                                       directory / "ovsdb-server.log")
        self.switch = ManagedProcess("ovs-vswitchd", directory / "ovs-vswitchd.managed.pid",
                                     directory / "ovs-vswitchd.log")

    def environment(self) -> dict[str, str]:
        """The variables that make the OVS tools use this instance (socket, pid files, control sockets)."""
        where = str(self.directory)
        return {"OVS_RUNDIR": where, "OVS_DBDIR": where, "OVS_LOGDIR": where, "OVS_SYSCONFDIR": where}

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        database = self.directory / "conf.db"
        if not database.exists():
            _run(["ovsdb-tool", "create", str(database), str(OVS_SCHEMA)], self.environment())
        in_namespace = ["ip", "netns", "exec", self.namespace]
        self.database.start([*in_namespace, "ovsdb-server", str(database), f"--remote=punix:{self.socket}",
                             "--remote=db:Open_vSwitch,Open_vSwitch,manager_options", "--pidfile",
                             f"--log-file={self.database.log_file}"], env=self.environment())
        wait_until(lambda: self._answers(), self.database, START_TIMEOUT, "answering on its socket")
        self.vsctl("--no-wait", "init")
        version = _run(["ovs-vswitchd", "--version"], {}).split()[-1]
        self.vsctl("--no-wait", "set", "Open_vSwitch", ".", f"ovs_version={version}")
        self.switch.start([*in_namespace, "ovs-vswitchd", f"unix:{self.socket}", "--pidfile",
                           f"--log-file={self.switch.log_file}"], env=self.environment())
        wait_until(lambda: any(self.directory.glob("ovs-vswitchd.*.ctl")), self.switch, START_TIMEOUT,
                   "listening on its control socket")

    def _answers(self) -> bool:
        if not self.socket.exists():
            return False
        result = subprocess.run(["ovs-vsctl", f"--db=unix:{self.socket}", "--timeout=2", "--no-wait", "show"],
                                capture_output=True, text=True, env=self.environment(), check=False)
        return result.returncode == 0

    def vsctl(self, *args: str) -> str:
        """Run ovs-vsctl against this instance (waits for ovs-vswitchd to apply the change unless --no-wait)."""
        return _run(["ovs-vsctl", f"--db=unix:{self.socket}", "--timeout=20", *args], self.environment())

    def stop(self) -> None:
        """Stop both daemons (a daemon that is not running is fine)."""
        for process in (self.switch, self.database):
            process.stop(timeout=10)


def _run(argv: list[str], env: dict[str, str]) -> str:
    import os

    result = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **env}, check=False,
                            timeout=60)
    if result.returncode != 0:
        raise StackError(f"`{' '.join(argv)}` exited {result.returncode}: {result.stderr.strip()[:400]}")
    return result.stdout
