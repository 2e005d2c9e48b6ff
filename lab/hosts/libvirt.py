"""libvirt 9.0's virsh: `list`, `dumpxml`, `domstate`, `domiflist`, as on a Nova compute host.

Tables are laid out like virsh's vsh-table.c (a leading space per cell, columns two spaces wider
than their widest cell, a dashed rule three characters per column wider), and virsh prints an
empty line after every command it runs (not with --quiet). dumpxml is the live XML Nova's
libvirt driver produces: nova metadata, the disk, and per port an <interface> of the VIF type
(a bridge for hybrid OVS and Linux bridge, an openvswitch virtualport on br-int, vhost-user for
VPP, a hostdev VF with its VLAN for SR-IOV).
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from lab.hostmodel import Domain, DomainInterface
from lab.hosts.view import HostView
from lab.world import Instance

Result = tuple[int, str, str]
NOVA_VERSION = "29.0.1"
_FLAVORS = {"m1.tiny": (512, 1, 1), "m1.small": (2048, 1, 20), "m1.medium": (4096, 2, 40),
            "m1.large": (8192, 4, 80), "m1.xlarge": (16384, 8, 160)}  # MiB, vCPUs, GB disk


def table(rows: list[list[str]], header: bool = True) -> str:
    """vsh-table.c's layout; rows[0] is the header."""
    widths = [max(len(row[column]) for row in (rows if header else rows[1:] or rows[:1]))
              for column in range(len(rows[0]))]

    def line(row: list[str]) -> str:
        cells = []
        for column, cell in enumerate(row):
            padding = " " * (widths[column] - len(cell) + 2) if column < len(row) - 1 else ""
            cells.append(f" {cell}{padding}")
        return "".join(cells) + "\n"

    text = ""
    if header:
        text += line(rows[0]) + "-" * sum(width + 3 for width in widths) + "\n"
    return text + "".join(line(row) for row in rows[1:])


def domain_ids(view: HostView) -> dict[str, int]:
    """Running domains are numbered from 1 in the order they were started; shut-off ones have none."""
    running = [d for d in view.state.domains if d.state == "running"]
    return {d.uuid: number for number, d in enumerate(running, 1)}


def list_domains(view: HostView, everything: bool, inactive_only: bool = False) -> list[Domain]:
    ids = domain_ids(view)
    active = sorted((d for d in view.state.domains if d.uuid in ids), key=lambda d: ids[d.uuid])
    inactive = sorted((d for d in view.state.domains if d.uuid not in ids), key=lambda d: d.name)
    if inactive_only:
        return inactive
    return active + inactive if everything else active


def list_text(view: HostView, domains: list[Domain], header: bool = True) -> str:
    ids = domain_ids(view)
    rows = [["Id", "Name", "State"]] + [[str(ids.get(d.uuid, "-")), d.name, d.state] for d in domains]
    return table(rows, header)


def find_domain(view: HostView, key: str) -> Domain | None:
    ids = domain_ids(view)
    for domain in view.state.domains:
        if key in (domain.name, domain.uuid) or (key.isdigit() and ids.get(domain.uuid) == int(key)):
            return domain
    return None


def _pci(slot: int) -> str:
    return f"<address type='pci' domain='0x0000' bus='0x00' slot='0x{slot:02x}' function='0x0'/>"


def _interface_xml(interface: DomainInterface, number: int, live: bool) -> list[str]:
    alias = [f"      <alias name='net{number}'/>"] if live else []
    mac = f"      <mac address='{interface.mac}'/>"
    mtu = [f"      <mtu size='{interface.mtu}'/>"] if interface.mtu else []
    address = [f"      {_pci(3 + number)}"]
    if interface.type == "hostdev":
        bus, slot_function = (interface.pci_address or "0000:05:10.0").split(":")[1:]
        slot, function = slot_function.split(".")
        hostdev_alias = [f"      <alias name='hostdev{number}'/>"] if live else []
        return (["    <interface type='hostdev' managed='yes'>", mac, "      <driver name='vfio'/>",
                 "      <source>",
                 f"        <address type='pci' domain='0x0000' bus='0x{bus}' slot='0x{slot}' "
                 f"function='0x{function}'/>", "      </source>"]
                + (["      <vlan>", f"        <tag id='{interface.vlan}'/>", "      </vlan>"] if interface.vlan else [])
                + hostdev_alias + address + ["    </interface>"])
    if interface.type == "vhostuser":
        return (["    <interface type='vhostuser'>", mac,
                 f"      <source type='unix' path={quoteattr(interface.vhost_socket or '')} mode='server'/>",
                 "      <model type='virtio'/>"] + mtu + alias + address + ["    </interface>"])
    lines = ["    <interface type='bridge'>", mac, f"      <source bridge='{interface.source_bridge}'/>"]
    if interface.virtualport:
        lines += [f"      <virtualport type='{interface.virtualport}'>",
                  f"        <parameters interfaceid='{interface.interface_id}'/>", "      </virtualport>"]
    lines += [f"      <target dev='{interface.target}'/>", "      <model type='virtio'/>"]
    return lines + mtu + alias + address + ["    </interface>"]


