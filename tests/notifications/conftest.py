"""Fixtures for the notification tests: a small Hà Đông hierarchy, a real SMTP server on
loopback, the fake Zalo server, and fixed instants inside and outside the send window."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session

from planflow.models import (
    Assignment,
    Level,
    OrgUnit,
    Plan,
    ReportKind,
    ReportRequest,
    State,
    UnitKind,
)
from planflow.models.time import local_tz
from tests import factories as f
from tests.notifications.zalo_server import ZaloServer, ZaloState

SECRET = "s3cr3t-Pa55w0rd-never-shown"
DEADLINE = date(2025, 5, 30)  # a Friday with no holiday near it


def local(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    """A local Hà Nội wall-clock time as aware UTC."""
    return datetime(y, m, d, hh, mm, tzinfo=local_tz()).astimezone(UTC)


@dataclass
class World:
    """The units and plan a test works with."""

    district: OrgUnit
    standing: OrgUnit
    ward: OrgUnit
    women: OrgUnit
    plan: Plan
    requests: dict[str, ReportRequest] = field(default_factory=dict)


def build_world(
    session: Session,
    *,
    status: State = State.issued,
    deadline: date = DEADLINE,
    ward_contacts: dict | None = None,
    women_contacts: dict | None = None,
) -> World:
    """UBND quận Hà Đông, its Phòng LĐTBXH, one ward and the district Women's Union."""
    district = f.unit(
        session, "quận Hà Đông", level=Level.district, emails=["ubnd@hadong.example.vn"]
    )
    standing = f.unit(
        session,
        "Phòng Lao động - Thương binh và Xã hội quận Hà Đông",
        level=Level.district,
        kind=UnitKind.agency,
        parent=district,
        role_key="labour",
        emails=["ldtbxh@hadong.example.vn"],
        zalo_user_ids=["zalo-ldtbxh"],
    )
    ward = f.unit(
        session,
        "phường Văn Quán",
        level=Level.ward,
        parent=district,
        **(
            ward_contacts
            if ward_contacts is not None
            else {
                "emails": ["vanquan@hadong.example.vn"],
                "zalo_user_ids": ["zalo-vanquan"],
                "phones": ["0912 345 678"],
            }
        ),
    )
    women = f.unit(
        session,
        "Hội Liên hiệp Phụ nữ quận Hà Đông",
        level=Level.district,
        kind=UnitKind.mass_org,
        parent=district,
        subordinate=False,
        **(
            women_contacts
            if women_contacts is not None
            else {
                "emails": ["hoilhpn@hadong.example.vn"],
                "phones": ["+84 987 654 321"],
            }
        ),
    )
    plan = f.plan(
        session,
        district,
        year=2025,
        number="70/KH-UBND",
        issued_on=date(2025, 2, 17),
        standing_agency_id=standing.id,
        title="Thực hiện công tác bình đẳng giới và vì sự tiến bộ của phụ nữ năm 2025",
    )
    world = World(district, standing, ward, women, plan)
    for unit in (ward, women):
        world.requests[unit.name] = f.request(
            session,
            plan,
            unit,
            kind=ReportKind.six_month,
            period="2025-H1",
            deadline=deadline,
            status=status,
            recipient_id=standing.id,
        )
    return world


@pytest.fixture
def world(session: Session) -> World:
    w = build_world(session)
    session.commit()
    return w


# --- SMTP ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """What the loopback SMTP server received."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK queued"

    @property
    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]

    def to(self, address: str) -> list[EmailMessage]:
        """The messages addressed to ``address``."""
        return [
            message_from_bytes(e.content, policy=policy.default)
            for e in self.envelopes
            if address in e.rcpt_tos
        ]


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=free_port(), server_hostname="smtp.test"
    )
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


# --- Zalo ------------------------------------------------------------------------------------


@pytest.fixture
def zalo() -> Iterator[ZaloServer]:
    state = ZaloState(
        secret_key="zalo-app-secret-XYZ",
        access_token="access-0-initial",
        refresh_token="refresh-0-initial",
    )
    with ZaloServer(state) as server:
        yield server


@pytest.fixture
def zalo_env(monkeypatch: pytest.MonkeyPatch, zalo: ZaloServer) -> ZaloServer:
    """Settings pointing every Zalo base URL at the fake server, with its initial tokens."""
    for name in ("OA", "ZNS", "OAUTH"):
        monkeypatch.setenv(f"PLANFLOW_ZALO_{name}_BASE_URL", zalo.url)
    monkeypatch.setenv("PLANFLOW_ZALO_APP_ID", "1234567890")
    monkeypatch.setenv("PLANFLOW_ZALO_SECRET_KEY", zalo.state.secret_key)
    monkeypatch.setenv("PLANFLOW_ZALO_ACCESS_TOKEN", "access-0-initial")
    monkeypatch.setenv("PLANFLOW_ZALO_REFRESH_TOKEN", "refresh-0-initial")
    monkeypatch.setenv("PLANFLOW_ZALO_ZNS_TEMPLATE_ID", "301234")
    monkeypatch.setenv("PLANFLOW_ZALO_TIMEOUT", "0.5")
    from planflow.config.settings import get_settings

    get_settings.cache_clear()
    return zalo


def assign(session: Session, plan: Plan, unit: OrgUnit, duties: str, **fields) -> Assignment:
    """An assignment with its duties (tests.factories fixes them to a placeholder)."""
    row = Assignment(plan_id=plan.id, unit_id=unit.id, duties=duties, **fields)
    session.add(row)
    session.flush()
    return row


class FakeChannel:
    """Records what it sends; ``fail`` maps an address to the exception it raises on send."""

    def __init__(self, name: str = "email", *, delay: float = 0.0):
        import threading

        self.name = name
        self.delay = delay
        self.sent: list = []
        self.fail: dict[str, BaseException] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()

    def send(self, message) -> str:
        import time

        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                time.sleep(self.delay)
            if message.address in self.fail:
                raise self.fail[message.address]
            with self._lock:
                self.sent.append(message)
            return f"fake-{message.id}"
        finally:
            with self._lock:
                self.in_flight -= 1


def drafts(n: int, unit_id: int, *, channel: str = "email", prefix: str = "test") -> list:
    """``n`` plain drafts for one unit, addressed a0@…, a1@…"""
    from planflow.models.outbox import MessageKind
    from planflow.notifications.outbox import Draft

    return [
        Draft(
            key=f"{prefix}:{i}:{channel}",
            kind=MessageKind.reminder,
            unit_id=unit_id,
            channel=channel,
            address=f"a{i}@hadong.example.vn",
            subject=f"Nhắc hạn số {i}",
            body_text=f"Nội dung {i}",
            body_html=f"<p>Nội dung {i}</p>",
        )
        for i in range(n)
    ]
