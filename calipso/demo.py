"""The product's main job, run by `make demo`: the local stack up and migrated, a round trip through
every server, then a lab cloud generated and served, added as an environment, scanned, projected into
Neo4j, one impact and one RCA answer printed, and the REST API served."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import kombu
import ldap3

from core.settings import Settings
from core.stores import Stores
from stack.servers.slapd import SEED_USERS


@dataclass
class SmokeCheck:
    server: str
    check: str
    ok: bool
    detail: str
    ms: float


def _timed(server: str, check: str, action: Callable[[], str]) -> SmokeCheck:
    started = time.perf_counter()
    try:
        detail, ok = action(), True
    except Exception as exc:  # noqa: BLE001 - a failed check is reported, not raised
        detail, ok = f"{type(exc).__name__}: {exc}", False
    return SmokeCheck(server, check, ok, detail, round((time.perf_counter() - started) * 1000, 1))


def smoke_round_trip(settings: Settings, stores: Stores) -> list[SmokeCheck]:
    """Write and read back through MongoDB, Neo4j, RabbitMQ, and bind to LDAP; never raises."""
    marker = f"smoke-{uuid.uuid4().hex[:8]}"

    def mongo() -> str:
        stores.mongo.smoke.insert_one({"_id": marker})
        found = stores.mongo.smoke.find_one_and_delete({"_id": marker})
        assert found == {"_id": marker}, found
        return "insert, read, delete"

    def neo4j() -> str:
        records, _, _ = stores.neo4j.execute_query(
            "CREATE (n:SmokeTest {marker: $marker}) WITH n DELETE n RETURN $marker AS marker", marker=marker)
        assert records[0]["marker"] == marker
        return "create, read, delete"

    def rabbitmq() -> str:
        with kombu.Connection(settings.amqp_url, connect_timeout=5) as connection:
            with connection.SimpleQueue(f"calipso-{marker}", queue_opts={"auto_delete": True}) as queue:
                queue.put({"marker": marker})
                message = queue.get(timeout=5)
                message.ack()
                assert message.payload == {"marker": marker}
        return "publish, consume"

    def ldap() -> str:
        user = SEED_USERS[0]
        dn = f"uid={user.uid},ou=people,{settings.ldap_base_dn}"
        with ldap3.Connection(ldap3.Server(settings.ldap_url, connect_timeout=5), dn, user.password,
                              auto_bind=True):
            return f"bind as {user.uid}"

    return [_timed("mongodb", "round trip", mongo), _timed("neo4j", "round trip", neo4j),
            _timed("rabbitmq", "round trip", rabbitmq), _timed("slapd", "login", ldap)]


# -- the whole product on a lab cloud ------------------------------------------------------------

DEMO_ENVIRONMENT = "demo"
DEMO_USER = "demo"


@dataclass
class DemoRun:
    """What `calipso demo` built: where the world and API are, how to reach them, what it found."""

    world_file: str
    environment: str
    scan_status: str
    objects: int
    links: int
    projected_changes: int
    token: str
    ui_user: str  # a local admin user the web UI's login form takes, with ui_password
    ui_password: str
    impact_target: str
    impact_vms: list[str]  # ids, for tools (the JSON output); the table prints the names below
    rca_focal: str
    rca_top_suspects: list[str]
    impact_vm_names: list[str]  # what a person reads: names, not UUIDs
    rca_focal_names: str
    rca_top_suspect_names: list[str]
    fault: str  # the fault the lab injected
    fault_root_cause: str  # what RCA should name first


def run_lab_demo(settings: Settings, stores: Stores, say: Callable[[str], None]) -> DemoRun:
    """Generate a lab world, serve it, add it as environment `demo`, scan it, project it into Neo4j,
    issue a token for the demo user and run one impact and one RCA query on it."""
    from api.auth import Identity, TokenStore, UserStore
    from calipso.env_commands import save_lab_environment
    from core.environments import EnvironmentStore
    from graphmodel.inventory import LINKS, OBJECTS
    from graphmodel.projector import Projector
    from ingest.listener.consumer import bind_notification_queue
    from ingest.run import scan_environment
    from lab.faults import inject_fault
    from lab.generate import generate_world
    from lab.service import LabService
    from lab.world import save_world
    from queries.impact import impact
    from queries.rca import rca

    world_file = settings.home / "demo" / "world.yaml"
    world_file.parent.mkdir(parents=True, exist_ok=True)
    world = generate_world(hosts=4, vms_per_host=3, networks=2, mechanism="ovs", type_driver="vxlan", seed=7,
                           name="demo-ovs-vxlan")
    # One fault to find: a compute host's tunnel endpoint loses its address, cutting its VMs off;
    # and one maintenance question: what if another compute host went down?
    computes = [h for h in world.hosts if "compute" in h.roles]
    fault = inject_fault(world, "tunnel_unreachable", computes[0].name)
    maintenance = computes[-1].name
    save_world(world, world_file)
    say(f"serving lab world {world.name}: {len(world.hosts)} hosts, {len(world.instances)} VMs "
        f"(fault: {fault.kind} on {fault.target})")
    LabService(settings).up(world_file)

    store = EnvironmentStore.from_settings(stores.mongo, settings)
    save_lab_environment(stores, DEMO_ENVIRONMENT, settings, str(world_file))
    environment = store.decrypt(DEMO_ENVIRONMENT)
    if environment.amqp is not None:
        # Bound before the scan, not when the listener child starts: a `lab change` made as soon as the
        # demo is up waits in the queue instead of being lost. What an older demo left there is dropped.
        bind_notification_queue(environment, purge=True)
    say("scanning the lab (OpenStack APIs, every host over SSH)")
    result = scan_environment(stores.mongo, environment)
    say(f"scan {result.scan_id}: {result.status}; projecting into Neo4j")
    # A rebuild, not a sync: the graph then equals this scan even if Neo4j kept an older demo's graph.
    projected = Projector(stores.mongo, stores.neo4j, DEMO_ENVIRONMENT).rebuild()

    value, _ = TokenStore(stores.mongo).issue(Identity(DEMO_USER, "issued", True), timedelta(hours=8), "demo")
    # A password for the web UI's login form: new on every run, printed beside the UI's address.
    ui_password = secrets.token_urlsafe(12)
    users = UserStore(stores.mongo)
    if users.get(DEMO_USER):
        users.set_password(DEMO_USER, ui_password)
    else:
        users.add(DEMO_USER, ui_password, admin=True)
    impacted = impact(stores.neo4j, DEMO_ENVIRONMENT, [maintenance])
    focal = sorted(fault.down + fault.degraded)[:3]
    names = {i.id: i.name for i in world.instances}
    suspects = rca(stores.neo4j, DEMO_ENVIRONMENT, focal)
    return DemoRun(
        world_file=str(world_file), environment=DEMO_ENVIRONMENT, scan_status=result.status,
        objects=stores.mongo[OBJECTS].count_documents({"environment": DEMO_ENVIRONMENT}),
        links=stores.mongo[LINKS].count_documents({"environment": DEMO_ENVIRONMENT}),
        projected_changes=projected.changes, token=value, ui_user=DEMO_USER, ui_password=ui_password,
        impact_target=maintenance,
        impact_vms=impacted.ids("down"), rca_focal=", ".join(focal), fault=f"{fault.kind} on {fault.target}",
        impact_vm_names=sorted(a.name or a.id for a in impacted.affected if a.state == "down" and a.type == "instance"),
        rca_focal_names=", ".join(names.get(f, f) for f in focal),
        rca_top_suspect_names=[f"{row['name'] or row['object']} ({row['type']}"
                               + (f" on {row['host']})" if row.get("host") else ")") for row in suspects.rows()[:3]],
        fault_root_cause=fault.root_cause,
        rca_top_suspects=[row["object"] for row in suspects.rows()[:3]])