def _metadata(view: HostView, domain: Domain, instance: Instance | None) -> list[str]:
    if instance is None:
        return []
    memory, vcpus, disk = _FLAVORS.get(instance.flavor, _FLAVORS["m1.small"])
    project = next((p for p in view.world.projects if p.id == instance.project_id), None)
    created = instance.created.replace("T", " ").removesuffix("Z")
    lines = ["  <metadata>",
             '    <nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">',
             f'      <nova:package version="{NOVA_VERSION}"/>',
             f"      <nova:name>{instance.name}</nova:name>",
             f"      <nova:creationTime>{created}</nova:creationTime>",
             f'      <nova:flavor name="{instance.flavor}">',
             f"        <nova:memory>{memory}</nova:memory>",
             f"        <nova:disk>{disk}</nova:disk>",
             "        <nova:swap>0</nova:swap>",
             "        <nova:ephemeral>0</nova:ephemeral>",
             f"        <nova:vcpus>{vcpus}</nova:vcpus>",
             "      </nova:flavor>",
             "      <nova:owner>",
             '        <nova:user uuid="d3a0bd2d3e6f4e6ba3bd2c2c7f0f4c1e">admin</nova:user>',
             f'        <nova:project uuid="{instance.project_id}">{project.name if project else ""}</nova:project>',
             "      </nova:owner>",
             "      <nova:ports>"]
    for port_id in instance.port_ids:
        port = view.ports.get(port_id)
        lines.append(f'        <nova:port uuid="{port_id}">')
        for fixed in port.fixed_ips if port else []:
            lines.append(f'          <nova:ip type="fixed" address="{fixed.ip_address}" ipVersion="4"/>')
        lines.append("        </nova:port>")
    return lines + ["      </nova:ports>", "    </nova:instance>", "  </metadata>"]


def dumpxml(view: HostView, domain: Domain) -> str:
    """`virsh dumpxml DOMAIN`: the live XML of a running domain, the inactive XML otherwise."""
    live = domain.state == "running"
    instance = view.world_index.instances.get(domain.uuid)
    memory, vcpus, _ = _FLAVORS.get(instance.flavor if instance else "m1.small", _FLAVORS["m1.small"])
    domain_id = f" id='{domain_ids(view)[domain.uuid]}'" if live else ""
    path = f"/var/lib/nova/instances/{domain.uuid}"
    index = " index='1'" if live else ""  # the live XML numbers disk sources
    lines = [f"<domain type='kvm'{domain_id}>", f"  <name>{domain.name}</name>", f"  <uuid>{domain.uuid}</uuid>"]
    lines += _metadata(view, domain, instance)
    lines += [f"  <memory unit='KiB'>{memory * 1024}</memory>",
              f"  <currentMemory unit='KiB'>{memory * 1024}</currentMemory>",
              f"  <vcpu placement='static'>{vcpus}</vcpu>",
              "  <cputune>", f"    <shares>{vcpus * 1024}</shares>", "  </cputune>",
              "  <resource>", "    <partition>/machine</partition>", "  </resource>",
              "  <sysinfo type='smbios'>", "    <system>",
              "      <entry name='manufacturer'>OpenStack Foundation</entry>",
              "      <entry name='product'>OpenStack Nova</entry>",
              f"      <entry name='version'>{NOVA_VERSION}</entry>",
              f"      <entry name='serial'>{domain.uuid}</entry>",
              f"      <entry name='uuid'>{domain.uuid}</entry>",
              "      <entry name='family'>Virtual Machine</entry>", "    </system>", "  </sysinfo>",
              "  <os>", "    <type arch='x86_64' machine='pc-i440fx-6.2'>hvm</type>", "    <boot dev='hd'/>",
              "    <smbios mode='sysinfo'/>", "  </os>",
              "  <features>", "    <acpi/>", "    <apic/>", "  </features>",
              "  <cpu mode='custom' match='exact' check='full'>", "    <model fallback='forbid'>qemu64</model>",
              f"    <topology sockets='{vcpus}' dies='1' cores='1' threads='1'/>", "  </cpu>",
              "  <clock offset='utc'>", "    <timer name='pit' tickpolicy='delay'/>",
              "    <timer name='rtc' tickpolicy='catchup'/>", "    <timer name='hpet' present='no'/>", "  </clock>",
              "  <on_poweroff>destroy</on_poweroff>", "  <on_reboot>restart</on_reboot>",
              "  <on_crash>destroy</on_crash>",
              "  <devices>", "    <emulator>/usr/bin/qemu-system-x86_64</emulator>",
              "    <disk type='file' device='disk'>", "      <driver name='qemu' type='qcow2' cache='none'/>",
              f"      <source file='{path}/disk'{index}/>",
              "      <target dev='vda' bus='virtio'/>"]
    lines += ["      <alias name='virtio-disk0'/>"] if live else []
    lines += [f"      {_pci(4 + len(domain.interfaces))}", "    </disk>"]
    for number, interface in enumerate(domain.interfaces):
        lines += _interface_xml(interface, number, live)
    lines += ["    <serial type='pty'>"]
    lines += ["      <source path='/dev/pts/1'/>"] if live else []
    lines += [f"      <log file='{path}/console.log' append='off'/>", "      <target type='isa-serial' port='0'>",
              "        <model name='isa-serial'/>", "      </target>"]
    lines += ["      <alias name='serial0'/>"] if live else []
    lines += ["    </serial>", "    <input type='tablet' bus='usb'/>",
              "    <graphics type='vnc' port='-1' autoport='yes' listen='0.0.0.0'>",
              "      <listen type='address' address='0.0.0.0'/>", "    </graphics>",
              "    <video>", "      <model type='virtio' heads='1' primary='yes'/>", "    </video>",
              "    <memballoon model='virtio'>", "      <stats period='10'/>", "    </memballoon>",
              "  </devices>"]
    if live:
        lines += ["  <seclabel type='dynamic' model='apparmor' relabel='yes'>",
                  f"    <label>libvirt-{domain.uuid}</label>", f"    <imagelabel>libvirt-{domain.uuid}</imagelabel>",
                  "  </seclabel>"]
    return "\n".join(lines + ["</domain>"]) + "\n"


