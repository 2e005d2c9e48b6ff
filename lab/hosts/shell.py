"""A simulated host's command line: parse a shell command and answer as the real tools would.

Supports what the scanner and the monitoring checks send: `sudo [-n]`, `VAR=value` prefixes,
`ip netns exec <ns> <command>` (the command then sees that namespace's devices),
`docker exec <container> <command>` on containerised (Kolla) distributions, `;`, `&&`, `||`,
`2>/dev/null`, `2>&1`, and pipes into grep, head, tail and wc; the monitoring probes `ping` and
`systemctl is-active` (lab/hosts/probes.py). Which tools exist depends on the
host: Open vSwitch only where the OVS agent runs, VPP only on VPP hosts, libvirt only on
computes; a missing tool fails as bash does (exit 127, "command not found").
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable

from lab.hostmodel import HostState
from lab.hosts import bridge_utils, iproute, libvirt, ovs, probes, sysfs, vpp
from lab.hosts.view import HostView, WorldIndex, host_view
from lab.world import World

Result = tuple[int, str, str]

_SEPARATORS = (";", "&&", "||")


def run_command(state: HostState, world: World, command: str) -> Result:
    """(exit status, stdout, stderr) of `command` on the host `state` describes."""
    return SimulatedHost(state, world).run(command)


class SimulatedHost:
    """One host of a world, answering shell commands."""

    def __init__(self, state: HostState, world: World, index: WorldIndex | None = None) -> None:
        self.state = state
        self.world = world
        self.view: HostView = host_view(state, world, index)

    # -- the shell -------------------------------------------------------------------------------

    def run(self, command: str) -> Result:
        try:
            lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|<>")
            lexer.whitespace_split = True
            tokens = list(lexer)
        except ValueError:
            return 2, "", "bash: -c: line 1: unexpected EOF while looking for matching quote\n"
        return self._run_list(tokens)

    def _run_list(self, tokens: list[str]) -> Result:
        """`a ; b && c || d`: run pipelines left to right, as bash does."""
        status, out, err = 0, "", ""
        pipeline: list[str] = []
        operator = ";"
        for token in [*tokens, ";"]:
            if token not in _SEPARATORS:
                pipeline.append(token)
                continue
            if not pipeline:
                if token != ";" or tokens[-1:] != [";"]:
                    return 2, out, err + f"bash: -c: line 1: syntax error near unexpected token `{token}'\n"
                continue
            if operator == ";" or (operator == "&&" and status == 0) or (operator == "||" and status != 0):
                status, more_out, more_err = self._run_pipeline(pipeline)
                out, err = out + more_out, err + more_err
            pipeline, operator = [], token
        return status, out, err

    def _run_pipeline(self, tokens: list[str]) -> Result:
        stages: list[list[str]] = [[]]
        for token in tokens:
            if token == "|":
                stages.append([])
            else:
                stages[-1].append(token)
        status, out, err = self._run_simple(stages[0], None)
        for stage in stages[1:]:
            status, out, more_err = _filter(stage, out)
            err += more_err
        return status, out, err

    def _run_simple(self, words: list[str], namespace: str | None) -> Result:
        words, redirect = _redirections(words)
        status, out, err = self._dispatch(words, namespace)
        if redirect == "2>/dev/null":
            err = ""
        elif redirect == "2>&1":
            out, err = out + err, ""
        elif redirect == ">/dev/null":
            out = ""
        return status, out, err

    def _dispatch(self, words: list[str], namespace: str | None) -> Result:
        while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
            words = words[1:]  # VAR=value prefixes
        if words and words[0] == "sudo":
            words = words[1:]
            while words and words[0].startswith("-"):
                words = words[2:] if words[0] in ("-u", "-g") else words[1:]
        if not words:
            return 0, "", ""
        program = words[0].rsplit("/", 1)[-1]
        args = words[1:]
        if program == "ip" and _is_netns_exec(args):
            return self._netns_exec(args, namespace)
        if program == "docker" and self._containerised() and len(args) >= 2 and args[0] == "exec":
            rest = args[1:]
            while rest and rest[0].startswith("-"):
                rest = rest[2:] if rest[0] in ("-u", "--user", "-w", "-e") else rest[1:]
            return self._dispatch(rest[1:], namespace)
        tool = self._tools().get(program)
        if tool is None:
            return 127, "", f"bash: line 1: {words[0]}: command not found\n"
        return tool(args, namespace)

    def _netns_exec(self, args: list[str], namespace: str | None) -> Result:
        # args: [options...] netns exec NAME command...
        position = next(i for i, word in enumerate(args) if iproute.matches(word, "netns"))
        rest = args[position + 2:]
        if not rest:
            return 255, "", "No netns name specified\n"
        name, command = rest[0], rest[1:]
        if name not in self.state.namespaces:
            return 255, "", f'Cannot open network namespace "{name}": No such file or directory\n'
        if not command:
            return 255, "", "No command specified\n"
        status, out, err = self._dispatch(command, name)
        if status == 127:  # ip netns exec runs the program itself, so its error is not bash's
            return 255, out, f'exec of "{command[0]}" failed: No such file or directory\n'
        return status, out, err

    # -- which tools this host has ---------------------------------------------------------------

    def _containerised(self) -> bool:
        return "kolla" in self.world.distribution.name.lower()

    def _tools(self) -> dict[str, Callable[[list[str], str | None], Result]]:
        view = self.view
        tools: dict[str, Callable[[list[str], str | None], Result]] = {
            "ip": lambda args, ns: iproute.run_ip(view, ns, args),
            "bridge": lambda args, ns: iproute.run_bridge(view, ns, args),
            "brctl": lambda args, ns: bridge_utils.run_brctl(view, ns, args),
            "ethtool": lambda args, ns: sysfs.run_ethtool(view, ns, args),
            "cat": lambda args, ns: sysfs.run_cat(view, ns, args),
            "ls": lambda args, ns: sysfs.run_ls(view, ns, args),
            "hostname": lambda args, ns: (0, f"{self.state.name}\n", ""),
            "uname": lambda args, ns: sysfs.run_uname(view, args),
            "true": lambda args, ns: (0, "", ""),
            "false": lambda args, ns: (1, "", ""),
            "echo": lambda args, ns: (0, " ".join(args) + "\n", ""),
            # the monitoring checks' probes (ingest/monitoring)
            "ping": lambda args, ns: probes.run_ping(view, self.world, args),
            "systemctl": lambda args, ns: probes.run_systemctl(view, self.world, args),
        }
        if self.state.mechanism == "ovs":
            tools.update({
                "ovs-vsctl": lambda args, ns: ovs.run_vsctl(view, args),
                "ovs-dpctl": lambda args, ns: ovs.run_dpctl(view, args),
                "ovs-ofctl": lambda args, ns: ovs.run_ofctl(view, args),
                "ovs-appctl": lambda args, ns: ovs.run_appctl(view, args),
            })
        elif self.view.host.ovs_installed_stopped:
            tools.update(self._stopped_ovs_tools())
        if self.state.mechanism == "vpp":
            tools["vppctl"] = lambda args, ns: vpp.run_vppctl(view, args)
        if "compute" in self.view.host.roles:
            tools["virsh"] = lambda args, ns: libvirt.run_virsh(view, args)
        return tools


    @staticmethod
    def _stopped_ovs_tools() -> dict[str, Callable[[list[str], str | None], Result]]:
        """OVS installed, its daemons stopped: the tools exist and fail (world spec ovs_installed_stopped)."""
        return {tool: (lambda args, ns, tool=tool: ovs.run_stopped(tool, args))  # type: ignore[misc]
                for tool in ("ovs-vsctl", "ovs-dpctl", "ovs-ofctl", "ovs-appctl")}


def _is_netns_exec(args: list[str]) -> bool:
    for number, word in enumerate(args):
        if not word.startswith("-"):
            return iproute.matches(word, "netns") and len(args) > number + 1 and args[number + 1] == "exec"
    return False


def _redirections(words: list[str]) -> tuple[list[str], str | None]:
    """Strip `2>/dev/null`, `2>&1` and `>/dev/null` (the lexer splits them into "2", ">", "/dev/null")."""
    cleaned: list[str] = []
    found = None
    index = 0
    while index < len(words):
        word = words[index]
        if word in (">", ">&") and index + 1 < len(words):
            target = words[index + 1]
            stream = cleaned.pop() if cleaned and cleaned[-1] in ("1", "2") else "1"
            if word == ">&":
                found = "2>&1" if (stream, target) == ("2", "1") else found
            elif target == "/dev/null":
                found = "2>/dev/null" if stream == "2" else ">/dev/null"
            index += 2
            continue
        cleaned.append(word)
        index += 1
    return cleaned, found


def _filter(words: list[str], text: str) -> Result:
    """The far side of a pipe: grep, head, tail, wc -l, cat, sort."""
    if not words:
        return 2, "", "bash: -c: line 1: syntax error near unexpected token `|'\n"
    program, args = words[0], words[1:]
    lines = text.splitlines(keepends=True)
    if program == "grep":
        invert = ignore = False
        extended = False
        pattern = None
        for arg in args:
            if arg.startswith("-") and pattern is None:
                invert |= "v" in arg
                ignore |= "i" in arg
                extended |= "E" in arg
            elif pattern is None:
                pattern = arg
        if pattern is None:
            return 2, "", "Usage: grep [OPTION]... PATTERNS [FILE]...\n"
        regex = re.compile(pattern if extended else _basic_regex(pattern), re.IGNORECASE if ignore else 0)
        kept = [line for line in lines if bool(regex.search(line)) != invert]
        return (0 if kept else 1), "".join(kept), ""
    if program in ("head", "tail"):
        count = 10
        for index, arg in enumerate(args):
            if arg == "-n" and index + 1 < len(args):
                count = int(args[index + 1])
            elif re.fullmatch(r"-\d+", arg):
                count = int(arg[1:])
            elif arg.startswith("-n") and arg[2:].isdigit():
                count = int(arg[2:])
        kept = lines[:count] if program == "head" else lines[-count:] if count else []
        return 0, "".join(kept), ""
    if program == "wc" and args == ["-l"]:
        return 0, f"{len(lines)}\n", ""
    if program == "cat" and not args:
        return 0, text, ""
    if program == "sort" and not args:
        return 0, "".join(sorted(lines)), ""
    return 127, "", f"bash: line 1: {program}: command not found\n"


def _basic_regex(pattern: str) -> str:
    """grep's basic regular expressions: `\\|`, `\\(`, `\\)` are the operators, bare ones are literal."""
    out = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern) and pattern[index + 1] in "|(){}+?":
            out.append(pattern[index + 1])
            index += 2
            continue
        out.append("\\" + char if char in "|(){}+?" else char)
        index += 1
    return "".join(out)
