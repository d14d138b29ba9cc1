"""`planflow demo` as a user runs it, twice on one database, delivering real e-mail.

The SMTP server (aiosmtpd) and the demo run in their own processes on loopback; the demo starts
its own local Prefect server, as it does for a user.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import BACKENDS
from tests.notifications.conftest import free_port

SMTP_SERVER = """
import sys, time
from aiosmtpd.controller import Controller
class Count:
    async def handle_DATA(self, server, session, envelope):
        with open(sys.argv[2], "a", encoding="utf-8") as out:
            out.write(",".join(envelope.rcpt_tos) + "\\n")
        return "250 OK"
c = Controller(Count(), hostname="127.0.0.1", port=int(sys.argv[1]), server_hostname="smtp.test")
c.start()
time.sleep(3600)
"""


def _demo(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "planflow", "demo"],
        env=env, capture_output=True, text=True, timeout=600,
    )


def _wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"the SMTP server did not listen on {port}") from None
            time.sleep(0.05)


# once per run, on the last configured backend (PostgreSQL in CI): the demo takes minutes
@pytest.mark.timeout(1500)
@pytest.mark.parametrize("engine", BACKENDS[-1:], indirect=True)
def test_demo_twice_delivers_real_mail_once(engine, tmp_path: Path) -> None:
    port = free_port()
    received = tmp_path / "received.txt"
    received.touch()
    smtp = subprocess.Popen([sys.executable, "-c", SMTP_SERVER, str(port), str(received)])
    try:
        _wait_for_port(port)
        env = {
            **os.environ,
            "PLANFLOW_CHANNELS": "email",
            "PLANFLOW_SMTP_HOST": "127.0.0.1",
            "PLANFLOW_SMTP_PORT": str(port),
            "PREFECT_HOME": str(tmp_path / "prefect"),
            "COLUMNS": "140",
        }
        first = _demo(env)
        assert first.returncode == 0, first.stderr[-2000:]
        delivered = received.read_text().splitlines()
        second = _demo(env)
        assert second.returncode == 0, second.stderr[-2000:]
    finally:
        smtp.kill()
    assert len(delivered) > 1000
    assert all(line.endswith("@demo.planflow.test") for line in delivered)
    assert len(received.read_text().splitlines()) == len(delivered)  # nothing sent twice
    assert "xong     nhập hanoi-2025-KH-UBND-draft.txt" in first.stdout
    assert "Chạy ở chế độ cục bộ" in first.stdout
    report = next(line for line in first.stdout.splitlines() if "báo cáo tổng hợp" in line)
    folder = Path(report.split("đã ghi vào ", 1)[1].strip()).parent
    assert folder.parent.parent.name == "demo"  # output files per database: demo/<db>-<hash>
    assert re.fullmatch(r"[a-z0-9-]+-[0-9a-f]{6}", folder.parent.name)
    assert "Số liệu mô phỏng" in next(folder.glob("*.md")).read_text(encoding="utf-8")
    for line in ("dùng lại kế hoạch", "dùng lại cây đơn vị Hà Nội ba cấp", "đã gửi 0"):
        assert line in second.stdout
    assert "Traceback" not in first.stderr + second.stderr
