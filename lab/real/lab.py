"""RealLab: build a world's hosts from real kernel objects, run commands on them, tear it all down.

Layout on this machine, for a lab tagged T:

- host H is network namespace `clp-T-H`; a namespace `clp-T-fabric` holds one Linux bridge per
  NIC role (management, tunnel/provider, external): each host NIC is a veth whose other end is
  plugged there, so the hosts' cables are real and VXLAN packets really flow;
- a host's own namespaces (qdhcp-..., qrouter-...) are bound under /run/calipso-lab/T/H/netns/,
  and a command on H runs in H's namespace with that directory mounted on /run/netns: there
  `ip netns list` shows the host's namespaces only and `ip netns exec qdhcp-... CMD` works;
- hosts of the Open vSwitch mechanism run a private ovsdb-server and ovs-vswitchd with the
  userspace datapath (lab/real/ovs.py); on the others the OVS tools are absent (exit 127), as on
  a Linux bridge host without Open vSwitch, or, for a host with `ovs_installed_stopped`, the real
  tools run against a run directory no daemon listens in (they fail as a stopped OVS does).

Every device comes from the host model (lab/hostmodel.py) with its name, MAC, MTU, master,
addresses, VLAN tag and external_ids; what the kernel or the daemons decide (ifindexes, OVS row
uuids, datapath port numbers, counters) is theirs. `down()` removes everything with the lab's tag
(processes by pid file, mounts, namespaces, run directory), also after a partial `up()`; labs
whose owning process died are swept by the next `up()`. Give concurrent runs different tags.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

from core.errors import CalipsoError
from lab.hostmodel import HostState, Interface, LabHosts, OvsPort
from lab.real.flows import program_flows
from lab.real.ovs import PrivateOvs
from lab.real.prerequisites import missing_prerequisites
from lab.real.taps import create_tap
from lab.real.virsh import install_virsh, virsh_bin
from lab.real.world import unbuildable
from lab.world import Host, World
from stack.process import StackError, process_alive

PREFIX = "clp"
DEFAULT_BASE = Path("/run/calipso-lab")
OWNER_FILE = "owner.pid"  # the process that built the lab; sweep_abandoned() removes labs whose owner is gone
GLOBAL_NETNS = Path("/run/netns")
COMMAND_TIMEOUT = 30.0
# Fabric bridges, by the role of the NIC plugged into them.
FABRIC_BRIDGES = {"management": "mgmt", "tunnel": "data", "provider": "data", "external": "ext"}
# os-vif creates the hybrid plug's devices with IPv6 disabled.
NO_IPV6_PREFIXES = ("qbr", "qvb", "qvo")
OVS_TOOLS = ("ovs-vsctl", "ovs-dpctl", "ovs-ofctl", "ovs-appctl")
# A command on a host: mount the host's namespace directory on /run/netns, then run the command.
_IN_HOST = 'mount --rbind "$1" /run/netns || exit 125; shift; exec bash -c "$1"'
# On a host without Open vSwitch its tools are not installed: bash's answer for a missing command.
_NO_OVS = "".join(f'{tool}() {{ echo "bash: line 1: {tool}: command not found" >&2; return 127; }}\n'
                  for tool in OVS_TOOLS)


class RealLabError(CalipsoError):
    """The real lab cannot be built or a command on it failed; the message says which and why."""


class RealLab:
    """A world's hosts as network namespaces of this machine (see the module docstring)."""

    def __init__(self, world: World, tag: str, base: Path = DEFAULT_BASE) -> None:
        problems = unbuildable(world)
        if problems:
            raise RealLabError(f"world {world.name} cannot be built here (use lab.real.real_lab_world): "
                               + "; ".join(problems))
        if not tag.replace("-", "").isalnum() or len(tag) > 40:
            raise RealLabError(f"lab tag {tag!r}: use up to 40 letters, digits and dashes")
        self.world = world
        self.tag = tag
        self.base = base / tag
        self.model = LabHosts(world)
        self._taps: list[int] = []

    # -- names and places -----------------------------------------------------------------------

    def namespace(self, host: str) -> str:
        """The network namespace that is host `host`."""
        return f"{PREFIX}-{self.tag}-{host}"

    @property
    def fabric(self) -> str:
        return f"{PREFIX}-{self.tag}-fabric"

    def _netns_dir(self, host: str) -> Path:
        return self.base / host / "netns"

    def _ovs(self, host: str) -> PrivateOvs:
        return PrivateOvs(self.base / host / "ovs", self.namespace(host))

    def _has_ovs(self, host: str) -> bool:
        return bool(self.model.get(host).ovs_bridges)

    def _ovs_stopped(self, host: str) -> bool:
        return any(h.name == host and h.ovs_installed_stopped for h in self.world.hosts)

    # -- commands -------------------------------------------------------------------------------

    def execute(self, host: str, command: str, timeout: float = COMMAND_TIMEOUT) -> tuple[int, str, str]:
        """(exit status, stdout, stderr) of a shell command run on `host`, as LabResponder answers."""
        if host not in self.model:
            return 255, "", f"ssh: Could not resolve hostname {host}: Name or service not known\n"
        environment = {**os.environ, "LC_ALL": "C"}
        if self._has_ovs(host) or self._ovs_stopped(host):
            # stopped (world spec ovs_installed_stopped): the real tools, aimed at a run directory with no
            # daemon, fail as an installed OVS without its daemons does
            environment.update(self._ovs(host).environment())
        else:
            command = _NO_OVS + command
        bin_dir = virsh_bin(self.base / host)  # a compute host's virsh (lab/real/virsh.py)
        if bin_dir is not None:
            environment["PATH"] = f"{bin_dir}:{environment.get('PATH', os.defpath)}"
        argv = ["ip", "netns", "exec", self.namespace(host), "bash", "-c", _IN_HOST, "bash",
                str(self._netns_dir(host)), command]
        try:
            result = subprocess.run(argv, capture_output=True, text=True, env=environment, timeout=timeout,
                                    check=False)
        except subprocess.TimeoutExpired:
            return 124, "", f"timed out after {timeout:.0f}s\n"
        return result.returncode, result.stdout, result.stderr

    def run(self, host: str, command: str) -> str:
        """The output of a command on `host`; RealLabError when it fails."""
        status, out, err = self.execute(host, command)
        if status != 0:
            raise RealLabError(f"{host}: `{command}` exited {status}: {err.strip()[:400]}")
        return out

    def _script(self, host: str, lines: list[str]) -> None:
        """Run set-up commands on `host`, stopping at the first failure."""
        if lines:
            self.run(host, "set -e\n" + "\n".join(lines))

    # -- up and down ----------------------------------------------------------------------------

    def __enter__(self) -> RealLab:
        self.up()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.down()

    def up(self) -> None:
        """Build every host; on any failure, remove what was built and raise RealLabError."""
        missing = missing_prerequisites()
        if missing:
            raise RealLabError("the real lab needs: " + "; ".join(missing)
                               + " (scripts/install-system-packages.sh installs the packages)")
        self.down()  # what an earlier run with this tag may have left
        sweep_abandoned(self.base.parent)
        try:
            GLOBAL_NETNS.mkdir(parents=True, exist_ok=True)
            self.base.mkdir(parents=True, exist_ok=True)
            (self.base / OWNER_FILE).write_text(f"{os.getpid()}\n")
            _check(["ip", "netns", "add", self.fabric])
            _check(["ip", "-n", self.fabric, "link", "set", "lo", "up"])
            for bridge in sorted(set(FABRIC_BRIDGES.values())):
                _check(["ip", "-n", self.fabric, "link", "add", bridge, "type", "bridge"])
                _check(["ip", "-n", self.fabric, "link", "set", bridge, "up"])
            for number, host in enumerate(self.world.hosts):
                self._build_host(number, host, self.model.get(host.name))
        except (OSError, subprocess.SubprocessError, CalipsoError) as exc:
            self.down()
            if isinstance(exc, RealLabError):
                raise
            raise RealLabError(f"building the real lab {self.tag} failed: {exc}") from exc
        except BaseException:
            self.down()
            raise

    def down(self) -> None:
        """Remove every process, mount, namespace and file of this lab's tag; safe to call again."""
        while self._taps:
            os.close(self._taps.pop())
        _remove(self.base, self.tag, [h.name for h in self.world.hosts])

    # -- one host -------------------------------------------------------------------------------

    def _build_host(self, number: int, host: Host, state: HostState) -> None:
        namespace = self.namespace(host.name)
        _check(["ip", "netns", "add", namespace])
        netns_dir = self._netns_dir(host.name)
        netns_dir.mkdir(parents=True, exist_ok=True)
        for name in state.namespaces:
            (netns_dir / name).touch()
            _check(["unshare", f"--net={netns_dir / name}", "ip", "link", "set", "lo", "up"])
        # Give the host's namespaces the ids the simulator shows (their order of creation), before
        # the fabric's cables make the kernel hand out an id to the fabric namespace.
        self._script(host.name, ["ip link set lo up"] + [f"ip netns set {shlex.quote(name)} {nsid}"
                                                         for nsid, name in enumerate(state.namespaces)])
        devices = [i for i in state.interfaces if i.kind != "loopback"]
        for nic in (i for i in devices if i.kind == "physical"):
            self._cable(number, host, nic)
        namespace_file = GLOBAL_NETNS / namespace
        for tap in (i for i in devices if i.kind == "tap"):
            self._taps.append(create_tap(namespace_file, tap.name))
        self._script(host.name, [line for device in devices for line in _kernel_device(device, state)])
        if state.ovs_bridges:
            self._build_ovs(host.name, state)
        self._script(host.name, [line for device in devices for line in _finish_device(device, state)])
        self._script(host.name, _l2population(self.world, host, state))
        install_virsh(self.base / host.name, self.world, host.name)

    def _cable(self, number: int, host: Host, nic: Interface) -> None:
        """A host NIC: a veth whose other end is plugged into the fabric bridge of the NIC's role."""
        role = next(n.role for n in host.nics if n.name == nic.name)
        far_end = f"h{number}-{nic.name}"[:15]
        _check(["ip", "-n", self.fabric, "link", "add", far_end, "type", "veth", "peer", "name", nic.name,
                "netns", self.namespace(host.name)])
        _check(["ip", "-n", self.fabric, "link", "set", far_end, "master", FABRIC_BRIDGES[role], "up"])

    def _build_ovs(self, host: str, state: HostState) -> None:
        """Start the host's Open vSwitch and configure it as the Neutron OVS agent and os-vif leave it."""
        ovs = self._ovs(host)
        ovs.start()
        ovs.vsctl("--no-wait", "set-manager", "ptcp:6640:127.0.0.1")
        for bridge in state.ovs_bridges:
            ovs.vsctl("add-br", bridge.name, "--", "set", "Bridge", bridge.name, "datapath_type=netdev",
                      "fail_mode=secure", "protocols=OpenFlow10,OpenFlow13,OpenFlow14",
                      "other_config:mac-table-size=50000")
            ovs.vsctl("set-controller", bridge.name, "tcp:127.0.0.1:6633")
            for port in bridge.ports:
                if port.name == bridge.name:
                    continue
                ovs.vsctl(*add_port_args(self.world, port))
        program_flows(ovs, self.world, state)  # what the OVS agent would program (lab/real/flows.py)


