"""Zalo OA and ZNS against the loopback fake: success, token rotation, permanent and transient
failures, and secrets kept out of errors and logs."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from datetime import timedelta

import httpx
import pytest
from sqlmodel import Session, select

from planflow.config.settings import get_settings
from planflow.models import OutboxMessage, OutboxStatus, ZaloToken
from planflow.notifications import (
    ChannelConfigError,
    build_channels,
    dead_messages,
    dispatch_due,
    enqueue,
    plan_reminders,
)
from planflow.notifications.render import ZALO_TEXT_LIMIT
from tests.notifications.conftest import build_world, drafts, local

NOW = local(2025, 5, 27, 10)


def _channels(engine, monkeypatch, names: str = "zalo,zns"):
    monkeypatch.setenv("PLANFLOW_CHANNELS", names)
    get_settings.cache_clear()
    return build_channels(get_settings(), engine=engine, http_client=httpx.Client())


@pytest.fixture
def channels(engine, zalo_env, monkeypatch):
    return _channels(engine, monkeypatch)


def _remind(engine, now=NOW, channels_=("zalo", "zns")):
    with Session(engine) as s:
        result = plan_reminders(session=s, now=now, channels=list(channels_))
        s.commit()
    return result


def _rows(engine) -> list[OutboxMessage]:
    with Session(engine) as s:
        return list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def _token(engine) -> ZaloToken:
    with Session(engine) as s:
        return s.exec(select(ZaloToken)).one()


def test_oa_and_zns_messages_are_delivered(engine, world, channels, zalo_env):
    reminders = _remind(engine)
    # ward: one Zalo user id and one phone; Women's Union: one phone (no Zalo follower id)
    assert reminders.messages == 3
    result = dispatch_due(engine=engine, channels=channels, now=NOW)
    assert result.sent == 3 and result.sent_by_channel == {"zalo": 1, "zns": 2}
    oa = [r for r in zalo_env.state.sends if r.path == "/v3.0/oa/message/cs"]
    zns = [r for r in zalo_env.state.sends if r.path == "/message/template"]
    assert oa[0].body["recipient"] == {"user_id": "zalo-vanquan"}
    assert oa[0].body["message"]["text"].startswith("Kính gửi: UBND phường Văn Quán")
    assert oa[0].headers["access_token"] == "access-0-initial"
    assert {r.body["phone"] for r in zns} == {"84912345678", "84987654321"}
    assert all(r.body["template_id"] == "301234" for r in zns)
    assert all(
        set(r.body["template_data"]) == {"unit_name", "subject", "deadline", "link"} for r in zns
    )
    rows = {r.address: r for r in _rows(engine)}
    assert rows["zalo-vanquan"].provider_id.startswith("oa-")
    assert all(rows[p].provider_id.startswith("zns-") for p in ("84912345678", "84987654321"))
    assert {r.body["tracking_id"] for r in zns} == {
        hashlib.sha256(rows[p].key.encode()).hexdigest()[:32]
        for p in ("84912345678", "84987654321")
    }
    # a second run the same day sends nothing new
    assert _remind(engine).messages == 0
    assert dispatch_due(engine=engine, channels=channels, now=NOW).claimed == 0
    assert len(zalo_env.state.sends) == 3


def test_expired_token_is_refreshed_persisted_then_the_send_retried(
    engine, world, channels, zalo_env, monkeypatch
):
    _remind(engine, channels_=("zalo",))
    zalo_env.state.expire_access_token()
    result = dispatch_due(engine=engine, channels=channels, now=NOW)
    assert result.sent == 1
    state = zalo_env.state
    first, second = state.requests
    assert first.answered == -216 and second.answered == 0
    assert len(state.refreshes) == 1
    refresh = state.refreshes[0]
    assert refresh.headers["secret_key"] == "zalo-app-secret-XYZ"
    assert refresh.body == {
        "refresh_token": ["refresh-0-initial"],
        "app_id": ["1234567890"],
        "grant_type": ["refresh_token"],
    }
    token = _token(engine)  # the rotated pair is in the database
    assert (token.access_token, token.refresh_token) == (state.access_token, state.refresh_token)
    assert token.refresh_token != "refresh-0-initial" and token.rotations == 1
    assert token.expires_at is not None
    assert second.headers["access_token"] == token.access_token

    # the old refresh token is dead: the fake rejects it if anyone replays it
    replay = httpx.post(
        f"{zalo_env.url}/v4/oa/access_token",
        headers={"secret_key": state.secret_key},
        data={
            "refresh_token": "refresh-0-initial",
            "app_id": "1234567890",
            "grant_type": "refresh_token",
        },
    )
    assert replay.json()["error"] == -14014

    # a new process (fresh channels, same settings with the now-dead env token) uses the DB pair
    state.expire_access_token()
    with Session(engine) as s:
        enqueue(s, drafts(1, world.ward.id, channel="zalo", prefix="later"), now=NOW)
        s.commit()
    fresh = _channels(engine, monkeypatch, "zalo")
    assert dispatch_due(engine=engine, channels=fresh, now=NOW).sent == 1
    assert [r.answered for r in state.refreshes] == [0, -14014, 0]  # ours, the replay, ours
    assert _token(engine).rotations == 2


def test_concurrent_token_errors_refresh_only_once(engine, world, channels, zalo_env):
    with Session(engine) as s:
        enqueue(s, drafts(8, world.ward.id, channel="zalo"), now=NOW)
        s.commit()
    zalo_env.state.expire_access_token()
    result = dispatch_due(engine=engine, channels=channels, now=NOW, concurrency=4)
    assert result.sent == 8
    assert len(zalo_env.state.refreshes) == 1  # the single-use refresh token is spent once


def test_invalid_phone_is_dead_and_not_retried(engine, world, channels, zalo_env):
    zalo_env.state.invalid_phones.add("84987654321")
    _remind(engine, channels_=("zns",))
    result = dispatch_due(engine=engine, channels=channels, now=NOW)
    assert (result.sent, result.dead, result.retried) == (1, 1, 0)
    with Session(engine) as s:
        (dead,) = dead_messages(s)
    assert dead.address == "84987654321" and dead.attempts == 1
    assert dead.last_error == "Zalo error -108: phone number invalid"
    later = dispatch_due(engine=engine, channels=channels, now=NOW + timedelta(days=1))
    assert later.claimed == 0
    assert len([r for r in zalo_env.state.requests if r.body.get("phone") == "84987654321"]) == 1


def test_user_not_following_the_oa_is_permanent(engine, world, channels, zalo_env):
    zalo_env.state.non_followers.add("zalo-vanquan")
    _remind(engine, channels_=("zalo",))
    result = dispatch_due(engine=engine, channels=channels, now=NOW)
    assert result.dead == 1
    assert (
        _rows(engine)[0].last_error == "Zalo error -213: user does not follow the Official Account"
    )


def test_garbage_phone_fails_permanently_without_calling_zalo(engine, channels, zalo_env, session):
    world = build_world(session, ward_contacts={"phones": ["gọi văn phòng"]}, women_contacts={})
    session.commit()
    _remind(engine, channels_=("zns",))
    result = dispatch_due(engine=engine, channels=channels, now=NOW)
    assert result.dead == 1
    (row,) = _rows(engine)
    assert row.unit_id == world.ward.id and row.last_error == "not a Vietnamese phone number"
    assert zalo_env.state.requests == []


@pytest.mark.parametrize("failure", ["http500", "slow"])
def test_5xx_and_timeouts_are_retried_with_backoff_then_dead(
    engine, world, channels, zalo_env, failure
):
    _remind(engine, channels_=("zalo",))
    action = ("slow", 1.0) if failure == "slow" else "http500"  # client timeout is 0.5 s
    zalo_env.state.script.extend([action] * 3)
    now, seen = NOW, []
    for attempt in range(1, 4):
        result = dispatch_due(
            engine=engine,
            channels=channels,
            now=now,
            max_attempts=3,
            backoff_base=timedelta(minutes=2),
        )
        (row,) = _rows(engine)
        seen.append(row.last_error)
        if attempt < 3:
            assert result.retried == 1 and row.status == OutboxStatus.pending
            assert row.next_attempt_at > now + timedelta(minutes=2**attempt / 2) - timedelta(
                seconds=1
            )
            now = row.next_attempt_at
        else:
            assert result.dead == 1 and row.status == OutboxStatus.dead
    expected = "Zalo HTTP 500" if failure == "http500" else "Zalo did not answer in time"
    assert seen == [expected] * 3
    deadline = time.monotonic() + 5
    while len(zalo_env.state.requests) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)  # a timed-out request still reaches the server, late
    assert len(zalo_env.state.requests) == 3


def test_transient_then_success(engine, world, channels, zalo_env):
    _remind(engine, channels_=("zalo",))
    zalo_env.state.script.append("http500")
    first = dispatch_due(engine=engine, channels=channels, now=NOW)
    (row,) = _rows(engine)
    second = dispatch_due(engine=engine, channels=channels, now=row.next_attempt_at)
    assert (first.retried, second.sent) == (1, 1)
    assert _rows(engine)[0].attempts == 2


def test_secrets_never_reach_errors_or_logs(engine, world, channels, zalo_env, caplog):
    caplog.set_level(logging.DEBUG)
    _remind(engine, channels_=("zalo",))
    zalo_env.state.expire_access_token()
    zalo_env.state.refresh_token = "refresh-rotated-elsewhere"  # our stored one is now refused
    result = dispatch_due(engine=engine, channels=channels, now=NOW)
    assert result.retried == 1
    (row,) = _rows(engine)
    assert row.last_error.startswith("Zalo token refresh refused (HTTP 200, error -14014)")
    text = caplog.text + row.last_error + repr(channels) + repr(_token(engine))
    for secret in ("zalo-app-secret-XYZ", "access-0-initial", "refresh-0-initial"):
        assert secret not in text


def test_missing_setting_is_named_without_its_value(engine, monkeypatch, zalo_env):
    monkeypatch.setenv("PLANFLOW_CHANNELS", "file,zns")
    monkeypatch.delenv("PLANFLOW_ZALO_ZNS_TEMPLATE_ID")
    get_settings.cache_clear()
    with pytest.raises(ChannelConfigError) as error:
        build_channels(get_settings(), engine=engine)
    assert str(error.value) == "channel 'zns' needs PLANFLOW_ZALO_ZNS_TEMPLATE_ID"
    monkeypatch.setenv("PLANFLOW_ZALO_ZNS_TEMPLATE_ID", "1")
    monkeypatch.delenv("PLANFLOW_ZALO_SECRET_KEY")
    monkeypatch.setenv("PLANFLOW_CHANNELS", "zalo")
    get_settings.cache_clear()
    with pytest.raises(
        ChannelConfigError, match=r"^channel 'zalo' needs PLANFLOW_ZALO_SECRET_KEY$"
    ):
        build_channels(get_settings(), engine=engine)
    monkeypatch.setenv("PLANFLOW_CHANNELS", "email,sms")
    get_settings.cache_clear()
    with pytest.raises(ChannelConfigError, match="unknown channel 'sms'"):
        build_channels(get_settings(), engine=engine)


def test_long_escalation_fits_a_zalo_text_with_a_link(engine, channels, zalo_env, session):
    from tests import factories as f

    world = build_world(session)
    for i in range(40):
        ward = f.unit(
            session,
            f"phường Thử Nghiệm Số {i}",
            parent=world.district,
            emails=[f"p{i}@hadong.example.vn"],
        )
        f.request(
            session,
            world.plan,
            ward,
            deadline=world.requests["phường Văn Quán"].deadline,
            status="issued",
            recipient_id=world.standing.id,
        )
    session.commit()
    _remind(engine, now=local(2025, 6, 4, 9), channels_=("zalo",))
    (escalation,) = [r for r in _rows(engine) if r.kind == "escalation"]
    assert escalation.address == "zalo-ldtbxh"
    assert len(escalation.body_text) <= ZALO_TEXT_LIMIT
    # the digest's link: a fresh portal link for the standing agency, landing on its home page
    assert re.search(r"/l/[A-Za-z0-9_-]{32}\)$", escalation.body_text)
    assert dispatch_due(engine=engine, channels=channels, now=local(2025, 6, 4, 9)).dead == 0
    sent = [r for r in zalo_env.state.sends if r.body["recipient"]["user_id"] == "zalo-ldtbxh"]
    assert len(sent[0].body["message"]["text"]) <= ZALO_TEXT_LIMIT
