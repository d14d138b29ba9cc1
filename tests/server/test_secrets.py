"""The SMTP password, the Zalo app secret and the Zalo tokens from Prefect Secret blocks on a
real server: the mail and the Zalo messages go out with them, and the planted secrets appear
nowhere — not in the server's log, the flow runs' logs, the artifacts, the outbox table or what
the CLI printed."""

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


ZALO_SECRET = "zalo-app-secret-from-a-block-7Qx"
ZALO_ACCESS = "zalo-access-token-from-a-block-9Kd"
ZALO_REFRESH = "zalo-refresh-token-from-a-block-3Vm"


def test_zalo_secret_and_tokens_from_secret_blocks_are_used_and_never_shown(
    prefect_server: PrefectServer, engine, tmp_path
) -> None:
    from tests.notifications.zalo_server import ZaloServer, ZaloState

    with Session(engine) as s:
        build_world(s)  # the sweep queues its reminders, by Zalo OA for the units that follow it
        s.commit()
    plant = ("import sys; from prefect.blocks.system import Secret\n"
             "for name, value in zip(sys.argv[1::2], sys.argv[2::2]):\n"
             "    Secret(value=value).save(name)")
    saved = subprocess.run(
        [sys.executable, "-c", plant, "zalo-secret", ZALO_SECRET, "zalo-access", ZALO_ACCESS,
         "zalo-refresh", ZALO_REFRESH],
        env=prefect_server.env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert saved.returncode == 0, saved.stderr
    # Zalo holds a newer access token than the block's: the first send is refused, planflow
    # refreshes with the block's app secret and refresh token, then sends with the new token
    state = ZaloState(secret_key=ZALO_SECRET, access_token="access-held-by-zalo",
                      refresh_token=ZALO_REFRESH)
    with ZaloServer(state) as zalo:
        env = {**prefect_server.env, "PLANFLOW_DATABASE_URL": os.environ["PLANFLOW_DATABASE_URL"],
               "PLANFLOW_CHANNELS": "zalo", "PLANFLOW_ZALO_APP_ID": "1234567890",
               "PLANFLOW_ZALO_SECRET_KEY_BLOCK": "zalo-secret",
               "PLANFLOW_ZALO_ACCESS_TOKEN_BLOCK": "zalo-access",
               "PLANFLOW_ZALO_REFRESH_TOKEN_BLOCK": "zalo-refresh",
               **{f"PLANFLOW_ZALO_{name}_BASE_URL": zalo.url for name in ("OA", "ZNS", "OAUTH")}}
        for name in ("SECRET_KEY", "ACCESS_TOKEN", "REFRESH_TOKEN"):
            env.pop(f"PLANFLOW_ZALO_{name}", None)
        sent = subprocess.run([str(BIN / "planflow"), "sweep", "--now", NOW.isoformat(),
                               "--send"], env=env, capture_output=True, text=True,
                              timeout=300, check=False)
    assert sent.returncode == 0, sent.stderr
    first = state.requests[0]
    assert first.headers["access_token"] == ZALO_ACCESS and first.answered == -216
    (refresh,) = state.refreshes
    assert refresh.headers["secret_key"] == ZALO_SECRET and refresh.answered == 0
    assert refresh.body["refresh_token"] == [ZALO_REFRESH]
    assert state.sends, sent.stdout  # delivered with the refreshed token

    api = prefect_server.url
    logs = httpx.post(f"{api}/logs/filter", json={"limit": 200}, timeout=30).text
    artifacts = httpx.post(f"{api}/artifacts/filter", json={}, timeout=30).text
    assert "qua-han" in artifacts  # the sweep published its artifacts
    with engine.connect() as conn:
        outbox = " ".join(str(row) for row in conn.execute(text("SELECT * FROM outbox_message")))
    shown = {
        "server log": prefect_server.log.read_text(errors="replace"),
        "flow run logs": logs,
        "artifacts": artifacts,
        "outbox": outbox,
        "cli": sent.stdout + sent.stderr,
    }
    found = [(where, secret[:12]) for where, what in shown.items()
             for secret in (ZALO_SECRET, ZALO_ACCESS, ZALO_REFRESH) if secret in what]
    assert found == []
