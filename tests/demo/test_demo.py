"""`planflow demo` as a user runs it, twice on one database, delivering real e-mail.

The SMTP server (aiosmtpd) and the demo run in their own processes on loopback; the demo starts
its own local Prefect server, as it does for a user. The run itself is the session fixture
``demo_run`` (tests/conftest.py): both tests here read the same run, so they stay in this file
(``make test`` gives a file's tests to one worker, and the demo runs once).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session

from planflow.models import OutboxMessage
from tests.conftest import DemoRun
from tests.portal.test_message_links import follow, serving


# the demo takes minutes: once per run, on the last configured backend (PostgreSQL in CI)
@pytest.mark.timeout(1800)
@pytest.mark.demo
def test_demo_twice_delivers_real_mail_once(demo_run: DemoRun) -> None:
    first, second = demo_run.first, demo_run.second
    assert len(demo_run.delivered_by_first) > 1000
    assert all(line.endswith("@demo.planflow.test") for line in demo_run.delivered_by_first)
    assert demo_run.delivered == demo_run.delivered_by_first  # nothing sent twice
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


# every link of every message the demo queued opens a page of a running portal (200)
@pytest.mark.timeout(1800)
@pytest.mark.demo
def test_every_link_of_every_demo_message_opens_a_page(demo_run: DemoRun, monkeypatch):
    engine, base, port = demo_run.engine, demo_run.public_url, demo_run.port
    with Session(engine) as session:
        messages = list(session.execute(select(OutboxMessage)).scalars())
    kinds = Counter(m.kind for m in messages)
    # every kind the demo writes (its reminders arrive inside the daily digests)
    assert {"plan_issued", "overdue", "escalation", "digest", "returned"} <= set(kinds), kinds

    with serving(engine, port, monkeypatch):
        assert follow(messages, base) >= len(messages)
