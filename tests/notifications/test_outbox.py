"""The outbox table: idempotent enqueue inside the caller's transaction, counts, secrets."""

from __future__ import annotations

from pydantic import SecretStr
from sqlmodel import Session, func, select

from planflow.models import OutboxMessage, ReportRequest, ZaloToken
from planflow.notifications import enqueue, make_key, outbox_counts
from planflow.notifications.channels import SmtpChannel, SmtpSettings
from tests.notifications.conftest import SECRET, drafts


def _count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(OutboxMessage)).one()


def test_enqueue_same_key_twice_is_a_no_op(session, world):
    first = enqueue(session, drafts(3, world.ward.id))
    again = enqueue(session, drafts(3, world.ward.id) + drafts(1, world.ward.id, prefix="new"))
    session.commit()
    assert len(first) == 3
    assert again == {"new:0:email"}
    assert _count(session) == 4


def test_enqueue_twice_in_separate_transactions_is_a_no_op(engine, world):
    for _ in range(2):
        with Session(engine) as s:
            enqueue(s, drafts(2, world.ward.id))
            s.commit()
    with Session(engine) as s:
        assert _count(s) == 2


def test_rollback_of_the_causing_transaction_drops_the_messages(engine, world):
    request_id = world.requests["phường Văn Quán"].id
    with Session(engine) as s:
        request = s.get(ReportRequest, request_id)
        request.status = "acknowledged"  # the state change that caused the messages
        s.add(request)
        enqueue(s, drafts(2, world.ward.id))
        s.flush()
        assert _count(s) == 2
        s.rollback()
    with Session(engine) as s:
        assert _count(s) == 0
        assert s.get(ReportRequest, request_id).status == "issued"


def test_counts_are_per_kind_and_status(session, world):
    enqueue(session, drafts(2, world.ward.id))
    session.commit()
    assert outbox_counts(session) == {"reminder/pending": 2}


def test_long_keys_are_cut_with_a_hash_and_stay_distinct():
    a = make_key("reminder", "r1", "email", "x" * 400 + "a@b.vn")
    b = make_key("reminder", "r1", "email", "x" * 400 + "c@b.vn")
    assert len(a) == len(b) == 255 and a != b
    assert make_key("digest", "u1", "2025-05-27") == "digest:u1:2025-05-27"


def test_secrets_do_not_show_in_reprs():
    token = ZaloToken(app_id="1", access_token=SECRET, refresh_token=SECRET + "r")
    config = SmtpSettings(host="h", port=25, sender="a@b", username="u", password=SecretStr(SECRET))
    for shown in (repr(token), str(token), repr(config), repr(SmtpChannel(config))):
        assert SECRET not in shown
