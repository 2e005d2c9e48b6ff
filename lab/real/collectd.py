"""Debian's collectd on a real lab host: the monitoring people already run, posting to Calipso's intake.

`LabCollectd` runs `collectd -f` inside one host's network namespace (lab/real/lab.py), so its
`interface` and `connectivity` plugins read that host's devices over netlink and `ovs_events` reads
the host's private ovsdb-server (lab/real/ovs.py) through its socket. The configuration is the one
`calipso monitoring collectd-config ENV HOST` prints, with the token put in and the run files
(pid file, log, types.db) added in front.

A host's loopback is not this machine's: collectd's `write_http` posts to a `LoopbackRelay`, a TCP
port on the host's own 127.0.0.1 whose connections are forwarded to a port on this machine's
127.0.0.1 (where the API listens), as a management network would carry them. Both listen on
loopback only.

Run files live under /run/calipso-lab-collectd/<name>/ with the owner's pid, so that collectd
daemons of a killed run (whose namespace `RealLab.down()` removed) are stopped by the next start.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
from pathlib import Path

from lab.real.lab import GLOBAL_NETNS, RealLab, RealLabError
from lab.real.taps import _setns
from stack.process import ManagedProcess, StackError, process_alive, wait_until

BASE = Path("/run/calipso-lab-collectd")
TYPES_DB = Path("/usr/share/collectd/types.db")
OWNER_FILE = "owner.pid"
START_TIMEOUT = 15.0
TOKEN_PLACEHOLDER = "CALIPSO_TOKEN"


class LoopbackRelay:
    """A TCP port on a network namespace's 127.0.0.1 that forwards each connection to `target_port` on
    this machine's 127.0.0.1."""

    def __init__(self, namespace: str, target_port: int) -> None:
        self.namespace = namespace
        self.target_port = target_port
        self.port = 0
        self._listener: socket.socket | None = None
        self._closed = threading.Event()

    def start(self) -> int:
        """Listen (a socket belongs to the namespace it was created in) and serve; the port in the namespace."""
        made: dict[str, object] = {}
        self._closed.clear()

        def listen() -> None:  # its own thread: setns changes the calling thread only
            try:
                with open(GLOBAL_NETNS / self.namespace) as namespace:
                    _setns(namespace.fileno())
                listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                listener.bind(("127.0.0.1", 0))
                listener.listen(16)
                made["socket"] = listener
            except OSError as exc:
                made["error"] = exc

        thread = threading.Thread(target=listen, name=f"relay-listen-{self.namespace}")
        thread.start()
        thread.join()
        if "error" in made:
            raise RealLabError(f"relay in {self.namespace}: {made['error']}")
        listener = made["socket"]
        assert isinstance(listener, socket.socket)
        self._listener = listener
        self.port = int(listener.getsockname()[1])
        threading.Thread(target=self._accept, name=f"relay-{self.namespace}", daemon=True).start()
        return self.port

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._closed.is_set():
            try:
                inside, _ = self._listener.accept()
            except OSError:
                return  # closed
            try:
                outside = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            except OSError:
                inside.close()
                continue
            outside.settimeout(None)
            for source, sink in ((inside, outside), (outside, inside)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()

    def stop(self) -> None:
        self._closed.set()
        if self._listener is not None:
            self._listener.close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy one direction of a connection until it ends, then end the other side's writing."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class LabCollectd:
    """collectd in one real lab host's namespace with a given configuration, posting to this machine's
    `api_port` through a LoopbackRelay."""

    def __init__(self, lab: RealLab, host: str, config: str, api_port: int, token: str) -> None:
        if host not in {h.name for h in lab.world.hosts}:
            raise RealLabError(f"no host {host!r} in lab {lab.tag}")
        if TOKEN_PLACEHOLDER not in config:
            raise RealLabError(f"the collectd configuration has no {TOKEN_PLACEHOLDER} to put the token in")
        self.lab, self.host = lab, host
        self.namespace = lab.namespace(host)
        self.directory = BASE / f"{lab.tag}-{host}"
        self.process = ManagedProcess("collectd", self.directory / "collectd.pid", self.directory / "collectd.out")
        self.relay = LoopbackRelay(self.namespace, api_port)
        self.config = config.replace(TOKEN_PLACEHOLDER, token)
        self.log_file = self.directory / "collectd.log"

    def start(self) -> None:
        """Check the configuration with `collectd -t` (RealLabError with collectd's words), then run it."""
        if shutil.which("collectd") is None:
            raise RealLabError("collectd is not installed (Debian package collectd-core; "
                               "scripts/install-system-packages.sh installs it)")
        sweep_abandoned()
        self.stop()
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / OWNER_FILE).write_text(f"{os.getpid()}\n")
        port = self.relay.start()
        # the relay's port on the host's loopback stands for the API's address in the configuration
        body = self.config.replace(f"127.0.0.1:{self.relay.target_port}", f"127.0.0.1:{port}")
        run_files = [f'BaseDir "{self.directory}"', f'PIDFile "{self.directory / "collectd.daemon.pid"}"',
                     f'TypesDB "{TYPES_DB}"', "LoadPlugin logfile", "<Plugin logfile>", "  LogLevel info",
                     f'  File "{self.log_file}"', "  Timestamp true", "</Plugin>", ""]
        config_file = self.directory / "collectd.conf"
        config_file.write_text("\n".join(run_files) + body)
        config_file.chmod(0o600)  # it holds the token
        argv = ["ip", "netns", "exec", self.namespace, "collectd", "-C", str(config_file)]
        tested = subprocess.run([*argv, "-t"], capture_output=True, text=True, check=False, timeout=30)
        if tested.returncode != 0:
            self.relay.stop()
            raise RealLabError(f"collectd rejects the configuration: {(tested.stderr + tested.stdout).strip()[:600]}")
        self.process.start([*argv, "-f"])
        try:
            wait_until(lambda: "entering read-loop" in self.log(), self.process, START_TIMEOUT, "reading")
        except StackError as exc:
            self.stop()
            raise RealLabError(f"collectd on {self.host}: {exc}\n{self.log()[-1500:]}") from exc

    def log(self) -> str:
        """What collectd logged (its logfile plugin)."""
        try:
            return self.log_file.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop collectd and the relay; remove the run files."""
        self.process.stop(timeout=10)
        self.relay.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> LabCollectd:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def sweep_abandoned(base: Path = BASE) -> list[str]:
    """Stop the collectd daemons whose owning process is gone (a killed test run); their names."""
    removed = []
    for directory in sorted(base.iterdir()) if base.is_dir() else []:
        try:
            owner = int((directory / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        if not process_alive(owner):
            ManagedProcess("collectd", directory / "collectd.pid", directory / "collectd.out").stop(timeout=10)
            shutil.rmtree(directory, ignore_errors=True)
            removed.append(directory.name)
    return removed
