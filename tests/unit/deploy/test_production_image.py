"""The production image ships neither the lab nor the local stack (DESIGN §1: they are for development
and tests): the Dockerfile copies every other package, and every module the image holds imports, and the
command line works, with `lab` and `stack` impossible to import."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[3]
DEVELOPMENT_ONLY = {"lab", "stack"}
#: calipso modules that exist for the lab and the stack only; the command line leaves them out there.
DEVELOPMENT_MODULES = {"calipso.lab_commands", "calipso.stack_commands", "calipso.demo", "calipso.lab_scan"}

WITHOUT_LAB_AND_STACK = r"""
import importlib, importlib.abc, json, pkgutil, sys

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("lab", "stack"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Refuse())
skip = set(sys.argv[2].split(","))
for package in sys.argv[1].split(","):
    for module in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
        if module.name not in skip:
            importlib.import_module(module.name)
from calipso.cli import main
import click
print(json.dumps(sorted(main.list_commands(click.Context(main)))))
"""


def shipped_packages() -> set[str]:
    project = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())
    return {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}


def test_the_dockerfile_copies_every_package_but_the_lab_and_the_stack() -> None:
    copied = {line.split()[1] for line in (CHECKOUT / "Dockerfile").read_text().splitlines()
              if line.startswith("COPY ") and not line.split()[1].endswith((".toml", ".md"))}
    assert copied == shipped_packages() - DEVELOPMENT_ONLY


def test_everything_the_image_holds_imports_and_the_cli_works_without_lab_and_stack() -> None:
    packages = sorted(shipped_packages() - DEVELOPMENT_ONLY)
    done = subprocess.run([sys.executable, "-c", WITHOUT_LAB_AND_STACK, ",".join(packages),
                           ",".join(sorted(DEVELOPMENT_MODULES))],
                          capture_output=True, text=True, timeout=120, cwd=CHECKOUT)
    assert done.returncode == 0, done.stderr[-3000:]
    commands = set(__import__("json").loads(done.stdout.splitlines()[-1]))
    assert not commands & {"lab", "stack", "demo"}
    assert {"serve", "scan", "env", "impact", "rca", "migrate", "graph"} <= commands
