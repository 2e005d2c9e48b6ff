"""The simulated shell: parsing, sudo, namespaces, missing tools, unknown hosts, caching per world version."""

from __future__ import annotations

from lab.changes import boot_vm
from lab.faults import clear_fault, inject_fault
from lab.generate import generate_world
from lab.hostmodel import LabHosts
from lab.hosts import LabResponder, run_command
from lab.world import World


def world() -> World:
    return generate_world(3, 2, 2, "ovs", "vxlan", seed=61)


def test_unknown_commands_fail_like_bash_and_unknown_hosts_like_ssh() -> None:
    answer = LabResponder(world())
    assert answer("compute-1", "frobnicate --all") == (127, "", "bash: line 1: frobnicate: command not found\n")
    assert answer("compute-1", "teamdctl team0 state") == (127, "", "bash: line 1: teamdctl: command not found\n")
    assert answer("nosuch", "ip link") == (255, "", "ssh: Could not resolve hostname nosuch: "
                                                    "Name or service not known\n")


def test_sudo_paths_env_and_redirections() -> None:
    answer = LabResponder(world())
    plain = answer("compute-1", "ip -j link")
    assert plain[0] == 0
    assert answer("compute-1", "sudo ip -j link") == plain
    assert answer("compute-1", "sudo -n /usr/sbin/ip -j link") == plain
    assert answer("compute-1", "LANG=C ip -j link") == plain
    assert answer("compute-1", "ethtool nosuch 2>/dev/null") == (75, "No data available\n", "")
    status, out, err = answer("compute-1", "ethtool nosuch 2>&1")
    assert status == 75 and err == "" and out.startswith("No data available\nnetlink error")
    assert answer("compute-1", "ip link show nosuch >/dev/null") == (1, "", 'Device "nosuch" does not exist.\n')


def test_lists_and_pipes() -> None:
    answer = LabResponder(world())
    status, out, _ = answer("compute-1", "ovs-vsctl list-br; ovs-vsctl list-ports br-tun | wc -l")
    assert status == 0 and out.splitlines()[:2] == ["br-int", "br-tun"] and out.splitlines()[2] == "3"
    assert answer("compute-1", "false && echo no") == (1, "", "")
    assert answer("compute-1", "false || echo yes") == (0, "yes\n", "")
    status, out, _ = answer("compute-1", "ip -o link | grep qvo | head -n 1")
    assert status == 0 and len(out.splitlines()) == 1 and "qvo" in out
    assert answer("compute-1", "ip -o link | grep -v LOOPBACK | grep nomatch")[0] == 1


def test_netns_exec_sees_the_namespace_only() -> None:
    spec = world()
    answer = LabResponder(spec)
    state = LabHosts(spec).get("controller-1")
    namespace = state.namespaces[0]
    inside = answer("controller-1", f"sudo ip netns exec {namespace} ip -o link")[1]
    names = {line.split(": ")[1].split("@")[0] for line in inside.splitlines()}
    assert names == {i.name for i in state.in_namespace(namespace)}
    assert "eth0" not in names and "lo" in names
    status, out, _ = answer("controller-1", f"ip netns exec {namespace} ls -l /sys/class/net")
    assert status == 0 and "eth0" not in out
    # a namespace runs the host's binaries: OVS answers the same inside and out
    assert answer("controller-1", f"ip netns exec {namespace} ovs-vsctl list-br") == \
        answer("controller-1", "ovs-vsctl list-br")
    assert answer("controller-1", f"ip netns exec {namespace} nosuchtool") == (
        255, "", 'exec of "nosuchtool" failed: No such file or directory\n')
    assert answer("controller-1", "ip netns exec qdhcp-nosuch ip a") == (
        255, "", 'Cannot open network namespace "qdhcp-nosuch": No such file or directory\n')


def test_responder_follows_the_world_when_it_changes_in_place() -> None:
    spec = world()
    answer = LabResponder(spec)
    port = spec.port(spec.instances[0].port_ids[0])
    before = answer(port.binding_host, "ovs-vsctl show")[1]
    fault = inject_fault(spec, "ovs_port_missing", port.id)
    assert "qvo" + port.id[:11] not in answer(port.binding_host, "ovs-vsctl show")[1]
    clear_fault(spec, fault.kind, fault.target)
    assert answer(port.binding_host, "ovs-vsctl show")[1] == before
    boot_vm(spec, "vm-new", "compute-1", spec.networks[0].id)
    assert answer("compute-1", "virsh list --all")[1].count("running") == 3


def test_responder_takes_a_source_and_uses_the_world_it_returns() -> None:
    first, second = world(), generate_world(2, 1, 1, "lxb", "flat", seed=62)
    current = [first]
    answer = LabResponder(lambda: current[0])
    assert answer("compute-2", "hostname") == (0, "compute-2\n", "")
    current[0] = second
    assert answer("compute-2", "hostname")[0] == 255  # the new world has no compute-2
    assert answer("compute-1", "ovs-vsctl show")[0] == 127  # and runs the Linux bridge agent


def test_run_command_is_the_same_shell_without_a_responder() -> None:
    spec = world()
    state = LabHosts(spec).get("compute-1")
    assert run_command(state, spec, "hostname") == (0, "compute-1\n", "")
    assert run_command(state, spec, "ip -j link") == LabResponder(spec)("compute-1", "ip -j link")
    assert run_command(state, spec, "echo 'unbalanced")[0] == 2
