"""`planflow demo` as a user runs it, twice on one database, delivering real e-mail.

The SMTP server (aiosmtpd) and the demo run in their own processes on loopback; the demo starts
its own local Prefect server, as it does for a user. The run itself is the session fixture
``demo_run`` (tests/conftest.py), shared with the portal's link-following test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import DemoRun


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