def sweep_abandoned(base: Path = DEFAULT_BASE) -> list[str]:
    """Remove the labs under `base` whose owning process is gone (a test run that was killed);
    the tags removed."""
    removed = []
    for lab_dir in sorted(base.iterdir()) if base.is_dir() else []:
        try:
            owner = int((lab_dir / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue  # being built right now, or not a lab
        if not process_alive(owner):
            _remove(lab_dir, lab_dir.name, [])
            removed.append(lab_dir.name)
    return removed


def _remove(lab_dir: Path, tag: str, hosts: list[str]) -> None:
    """Stop the lab's daemons, unmount its hosts' namespaces, delete its namespaces and files."""
    known = set(hosts)
    if lab_dir.is_dir():
        for host_dir in (d for d in lab_dir.iterdir() if d.is_dir()):
            known.add(host_dir.name)
            if (host_dir / "ovs").is_dir():
                PrivateOvs(host_dir / "ovs", f"{PREFIX}-{tag}-{host_dir.name}").stop()
            for bound in sorted((host_dir / "netns").glob("*")):
                subprocess.run(["umount", "--lazy", str(bound)], capture_output=True, check=False)
    for name in [f"{PREFIX}-{tag}-fabric", *(f"{PREFIX}-{tag}-{host}" for host in sorted(known))]:
        if (GLOBAL_NETNS / name).exists():
            subprocess.run(["ip", "netns", "delete", name], capture_output=True, check=False)
    shutil.rmtree(lab_dir, ignore_errors=True)


def add_port_args(world: World, port: OvsPort) -> list[str]:
    """The ovs-vsctl arguments that plug `port` into its bridge as the host model has it: tag, interface
    type, options and external_ids, and what the OVS agent sets on the port."""
    args = ["add-port", port.bridge, port.name]
    if port.tag is not None:
        args.append(f"tag={port.tag}")
    settings = [f"type={port.type}"] if port.type else []
    settings += [f"options:{key}={value}" for key, value in port.options.items()]
    settings += [f"external_ids:{key}={value}" for key, value in port.external_ids.items()]
    if settings:
        args += ["--", "set", "Interface", port.name, *settings]
    return args + _agent_port_config(world, port)


def _agent_port_config(world: World, port: OvsPort) -> list[str]:
    """What the Neutron OVS agent records on a port it bound: the network and its local VLAN."""
    iface_id = port.external_ids.get("iface-id")
    if iface_id is None or port.tag is None:
        return []
    network = world.network(world.port(iface_id).network_id)
    config = {"net_uuid": network.id, "network_type": network.network_type,
              "physical_network": network.physical_network or "None",
              "segmentation_id": str(network.segmentation_id or "None"), "tag": str(port.tag)}
    return ["--", "set", "Port", port.name, *(f"other_config:{key}={value}" for key, value in config.items())]


def _check(argv: list[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    if result.returncode != 0:
        raise RealLabError(f"`{' '.join(argv)}` exited {result.returncode}: {result.stderr.strip()[:400]}")
    return result.stdout


def _ip(device: Interface) -> str:
    """`ip` for the device's namespace (run on the host, where /run/netns is the host's)."""
    return f"ip -n {shlex.quote(device.namespace)}" if device.namespace else "ip"


def _is_ovs_bridge(device: Interface, state: HostState) -> bool:
    return any(bridge.name == device.name for bridge in state.ovs_bridges)


def _kernel_device(device: Interface, state: HostState) -> list[str]:
    """Commands that create one device that is not Open vSwitch's (veths once, from their first end)."""
    name, ip = shlex.quote(device.name), _ip(device)
    common = f"address {device.mac} mtu {device.mtu}"
    lines = []
    if device.kind == "physical":
        lines.append(f"{ip} link set {name} {common}")
    elif device.kind == "bridge":
        # no address: the kernel gives the bridge its lowest port MAC, as the model expects
        lines.append(f"{ip} link add {name} mtu {device.mtu} type bridge")
    elif device.kind == "tap":
        lines.append(f"{ip} link set {name} {common}")  # created and held open by create_tap
    elif device.kind == "vxlan":
        lines.append(f"{ip} link add {name} {common} type vxlan id {device.vxlan_id} local {device.vxlan_local} "
                     f"dev {shlex.quote(device.link or '')} dstport {device.vxlan_port}")
    elif device.kind == "veth":
        peer = state.interface(device.peer or "", device.peer_namespace)
        if peer is None or _position(state, peer) < _position(state, device):
            return []  # created with its peer
        where = f" netns {shlex.quote(peer.namespace)}" if peer.namespace != device.namespace and peer.namespace \
            else ""
        lines.append(f"{ip} link add {name} {common} type veth peer name {shlex.quote(peer.name)} "
                     f"address {peer.mac} mtu {peer.mtu}{where}")
    elif device.kind in ("bond", "vlan"):
        raise RealLabError(f"{state.name}/{device.name}: a {device.kind} cannot be built here (see unbuildable())")
    return lines


def _position(state: HostState, device: Interface) -> int:
    return next(n for n, known in enumerate(state.interfaces) if known is device)


def _finish_device(device: Interface, state: HostState) -> list[str]:
    """Commands that put a device in place once every device exists: master, namespace, state, addresses."""
    name, ip = shlex.quote(device.name), _ip(device)
    lines = []
    if device.kind == "openvswitch" and not _is_ovs_bridge(device, state):
        # An internal port Neutron plugged for a DHCP or router namespace: created by ovs-vswitchd in
        # the host, given the port's MAC and MTU there, then moved (as Neutron's OVS interface driver does).
        lines += [f"ip link set {name} address {device.mac} mtu {device.mtu}"]
        if device.namespace:
            lines.append(f"ip link set {name} netns {shlex.quote(device.namespace)}")
    if device.kind == "openvswitch" and _is_ovs_bridge(device, state):
        return []  # ovs-vswitchd owns the bridge's own port
    if device.name.startswith(NO_IPV6_PREFIXES) and device.namespace is None:
        lines.append(f"sysctl -qw net.ipv6.conf.{device.name}.disable_ipv6=1")
    if device.master and device.master != "ovs-system":
        lines.append(f"{ip} link set {name} master {shlex.quote(device.master)}")
    if device.up:
        lines.append(f"{ip} link set {name} up")
    if device.kind == "bridge":
        lines.append(f"{ip} link set {name} mtu {device.mtu}")  # a bridge's MTU follows its ports unless set
    lines += [f"{ip} address add {cidr} dev {name}" for cidr in device.addresses]
    return lines


def _l2population(world: World, host: Host, state: HostState) -> list[str]:
    """The Linux bridge agent's l2population entries: per VXLAN device, the remote ports' MACs and
    a flood entry per remote endpoint (hosts with a port on the device's network)."""
    lines = []
    tunnel_ips = {h.name: h.tunnel_ip for h in world.hosts if h.tunnel_ip}
    for device in state.interfaces:
        if device.kind != "vxlan" or device.vxlan_id is None:
            continue
        network = next((n for n in world.networks if n.network_type == "vxlan"
                        and n.segmentation_id == device.vxlan_id), None)
        if network is None:
            continue
        remotes: list[str] = []
        for port in (p for p in world.ports if p.network_id == network.id and p.binding_host != host.name):
            remote = tunnel_ips.get(port.binding_host)
            if remote is None:
                continue
            # replace: the device may have learned the MAC already from a peer built before this host
            lines.append(f"bridge fdb replace {port.mac_address} dev {device.name} dst {remote} self permanent")
            if remote not in remotes:
                remotes.append(remote)
        lines += [f"bridge fdb append 00:00:00:00:00:00 dev {device.name} dst {remote} self permanent"
                  for remote in remotes]
    return lines


__all__ = ["RealLab", "RealLabError", "StackError"]
