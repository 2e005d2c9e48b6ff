"""The notebooks in notebooks/ run cell by cell (nbclient, a real kernel) against a real API served on
loopback over the scanned lab of `api_world`, as the user alice with a view grant; their key outputs
are checked against the inventory, the API and the `calipso` command line. They are stored without
outputs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from conftest import CHECKOUT, calipso
from nbclient import NotebookClient

pytestmark = pytest.mark.integration

NOTEBOOKS = CHECKOUT / "notebooks"


def test_notebooks_are_stored_without_outputs() -> None:
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert len(paths) >= 3
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path.name} is stored with outputs"


def run(name: str, api_url: str, token: str, environment: str, out: Path, **extra: str) -> dict[str, Any]:
    """Execute a notebook in a fresh kernel; the JSON its `results` cell prints."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    variables = {"CALIPSO_API_URL": api_url, "CALIPSO_TOKEN": token, "CALIPSO_ENV": environment,
                 "CALIPSO_NOTEBOOK_OUT": str(out), "MPLBACKEND": "Agg", **extra}
    saved = {k: os.environ.get(k) for k in variables}
    os.environ.update(variables)  # the kernel inherits the environment of the process that starts it
    try:
        NotebookClient(notebook, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(out)}}).execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    (cell,) = [c for c in notebook.cells if "results" in c.metadata.get("tags", [])]
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    return json.loads(text.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_explore_notebook(api_url, api_tokens, api_world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    results = run("01_explore_topology.ipynb", api_url, api_tokens["alice"], api_world.environment, tmp_path)
    database = api_world.stores.mongo
    objects = database.inventory.count_documents({"environment": api_world.environment, "type": {"$ne": "folder"}})
    assert results["objects"] == results["graph_nodes"] == objects
    assert results["links"] == results["graph_edges"] == database.links.count_documents(
        {"environment": api_world.environment})
    assert results["datapath_objects"] > 3
    assert results["figures"] == ["types_and_status.png", "vm_path.png"]
    assert all((tmp_path / f).read_bytes().startswith(b"\x89PNG") for f in results["figures"])


def test_maintenance_notebook_matches_the_cli(api_url, api_tokens, api_world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    results = run("02_plan_maintenance.ipynb", api_url, api_tokens["alice"], api_world.environment, tmp_path,
                  CALIPSO_HOSTS="compute-1,compute-2")
    cli = json.loads(calipso(api_world.stores.mongo, "impact", api_world.environment, "compute-1", "compute-2",
                             "--format", "json").stdout)
    assert results["vms_down"] == sorted(a["id"] for a in cli["affected"]
                                         if a["state"] == "down" and a["type"] == "instance")
    assert results["vms_degraded"] == sorted(a["id"] for a in cli["affected"]
                                             if a["state"] == "degraded" and a["type"] == "instance")
    assert results["vms_down"] and results["report_vms_down"] == results["vms_down"]
    assert [row["hosts"] for row in results["per_host"]] == ["compute-1", "compute-2", "compute-1 + compute-2"]
    assert results["documents"] == ["maintenance.md", "maintenance.pdf"]
    assert (tmp_path / "maintenance.pdf").read_bytes().startswith(b"%PDF-")


def test_troubleshooting_notebook(api_url, api_tokens, api_world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vm = sorted(api_world.world.instances, key=lambda i: i.name)[0]
    results = run("03_troubleshoot_vm.ipynb", api_url, api_tokens["alice"], api_world.environment, tmp_path)
    assert results["vm"] == vm.id and results["host"] == vm.host
    history = api_world.stores.mongo.history.count_documents({"environment": api_world.environment, "kind": "object",
                                                              "key": vm.id})
    assert results["history_versions"] == history >= 1
    assert results["path_hops"] > 2 and results["path_target"] != vm.id
    cli = json.loads(calipso(api_world.stores.mongo, "rca", api_world.environment, vm.id, "--format", "json").stdout)
    assert results["rca_top"] == (cli["suspects"][0]["id"] if cli["suspects"] else None)
    assert (tmp_path / "incident.md").read_text().startswith(f"# Incident: {vm.name}")
