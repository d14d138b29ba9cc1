"""Who is calling, and what they may reach: one dependency per kind of caller.

A unit's session reaches only its own requests and the plans that assign it work; a standing
agency's session also reaches every request of the units below its committee. Anything else
answers 404, never 403, so an id outside one's reach looks like an id that does not exist.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import Depends, Form, Request
from sqlalchemy import bindparam, select
from sqlmodel import Session, col

from planflow.models import AccessLink, Assignment, OrgUnit, Plan, ReportRequest, State, UnitKind
from planflow.models.time import as_utc, utcnow
from planflow.portal.security import COOKIE, read_session
from planflow.services import hierarchy
from planflow.states import VISIBLE


class PortalDenied(Exception):
    """Answered with a Vietnamese page: ``why`` is no_session, expired, revoked, csrf, missing,
    moved."""

    def __init__(self, status: int, why: str, unit: OrgUnit | None = None) -> None:
        super().__init__(why)
        self.status, self.why, self.unit = status, why, unit


def not_found() -> PortalDenied:
    return PortalDenied(404, "missing")


async def db(request: Request) -> AsyncIterator[Session]:
    """A session per request on the app's engine; handlers that change data commit.

    Opening a session does no I/O, nor does closing one whose work was committed: both run on
    the event loop. A session still in a transaction (a page that only read, a refusal) is
    closed, with its rollback, in a worker thread."""
    session = Session(request.app.state.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        if session.in_transaction():
            with anyio.CancelScope(shield=True):  # a client gone away still returns the connection
                await anyio.to_thread.run_sync(session.close)
        else:
            session.close()


DB = Annotated[Session, Depends(db)]


@dataclass
class Caller:
    """A unit acting through one of its access links."""

    link: AccessLink
    unit: OrgUnit
    csrf: str

    @property
    def actor(self) -> str:
        return f"portal:{self.unit.code}"


def link_state(link: AccessLink) -> str | None:
    """Why a link no longer opens anything (``revoked``, ``expired``), or None when it does."""
    if link.revoked_at is not None:
        return "revoked"
    if as_utc(link.expires_at) <= utcnow():
        return "expired"
    return None


# The statements every request runs, built once: SQLAlchemy then finds their compiled form
# without rebuilding and re-keying them at each request.
_LINK_AND_UNIT = (
    select(AccessLink, OrgUnit)
    .outerjoin(OrgUnit, col(OrgUnit.id) == col(AccessLink.unit_id))
    .where(col(AccessLink.id) == bindparam("link_id"))
)
_REQUEST = select(ReportRequest).where(col(ReportRequest.id) == bindparam("request_id"))
_REQUEST_LOCKED = _REQUEST.with_for_update().execution_options(populate_existing=True)


def unit_caller(request: Request, session: DB) -> Caller:
    """The unit behind the session cookie, while its link is live (revoked or expired: refused
    at the next request)."""
    data = read_session(request.cookies.get(COOKIE))
    if data is None:
        raise PortalDenied(401, "no_session")
    # one statement for the link and its unit, by primary key: every request runs it
    found = session.execute(_LINK_AND_UNIT, {"link_id": data.link_id}).first()
    if found is None:
        raise PortalDenied(401, "no_session")
    link, unit = found
    why = link_state(link)
    if why or unit is None:
        raise PortalDenied(401, why or "no_session", unit)
    return Caller(link=link, unit=unit, csrf=data.csrf)


UnitCaller = Annotated[Caller, Depends(unit_caller)]


async def csrf_checked(caller: UnitCaller, csrf: Annotated[str, Form()] = "") -> Caller:
    """A unit's POST: its form must carry the session's CSRF token (no I/O: runs on the
    event loop, not in a worker thread)."""
    if not csrf or not hmac.compare_digest(csrf.encode(), caller.csrf.encode()):
        raise PortalDenied(403, "csrf", caller.unit)
    return caller


UnitPost = Annotated[Caller, Depends(csrf_checked)]


def own_request(
    request_id: int, request: Request, caller: UnitCaller, session: DB
) -> ReportRequest:
    """One of the caller's own issued requests, else 404. A cancelled one (its plan withdrawn,
    or merged into a successor's) can still be read, not changed; one that moved to a successor
    unit after a reorganisation answers, to its former unit, a page saying so.

    A change (any other method) reads the row ``FOR UPDATE``: the service that changes it gets
    it locked from here and does not read it again."""
    reading = request.method in ("GET", "HEAD")
    row = session.execute(
        _REQUEST if reading else _REQUEST_LOCKED, {"request_id": request_id}
    ).scalar_one_or_none()
    if row is None or row.status == State.drafted:
        raise not_found()
    if row.unit_id != caller.unit.id:
        if reading and caller.unit.id in (row.origins or []):
            raise PortalDenied(200, "moved")
        raise not_found()
    if row.status == State.cancelled and not reading:
        raise not_found()
    return row


OwnRequest = Annotated[ReportRequest, Depends(own_request)]


def own_plan(plan_id: int, caller: UnitCaller, session: DB) -> Plan:
    """A plan that assigns the caller work, asks it for reports, or that it issued; else 404."""
    plan = session.get(Plan, plan_id)
    # a withdrawn plan stays readable to the units it concerned (their messages link to it)
    if plan is None or (plan.status == State.drafted and plan.issuer_id != caller.unit.id):
        raise not_found()
    if plan.issuer_id == caller.unit.id:
        return plan
    committee = committee_of_agency(session, caller.unit)
    if committee is not None and plan.issuer_id == committee.id:
        return plan
    concerned = session.execute(
        select(col(Assignment.id))
        .where(col(Assignment.plan_id) == plan_id, col(Assignment.unit_id) == caller.unit.id)
        .union_all(
            select(col(ReportRequest.id)).where(
                col(ReportRequest.plan_id) == plan_id, col(ReportRequest.unit_id) == caller.unit.id
            )
        )
        .limit(1)
    ).first()
    if concerned is None:
        raise not_found()
    return plan


OwnPlan = Annotated[Plan, Depends(own_plan)]


def committee_of_agency(session: Session, unit: OrgUnit) -> OrgUnit | None:
    """The committee ``unit`` is the standing agency of, or None."""
    if unit.kind != UnitKind.agency or unit.parent_id is None:
        return None
    committee = session.get(OrgUnit, unit.parent_id)
    if committee is None:
        return None
    agency = hierarchy.standing_agency(session, committee)
    return committee if agency is not None and agency.id == unit.id else None


@dataclass
class AgencyCaller:
    """A standing agency acting for its committee's subtree."""

    caller: Caller
    committee: OrgUnit