def domiflist(domain: Domain) -> str:
    rows = [["Interface", "Type", "Source", "Model", "MAC"]]
    for interface in domain.interfaces:
        source = interface.source_bridge or "-"
        model = "-" if interface.type == "hostdev" else "virtio"
        rows.append([interface.target or "-", interface.type, source, model, interface.mac])
    return table(rows)


_REASONS = {"running": "booted", "shut off": "shutdown", "paused": "user"}


def run_virsh(view: HostView, args: list[str]) -> Result:
    quiet = False
    while args and args[0].startswith("-"):
        option = args.pop(0)
        if option in ("-c", "--connect") and args:
            args.pop(0)
        elif option in ("-q", "--quiet"):
            quiet = True
    if not args:
        return 0, "Welcome to virsh, the virtualization interactive terminal.\n", ""
    command, options = args[0], args[1:]
    end = "" if quiet else "\n"
    if command == "list":
        if "--name" in options or "--uuid" in options:
            domains = list_domains(view, "--all" in options, "--inactive" in options)
            key = (lambda d: d.name) if "--name" in options else (lambda d: d.uuid)
            return 0, "".join(f"{key(d)}\n" for d in domains) + end, ""
        domains = list_domains(view, "--all" in options, "--inactive" in options)
        return 0, list_text(view, domains, header=not quiet) + end, ""
    if command in ("dumpxml", "domstate", "domiflist", "dominfo"):
        names = [o for o in options if not o.startswith("--")]
        if not names:
            return 1, "", f"error: command '{command}' requires <domain> option\n"
        domain = find_domain(view, names[0])
        if domain is None:
            return 1, "", f"error: failed to get domain '{names[0]}'\n"
        if command == "dumpxml":
            return 0, dumpxml(view, domain) + end, ""
        if command == "domstate":
            reason = f" ({_REASONS.get(domain.state, 'unknown')})" if "--reason" in options else ""
            return 0, f"{domain.state}{reason}\n" + end, ""
        if command == "domiflist":
            return 0, domiflist(domain) + end, ""
        return 0, _dominfo(view, domain) + end, ""
    return 1, "", f"error: unknown command: '{command}'\n"


def _dominfo(view: HostView, domain: Domain) -> str:
    ids = domain_ids(view)
    instance = view.world_index.instances.get(domain.uuid)
    memory, vcpus, _ = _FLAVORS.get(instance.flavor if instance else "m1.small", _FLAVORS["m1.small"])
    running = domain.state == "running"
    rows = [("Id", str(ids.get(domain.uuid, "-"))), ("Name", domain.name), ("UUID", domain.uuid),
            ("OS Type", "hvm"), ("State", domain.state), ("CPU(s)", str(vcpus)),
            ("Max memory", f"{memory * 1024} KiB"), ("Used memory", f"{memory * 1024} KiB"),
            ("Persistent", "yes"), ("Autostart", "disable"), ("Managed save", "no"),
            ("Security model", "apparmor"), ("Security DOI", "0")]
    if running:
        rows.insert(6, ("CPU time", "12.3s"))
        rows.append(("Security label", f"libvirt-{domain.uuid} (enforcing)"))
    return "".join(f"{key + ':':<16}{value}\n" for key, value in rows)
