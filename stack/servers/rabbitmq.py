"""RabbitMQ from Debian's package, run without systemd on loopback, with its own epmd."""

from __future__ import annotations

import os
import subprocess

from stack.process import ManagedProcess, port_open
from stack.server import LocalServer, Tool

# Debian's /usr/sbin/rabbitmq-server switches to the rabbitmq user when run as root, which
# would put our data directory out of its reach; the script it wraps runs as the caller.
RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
NODE_NAME = "calipso@localhost"
READY_LINE = "Server startup complete"


class RabbitMQServer(LocalServer):
    name = "rabbitmq"
    tools = (Tool(RABBITMQ_SERVER, "apt-get install rabbitmq-server (run `make bootstrap`)"),
             Tool("epmd", "apt-get install erlang-base (comes with rabbitmq-server)"))

    def __init__(self, settings) -> None:
        super().__init__(settings)
        # Erlang's port mapper is a separate daemon; we run our own in the foreground so that
        # `stack down` leaves nothing behind.
        self.epmd = ManagedProcess("epmd", self.home / "run" / "epmd.pid", self.home / "logs" / "epmd.log")

    def host(self) -> str:
        return self.settings.amqp_address[0]

    def ports(self) -> dict[str, int]:
        return {"amqp": self.settings.amqp_address[1], "dist": self.settings.rabbitmq_dist_port,
                "epmd": self.settings.epmd_port}

    def prepare(self) -> None:
        host, port = self.settings.amqp_address
        (self.data_dir / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = {host}:{port}\n"
            "loopback_users.guest = true\n"
            "log.console = true\nlog.file = false\n")
        (self.data_dir / "enabled_plugins").write_text("[].\n")
        if self.epmd.pid() is None:
            self.epmd.start(["epmd", "-port", str(self.settings.epmd_port), "-address", "127.0.0.1"])

    def command(self) -> tuple[list[str], dict[str, str]]:
        data = self.data_dir
        env = {
            "HOME": str(data),  # the Erlang cookie lives here
            "RABBITMQ_NODENAME": NODE_NAME,
            "RABBITMQ_CONFIG_FILE": str(data / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(data / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(data / "mnesia"),
            "RABBITMQ_LOG_BASE": str(data / "log"),
            "RABBITMQ_LOGS": "-",
            "RABBITMQ_PID_FILE": str(data / "rabbitmq.pid"),
            "RABBITMQ_DIST_PORT": str(self.settings.rabbitmq_dist_port),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "ERL_EPMD_PORT": str(self.settings.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }
        return [RABBITMQ_SERVER], env

    def is_ready(self) -> bool:
        host, port = self.settings.amqp_address
        return READY_LINE in self.log_since_start() and port_open(host, port)

    def after_stop(self) -> None:
        self.epmd.stop(timeout=5)
        # An Erlang tool that found no epmd on our port starts one as a daemon (`epmd -daemon`),
        # which outlives the stack and would make the next `stack up` find the port taken.
        subprocess.run(["epmd", "-port", str(self.settings.epmd_port), "-kill"], capture_output=True,
                       timeout=10, check=False, env={**os.environ, "ERL_EPMD_ADDRESS": "127.0.0.1"})
