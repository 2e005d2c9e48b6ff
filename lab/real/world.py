"""The world the real lab can build: the spec with what this machine's kernel cannot make removed.

This kernel has no bonding, 8021q, dummy or openvswitch module. A bond becomes its first member
(which takes the bond's address, MTU and physical network; the other members stay as plain NICs),
so that the tunnel IP and the VXLAN devices' underlay exist. VLAN sub-interfaces cannot be built
at all: worlds of type driver vlan are refused. The simulator is then compared on the same
reduced world, so the comparison covers every object that exists in both.
"""

from __future__ import annotations

from lab.world import World, parse_world


def unbuildable(world: World) -> list[str]:
    """The objects of the world the real lab cannot build here, with the reason."""
    problems = [f"{host.name}/{bond.name}: a bond (no bonding module in this kernel; replaced by {bond.members[0]})"
                for host in world.hosts for bond in host.bonds]
    if world.type_driver == "vlan":
        problems.append("VLAN networks: their sub-interfaces need the 8021q module, which this kernel lacks")
    if world.mechanism_driver in ("vpp", "sriov"):
        problems.append(f"mechanism {world.mechanism_driver}: needs VPP or an SR-IOV NIC, neither exists here")
    return problems


def real_lab_world(world: World) -> World:
    """The world without bonds (each replaced by its first member); ValueError for what cannot be built at all."""
    if world.type_driver == "vlan" or world.mechanism_driver in ("vpp", "sriov"):
        raise ValueError("; ".join(p for p in unbuildable(world) if "bond" not in p))
    data = world.model_dump(mode="json")
    replaced: dict[str, str] = {}
    for host in data["hosts"]:
        for bond in host["bonds"]:
            first = bond["members"][0]
            replaced[bond["name"]] = first
            for nic in host["nics"]:
                if nic["bond"] == bond["name"]:
                    nic["bond"] = None
                    # the other members stay as spare NICs: they carry no network any more
                    nic["physical_network"] = None
                if nic["name"] == first:
                    nic.update(ip=bond["ip"], mtu=bond["mtu"], physical_network=bond["physical_network"],
                               role=bond["role"])
        host["bonds"] = []
    for agent in data["agents"]:
        mappings = agent["configurations"].get("interface_mappings")
        if isinstance(mappings, dict):
            agent["configurations"]["interface_mappings"] = {k: replaced.get(v, v) for k, v in mappings.items()}
    return parse_world(data, f"{world.name} (real lab)")
