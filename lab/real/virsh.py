"""`virsh` on the real lab's compute hosts: the VMs are the host's taps, libvirt's answers come from the spec.

No QEMU runs in the real lab: a VM is its tap (lab/real/taps.py), held open as QEMU holds it. What
the scanner asks libvirt (`virsh list --all`, `virsh dumpxml DOMAIN`, ingest/sources/host/fetch.py)
is answered by a small script the lab puts first on the PATH of every command run on the host. Its
answers are the simulator's (lab/hosts/libvirt.py, through the simulated host of the same world), so
they are in libvirt's formats and name the same taps the real lab built from the same host model.
They are computed once, when the lab is built: the real lab's VMs do not change while it runs.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from lab.hosts import LabResponder
from lab.world import World

#: The argument lists answered, besides the per-domain commands (virsh's own spellings and orders).
LIST_COMMANDS = ("", "list", "list --all", "list --uuid", "list --all --uuid", "list --uuid --all", "list --name",
                 "list --all --name", "list --name --all", "list --inactive", "list --inactive --name",
                 "-q list --all", "--quiet list --all", "list --all --quiet")
DOMAIN_COMMANDS = ("dumpxml", "domstate", "domstate --reason", "domiflist", "dominfo")
COMMAND_NOT_FOUND = 127


def virsh_answers(world: World, host: str) -> dict[str, tuple[int, str, str]] | None:
    """Argument string -> (exit status, stdout, stderr) of virsh on `host`; None where the simulated host
    has no virsh (not a compute host)."""
    simulated = LabResponder(world)
    status, listing, _ = simulated(host, "virsh list --all --uuid")
    if status == COMMAND_NOT_FOUND:
        return None
    answers = {args: simulated(host, f"virsh {args}".strip()) for args in LIST_COMMANDS}
    _, names, _ = simulated(host, "virsh list --all --name")
    keys = [line for line in (listing + names).splitlines() if line.strip()]
    status, table, _ = simulated(host, "virsh list")
    keys += [line.split()[0] for line in table.splitlines()[2:] if line.split() and line.split()[0].isdigit()]
    for key in keys:
        for command in DOMAIN_COMMANDS:
            verb, *options = command.split()
            answers[" ".join([verb, key, *options])] = simulated(host, f"virsh {verb} {shlex.quote(key)} "
                                                                        + " ".join(options))
    return answers


def install_virsh(host_dir: Path, world: World, host: str) -> Path | None:
    """Write the host's `virsh` (host_dir/bin/virsh) and its answers (host_dir/virsh/); the bin directory,
    to put first on the host's PATH, or None when the host has no virsh."""
    answers = virsh_answers(world, host)
    if answers is None:
        return None
    answer_dir, bin_dir = host_dir / "virsh", host_dir / "bin"
    answer_dir.mkdir(parents=True, exist_ok=True)
    bin_dir.mkdir(parents=True, exist_ok=True)
    cases = []
    for number, (args, (status, out, err)) in enumerate(sorted(answers.items())):
        (answer_dir / f"{number}.out").write_text(out)
        (answer_dir / f"{number}.err").write_text(err)
        cases.append(f"  {shlex.quote(args)}) n={number}; rc={status} ;;")
    known = ", ".join(sorted({args.split()[0] for args in answers if args and not args.startswith("-")}))
    script = "\n".join([
        "#!/bin/bash",
        f"# virsh of lab host {host}: libvirt's answers from the world spec (lab/real/virsh.py)",
        f"answers={shlex.quote(str(answer_dir))}",
        'case "$*" in',
        *cases,
        # a domain this host does not have, as virsh says it
        "  dumpxml\\ *|domstate\\ *|domiflist\\ *|dominfo\\ *) echo \"error: failed to get domain '$2'\" >&2; exit 1 ;;",
        f"  *) echo {shlex.quote(f'error: this lab host answers only virsh {known}: ')}\"$*\" >&2; exit 1 ;;",
        "esac",
        'cat "$answers/$n.out"',
        'cat "$answers/$n.err" >&2',
        'exit "$rc"',
        "",
    ])
    path = bin_dir / "virsh"
    path.write_text(script)
    path.chmod(0o755)
    return bin_dir


def virsh_bin(host_dir: Path) -> Path | None:
    """The directory holding the host's virsh, if the lab installed one."""
    bin_dir = host_dir / "bin"
    return bin_dir if (bin_dir / "virsh").exists() else None
