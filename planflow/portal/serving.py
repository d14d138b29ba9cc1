"""Serving the portal with uvicorn: one process, or several each on a socket of its own."""

from __future__ import annotations

import socket
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from planflow.states import PlanflowError

APP = "planflow.portal.app:create_app"


def serve(host: str, port: int, workers: int) -> None:
    """Serve the portal until interrupted."""
    config = uvicorn.Config(
        APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # a spawned worker imports planflow before it answers; on a busy machine that is slow
        timeout_worker_healthcheck=60,
        proxy_headers=False,
        log_config=_log_config(),
    )
    if workers == 1:
        uvicorn.Server(config).run()
        return
    _port_free(host, port)
    Workers(config, sockets=[]).run()


class Workers(Multiprocess):
    """uvicorn's supervisor, each worker listening on a socket of its own (``SO_REUSEPORT``),
    so that the kernel spreads new connections over the workers. On one shared socket the
    first worker awake accepts a whole burst of connections: 42 of the portal benchmark's 50
    keep-alive clients went to one worker, and the p95 latency nearly doubled. uvicorn hands
    ``self.sockets`` to each worker it starts (at start, on a restart, when one dies): here
    each read binds a new socket."""

    @property
    def sockets(self) -> list[socket.socket]:
        return [_listening(self.config.host, self.config.port)]

    @sockets.setter
    def sockets(self, _value: list[socket.socket]) -> None:
        pass


def _log_config() -> dict[str, Any]:
    """uvicorn's logging, its access lines without a link's token."""
    from uvicorn.config import LOGGING_CONFIG

    config = {**LOGGING_CONFIG}
    config["filters"] = {"redact": {"()": "planflow.portal.app.RedactTokens"}}
    config["handlers"] = {
        name: {**handler, "filters": ["redact"]}
        for name, handler in LOGGING_CONFIG["handlers"].items()
    }
    return config


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _listening(host: str, port: int) -> socket.socket:
    sock = socket.socket(_family(host))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _port_free(host: str, port: int) -> None:
    """Fail at once, in one line, when something already listens on the port: the workers'
    shared sockets would otherwise share it with another portal, silently."""
    with socket.socket(_family(host)) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PlanflowError(f"không mở được cổng {host}:{port}: {exc.strerror}") from None