def agency_caller(caller: UnitCaller, session: DB) -> AgencyCaller:
    committee = committee_of_agency(session, caller.unit)
    if committee is None:
        raise not_found()
    return AgencyCaller(caller=caller, committee=committee)


Agency = Annotated[AgencyCaller, Depends(agency_caller)]


async def agency_post(agency: Agency, caller: UnitPost) -> AgencyCaller:
    """A standing agency's POST (CSRF checked)."""
    return agency


AgencyPost = Annotated[AgencyCaller, Depends(agency_post)]


def below(committee: OrgUnit):
    """SQL: the units under ``committee`` (same tier scheme)."""
    return (col(OrgUnit.tiers) == committee.tiers) & col(OrgUnit.path).startswith(
        committee.path + "/", autoescape=True
    )


def agency_request(request_id: int, agency: Agency, session: DB) -> ReportRequest:
    """An issued request of a unit under the agency's committee (not the agency's own), else 404."""
    found = session.execute(
        select(ReportRequest)
        .join(OrgUnit, col(OrgUnit.id) == col(ReportRequest.unit_id))
        .where(
            col(ReportRequest.id) == request_id,
            col(ReportRequest.unit_id) != agency.caller.unit.id,
            col(ReportRequest.status).in_(list(VISIBLE)),
            below(agency.committee),
        )
    ).scalar_one_or_none()
    if found is None:
        raise not_found()
    return found


AgencyRequest = Annotated[ReportRequest, Depends(agency_request)]


def contact_for(session: Session, unit: OrgUnit) -> OrgUnit | None:
    """Whom a unit asks about its links: the standing agency of the committee above it."""
    current = session.get(OrgUnit, unit.parent_id) if unit.parent_id else None
    while current is not None:
        if current.kind == UnitKind.committee:
            agency = hierarchy.standing_agency(session, current)
            if agency is not None and agency.id != unit.id:
                return agency
        current = session.get(OrgUnit, current.parent_id) if current.parent_id else None
    return None
