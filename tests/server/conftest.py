"""A real ``prefect server start`` (services on) in its own PREFECT_HOME on a free loopback port.

Everything here talks to the server over HTTP, as an operator's browser or worker does; nothing
in the test process imports Prefect's client, so its settings cannot leak between tests.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, check: Callable[[], Any], timeout: float, every: float = 0.5) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


@dataclass
class PrefectServer:
    """A running server and the environment a client or worker of it needs."""

    url: str  # http://127.0.0.1:PORT/api
    env: dict[str, str]
    log: Path
    home: Path
    children: list[subprocess.Popen] = field(default_factory=list)

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call; a 503 (the server's database timed out on busy, shared cores: nothing
        was written) is asked again a few times."""
        for attempt in range(5):
            response = httpx.request(method, self.url + path, timeout=60, **kwargs)
            if response.status_code != 503 or attempt == 4:
                break
            time.sleep(2)
        response.raise_for_status()
        return response.json() if response.content else None

    def start(self, args: list[str], log: Path, env: dict[str, str] | None = None,
              **kwargs: Any) -> subprocess.Popen:
        """Start a process against this server (serve, worker); stopped with the server."""
        out = log.open("ab")
        proc = subprocess.Popen(
            args, env=env or self.env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, **kwargs,
        )
        self.children.append(proc)
        return proc

    def deployment(self, flow_name: str) -> dict | None:
        found = self.api("POST", "/deployments/filter",
                         json={"flows": {"name": {"any_": [flow_name]}}})
        return found[0] if found else None

    def flow_run(self, run_id: str) -> dict:
        return self.api("GET", f"/flow_runs/{run_id}")

    def state_of(self, run_id: str) -> str | None:
        """A run's state type, or None when the busy server did not answer in time."""
        try:
            return self.flow_run(run_id)["state"]["type"]
        except httpx.TimeoutException:
            return None

    def wait_final(self, run_id: str, timeout: float) -> dict:
        def final() -> dict | None:
            try:
                run = self.flow_run(run_id)
            except httpx.TimeoutException:  # a busy server (2 shared cores): ask again
                return None
            return run if run["state"]["type"] in FINAL else None

        return wait_for(f"flow run {run_id} to finish", final, timeout)


FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def stop(proc: subprocess.Popen) -> None:
    """Stop a process group we started: SIGTERM, then SIGKILL after 10 s."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextmanager
def running_server(tmp: Path, database_url: str | None = None) -> Iterator[PrefectServer]:
    """``prefect server start`` with its services on, in ``tmp``; stopped with what it started.
    ``database_url``: the server's own database (default SQLite in its PREFECT_HOME; SQLite
    locks up under several busy workers on a loaded machine, PostgreSQL does not)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    home = tmp / "prefect-home"
    home.mkdir(parents=True)
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": url,
        "PREFECT_UI_API_URL": url,
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    if database_url:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
    log = tmp / "prefect-server.log"
    server = PrefectServer(url=url, env=env, log=log, home=home)
    proc = server.start(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        log=log,
    )

    def healthy() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"prefect server exited: {log.read_text()[-3000:]}")
        try:
            return httpx.get(url + "/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for("the Prefect server's /api/health", healthy, timeout=120)
        yield server
    finally:
        for child in reversed(server.children):
            stop(child)


@pytest.fixture
def prefect_server(tmp_path: Path) -> Iterator[PrefectServer]:
    """A real server for one test; planflow's database is the test's own."""
    with running_server(tmp_path) as server:
        yield server
