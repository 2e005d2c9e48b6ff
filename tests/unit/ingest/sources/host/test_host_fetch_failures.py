"""fetch_host when some of a host's commands fail (hypothesis chooses which, and how): exit codes
1, 124 (timeout's), 127 (no such tool), 255 (e.g. iproute2's unknown option), empty output, garbage,
truncated output, or the output of another command. The fetch records each failed command by name,
keeps the host's other facts as a clean fetch gives them, and raises nothing; only a transport that
cannot reach the host at all makes it raise, and then only TransportError.

The hosts are the lab's simulated ones (lab/hosts), answering every command as a real host would;
a fake transport in front of them makes the chosen commands fail.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ingest.hierarchy import fetch_host
from ingest.sources.host.facts import HostFacts
from ingest.transport import CommandResult, TransportError
from lab.generate import generate_world
from lab.hosts import LabResponder

WORLDS = {("ovs", "vxlan"): ("compute-1", "controller-1"), ("lxb", "vxlan"): ("compute-1", "controller-1"),
          ("vpp", "vxlan"): ("compute-1",), ("sriov", "vlan"): ("compute-1", "controller-1")}
CASES = [(mechanism, type_driver, host) for (mechanism, type_driver), hosts in WORLDS.items() for host in hosts]

# The machine-readable form of a command, and the text form the fetch falls back to when it fails.
FALLBACKS = {"ip -d -j link": "ip -d link show", "ip -j addr": "ip address show",
             "bridge -j fdb show": "bridge fdb show"}
GARBAGE = ["<html><body><h1>502 Bad Gateway</h1></body></html>\n", "Segmentation fault\n", "\x00\x01\x02\n",
           "Error: Peer netns reference is invalid.\n", "[{]\n", '{"unexpected": true}\n', "\ufffd\ufffd\ufffd\n"]


@functools.cache
def responder(mechanism: str, type_driver: str) -> LabResponder:
    return LabResponder(generate_world(3, 2, 2, mechanism, type_driver, seed=31))


@dataclass(frozen=True)
class Failure:
    """How one command fails: an exit status, or exit 0 with output that is not what the tool prints."""

    status: int = 0
    output: str | None = None  # None: the real output (with status != 0), or cut at `cut`
    cut: float | None = None  # truncate the real output to this fraction

    @property
    def hard(self) -> bool:
        """Exits non-zero: the fetch cannot read anything from it."""
        return self.status != 0


FAILURES = st.one_of(
    st.sampled_from([1, 124, 127, 255]).map(lambda status: Failure(status=status)),
    st.just(Failure(output="")),
    st.sampled_from(GARBAGE).map(lambda text: Failure(output=text)),
    st.text(max_size=200).map(lambda text: Failure(output=text)),
    st.binary(max_size=200).map(lambda raw: Failure(output=raw.decode(errors="replace"))),  # as the transport decodes
    st.floats(0.0, 0.95).map(lambda fraction: Failure(cut=fraction)),
)


@dataclass
class FailingTransport:
    """The lab's simulated hosts, with the commands in `failures` failing as said there."""

    answer: LabResponder
    failures: dict[str, Failure] = field(default_factory=dict)
    other_output: str = ""  # what "another command's output" is
    commands: list[str] = field(default_factory=list)

    def run(self, host: str, command: str, timeout: float = 30.0) -> CommandResult:
        self.commands.append(command)
        status, stdout, stderr = self.answer(host, command)
        failure = self.failures.get(command)
        if failure is None:
            return CommandResult(status, stdout, stderr)
        if failure.hard:
            return CommandResult(failure.status, "", f"{command.split()[0]}: it failed ({failure.status})\n")
        if failure.cut is not None:
            return CommandResult(0, stdout[:int(len(stdout) * failure.cut)], "")
        return CommandResult(0, failure.output or "", "")

    def close(self) -> None:
        pass


@functools.cache
def clean(mechanism: str, type_driver: str, host: str) -> tuple[HostFacts, tuple[str, ...]]:
    """The host's facts with nothing failing, and the commands (and their text forms) a fetch runs."""
    transport = FailingTransport(responder(mechanism, type_driver))
    facts = fetch_host(transport, host)
    assert not facts.failures and facts.interfaces
    commands = set(transport.commands)
    for command in transport.commands:
        for machine, text in FALLBACKS.items():
            if command.endswith(machine):
                commands.add(command.removesuffix(machine) + text)
    commands |= {"ovs-vsctl show", "ovs-appctl dpif/show"}
    return facts, tuple(sorted(commands))


def required(command: str, failure: Failure) -> bool:
    """Whether a hard failure of `command` must be recorded: not when another form stands in for it,
    nor when 127 means the host just lacks an optional tool (OVS, libvirt, VPP), nor for the datapath
    listings (a switch whose ovs-vswitchd is down has none: logged, the OVSDB facts stand)."""
    if any(command.endswith(machine) for machine in FALLBACKS):
        return False
    if command.startswith("ovs-vsctl --format=json") or command in ("ovs-dpctl show", "ovs-appctl dpif/show"):
        return False
    return not (failure.status == 127 and command in ("virsh list --all", "vppctl show int"))


FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[str, str, str, dict[str, Failure]]:
    mechanism, type_driver, host = draw(st.sampled_from(CASES))
    _, commands = clean(mechanism, type_driver, host)
    chosen = draw(st.lists(st.sampled_from(commands), min_size=1, max_size=6, unique=True))
    return mechanism, type_driver, host, {command: draw(FAILURES) for command in chosen}


@FUZZ
@given(scenario=scenarios())
def test_failed_commands_are_recorded_and_the_other_facts_kept(
        scenario: tuple[str, str, str, dict[str, Failure]]) -> None:
    mechanism, type_driver, host, failures = scenario
    baseline, _ = clean(mechanism, type_driver, host)
    transport = FailingTransport(responder(mechanism, type_driver), failures)

    facts = fetch_host(transport, host)  # raises nothing: every failure is recorded

    ran = set(transport.commands)
    failed = {f.command for f in facts.failures}
    event(f"{len(facts.failures)} failures recorded")
    # every failure names a command that ran, says why, and none is a bug of the fetch or a parser
    assert failed <= ran
    assert all(f.reason and not f.reason.startswith("internal error") for f in facts.failures), facts.failures
    # every command that had to answer and did not is named
    for command, failure in failures.items():
        if failure.hard and command in ran and required(command, failure):
            assert command in failed, (command, failure, facts.failures)
    # what no failed command touched is as a clean fetch gives it
    touched = {command for command in failures if command in ran}
    if not any(c.startswith("virsh") for c in touched):
        assert facts.domains == baseline.domains
    if not any(c.startswith("vppctl") for c in touched):
        assert facts.vpp_interfaces == baseline.vpp_interfaces
    if not any(c.startswith("ovs-vsctl") for c in touched):
        assert facts.ovs_ports == baseline.ovs_ports
    if not any(c.startswith(("ip ", "ls ", "ethtool ", "cat ", "bridge ")) for c in touched):
        assert facts.interfaces == baseline.interfaces and facts.namespaces == baseline.namespaces
    # a domain whose XML cannot be had is left out; the others are as before
    if "virsh list --all" not in touched:
        lost = {c.removeprefix("virsh dumpxml ") for c in touched if c.startswith("virsh dumpxml ")}
        assert [d for d in facts.domains if d.name not in lost] == [d for d in baseline.domains if d.name not in lost]
    # a NIC whose ethtool or bonding command fails keeps its other facts, and the other NICs all of theirs
    per_device = {c.split()[-1].rsplit("/", 1)[-1] for c in touched if c.startswith(("ethtool ", "cat /proc/net/"))}
    if touched and all(c.startswith(("ethtool ", "cat /proc/net/")) for c in touched):
        assert [i for i in facts.interfaces if i.name not in per_device] == \
            [i for i in baseline.interfaces if i.name not in per_device]
        assert [i.name for i in facts.interfaces] == [i.name for i in baseline.interfaces]


@pytest.mark.parametrize(("mechanism", "type_driver", "host"), CASES)
def test_each_failure_is_named_with_its_exit_status(mechanism: str, type_driver: str, host: str) -> None:
    """One plain example per host: `ethtool`, `virsh dumpxml` and `ip netns list` failing."""
    baseline, commands = clean(mechanism, type_driver, host)
    failing = [c for c in commands if c.startswith(("ethtool ", "virsh dumpxml ")) or c == "ip netns list"]
    transport = FailingTransport(responder(mechanism, type_driver), {c: Failure(status=1) for c in failing})
    facts = fetch_host(transport, host)
    assert sorted(f.command for f in facts.failures) == sorted(failing)
    assert all(f.reason.startswith("exited 1") for f in facts.failures)
    assert all(i.link_detected is None for i in facts.interfaces if i.physical)
    assert not facts.domains and facts.ovs_ports == baseline.ovs_ports
    assert [i.name for i in facts.interfaces if i.namespace is None] == \
        [i.name for i in baseline.interfaces if i.namespace is None]


@dataclass
class Unreachable(FailingTransport):
    """A host that stops answering after `answered` commands (the SSH connection is gone)."""

    answered: int = 0

    def run(self, host: str, command: str, timeout: float = 30.0) -> CommandResult:
        if len(self.commands) >= self.answered:
            raise TransportError(host, command, "connection refused")
        return super().run(host, command, timeout)


@settings(max_examples=30, deadline=None)
@given(case=st.sampled_from(CASES), answered=st.integers(0, 25))
def test_an_unreachable_host_fails_the_fetch_with_a_transport_error(case: tuple[str, str, str],
                                                                    answered: int) -> None:
    mechanism, type_driver, host = case
    transport = Unreachable(responder(mechanism, type_driver), answered=answered)
    try:
        facts = fetch_host(transport, host)
    except TransportError as error:
        assert error.cause == "connection refused"
    else:
        assert len(transport.commands) <= answered and not facts.failures
