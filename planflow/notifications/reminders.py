"""Daily reminders and escalation: each stage of each open request is notified once.

Stages of a request, by working days around its deadline (settings): ``d7``, ``d3``, ``d1``
before it, ``d0`` on the day, ``overdue`` after it (to the unit) and ``escalate`` (to the
receiving standing agency). A run notifies only the latest stage reached (a missed run does not
send stale reminders). A ``ReminderMark`` row per request and stage makes it once-only; a unit with
several items in one run gets them in one digest per local day.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from planflow.config.db import VALUES_ROWS, batched, conflict_insert
from planflow.config.settings import Settings, get_settings
from planflow.models import OrgUnit, Plan, ReportRequest
from planflow.models.outbox import MessageKind, ReminderMark
from planflow.models.time import local_date
from planflow.notifications.compose import (
    configured_channels,
    drafts_for_unit,
    plan_ref,
    report_title,
    verb_for,
)
from planflow.notifications.outbox import Draft, enqueue
from planflow.states import OPEN
from planflow.vntext import cap, vn_date

HORIZON = timedelta(days=120)  # no reminder is due more than this long before a deadline

SECTIONS = {  # the digest's sections, in the order a reader needs them
    "due_today": "Đến hạn hôm nay",
    "reminder": "Sắp đến hạn",
    "overdue": "Đã quá hạn",
    "escalation": "Đơn vị chưa gửi báo cáo cần đôn đốc",
}


@dataclass
class ReminderResult:
    """What one ``plan_reminders`` run found and queued."""

    requests_checked: int = 0
    items: int = 0  # stage notifications due in this run
    messages: int = 0  # outbox rows added
    units_notified: int = 0
    deferred: int = 0  # items left for the next run (the unit already had today's digest)
    unreachable_units: list[int] = field(default_factory=list)  # no address on any channel
    by_kind: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Item:
    """One stage of one request, to be told to one unit."""

    mark: str
    section: str  # reminder | due_today | overdue | escalation
    request: ReportRequest
    target_id: int
    days: int  # working days left (reminders) or late (overdue, escalation)


def _deadlines():
    from planflow.services import deadlines  # lazily: services sit above notifications' models

    return deadlines


def stage_dates(deadline: date, settings: Settings) -> list[tuple[str, date]]:
    """Each stage of a request due on ``deadline`` with the local date it begins, in order."""
    return _stage_dates(
        deadline,
        settings.reminder_offsets,
        settings.overdue_after_days,
        settings.escalate_after_days,
    )


@cache
def _stage_dates(
    deadline: date, offsets: tuple[int, ...], overdue: int, escalate: int
) -> list[tuple[str, date]]:
    add = _deadlines().add_working_days
    stages = [(f"d{n}", add(deadline, -n)) for n in offsets]
    stages += [
        ("d0", deadline),
        ("overdue", add(deadline, overdue)),
        ("escalate", add(deadline, escalate)),
    ]
    return sorted(stages, key=lambda s: s[1])


def _stages_due(deadline: date, today: date, settings: Settings) -> list[str]:
    """The latest stage begun by ``today`` (and ``overdue`` with ``escalate``, for the unit)."""
    begun = [name for name, start in stage_dates(deadline, settings) if start <= today]
    if not begun:
        return []
    return ["overdue", "escalate"] if begun[-1] == "escalate" else [begun[-1]]


def _insert_marks(session: Session, keys: list[str], now: datetime) -> set[str]:
    added: set[str] = set()
    for chunk in batched(keys, VALUES_ROWS):
        rows = [{"key": k, "created_at": now} for k in chunk]
        stmt = (
            conflict_insert(session, ReminderMark)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(col(ReminderMark.key))
        )
        added.update(session.execute(stmt).scalars())
    return added


def _load(session: Session, model, ids: Iterable[int | None]) -> dict[int, Any]:
    wanted = sorted({i for i in ids if i is not None})
    found: dict[int, Any] = {}
    for chunk in batched(wanted):
        found.update(
            {row.id: row for row in session.exec(select(model).where(model.id.in_(chunk)))}
        )
    return found


def plan_reminders(
    *, session: Session, now: datetime, channels: Iterable[str] | None = None
) -> ReminderResult:
    """Queue today's reminders, overdue notices and escalations in ``session``; idempotent."""
    settings = get_settings()
    names = configured_channels(channels)
    today = local_date(now)
    wd = _deadlines()
    result = ReminderResult()

    requests = list(
        session.exec(
            select(ReportRequest)
            .join(OrgUnit, col(OrgUnit.id) == col(ReportRequest.unit_id))
            .where(
                col(ReportRequest.status).in_(OPEN),
                col(ReportRequest.deadline) <= today + HORIZON,
            )
            # a unit that no longer exists (merged on 1/7/2025) is not chased
            .where(col(OrgUnit.valid_to).is_(None) | (col(OrgUnit.valid_to) >= today))
            .order_by(col(ReportRequest.id))
        )
    )
    result.requests_checked = len(requests)
    plans = _load(session, Plan, [r.plan_id for r in requests])

    candidates: dict[str, tuple[str, ReportRequest]] = {}
    for request in requests:
        for stage in _stages_due(request.deadline, today, settings):
            candidates[f"r{request.id}:{stage}"] = (stage, request)
    fresh = _insert_marks(session, sorted(candidates), now) if candidates else set()

    items: dict[int, list[Item]] = defaultdict(list)
    for mark in sorted(fresh):
        stage, request = candidates[mark]
        plan = plans[request.plan_id]
        if stage == "escalate":
            target = request.recipient_id or plan.standing_agency_id or plan.issuer_id
            section, days = "escalation", wd.working_days_between(request.deadline, today)
        elif stage == "overdue":
            target, section = request.unit_id, "overdue"
            days = wd.working_days_between(request.deadline, today)
        else:
            target = request.unit_id
            section = "due_today" if stage == "d0" else "reminder"
            days = wd.working_days_between(today, request.deadline)
        items[target].append(Item(mark, section, request, target, days))
    result.items = sum(len(v) for v in items.values())

    units = _load(
        session,
        OrgUnit,
        list(items)
        + [i.request.unit_id for v in items.values() for i in v]
        + [i.request.recipient_id for v in items.values() for i in v]
        + [p.issuer_id for p in plans.values()]
        + [p.standing_agency_id for p in plans.values()],
    )

    def describe(item: Item) -> dict[str, Any]:
        request, plan = item.request, plans[item.request.plan_id]
        issuer = units[plan.issuer_id]
        to = units.get(request.recipient_id or plan.standing_agency_id or -1, issuer)
        return {
            "issuer": issuer.label,
            "plan_ref": plan_ref(plan, issuer),
            "report": report_title(request.kind, request.period),
            "deadline": request.deadline,
            "to": to.label,
            "unit": units[request.unit_id].label,
            "days": item.days,
        }

    drafts: list[Draft] = []
    owner: dict[str, int] = {}
    for target_id, unit_items in sorted(items.items()):
        unit = units[target_id]
        kind, about, context, path = _message_for(unit, unit_items, describe, today)
        unit_drafts = drafts_for_unit(
            session,
            unit,
            kind=kind,
            about=about,
            context=context,
            channels=names,
            path=path,
            deadline=min(i.request.deadline for i in unit_items),
        )
        if not unit_drafts:
            result.unreachable_units.append(target_id)
        for d in unit_drafts:
            owner[d.key] = target_id
        drafts += unit_drafts

    added = enqueue(session, drafts, now=now)
    notified = {owner[k] for k in added}
    result.messages = len(added)
    result.units_notified = len(notified)
    for d in drafts:
        if d.key in added:
            result.by_kind[str(d.kind)] += 1
    # a unit whose every message already existed (today's digest was sent): try again next run
    deferred = [
        i.mark
        for target_id, unit_items in items.items()
        if target_id not in notified and target_id not in result.unreachable_units
        for i in unit_items
    ]
    if deferred:
        session.execute(delete(ReminderMark).where(col(ReminderMark.key).in_(deferred)))
        result.deferred = len(deferred)
    session.flush()
    return result


