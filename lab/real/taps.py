"""Create a lab VM's tap and hold it open, as libvirt does for QEMU, so that it has carrier.

A tap nobody holds has NO-CARRIER. libvirt creates the tap by attaching to it (TUNSETIFF on a
new name), so its carrier never goes down and up and the kernel leaves its operational state
UNKNOWN; a tap made persistent first (`ip tuntap add`) and attached later reports UP instead. We
do what libvirt does, from a thread that entered the host's network namespace (setns is per
thread; /dev/net/tun creates the device in the namespace it was opened in). Closing the
descriptor removes the tap.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import struct
import threading
from pathlib import Path

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000


def _setns(descriptor: int) -> None:
    """setns(2) into a network namespace (os.setns exists from Python 3.12 only)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(descriptor, CLONE_NEWNET) != 0:
        number = ctypes.get_errno()
        raise OSError(number, os.strerror(number))


def create_tap(namespace_file: Path, name: str) -> int:
    """A descriptor holding the new tap `name` in the namespace bound at namespace_file."""
    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            with open(namespace_file) as namespace:
                _setns(namespace.fileno())
            descriptor = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
            try:
                fcntl.ioctl(descriptor, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
            except OSError:
                os.close(descriptor)
                raise
            outcome["fd"] = descriptor
        except Exception as exc:  # noqa: BLE001 - handed to the caller's thread
            outcome["error"] = exc

    # A thread of its own: setns changes only the calling thread, and this one ends right after.
    thread = threading.Thread(target=work, name=f"tap-{name}")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise OSError(f"cannot create tap {name} in {namespace_file}: {outcome['error']}")
    return int(outcome["fd"])  # type: ignore[call-overload]
