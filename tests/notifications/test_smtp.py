"""E-mail to a real SMTP server on loopback, parsed back with the ``email`` package."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import ssl
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlmodel import Session, select

from planflow.config.settings import get_settings
from planflow.models import OutboxMessage, OutboxStatus
from planflow.notifications import build_channels, dispatch_due, outbox_counts, plan_reminders
from tests.notifications.conftest import SECRET, Inbox, free_port, local

NOW = local(2025, 5, 27, 10)  # three working days before the 30/05/2025 deadline


@pytest.fixture
def smtp_env(monkeypatch, smtp_server):
    controller, inbox = smtp_server
    monkeypatch.setenv("PLANFLOW_CHANNELS", "email")
    monkeypatch.setenv("PLANFLOW_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PLANFLOW_SMTP_PORT", str(controller.port))
    monkeypatch.setenv(
        "PLANFLOW_SMTP_SENDER", "Phòng LĐTBXH quận Hà Đông <planflow@hadong.example.vn>"
    )
    get_settings.cache_clear()
    return inbox


def _remind_and_dispatch(engine, now=NOW):
    with Session(engine) as s:
        reminders = plan_reminders(session=s, now=now)
        s.commit()
    channels = build_channels(get_settings(), engine=engine)
    return reminders, dispatch_due(engine=engine, channels=channels, now=now)


def test_reminders_arrive_over_smtp_and_decode_exactly(engine, world, smtp_env):
    inbox = smtp_env
    reminders, result = _remind_and_dispatch(engine)
    assert reminders.messages == 2 and result.sent == 2
    with Session(engine) as s:
        rows = {r.address: r for r in s.exec(select(OutboxMessage))}
    assert {e.rcpt_tos[0] for e in inbox.envelopes} == set(rows)
    for mail in inbox.messages:
        row = rows[mail["To"]]
        assert mail["Subject"] == row.subject  # RFC 2047 round trip of the Vietnamese subject
        assert row.subject.startswith("Nhắc hạn: Báo cáo kết quả thực hiện 6 tháng đầu năm 2025")
        assert mail["Message-ID"] == row.provider_id
        assert mail["X-Planflow-Key"] == row.key
        assert mail["From"].addresses[0].display_name == "Phòng LĐTBXH quận Hà Đông"
        assert mail.get_content_type() == "multipart/alternative"
        text = mail.get_body(preferencelist=("plain",)).get_content()
        html = mail.get_body(preferencelist=("html",)).get_content()
        assert text.strip().splitlines() == row.body_text.strip().splitlines()
        assert (
            "Kính gửi:</strong> "
            + (
                "UBND phường Văn Quán"
                if "vanquan" in row.address
                else "Hội Liên hiệp Phụ nữ quận Hà Đông"
            )
            in html
        )
    raw_subjects = [e.original_content.split(b"\r\n\r\n")[0] for e in inbox.envelopes]
    assert all(b"=?utf-8?" in h.lower() for h in raw_subjects)  # encoded, not raw 8-bit

    # the same day again, and the next day (still the d3 stage): nothing new is sent
    for now in (NOW + dt.timedelta(hours=2), NOW + dt.timedelta(days=1)):
        again, resent = _remind_and_dispatch(engine, now)
        assert again.messages == 0 and resent.sent == 0
    assert len(inbox.envelopes) == 2
    with Session(engine) as s:
        assert outbox_counts(s) == {"reminder/sent": 2}


def test_refused_recipient_is_dead_and_others_are_sent(engine, world, monkeypatch):
    class Picky(Inbox):
        async def handle_RCPT(self, server, session, envelope, address, options):
            if address.startswith("hoilhpn@"):
                return "550 5.1.1 mailbox unavailable"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    inbox = Picky()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=free_port(), server_hostname="smtp.test"
    )
    controller.start()
    try:
        monkeypatch.setenv("PLANFLOW_CHANNELS", "email")
        monkeypatch.setenv("PLANFLOW_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("PLANFLOW_SMTP_PORT", str(controller.port))
        get_settings.cache_clear()
        _, result = _remind_and_dispatch(engine)
    finally:
        controller.stop()
    assert (result.sent, result.dead) == (1, 1)
    with Session(engine) as s:
        dead = s.exec(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.dead)).one()
    assert (
        dead.address == "hoilhpn@hadong.example.vn"
        and dead.last_error == "recipient refused (SMTP 550)"
    )


def test_unreachable_server_is_a_transient_failure(engine, world, monkeypatch):
    monkeypatch.setenv("PLANFLOW_CHANNELS", "email")
    monkeypatch.setenv("PLANFLOW_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PLANFLOW_SMTP_PORT", str(free_port()))  # nobody listens
    get_settings.cache_clear()
    _, result = _remind_and_dispatch(engine)
    assert (result.sent, result.retried) == (0, 2)
    with Session(engine) as s:
        errors = {r.last_error for r in s.exec(select(OutboxMessage))}
    assert errors == {"SMTP unreachable: ConnectionRefusedError"}


# --- TLS and login, with a certificate made for the test ---------------------------------


def _self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.mark.parametrize("password", [SECRET, "wrong-password"])
def test_starttls_with_login(engine, world, monkeypatch, tmp_path, caplog, password):
    cert, key = _self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bool]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == SECRET.encode()
        logins.append((auth_data.login, ok))
        return AuthResult(success=ok, handled=False)  # let aiosmtpd answer 535

    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        server_hostname="smtp.test",
        tls_context=server_tls,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=True,
    )
    controller.start()
    try:
        for name, value in {
            "CHANNELS": "email",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(controller.port),
            "SMTP_SECURITY": "starttls",
            "SMTP_USERNAME": "planflow",
            "SMTP_PASSWORD": password,
        }.items():
            monkeypatch.setenv(f"PLANFLOW_{name}", value)
        get_settings.cache_clear()
        caplog.set_level(logging.DEBUG)
        with Session(engine) as s:
            plan_reminders(session=s, now=NOW)
            s.commit()
        client_tls = ssl.create_default_context(cafile=str(cert))
        channels = build_channels(get_settings(), engine=engine, ssl_context=client_tls)
        result = dispatch_due(engine=engine, channels=channels, now=NOW)
    finally:
        controller.stop()
    assert logins and all(login == b"planflow" for login, _ in logins)
    with Session(engine) as s:
        rows = list(s.exec(select(OutboxMessage)))
    if password == SECRET:
        assert result.sent == 2 and len(inbox.envelopes) == 2
        assert all(ok for _, ok in logins)
    else:
        assert result.retried == 2 and not inbox.envelopes
        assert {r.last_error for r in rows} == {"SMTP login refused (SMTP 535)"}
    shown = caplog.text + repr(channels) + "".join(r.last_error or "" for r in rows)
    assert SECRET not in shown and "wrong-password" not in shown


def test_file_channel_writes_one_eml_per_message(engine, world):
    with Session(engine) as s:
        reminders = plan_reminders(session=s, now=NOW)  # PLANFLOW_CHANNELS defaults to file
        s.commit()
    settings = get_settings()
    result = dispatch_due(engine=engine, channels=build_channels(settings), now=NOW)
    files = sorted(settings.resolved_outbox_dir.glob("*.eml"))
    assert reminders.messages == result.sent == len(files) == 2
    with Session(engine) as s:
        rows = {r.provider_id: r for r in s.exec(select(OutboxMessage))}
    for path in files:
        mail = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert mail["Subject"] == rows[path.name].subject
        assert path.name.startswith("reminder_r")
