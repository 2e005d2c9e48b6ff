"""The real openstacksdk against the simulated cloud on a loopback port, for every lab variant."""

from collections.abc import Iterator
from pathlib import Path

import keystoneauth1.exceptions
import openstack
import openstack.connection
import pytest

from lab.cloud.server import CloudServer, serve
from lab.cloud.source import FileWorldSource, StaticWorldSource
from lab.generate import generate_world
from lab.world import VARIANTS, World, save_world

PASSWORD = "lab-admin-pw"


def connect(server: CloudServer, password: str = PASSWORD) -> openstack.connection.Connection:
    return openstack.connect(auth_url=server.auth_url, username="admin", password=password, project_name="admin",
                             user_domain_name="Default", project_domain_name="Default", region_name="RegionOne")


@pytest.fixture(scope="module", params=VARIANTS, ids=["-".join(v) for v in VARIANTS])
def cloud(request: pytest.FixtureRequest) -> Iterator[tuple[World, openstack.connection.Connection]]:
    mechanism, type_driver = request.param
    world = generate_world(hosts=4, vms_per_host=3, networks=1 if type_driver == "flat" else 3, mechanism=mechanism,
                           type_driver=type_driver)
    server = serve(StaticWorldSource(world))
    conn = connect(server)
    yield world, conn
    conn.close()
    server.shutdown()


def test_servers_are_the_spec_instances_on_their_hosts(cloud) -> None:  # type: ignore[no-untyped-def]
    world, conn = cloud
    servers = {s.id: s for s in conn.compute.servers(details=True, all_projects=True)}
    assert set(servers) == {i.id for i in world.instances}
    for instance in world.instances:
        server = servers[instance.id]
        assert server.name == instance.name
        assert server.compute_host == server.hypervisor_hostname == instance.host
        assert server.instance_name == instance.libvirt_name
        assert server.project_id == instance.project_id
        assert server.status == "ACTIVE" and server.vm_state == "active" and server.power_state == 1
        assert server.availability_zone == "nova"
        assert server.flavor.original_name == instance.flavor
        macs = {a["OS-EXT-IPS-MAC:mac_addr"] for addresses in server.addresses.values() for a in addresses}
        assert macs == {world.port(p).mac_address for p in instance.port_ids}


def test_neutron_resources_are_the_spec_ones(cloud) -> None:  # type: ignore[no-untyped-def]
    world, conn = cloud
    networks = {n.id: n for n in conn.network.networks()}
    assert set(networks) == {n.id for n in world.networks}
    for spec in world.networks:
        network = networks[spec.id]
        assert (network.provider_network_type, network.provider_segmentation_id,
                network.provider_physical_network) == (spec.network_type, spec.segmentation_id, spec.physical_network)
        assert network.is_router_external == spec.external and network.mtu == spec.mtu
        assert network.subnet_ids == [s.id for s in spec.subnets]
    subnets = {s.id: s for s in conn.network.subnets()}
    assert {(s.id, s.cidr, s.gateway_ip) for s in subnets.values()} == {
        (s.id, s.cidr, s.gateway_ip) for n in world.networks for s in n.subnets}
    ports = {p.id: p for p in conn.network.ports()}
    assert set(ports) == {p.id for p in world.ports}
    for spec_port in world.ports:
        port = ports[spec_port.id]
        assert (port.binding_host_id, port.binding_vif_type, port.binding_vnic_type, port.device_owner,
                port.device_id, port.mac_address, port.network_id) == (
            spec_port.binding_host, spec_port.vif_type, spec_port.vnic_type, spec_port.device_owner,
            spec_port.device_id, spec_port.mac_address, spec_port.network_id)
        assert port.fixed_ips == [f.model_dump() for f in spec_port.fixed_ips]
    routers = {r.id: r for r in conn.network.routers()}
    assert set(routers) == {r.id for r in world.routers}
    for spec_router in world.routers:
        assert routers[spec_router.id].external_gateway_info["network_id"] == spec_router.gateway_network_id
    agents = {a.id: a for a in conn.network.agents()}
    assert {(a.id, a.host, a.agent_type, a.binary, a.is_alive) for a in agents.values()} == {
        (a.id, a.host, a.agent_type, a.binary, a.alive) for a in world.agents}
    assert all(agents[a.id].configuration == a.configurations for a in world.agents)


