"""Benchmark the outbox dispatcher: messages/second to a loopback SMTP server and a loopback
fake Zalo API, with the dispatcher's default concurrency. Not a test; nothing asserts a time.

    .venv/bin/python scripts/bench_dispatch.py [-n 2000] [--database-url URL] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from aiosmtpd.controller import Controller
from pydantic import SecretStr
from sqlalchemy import create_engine, text
from sqlmodel import Session, SQLModel

import planflow.models  # noqa: F401  (registers the tables)
from planflow.config.db import _sqlite_pragmas
from planflow.models import Level, OrgUnit, UnitKind
from planflow.models.outbox import MessageKind
from planflow.models.time import LOCAL_TZ
from planflow.notifications import dispatch_due, enqueue
from planflow.notifications.channels import (
    SmtpChannel,
    SmtpSettings,
    ZaloOAChannel,
    ZaloSettings,
    ZaloTokens,
)
from planflow.notifications.outbox import Draft

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the fake Zalo server lives with the tests
from tests.notifications.zalo_server import ZaloServer, ZaloState  # noqa: E402

NOW = datetime(2025, 5, 27, 10, tzinfo=LOCAL_TZ).astimezone(UTC)
SUBJECT = "Nhắc hạn: Báo cáo kết quả thực hiện 6 tháng đầu năm 2025 (hạn 30/05/2025)"
BODY = "Kính gửi: UBND phường Văn Quán\n\n" + "Nội dung nhắc hạn gửi báo cáo. " * 20


class Sink:
    count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def _engine(url: str | None, folder: Path):
    """A fresh database: a temporary SQLite file, or a throw-away schema in PostgreSQL."""
    if url:
        schema = f"bench_{time.time_ns()}"
        admin = create_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in url else "?"
        engine = create_engine(f"{url}{sep}options=-csearch_path%3D{schema}")

        def drop() -> None:
            engine.dispose()
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

    else:
        from sqlalchemy import event

        engine = create_engine(
            f"sqlite:///{folder / 'bench.db'}",
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        drop = engine.dispose
    SQLModel.metadata.create_all(engine)
    return engine, drop


def _fill(engine, n: int, channel: str, address: str) -> None:
    with Session(engine) as s:
        unit = OrgUnit(
            tiers=9,
            code=f"BENCH-{channel}-{time.time_ns()}",
            name="phường Văn Quán",
            level=Level.ward,
            kind=UnitKind.committee,
        )
        s.add(unit)
        s.flush()
        enqueue(
            s,
            [
                Draft(
                    key=f"bench:{unit.code}:{i}",
                    kind=MessageKind.reminder,
                    unit_id=unit.id,
                    channel=channel,
                    address=address,
                    subject=SUBJECT,
                    body_text=BODY,
                    body_html=f"<p>{BODY}</p>" if channel == "email" else None,
                )
                for i in range(n)
            ],
            now=NOW,
        )
        s.commit()


def _run(engine, channels, concurrency: int) -> tuple[int, float]:
    started = time.perf_counter()
    result = dispatch_due(engine=engine, channels=channels, now=NOW, concurrency=concurrency)
    elapsed = time.perf_counter() - started
    if result.sent != result.claimed:
        raise SystemExit(f"not everything was sent: {result}")
    return result.sent, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="messages per channel")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        engine, cleanup = _engine(args.database_url, Path(tmp))
        print(
            f"database: {engine.dialect.name}; {args.n} messages per channel; "
            f"concurrency {args.concurrency}"
        )

        sink = Sink()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            _fill(engine, args.n, "email", "vanquan@hadong.example.vn")
            smtp = SmtpChannel(
                SmtpSettings(host="127.0.0.1", port=port, sender="planflow@hadong.example.vn")
            )
            sent, elapsed = _run(engine, {"email": smtp}, args.concurrency)
        finally:
            controller.stop()
        print(
            f"smtp (one connection per message): {sent} in {elapsed:.2f} s = "
            f"{sent / elapsed:.0f} messages/s (server received {sink.count})"
        )

        state = ZaloState(secret_key="bench-secret", access_token="a0", refresh_token="r0")
        with ZaloServer(state) as server, httpx.Client() as client:
            _fill(engine, args.n, "zalo", "zalo-vanquan")
            config = ZaloSettings(
                oa_base_url=server.url,
                zns_base_url=server.url,
                oauth_base_url=server.url,
                app_id=f"bench-{time.time_ns()}",
                secret_key=SecretStr("bench-secret"),
                access_token=SecretStr("a0"),
                refresh_token=SecretStr("r0"),
            )
            tokens = ZaloTokens(config, engine=engine, http=client)
            oa = ZaloOAChannel(tokens, base_url=server.url, http=client)
            sent, elapsed = _run(engine, {"zalo": oa}, args.concurrency)
        print(
            f"zalo OA (keep-alive HTTP): {sent} in {elapsed:.2f} s = "
            f"{sent / elapsed:.0f} messages/s (server received {len(state.sends)})"
        )
        cleanup()


if __name__ == "__main__":
    main()
