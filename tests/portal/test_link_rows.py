"""A message carries a fresh access link; a message the outbox already holds (same key) is not
queued again, and neither is the link minted for it: no orphan link rows."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from planflow.models import AccessLink, OutboxMessage
from planflow.notifications import links, notify_report_requested, notify_returned


def _count(session: Session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_de_duplicated_message_leaves_no_link_row(engine, world):
    with Session(engine) as session:
        ward = session.merge(world.ward)
        ward.emails = ["vanquan@hadong.example.vn", "ubnd.vanquan@hadong.example.vn"]
        session.add(ward)
        session.commit()
        links_before = _count(session, AccessLink)

        added = notify_report_requested(session, request_id=world.six_month.id, channels=["email"])
        session.commit()
        assert added == 2  # one message per address, both carrying the same new link
        assert _count(session, AccessLink) == links_before + 1
        messages = _count(session, OutboxMessage)

        # the same event again (a flow re-run): nothing queued, no link minted for nothing
        again = notify_report_requested(session, request_id=world.six_month.id, channels=["email"])
        session.commit()
        assert again == 0
        assert _count(session, OutboxMessage) == messages
        assert _count(session, AccessLink) == links_before + 1

        # the stored link is the one the queued messages carry
        body = session.execute(select(OutboxMessage.body_text)).scalars().first()
        token = body.split("/l/")[1].split("?")[0].split()[0]
        stored = session.execute(
            select(AccessLink).where(AccessLink.token_hash == links.hash_token(token))
        ).scalar_one()
        assert stored.unit_id == world.ward.id


def test_a_new_event_for_the_same_unit_gets_its_own_link(engine, world):
    with Session(engine) as session:
        ward = session.merge(world.ward)
        ward.emails = ["vanquan@hadong.example.vn"]
        session.add(ward)
        session.commit()
        links_before = _count(session, AccessLink)
        notify_report_requested(session, request_id=world.six_month.id, channels=["email"])
        notify_returned(
            session, request_id=world.annual.id, reason="Thiếu số liệu", channels=["email"]
        )
        # the return again, same request version: de-duplicated, no link
        notify_returned(
            session, request_id=world.annual.id, reason="Thiếu số liệu", channels=["email"]
        )
        session.commit()
        assert _count(session, OutboxMessage) == 2
        assert _count(session, AccessLink) == links_before + 2
