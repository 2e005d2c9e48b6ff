"""Neo4j 5.26 Community, from Maven Central, run by our own launcher (stack/neo4j/)."""

from __future__ import annotations

from pathlib import Path

from stack.process import run_checked
from stack.server import LocalServer, Tool

SOURCE_DIR = Path(__file__).resolve().parents[1] / "neo4j"
READY_LINE = "CALIPSO-NEO4J READY"


class Neo4jServer(LocalServer):
    name = "neo4j"
    tools = (Tool("java", "install Java 17: apt-get install openjdk-17-jre-headless"),
             Tool("mvn", "install Maven: apt-get install maven"))
    start_timeout = 180.0

    @property
    def target_dir(self) -> Path:
        return SOURCE_DIR / "target"

    def host(self) -> str:
        return self.settings.neo4j_address[0]

    def ports(self) -> dict[str, int]:
        return {"bolt": self.settings.neo4j_address[1], "http": self.settings.neo4j_http_port}

    def build(self) -> None:
        jar = self.target_dir / "calipso-neo4j.jar"
        sources = [SOURCE_DIR / "pom.xml", *SOURCE_DIR.joinpath("src").rglob("*.java")]
        if jar.exists() and all(src.stat().st_mtime <= jar.stat().st_mtime for src in sources):
            return
        run_checked(["mvn", "-q", "-B", "-f", str(SOURCE_DIR / "pom.xml"), "package", "-DskipTests"],
                    "building the Neo4j launcher with Maven")

    def command(self) -> tuple[list[str], dict[str, str]]:
        host, bolt = self.settings.neo4j_address
        # As Neo4j's own start script does, plugins are on the class path too: APOC registers
        # its kernel extension (ApocConfig) through the service loader.
        classpath = ":".join([str(self.target_dir / "calipso-neo4j.jar"), f"{self.target_dir / 'lib'}/*",
                              f"{self.target_dir / 'plugins'}/*"])
        argv = ["java", f"-Xmx{self.settings.neo4j_heap}", "-XX:+UseG1GC", "-cp", classpath,
                "io.calipso.stack.Neo4jLauncher", "--home", str(self.data_dir),
                "--plugins", str(self.target_dir / "plugins"),
                "--bolt", f"{host}:{bolt}", "--http", f"{host}:{self.settings.neo4j_http_port}",
                "--pagecache", self.settings.neo4j_pagecache]
        # The password goes through the environment so that it never shows in `ps`.
        return argv, {"NEO4J_PASSWORD": self.settings.neo4j_password.get_secret_value()}

    def is_ready(self) -> bool:
        return READY_LINE in self.log_since_start()
