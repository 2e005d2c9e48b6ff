"""DESIGN.md §1: imports only go down the layers, and ingest's sources never reach back into the hierarchy
or the scanner (import-linter's contracts in pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]


def test_imports_only_go_down_the_layers() -> None:
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    result = subprocess.run([lint_imports, "--no-cache"], cwd=CHECKOUT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout  # the layers; sources never import the hierarchy
