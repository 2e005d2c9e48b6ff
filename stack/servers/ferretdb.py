"""FerretDB 1.24 (MongoDB wire protocol) on SQLite or on the stack's PostgreSQL (CALIPSO_FERRETDB_BACKEND),
built by our Go main (stack/ferretdb/)."""

from __future__ import annotations

from pathlib import Path

from stack.process import run_checked
from stack.server import LocalServer, Tool
from stack.servers.postgresql import postgresql_url

SOURCE_DIR = Path(__file__).resolve().parents[1] / "ferretdb"
READY_LINE = "CALIPSO-FERRETDB READY"


class FerretDBServer(LocalServer):
    name = "ferretdb"
    tools = (Tool("go", "install Go 1.22 or newer: apt-get install golang-go, or the official tarball"),)

    @property
    def binary(self) -> Path:
        return self.home / "bin" / "calipso-ferretdb"

    def host(self) -> str:
        return self.settings.mongo_address[0]

    def ports(self) -> dict[str, int]:
        return {"mongodb": self.settings.mongo_address[1]}

    def needs(self) -> tuple[str, ...]:
        return ("postgresql",) if self.settings.ferretdb_backend == "postgresql" else ()

    def build(self) -> None:
        sources = [SOURCE_DIR / "go.mod", SOURCE_DIR / "go.sum", *SOURCE_DIR.glob("*.go")]
        if self.binary.exists() and all(s.stat().st_mtime <= self.binary.stat().st_mtime for s in sources):
            return
        self.binary.parent.mkdir(parents=True, exist_ok=True)
        run_checked(["go", "build", "-o", str(self.binary), "."], "building FerretDB with Go",
                    cwd=SOURCE_DIR, env={"CGO_ENABLED": "0"})

    def command(self) -> tuple[list[str], dict[str, str]]:
        host, port = self.settings.mongo_address
        argv = [str(self.binary), "--listen", f"{host}:{port}"]
        if self.settings.ferretdb_backend == "postgresql":
            # FerretDB connects lazily and reconnects, so it may start before PostgreSQL is ready;
            # `stack up` returns once both are.
            return [*argv, "--handler", "postgresql", "--postgresql-url", postgresql_url(self.settings)], {}
        return [*argv, "--handler", "sqlite", "--sqlite-dir", str(self.data_dir / "sqlite")], {}

    def is_ready(self) -> bool:
        return READY_LINE in self.log_since_start()
