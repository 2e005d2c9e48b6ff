"""Start, find and stop the local servers' processes by PID file, with readiness waits."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.errors import CalipsoError


class StackError(CalipsoError):
    """A local server could not be built, started, or stopped; the message says which and why."""


@dataclass(frozen=True)
class ManagedProcess:
    """A server process we started: its PID file and its log file."""

    name: str
    pid_file: Path
    log_file: Path

    def pid(self) -> int | None:
        """The PID of the running process, or None if it is not running (a stale file is removed)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        if process_alive(pid):
            return pid
        self.pid_file.unlink(missing_ok=True)
        return None

    def start(self, argv: Sequence[str], env: Mapping[str, str] | None = None,
              cwd: Path | None = None) -> int:
        """Start argv detached in its own session, output appended to the log file."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {argv[0]}\n".encode())
            log.flush()
            try:
                process = subprocess.Popen(
                    list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    env={**os.environ, **(env or {})}, cwd=cwd, start_new_session=True)
            except OSError as exc:
                raise StackError(f"{self.name}: cannot run {argv[0]}: {exc.strerror}") from exc
        self.pid_file.write_text(f"{process.pid}\n")
        return process.pid

    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM the process group, SIGKILL it after the timeout; True if something was stopped."""
        pid = self.pid()
        if pid is None:
            return False
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process_alive(pid):
            time.sleep(0.1)
        if process_alive(pid):
            _signal_group(pid, signal.SIGKILL)
            while process_alive(pid):
                time.sleep(0.05)
        self.pid_file.unlink(missing_ok=True)
        return True

    def log_since_start(self) -> str:
        """What the process logged since its last start (start() writes a marker line)."""
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return ""
        return text.rsplit("\n=== ", 1)[-1]

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def process_alive(pid: int) -> bool:
    """Whether process `pid` runs (one of another user's counts); a zombie child of ours is reaped and
    counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            if stat.read().split(") ", 1)[1].startswith("Z"):
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
                return False
    except OSError:
        return False
    return True


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True if something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def check_alive(process: ManagedProcess, what: str) -> None:
    """StackError with the log's last lines if the process has exited before `what`."""
    if process.pid() is None:
        raise StackError(f"{process.name} exited before {what}. Last lines of {process.log_file}:\n"
                         f"{process.log_tail()}")


def wait_until(check: Callable[[], bool], process: ManagedProcess, timeout: float,
               what: str) -> float:
    """Poll check() until true; fail early if the process dies, late if the timeout passes.

    Returns the seconds waited.
    """
    started = time.monotonic()
    while True:
        if check():
            return time.monotonic() - started
        check_alive(process, what)
        if time.monotonic() - started > timeout:
            raise StackError(f"{process.name} was not {what} after {timeout:.0f}s. Last lines of "
                             f"{process.log_file}:\n{process.log_tail()}")
        time.sleep(0.2)


def run_checked(argv: Sequence[str], what: str, cwd: Path | None = None,
                env: Mapping[str, str] | None = None, timeout: float = 1800) -> str:
    """Run a build or set-up command to completion; StackError with its output if it fails."""
    try:
        result = subprocess.run(list(argv), cwd=cwd, env={**os.environ, **(env or {})},
                                stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                timeout=timeout)
    except FileNotFoundError as exc:
        raise StackError(f"{what}: {argv[0]} is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise StackError(f"{what}: `{' '.join(argv)}` did not finish in {timeout:.0f}s") from exc
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()[-25:]
        raise StackError(f"{what} failed (`{' '.join(argv)}` exited {result.returncode}):\n"
                         + "\n".join(output))
    return result.stdout
