"""The whole round in a real headless Chromium (Debian's package, driven by Playwright; nothing
downloads a browser): a ward gets a real e-mail, opens its link, acknowledges, submits with a
mistake, corrects it; the district's standing agency returns it with a reason; the ward gets
the return message and can edit again. Screenshots go to docs/."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.engine import Engine
from sqlmodel import Session

from planflow.config.settings import get_settings
from planflow.models import Assignment, Level, PlanDeadline, ReportKind, UnitKind
from planflow.notifications import build_channels, dispatch_due, next_send_moment
from planflow.services.catalogue import load_indicators
from planflow.services.plans import issue_plan
from tests import factories as f
from tests.notifications.conftest import Inbox, free_port

DOCS = Path(__file__).resolve().parents[2] / "docs"
CHROMIUM = next(
    (
        p
        for p in ("/usr/lib/chromium/chromium", shutil.which("chromium") or "")
        if p and os.access(p, os.X_OK)
    ),
    None,
)


def _require_browser() -> None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("CI: the playwright package is missing (pip install -e '.[test]')")
        pytest.skip("playwright (the Python package) is not installed")
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("CI: Debian's chromium is missing (apt-get install -y chromium)")
        pytest.skip("no chromium: apt-get install chromium (never a downloaded browser)")


def link_in(message) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    (url,) = set(re.findall(r"http://127\.0\.0\.1:\d+/l/[A-Za-z0-9_-]+(?:\?next=[^\s)]+)?", text))
    return url


@pytest.fixture
def portal_server(engine: Engine, monkeypatch) -> Iterator[str]:
    import uvicorn

    from planflow.portal import create_app

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("PLANFLOW_PUBLIC_URL", base)
    get_settings.cache_clear()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(engine), host="127.0.0.1", port=port, log_level="warning", access_log=False
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the portal did not start"
        time.sleep(0.05)
    yield base
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def mail(monkeypatch) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=free_port(), server_hostname="smtp.test"
    )
    controller.start()
    monkeypatch.setenv("PLANFLOW_CHANNELS", "email")
    monkeypatch.setenv("PLANFLOW_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PLANFLOW_SMTP_PORT", str(controller.port))
    get_settings.cache_clear()
    try:
        yield inbox
    finally:
        controller.stop()


def _send(engine: Engine) -> None:
    from planflow.models.time import utcnow

    result = dispatch_due(
        engine=engine,
        channels=build_channels(get_settings(), engine=engine),
        now=next_send_moment(utcnow()),  # the window is 07:00-20:00 in Hà Nội, whatever the hour
    )
    assert result.dead == 0


def test_a_ward_and_its_standing_agency_in_a_real_browser(engine, portal_server, mail, tmp_path):
    _require_browser()
    from playwright.sync_api import sync_playwright

    # a district plan assigning the ward its six-month report, issued: the ward is told by e-mail
    with Session(engine, expire_on_commit=False) as s:
        load_indicators(session=s)
        district = f.unit(s, "quận Hà Đông", level=Level.district, code="D268")
        agency = f.unit(
            s,
            "Phòng Lao động - Thương binh và Xã hội quận Hà Đông",
            level=Level.district,
            kind=UnitKind.agency,
            parent=district,
            role_key="labour",
            code="D268-LD",
            emails=["ldtbxh@hadong.example.vn"],
        )
        ward = f.unit(
            s,
            "phường Văn Quán",
            level=Level.ward,
            parent=district,
            code="W9541",
            emails=["vanquan@hadong.example.vn"],
        )
        plan = f.plan(
            s,
            district,
            number="70/KH-UBND",
            issued_on=date.today(),
            signer_name="Nguyễn Văn A",
            standing_agency_id=agency.id,
            title="Thực hiện công tác bình đẳng giới năm 2025",
        )
        s.add(Assignment(plan_id=plan.id, unit_id=ward.id, duties="Tổ chức truyền thông."))
        s.add(
            PlanDeadline(
                plan_id=plan.id,
                kind=ReportKind.six_month,
                period="2025-H1",
                due_on=date(2099, 5, 20),
                recipient_id=agency.id,
            )
        )
        s.flush()
        issue_plan(session=s, plan_id=plan.id, actor="Phòng LĐTBXH quận Hà Đông")
        s.commit()
    _send(engine)
    (letter,) = mail.to("vanquan@hadong.example.vn")
    ward_link = link_in(letter)
    assert ward_link.startswith(portal_server)

    # the district's standing agency gets its link from the CLI
    env = {**os.environ, "PLANFLOW_DATABASE_URL": str(engine.url.render_as_string(False))}
    out = subprocess.run(
        [sys.executable, "-m", "planflow", "portal", "link", "D268-LD"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    agency_link = out.stdout.strip().splitlines()[-1]
    assert agency_link.startswith(f"{portal_server}/l/")

    DOCS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        try:
            phone = browser.new_context(
                viewport={"width": 360, "height": 760}, java_script_enabled=False, locale="vi-VN"
            )
            ward_page = phone.new_page()
            ward_page.goto(ward_link)
            assert "/l/" not in ward_page.url  # the token left the address bar
            ward_page.click("text=Báo cáo kết quả thực hiện 6 tháng đầu năm 2025")
            ward_page.click("#acknowledge")
            ward_page.wait_for_selector("text=Đã ghi nhận đơn vị tiếp nhận yêu cầu.")
            ward_page.fill("#f\\.HD-LD\\.female", "4")
            ward_page.fill("#f\\.HD-LD\\.male", "5")
            ward_page.fill("#f\\.HD-LD\\.total", "10")  # the mistake
            ward_page.fill("#f\\.HD-TT-SK\\.total", "3")
            ward_page.fill("#n\\.results", "Tổ chức 3 buổi truyền thông về bình đẳng giới.")
            ward_page.click("#submit")
            error = ward_page.text_content("#f\\.HD-LD\\.total\\.err") or ""
            assert "Nữ 4 + Nam 5 = 9, không bằng Tổng 10" in error
            ward_page.locator("#i-HD-LD").scroll_into_view_if_needed()
            ward_page.screenshot(path=str(DOCS / "portal-ward-error.png"))
            ward_page.fill("#f\\.HD-LD\\.total", "")  # left blank: computed
            ward_page.click("#submit")
            ward_page.wait_for_selector("text=Đã gửi báo cáo. Cảm ơn đơn vị.")
            assert "Tổng: 9" in (ward_page.text_content("table.figures") or "").replace(
                "\n", " "
            ).replace("  ", " ")

            desk = browser.new_context(
                viewport={"width": 1100, "height": 800}, java_script_enabled=False, locale="vi-VN"
            )
            agency_page = desk.new_page()
            agency_page.goto(agency_link)
            agency_page.click("text=Theo dõi đơn vị cấp dưới")
            row = agency_page.locator("tr", has_text="UBND phường Văn Quán")
            assert "Đã gửi" in (row.text_content() or "")
            agency_page.screenshot(path=str(DOCS / "portal-agency.png"), full_page=True)
            row.locator("a").click()
            agency_page.click("#return")  # no reason: refused beside the field
            agency_page.wait_for_selector("text=Cần nêu lý do trả lại.")
            agency_page.fill("#reason", "Đề nghị bổ sung số lượt người tham dự truyền thông.")
            agency_page.click("#return")
            agency_page.wait_for_selector("text=Đã trả lại báo cáo")

            _send(engine)
            returned = [
                m
                for m in mail.to("vanquan@hadong.example.vn")
                if "trả lại" in (m["Subject"] or "").lower()
                or "bổ sung số lượt" in m.get_body(("plain",)).get_content()
            ]
            assert len(returned) == 1
            assert "bổ sung số lượt người tham dự" in returned[0].get_body(("plain",)).get_content()
            ward_page.goto(link_in(returned[0]))
            ward_page.wait_for_selector("text=Lý do: ")
            assert "Đề nghị bổ sung số lượt người tham dự truyền thông." in ward_page.content()
            assert ward_page.input_value("#f\\.HD-LD\\.female") == "4"  # editable again
            ward_page.goto(portal_server + "/")
            ward_page.screenshot(path=str(DOCS / "portal-ward-home.png"), full_page=True)
        finally:
            browser.close()
