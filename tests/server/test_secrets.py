"""The SMTP password from a Prefect Secret block on a real server: the mail goes out with it,
and the planted secret appears nowhere — not in the server's log, the flow runs' logs, the
artifacts, the outbox table or what the CLI printed."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import text
from sqlmodel import Session

from tests.notifications.conftest import SECRET, Inbox, build_world, free_port, local
from tests.server.conftest import BIN, PrefectServer

pytestmark = pytest.mark.server

NOW = local(2025, 5, 27, 10)  # three working days before the 30/05/2025 deadline


def test_smtp_password_from_a_secret_block_is_used_and_never_shown(
    prefect_server: PrefectServer, engine, tmp_path
) -> None:
    with Session(engine) as s:
        build_world(s)  # the sweep queues its reminders, by e-mail
        s.commit()
    plant = ("import sys; from prefect.blocks.system import Secret; "
             "Secret(value=sys.argv[1]).save('smtp-password')")
    saved = subprocess.run(
        [sys.executable, "-c", plant, SECRET],
        env=prefect_server.env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert saved.returncode == 0, saved.stderr
    logins: list[bool] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == SECRET.encode()
        logins.append(ok)
        return AuthResult(success=ok, handled=False)

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(),
                            server_hostname="smtp.test", authenticator=authenticator,
                            auth_required=True, auth_require_tls=False)
    controller.start()
    try:
        env = {**prefect_server.env, "PLANFLOW_DATABASE_URL": os.environ["PLANFLOW_DATABASE_URL"],
               "PLANFLOW_CHANNELS": "email", "PLANFLOW_SMTP_HOST": "127.0.0.1",
               "PLANFLOW_SMTP_PORT": str(controller.port), "PLANFLOW_SMTP_USERNAME": "planflow",
               "PLANFLOW_SMTP_PASSWORD_BLOCK": "smtp-password"}
        env.pop("PLANFLOW_SMTP_PASSWORD", None)
        sent = subprocess.run([str(BIN / "planflow"), "sweep", "--now", NOW.isoformat(),
                               "--send"], env=env, capture_output=True, text=True,
                              timeout=300, check=False)
    finally:
        controller.stop()
    assert sent.returncode == 0, sent.stderr
    assert f"trên máy chủ Prefect {prefect_server.url}" in sent.stdout
    assert inbox.envelopes and logins and all(logins), sent.stdout  # the block password

    api = prefect_server.url
    logs = httpx.post(f"{api}/logs/filter", json={"limit": 200}, timeout=30).text
    artifacts = httpx.post(f"{api}/artifacts/filter", json={}, timeout=30).text
    assert "rà soát" in artifacts.lower() or "qua-han" in artifacts  # something was published
    with engine.connect() as conn:
        outbox = " ".join(str(row) for row in conn.execute(text("SELECT * FROM outbox_message")))
    shown = {
        "server log": prefect_server.log.read_text(errors="replace"),
        "flow run logs": logs,
        "artifacts": artifacts,
        "outbox": outbox,
        "cli": sent.stdout + sent.stderr,
    }
    assert [where for where, what in shown.items() if SECRET in what] == []
