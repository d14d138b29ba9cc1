"""The catalogue a long-running process holds: copies that belong to no session, read again
once the hold has passed, never held while the catalogue is not loaded."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect
from sqlmodel import Session

from planflow.models import Indicator
from planflow.models.base import table_of
from planflow.services import catalogue
from planflow.services.catalogue import held_indicators, indicators, load_indicators


def test_nothing_is_held_before_the_catalogue_is_loaded(session: Session) -> None:
    assert held_indicators(session) == {}
    load_indicators(session=session)
    session.commit()
    assert "HD-LD" in held_indicators(session)


def test_held_indicators_are_copies_of_the_loaded_ones_outside_any_session(
    session: Session,
) -> None:
    load_indicators(session=session)
    session.commit()
    held = held_indicators(session)
    loaded = indicators(session)
    assert list(held) == list(loaded)  # catalogue order
    columns = [c.key for c in table_of(Indicator).columns]
    for code, copy in held.items():
        assert inspect(copy).session is None
        assert [getattr(copy, c) for c in columns] == [getattr(loaded[code], c) for c in columns]
    session.rollback()  # expires what the session loaded, not what is held
    assert held["HD-TT-SK"].maximum == loaded["HD-TT-SK"].maximum


def test_a_change_to_the_catalogue_is_seen_once_the_hold_has_passed(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_indicators(session=session)
    session.commit()
    before = held_indicators(session)["HD-TT-SK"].maximum
    row = session.get(Indicator, "HD-TT-SK")
    assert row is not None
    row.maximum = 12
    session.commit()
    assert held_indicators(session)["HD-TT-SK"].maximum == before  # within the hold
    monkeypatch.setattr(catalogue, "HELD_SECONDS", 0.0)
    assert held_indicators(session)["HD-TT-SK"].maximum == 12