def test_server_side_filters(cloud) -> None:  # type: ignore[no-untyped-def]
    world, conn = cloud
    dhcp = {p.id for p in conn.network.ports(device_owner="network:dhcp")}
    assert dhcp == {p.id for p in world.ports if p.device_owner == "network:dhcp"}
    on_host = {p.id for p in conn.network.ports(binding_host_id="compute-1")}
    assert on_host == {p.id for p in world.ports if p.binding_host == "compute-1"}
    # openstacksdk names Nova's `host` filter compute_host (its own `host` is a request-only attribute).
    servers = {s.id for s in conn.compute.servers(compute_host="compute-1", all_projects=True)}
    assert servers == {i.id for i in world.instances if i.host == "compute-1"}
    network = world.networks[0]
    assert {p.id for p in conn.network.ports(network_id=network.id)} == {
        p.id for p in world.ports if p.network_id == network.id}


def test_pagination_follows_links_to_every_item(cloud) -> None:  # type: ignore[no-untyped-def]
    world, conn = cloud
    servers = [s.id for s in conn.compute.servers(limit=2, all_projects=True)]
    assert sorted(servers) == sorted(i.id for i in world.instances)
    ports = [p.id for p in conn.network.ports(limit=2)]
    assert ports == [p.id for p in world.ports]
    assert [n.id for n in conn.network.networks(limit=1)] == [n.id for n in world.networks]


def test_compute_inventory(cloud) -> None:  # type: ignore[no-untyped-def]
    world, conn = cloud
    computes = [h for h in world.hosts if "compute" in h.roles]
    hypervisors = list(conn.compute.hypervisors(details=True))
    assert [(h.name, h.host_ip, h.state, h.status) for h in hypervisors] == [
        (h.name, h.ip_address, "up", "enabled") for h in computes]
    assert all(h.service_details["host"] == h.name for h in hypervisors)
    zones = {z.name: z for z in conn.compute.availability_zones(details=True)}
    assert set(zones) == {"internal", "nova"}
    assert set(zones["nova"].hosts) == {h.name for h in computes}
    assert set(zones["internal"].hosts["controller-1"]) == {"nova-scheduler", "nova-conductor"}
    services = {(s.host, s.binary) for s in conn.compute.services()}
    assert {(h.name, "nova-compute") for h in computes} <= services
    assert {i.flavor for i in world.instances} <= {f.name for f in conn.compute.flavors()}
    assert list(conn.compute.aggregates()) == []


def test_identity(cloud) -> None:  # type: ignore[no-untyped-def]
    world, conn = cloud
    assert {p.name for p in conn.identity.projects()} == {"admin"} | {p.name for p in world.projects}
    assert [r.id for r in conn.identity.regions()] == ["RegionOne"]


def test_wrong_password_is_refused() -> None:
    with serve(StaticWorldSource(generate_world(2, 1, 1))) as server:
        conn = connect(server, password="not-the-password")
        with pytest.raises(keystoneauth1.exceptions.Unauthorized):
            list(conn.compute.servers())


def test_a_changed_world_file_is_served(tmp_path: Path) -> None:
    path = tmp_path / "world.yaml"
    world = generate_world(3, 2, 2)
    save_world(world, path)
    with serve(FileWorldSource(path)) as server:
        conn = connect(server)
        target = world.instances[0].id
        assert {s.id: s.name for s in conn.compute.servers(all_projects=True)}[target] == world.instances[0].name
        world.instances[0].name = "renamed-vm"
        save_world(world, path)
        assert {s.id: s.name for s in conn.compute.servers(all_projects=True)}[target] == "renamed-vm"
        assert conn.compute.get_server(target).name == "renamed-vm"
