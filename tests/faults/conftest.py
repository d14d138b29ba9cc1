"""A small plan tree the fault tests share: a city, two districts, their wards, issued requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlmodel import Session

from planflow.models import Level, Plan, ReportRequest, State, UnitKind
from planflow.services.catalogue import load_indicators
from planflow.states import fire
from tests import factories as f


@dataclass
class Tree:
    top: Plan
    subs: list[Plan]
    requests: dict[str, ReportRequest]  # by unit name

    def ids(self) -> dict[str, int]:
        return {name: r.id for name, r in self.requests.items()}


def build_tree(session: Session, *, issue_subs: bool = True) -> Tree:
    """City plan (issued) → two district sub-plans → ward requests, all six-month 2025-H1."""
    load_indicators(session=session)
    city = f.unit(session, "Thành phố Hà Nội", code="01")
    s_city = f.unit(session, "Sở LĐTBXH", parent=city, kind=UnitKind.agency, role_key="labour")
    top = f.plan(session, city, standing_agency_id=s_city.id, number="9/KH-UBND",
                 status=State.issued)
    subs, requests = [], {}
    for d_code, d_name, wards in [
        ("001", "Quận Ba Đình", [("00001", "Phường Phúc Xá"), ("00004", "Phường Trúc Bạch")]),
        ("002", "Quận Hoàn Kiếm", [("00037", "Phường Hàng Bạc")]),
    ]:
        district = f.unit(session, d_name, parent=city, level=Level.district, code=d_code)
        agency = f.unit(session, "Phòng LĐTBXH", parent=district, kind=UnitKind.agency,
                        role_key="labour", code=f"{d_code}-LD")
        sub = f.plan(session, district, parent_id=top.id, root_id=top.id, depth=1,
                     standing_agency_id=agency.id, status=State.issued if issue_subs else
                     State.drafted)
        subs.append(sub)
        row = f.request(session, top, district, recipient_id=s_city.id)
        fire(session, row, "issue", actor="test")
        requests[d_name] = row
        for w_code, w_name in wards:
            ward = f.unit(session, w_name, parent=district, level=Level.ward, code=w_code)
            row = f.request(session, sub, ward, deadline=date(2025, 5, 20),
                            recipient_id=agency.id)
            if issue_subs:
                fire(session, row, "issue", actor="test")
            requests[w_name] = row
    session.flush()
    return Tree(top=top, subs=subs, requests=requests)


@pytest.fixture
def tree(session: Session) -> Tree:
    built = build_tree(session)
    session.commit()
    return built


# --- dropped connections ------------------------------------------------------------------


class ConnectionKiller:
    """Drops the database connection of the next statement that matches ``pattern``.

    PostgreSQL: the real thing, ``pg_terminate_backend`` of that connection's server process
    from another connection, waiting until it is gone. SQLite has no server to lose: the
    statement fails with the ``OperationalError`` SQLite gives for a busy database instead.
    """

    def __init__(self, engine, pattern: str, times: int = 1):
        from sqlalchemy import event

        self.engine, self.pattern, self.left, self.fired = engine, pattern, times, 0
        self.admin = None
        if engine.dialect.name == "postgresql":
            from sqlalchemy import create_engine

            self.admin = create_engine(engine.url.render_as_string(hide_password=False))
        event.listen(engine, "before_cursor_execute", self._maybe_drop)

    def _maybe_drop(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.left <= 0 or self.pattern not in statement:
            return
        self.left -= 1
        self.fired += 1
        if self.admin is None:
            import sqlite3

            from sqlalchemy.exc import OperationalError

            raise OperationalError(statement, parameters, sqlite3.OperationalError(
                "database is locked"))
        from sqlalchemy import text

        pid = conn.connection.dbapi_connection.info.backend_pid
        with self.admin.begin() as admin:
            assert admin.execute(text("SELECT pg_terminate_backend(:pid, 5000)"),
                                 {"pid": pid}).scalar()

    def close(self) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._maybe_drop)
        if self.admin is not None:
            self.admin.dispose()


@pytest.fixture
def kill_connection():
    """``kill_connection(engine, "INSERT INTO plan")`` arms a ConnectionKiller."""
    made: list[ConnectionKiller] = []

    def arm(engine, pattern: str, times: int = 1) -> ConnectionKiller:
        made.append(ConnectionKiller(engine, pattern, times))
        return made[-1]

    yield arm
    for killer in made:
        killer.close()


@pytest.fixture(scope="session")
def prefect_server():
    """Prefect's test server, entered only by the fault tests that run flows."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
