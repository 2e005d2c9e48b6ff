"""The web UI in a real browser: Playwright drives Debian's Chromium (the system binary; Playwright's own
browser download is never used) against `calipso`'s API served on a free loopback port, on a lab
world scanned and projected for this module. Screenshots of every view go to var/test/artifacts/ui/."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import scan_and_project

# Imported at collection: a test folder put on sys.path later (tests/unit holds api/ and lab/ folders
# without __init__.py) must not shadow the packages when a fixture imports them.
from api import create_app
from api.auth import UserStore
from core.environments import EnvironmentStore
from core.settings import Settings, load_settings
from core.stores import Stores
from ingest.transport import CallableTransport
from lab.cloud.server import serve
from lab.cloud.source import StaticWorldSource
from lab.faults import clear_fault, inject_fault
from lab.generate import generate_world
from lab.hosts import LabResponder
from migrations import runner

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
playwright_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "var" / "test" / "artifacts" / "ui"
AXE = ROOT / "ui" / "node_modules" / "axe-core" / "axe.min.js"
BUNDLE = ROOT / "api" / "ui" / "static" / "dist" / "app.js"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
VIEWER, EDITOR = ("ui-viewer", "viewer-pw-1"), ("ui-editor", "editor-pw-1")
LOCKED = ("ui-locked", "locked-pw-1")  # only ever sent wrong passwords: throttled

pytestmark = pytest.mark.skipif(not CHROMIUM or not BUNDLE.exists() or not AXE.exists(),
                                reason="needs Debian's chromium and the UI built (make bootstrap)")


@dataclass
class UiWorld:
    """A scanned lab world served with the UI: its URL, environment, world, stores and settings."""

    url: str
    environment: str
    world: Any
    settings: Settings
    stores: Stores
    neo4j: Any

    def token(self, user: tuple[str, str]) -> str:
        answer = requests.post(f"{self.url}/api/v1/auth/tokens", json={"username": user[0], "password": user[1]},
                               timeout=10)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["token"])

    def api(self, path: str, **params: Any) -> dict[str, Any]:
        answer = requests.get(f"{self.url}/api/v1/environments/{self.environment}{path}", params=params,
                              headers={"Authorization": f"Bearer {self.token(VIEWER)}"}, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    def rescan(self) -> None:
        scan_and_project(self.world, self.stores.mongo, self.neo4j, self.environment)

    def project(self) -> None:
        """Apply the changes feed to Neo4j (what `calipso graph sync --follow` does in production)."""
        from graphmodel.projector import Projector

        Projector(self.stores.mongo, self.neo4j, self.environment).sync()


@pytest.fixture(scope="module")
def ui_world(settings: Settings, stores: Stores) -> Iterator[UiWorld]:
    """An OVS/VXLAN lab of 3 hosts and 4 VMs scanned into a database of its own, a view and an edit
    user, and the API (with the UI) served by waitress on a free loopback port. The lab's APIs stay
    served and the environment is configured with them, so that the UI's scan button scans it (its
    hosts answer through the lab's in-process responder)."""
    import waitress.server


    isolated = load_settings(mongo_uri=settings.mongo_uri, mongo_database=f"test_ui_{uuid.uuid4().hex[:10]}")
    environment = f"test-ui-{uuid.uuid4().hex[:8]}"
    opened = Stores(isolated)
    runner.apply_mongo(opened.mongo)
    world = generate_world(3, 2, 2, "ovs", "vxlan", seed=7)
    scan_and_project(world, opened.mongo, stores.neo4j, environment)
    users = UserStore(opened.mongo)
    for (name, password), role in ((VIEWER, "view"), (EDITOR, "edit"), (LOCKED, "view")):
        users.add(name, password)
        users.grant(name, environment, role)
    app = create_app(isolated, opened)
    app.config["SCAN_TRANSPORT"] = lambda _environment: CallableTransport(LabResponder(world))
    server = waitress.server.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="ui-api-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.effective_port}"
    try:
        with serve(StaticWorldSource(world)) as cloud:
            admin = requests.post(f"{url}/api/v1/auth/tokens", json={"username": "admin", "password": "admin-pw"},
                                  timeout=10).json()["token"]
            configured = requests.post(f"{url}/api/v1/environments", headers={"Authorization": f"Bearer {admin}"},
                                       timeout=30, json={
                "name": environment, "mechanism_drivers": ["ovs"], "type_drivers": ["vxlan"],
                "openstack": {"auth_url": cloud.auth_url, "username": "admin", "password": "lab-admin-pw"},
                "cli": {"user": "calipso", "password": "lab-ssh-pw"}})
            assert configured.status_code == 201, configured.text
            yield UiWorld(url, environment, world, isolated, opened, stores.neo4j)
    finally:
        server.close()
        EnvironmentStore.from_settings(opened.mongo, isolated).delete(environment)
        stores.neo4j.execute_query("MATCH (n {env: $env}) DETACH DELETE n", env=environment)
        opened.mongo.client.drop_database(opened.mongo.name)
        opened.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        # --no-sandbox: the tests run as root, where Chromium's sandbox refuses to start.
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh tab (no session) that fails the test on any uncaught script error."""
    # bypass_csp: axe-core is injected as an inline script, which the UI's CSP forbids (as it should).
    context = browser.new_context(viewport={"width": 1400, "height": 950}, bypass_csp=True, accept_downloads=True)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert not errors, errors


def log_in(page: Any, ui_world: UiWorld, user: tuple[str, str], hash_: str = "") -> None:
    page.goto(f"{ui_world.url}/{hash_}")
    page.fill("#username", user[0])
    page.fill("#password", user[1])
    page.click("form.login button[type=submit]")
    page.wait_for_selector("header.top")


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def graph_objects(page: Any) -> dict[str, str]:
    """Object id -> health, from the list of the objects drawn (after the graph has rendered)."""
    page.wait_for_selector(".graph[data-rendered]")
    rows = page.eval_on_selector_all(
        "details.objects tbody tr",
        "rows => rows.map(r => [r.querySelector('a[data-id]').dataset.id, r.querySelector('.badge').textContent])")
    return dict(rows)


def serious_violations(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def vm(ui_world: UiWorld, index: int = 0) -> Any:
    return sorted(ui_world.world.instances, key=lambda i: i.name)[index]


# -- tests ------------------------------------------------------------------------------------------

def test_login_messages_and_a_view_user_has_no_scan_button(page: Any, ui_world: UiWorld) -> None:
    page.goto(f"{ui_world.url}/")
    page.wait_for_selector("form.login")
    shot(page, "01-login")
    page.fill("#username", VIEWER[0])
    page.fill("#password", "not-the-password")
    page.click("form.login button[type=submit]")
    assert "Wrong user name or password" in page.locator("#login-status [role=alert]").inner_text()

    log_in(page, ui_world, VIEWER)
    page.wait_for_selector(f"text={ui_world.environment}")
    page.wait_for_selector(".card dl.facts")
    shot(page, "02-environments")
    page.goto(f"{ui_world.url}/#/env/{ui_world.environment}")
    page.wait_for_selector("#crit-title")
    page.wait_for_selector("table caption:text('Latest scans')")
    shot(page, "03-overview-view-user")
    assert page.locator("#start-scan").count() == 0

    # A token the server no longer honours: back to the login page, saying why.
    page.evaluate("() => { const s = JSON.parse(sessionStorage.getItem('calipso.session')); s.token = 'revoked';"
                  " sessionStorage.setItem('calipso.session', JSON.stringify(s)); }")
    page.goto(f"{ui_world.url}/#/env/{ui_world.environment}/tree")
    page.wait_for_selector("form.login")
    assert "log in again" in page.locator("#login-status").inner_text()

    # 403: an environment the user holds no role in says so in place.
    log_in(page, ui_world, VIEWER, "#/env/someone-elses-env")
    assert "not allowed" in page.locator("main [role=alert]").inner_text()
    page.click("text=Log out")
    page.wait_for_selector("form.login")

    log_in(page, ui_world, EDITOR, f"#/env/{ui_world.environment}")
    page.wait_for_selector("#start-scan")
    page.click("text=Log out")
    page.wait_for_selector("form.login")
    assert "logged out" in page.locator("#login-status").inner_text()

    # 429: after repeated wrong passwords the form says how long to wait.
    for _ in range(6):
        page.fill("#username", LOCKED[0])
        page.fill("#password", "wrong")
        page.click("form.login button[type=submit]")
        page.wait_for_selector("#login-status [role=alert]")
    assert re.search(r"Too many attempts: try again in \d+ seconds", page.locator("#login-status").inner_text())
    shot(page, "01b-login-throttled")


def test_search_a_vm_by_mac_and_its_focal_graph_holds_its_clique(page: Any, ui_world: UiWorld) -> None:
    target = vm(ui_world)
    mac = ui_world.world.port(target.port_ids[0]).mac_address
    log_in(page, ui_world, VIEWER, f"#/env/{ui_world.environment}")
    search = page.locator("#search")
    search.fill(target.name)
    page.wait_for_selector("#search-results [role=option]")
    shot(page, "04-search")
    options = page.locator("#search-results [role=option]").all_inner_texts()
    assert any(o.startswith(target.name) for o in options), options
    search.fill(mac)  # a MAC finds the vNIC (its id holds it)
    page.wait_for_selector("#search-results [role=option]:has-text('vnic')")
    search.fill(target.name)
    page.wait_for_function("n => document.querySelector('#search-results [role=option]')?.textContent.startsWith(n)",
                           arg=target.name)
    search.press("ArrowDown")
    search.press("Enter")
    page.wait_for_url(re.compile(r"#/env/.+/focal/"))
    drawn = graph_objects(page)
    shot(page, "05-focal-graph")
    clique = ui_world.api(f"/cliques/{target.id}")
    assert set(drawn) == {n["id"] for n in clique["nodes"]}
    assert set(drawn.values()) == {"ok"}
    assert page.locator("aside.side h2").inner_text() == target.name
    page.click("aside.side summary:text('History')")  # loaded when opened
    page.wait_for_selector("aside.side details[open] >> text=/\\d+ versions/")
    page.click("aside.side summary:text('All links')")
    links = ui_world.api("/links", object_id=target.id)["total"]
    page.wait_for_selector(f"aside.side details[open] >> text='{links} links'")
    metrics = page.evaluate("window.calipsoMetrics")
    assert metrics["nodes"] == len(clique["nodes"])

    # A click on a "+N more" handle adds that node's neighbours.
    before = len(drawn)
    page.evaluate("() => { const cy = document.querySelector('.graph')._cyreg.cy; cy.$('node.more')[0].emit('tap'); }")
    page.wait_for_function("n => window.calipsoMetrics.nodes > n", arg=before)
    shot(page, "06-focal-expanded")
    page.uncheck("#collapse-chains")
    page.wait_for_selector(".graph[data-rendered]")
    shot(page, "07-focal-chains-open")


def test_tree_is_lazy_and_keyboard_navigable(page: Any, ui_world: UiWorld) -> None:
    log_in(page, ui_world, VIEWER, f"#/env/{ui_world.environment}/tree")
    first = page.locator("[role=tree] > [role=treeitem]").first
    first.wait_for()
    first.focus()
    assert page.locator("[role=tree] [role=group]").count() == 0  # nothing below the top level is loaded yet
    page.keyboard.press("ArrowRight")
    page.wait_for_selector("[role=tree] [role=group] [role=treeitem]")
    assert first.get_attribute("aria-expanded") == "true"
    page.keyboard.press("ArrowRight")  # into the first child
    focused = page.evaluate("document.activeElement.getAttribute('aria-level')")
    assert focused == "2"
    page.keyboard.press("ArrowLeft")  # back to the parent
    assert page.evaluate("document.activeElement.getAttribute('aria-level')") == "1"
    shot(page, "08-tree")
    assert not serious_violations(page)


def test_impact_on_a_host_shows_the_vms_the_cli_names(page: Any, ui_world: UiWorld, ) -> None:
    host = vm(ui_world).host
    log_in(page, ui_world, VIEWER, f"#/env/{ui_world.environment}/impact")
    page.fill("#f-target", host)
    page.click("form.analysis-form button[type=submit]")
    page.wait_for_selector("#answer-title")
    page.wait_for_selector(".graph[data-rendered]")
    shot(page, "09-impact")
    assert f"target={host}" in page.url  # the question is in the URL, to share
    shown = set(page.eval_on_selector_all(
        "section.result > .table-wrap tbody tr", "rows => rows.map(r => r.children[1].textContent)"))
    cli = subprocess.run(
        [str(Path(sys.executable).with_name("calipso")), "impact", ui_world.environment, host, "--format", "json"],
        env={**os.environ, "MONGO_DATABASE": ui_world.settings.mongo_database, "CALIPSO_LOG_LEVEL": "WARNING"},
        capture_output=True, text=True, timeout=120, check=True)
    expected = {vm["name"] for vm in json.loads(cli.stdout)["affected"] if vm["state"] == "down"}
    assert expected and shown == expected
    assert expected == {i.name for i in ui_world.world.instances if i.host == host}
    with page.expect_download() as download:
        page.click("text=CSV")
    assert download.value.suggested_filename.endswith("-impact.csv")


def test_fault_rescan_then_the_faulty_hop_is_critical_and_rca_names_the_root_cause_first(
        page: Any, ui_world: UiWorld) -> None:
    target = vm(ui_world, 1)
    fault = inject_fault(ui_world.world, "ovs_port_down", target.port_ids[0])
    try:
        # The rescan, started with the edit role's button; its progress shows until it ends.
        log_in(page, ui_world, EDITOR, f"#/env/{ui_world.environment}")
        page.click("#start-scan")
        page.wait_for_selector(".progress:has-text('completed')", timeout=120_000)
        shot(page, "10-scan-started-from-the-ui")
        assert ui_world.api("/overview/projection")["lag"] > 0  # scanned, not yet projected
        ui_world.project()
        assert ui_world.api("/overview/projection")["lag"] == 0
        assert ui_world.api("/overview")["links_down"] >= 1
        page.goto(f"{ui_world.url}/#/env/{ui_world.environment}/focal/{target.id}")
        drawn = graph_objects(page)
        shot(page, "10b-focal-after-fault")
        failing = {i: h for i, h in drawn.items() if h != "ok"}
        bridge = next(i for i in drawn if "/qbr" in i)
        assert failing.get(bridge) == "critical", drawn  # its link to the switch is down
        assert page.locator(".graph-status").inner_text().startswith(f"{len(drawn)} objects")

        page.goto(f"{ui_world.url}/#/env/{ui_world.environment}/rca?focal={target.name}")
        page.wait_for_selector("section.result tr.first")
        page.wait_for_selector(".graph[data-rendered]")
        shot(page, "11-rca")
        first = page.locator("section.result > .table-wrap tbody tr").first.inner_text()
        assert fault.root_cause in first
        assert not serious_violations(page)
    finally:
        clear_fault(ui_world.world, fault.kind, fault.target)
        ui_world.rescan()


def test_a_nic_without_carrier_is_a_critical_object_of_the_overview(page: Any, ui_world: UiWorld) -> None:
    host = next(h for h in ui_world.world.hosts if any(n.bond for n in h.nics))
    member = next(n for n in host.nics if n.bond)
    fault = inject_fault(ui_world.world, "bond_member_down", f"{host.name}/{member.name}")
    try:
        ui_world.rescan()
        log_in(page, ui_world, VIEWER, f"#/env/{ui_world.environment}")
        row = page.locator("section[aria-labelledby=crit-title] tbody tr", has_text=member.name)
        row.wait_for()
        assert host.name in row.inner_text() and "down" in row.inner_text() and "no carrier" in row.inner_text()
        assert ui_world.api("/overview")["failing_total"] == 1
        shot(page, "18-overview-with-a-failing-nic")
    finally:
        clear_fault(ui_world.world, fault.kind, fault.target)
        ui_world.rescan()


def test_a_deep_link_opens_after_login_and_every_view_passes_axe(page: Any, ui_world: UiWorld) -> None:
    a, b = vm(ui_world, 0), vm(ui_world, 2)
    deep = f"#/env/{ui_world.environment}/path?source={a.name}&target={b.name}"
    page.goto(f"{ui_world.url}/{deep}")
    page.wait_for_selector("form.login")
    assert not serious_violations(page)
    page.fill("#username", VIEWER[0])
    page.fill("#password", VIEWER[1])
    page.click("form.login button[type=submit]")
    page.wait_for_selector("#answer-title")
    assert page.url.endswith(deep)
    expected = ui_world.api("/analysis/path", source=a.id, target=b.id)
    hops = page.eval_on_selector_all("section.result > .table-wrap tbody tr", "rows => rows.length")
    assert hops == len(expected["hops"]) > 4
    page.wait_for_selector(".graph[data-rendered]")
    shot(page, "12-path")
    assert not serious_violations(page)
    # A focal view with a selected object: the side panel opens on it.
    vnic = next(h for h in expected["hops"] if h["type"] == "vnic")
    page.goto(f"{ui_world.url}/#/env/{ui_world.environment}/focal/{a.id}?select={vnic['id']}")
    page.wait_for_function("name => document.querySelector('aside.side h2')?.textContent === name", arg=vnic["name"])
    for name, view, ready in (("13-dashboard", "dashboard", "text=Objects by type"),
                              ("14-whatif", f"whatif?remove={a.host}", ".graph[data-rendered]"),
                              ("15-diff", "diff?since=7d", "#answer-title"),
                              ("16-invariants", "invariants", "#answer-title"),
                              ("17-overview", "", "#crit-title")):
        page.goto(f"{ui_world.url}/#/env/{ui_world.environment}/{view}")
        page.wait_for_selector(ready)
        shot(page, name)
        assert not serious_violations(page), name