def _message_for(unit: OrgUnit, unit_items: list[Item], describe, today: date):
    """The template, key, context and link for everything one unit hears in this run."""
    verb = verb_for(unit)
    if len(unit_items) == 1 and unit_items[0].section != "escalation":
        item = unit_items[0]
        facts = describe(item)
        kind = MessageKind.overdue if item.section == "overdue" else MessageKind.reminder
        context = {
            **facts,
            "verb": verb,
            "due_today": item.section == "due_today",
            "days_left": item.days,
            "days_late": item.days,
        }
        return kind, f"{kind}:{item.mark}", context, f"/requests/{item.request.id}"
    if all(i.section == "escalation" for i in unit_items):
        rows = [
            {**describe(i), "days_late": i.days}
            for i in sorted(unit_items, key=lambda i: (i.request.deadline, i.request.unit_id))
        ]
        if len(unit_items) == 1:
            about = f"escalation:{unit_items[0].mark}"
        else:
            about = f"escalation:u{unit.id}:{today.isoformat()}"
        context = {"verb": verb, "items": rows, "today": today}
        return MessageKind.escalation, about, context, "/"
    sections = []
    for section, title in SECTIONS.items():
        lines = [
            {"line": _digest_line(section, describe(i))}
            for i in sorted(unit_items, key=lambda i: (i.request.deadline, i.request.id))
            if i.section == section
        ]
        if lines:
            sections.append({"title": title, "items": lines})
    context = {"verb": verb, "items": unit_items, "sections": sections, "today": today}
    return (
        MessageKind.digest,
        f"digest:u{unit.id}:{today.isoformat()}",
        context,
        "/",
    )


def _digest_line(section: str, f: dict[str, Any]) -> str:
    report = cap(f["report"])
    deadline = vn_date(f["deadline"])
    if section == "escalation":
        return (
            f"{f['unit']}: chưa gửi {f['report']} theo {f['plan_ref']}, hạn {deadline}, "
            f"quá hạn {f['days']} ngày làm việc."
        )
    if section == "overdue":
        return (
            f"{report} theo {f['plan_ref']}: hạn {deadline}, đã quá hạn {f['days']} ngày làm "
            f"việc; gửi {f['to']}."
        )
    if section == "due_today":
        return f"{report} theo {f['plan_ref']}: gửi {f['to']} trong hôm nay ({deadline})."
    return (
        f"{report} theo {f['plan_ref']}: gửi {f['to']} trước ngày {deadline} "
        f"(còn {f['days']} ngày làm việc)."
    )
