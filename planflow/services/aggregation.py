"""Aggregating one period of a plan tree bottom-up: ward → district → city.

Each compiling committee's consolidated report = its own submitted figures + the submissions of
the agencies under its plan + the consolidated reports of its child committees (or their plain
submission where they compile nothing). Counts are summed; a ratio is re-computed from summed
numerators and denominators, never averaged; "not reported" (None) stays distinct from zero.
The children move to ``aggregated`` in the transaction that writes the consolidated report.

Nothing that is not submitted is compiled: the requests a level compiles are locked before they
are read (PostgreSQL: ``SELECT … FOR UPDATE``; SQLite: the transaction takes the database's
write lock before its first read), so a return racing the aggregation either commits first and
is left out, or waits and finds the report aggregated. Each compiled report records what it
counted (``compiled_source``: the submissions with their request and submission time, and the
child committees' compiled reports); a submission returned after it was counted marks the
compiled reports holding it stale, and the daily sweep compiles them again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    FromClause,
    Row,
    and_,
    bindparam,
    delete,
    func,
    insert,
    union_all,
    update,
)
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from planflow.config.db import batched, rows_affected
from planflow.models import (
    CompiledSource,
    Indicator,
    IndicatorKind,
    IndicatorValue,
    OrgUnit,
    Plan,
    Report,
    ReportKind,
    ReportRequest,
    State,
    TransitionLog,
    UnitKind,
)
from planflow.models.base import table_of
from planflow.models.time import utcnow
from planflow.services.catalogue import indicators, target_for
from planflow.services.locks import begin_write
from planflow.services.plans import get_plan
from planflow.states import SENT, VISIBLE, ConcurrentTransition, IllegalTransition, fire_many

PLAN = table_of(Plan)
REPORT = table_of(Report)
REQUEST = table_of(ReportRequest)
VALUE = table_of(IndicatorValue)
UNIT = table_of(OrgUnit)
SOURCE = table_of(CompiledSource)
AUDIT = table_of(TransitionLog)

NUMBERS = ("male", "female", "total", "numerator", "denominator")


@dataclass
class Completeness:
    """Who was expected to report to one committee, and who did, on time or late."""

    unit_id: int
    unit: str
    plan_id: int
    expected: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0
    late_units: list[str] = field(default_factory=list)
    missing_units: list[str] = field(default_factory=list)
    moved: dict[str, list[str]] = field(default_factory=dict)  # unit → the ended units before it

    @property
    def rate(self) -> float:
        """Share of expected reports that arrived, 0–100 (never more)."""
        return 100.0 * (self.on_time + self.late) / self.expected if self.expected else 0.0

    def as_dict(self) -> dict:
        return {
            "expected": self.expected,
            "on_time": self.on_time,
            "late": self.late,
            "missing": self.missing,
            "late_units": self.late_units,
            "missing_units": self.missing_units,
            "moved": self.moved,
        }


@dataclass
class FigureRow:
    """One compiled indicator with its value and target status."""

    code: str
    name: str
    kind: str
    male: int | None
    female: int | None
    total: int | None
    numerator: int | None
    denominator: int | None
    value: float | None
    target: float | None
    status: str  # met | not met | cannot be assessed | no target


@dataclass
class AggregationResult:
    plan_ids: list[int]
    kind: ReportKind
    period: str
    nodes: list[Completeness] = field(default_factory=list)
    aggregated: int = 0
    reports_written: int = 0
    values_written: int = 0
    sources_written: int = 0


def aggregate_period(
    *,
    session: Session,
    plan_id: int,
    kind: ReportKind,
    period: str,
    actor: str,
    only_top: bool = False,
) -> AggregationResult:
    """Aggregate every compiling committee under ``plan_id`` (itself included), deepest first;
    ``only_top`` compiles just ``plan_id``'s issuer from what its children already compiled."""
    return aggregate_many(
        session=session, plan_ids=[plan_id], kind=kind, period=period, actor=actor,
        only_top=only_top,
    )


def aggregate_many(
    *,
    session: Session,
    plan_ids: list[int],
    kind: ReportKind,
    period: str,
    actor: str,
    only_top: bool = False,
) -> AggregationResult:
    """``aggregate_period`` for several plans at once (a country's provinces): each depth of
    all their trees is compiled together, with the same statements as one tree's."""
    begin_write(session)
    tops = session.execute(
        sa_select(PLAN.c.id, PLAN.c.status, PLAN.c.parent_id, PLAN.c.root_id).where(
            PLAN.c.id.in_(plan_ids)
        )
    ).all()
    for missing in set(plan_ids) - {t.id for t in tops}:
        get_plan(session, missing)  # NotFound, naming the plan
    for top in tops:
        # a cancelled plan is not compiled; a sub-plan cancelled because its unit ended
        # (1/7/2025) still compiles what was owed under it: the tree of the period's deadline
        if top.status == State.cancelled and top.parent_id is None:
            raise IllegalTransition(f"kế hoạch {top.id} đã bị hủy: không tổng hợp báo cáo")
    tree_ids = sorted({t.root_id or t.id for t in tops})
    in_tree = PLAN.c.root_id.in_(tree_ids) | PLAN.c.id.in_(tree_ids)
    tree_plans = session.execute(
        sa_select(PLAN.c.id, PLAN.c.parent_id, PLAN.c.issuer_id, PLAN.c.depth).where(in_tree)
    ).all()
    by_id = {row.id: row for row in tree_plans}
    children: dict[int | None, list[int]] = defaultdict(list)
    for plan in tree_plans:
        children[plan.parent_id].append(plan.id)
    wanted = {t.id for t in tops}
    if not only_top:
        wanted = _descendants(children, wanted)
    with_requests = session.execute(
        sa_select(REQUEST.c.plan_id)
        .join(PLAN, PLAN.c.id == REQUEST.c.plan_id)
        .where(
            in_tree,
            REQUEST.c.kind == kind,
            REQUEST.c.period == period,
            REQUEST.c.status != State.cancelled,
        )
        .distinct()
    ).scalars()
    compiling = wanted.intersection(with_requests)
    result = AggregationResult(plan_ids=list(plan_ids), kind=kind, period=period)
    session.flush()  # the Core statements below must see the session's pending changes
    for depth in sorted({by_id[p].depth for p in compiling}, reverse=True):
        level = [by_id[p] for p in sorted(compiling) if by_id[p].depth == depth]
        _aggregate_level(session, level, kind, period, actor, result)
    session.expire_all()  # ORM objects loaded before must not hide what the SQL wrote
    return result


def _descendants(children: dict[int | None, list[int]], tops: set[int]) -> set[int]:
    found, stack = set(), list(tops)
    while stack:
        current = stack.pop()
        found.add(current)
        stack.extend(children.get(current, []))
    return found


def _aggregate_level(
    session: Session,
    plans: list[Row[Any]],
    kind: ReportKind,
    period: str,
    actor: str,
    result: AggregationResult,
) -> None:
    """Compile every plan of one depth at once, set-based: completeness counted with one
    ``GROUP BY`` (the units named only where late, missing or moved), figures with one
    ``INSERT … SELECT … GROUP BY`` per batch of plans (see ``_sum_into``), the submissions
    moved to aggregated with one ``fire_many`` over the same selection."""
    plan_ids = [p.id for p in plans]
    of_level = (REQUEST.c.kind == kind, REQUEST.c.period == period)
    if session.get_bind().dialect.name == "postgresql":
        # the requests this level compiles, locked until the commit: their own, and the
        # issuers' own submissions on the parent plans (``own`` in ``_sum_into``); SQLite's
        # transaction took the database's write lock before reading (``begin_write``)
        parents = sorted({p.parent_id for p in plans if p.parent_id is not None})
        issuers = sorted({p.issuer_id for p in plans})
        for chunk in batched(plan_ids):
            session.execute(
                sa_select(REQUEST.c.id)
                .where(REQUEST.c.plan_id.in_(chunk), *of_level)
                .order_by(REQUEST.c.id)
                .with_for_update()
            ).all()
        for chunk in batched(parents):
            session.execute(
                sa_select(REQUEST.c.id)
                .where(REQUEST.c.plan_id.in_(chunk), REQUEST.c.unit_id.in_(issuers), *of_level)
                .order_by(REQUEST.c.id)
                .with_for_update()
            ).all()
    completeness: dict[int, Completeness] = {}
    for p in plans:
        completeness[p.id] = Completeness(unit_id=p.issuer_id, unit="", plan_id=p.id)
    submitted = 0
    for plan_id, status, late, count in _rows(
        session,
        lambda c: sa_select(REQUEST.c.plan_id, REQUEST.c.status, REQUEST.c.late, func.count())
        .where(REQUEST.c.plan_id.in_(c), REQUEST.c.status.in_(list(VISIBLE)), *of_level)
        .group_by(REQUEST.c.plan_id, REQUEST.c.status, REQUEST.c.late),
        plan_ids,
    ):
        node = completeness[plan_id]
        node.expected += count
        if status not in SENT:
            node.missing += count
        elif late:
            node.late += count
        else:
            node.on_time += count
        if status == State.submitted:
            submitted += count
    # the units a compiled report names: late, missing, or carrying ended units' requests
    named = _rows(
        session,
        lambda c: sa_select(
            REQUEST.c.plan_id, REQUEST.c.status, REQUEST.c.late, REQUEST.c.origins,
            UNIT.c.name, UNIT.c.kind,
        )
        .join(UNIT, UNIT.c.id == REQUEST.c.unit_id)
        .where(
            REQUEST.c.plan_id.in_(c),
            REQUEST.c.status.in_(list(VISIBLE)),
            *of_level,
            (REQUEST.c.status.not_in(list(SENT)) | REQUEST.c.late.is_(True))
            | REQUEST.c.origins.is_not(None),
        )
        .order_by(UNIT.c.code, REQUEST.c.id),
        plan_ids,
    )
    others = _labels(
        session,
        {p.issuer_id for p in plans} | {o for r in named for o in (r.origins or [])},
    )
    for p in plans:
        completeness[p.id].unit = others[p.issuer_id][1]
    for plan_id, status, late, origins, name, unit_kind in named:
        node = completeness[plan_id]
        label = _label(name, unit_kind)
        if origins:  # carried over from units that ended (1/7/2025)
            node.moved[label] = [others[o][1] for o in origins if o in others]
        if status not in SENT:
            node.missing_units.append(label)
        elif late:
            node.late_units.append(label)
    _write_consolidated(session, plans, kind, period, completeness)
    for chunk in batched(plan_ids):
        sources, values = _sum_into(session, chunk, kind, period)
        result.sources_written += sources
        result.values_written += values
    result.reports_written += len(plans)
    moved = [
        row_id
        for chunk in batched(plan_ids)
        for row_id in fire_many(
            session,
            ReportRequest,
            sa_select(REQUEST.c.id).where(REQUEST.c.plan_id.in_(chunk), *of_level),
            "aggregate",
            actor=actor,
        )
    ]
    if len(moved) != submitted:  # cannot happen while the rows are locked
        raise ConcurrentTransition(
            f"{abs(submitted - len(moved))} báo cáo đổi trạng thái trong lúc tổng hợp: "
            "chưa ghi gì, hãy tổng hợp lại"
        )
    result.aggregated += len(moved)
    result.nodes.extend(completeness[p.id] for p in plans)


def _labels(session: Session, unit_ids: set[int]) -> dict[int, tuple[str, str]]:
    """unit id → (code for ordering, the name documents use)."""
    out = {}
    for uid, code, name, kind in _rows(
        session,
        lambda c: select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.kind).where(
            col(OrgUnit.id).in_(c)
        ),
        unit_ids,
    ):
        out[uid] = (code, _label(name, kind))
    return out


def _label(name: str, kind: str) -> str:
    """The name documents use for a unit: a committee is "UBND <its name>"."""
    return f"UBND {name}" if kind == UnitKind.committee else name


def _write_consolidated(
    session: Session,
    plans: list[Row[Any]],
    kind: ReportKind,
    period: str,
    completeness: dict[int, Completeness],
) -> None:
    """Make sure each plan has its consolidated report, with its completeness, and no figures
    yet (``_sum_into`` writes them)."""
    plan_ids = [p.id for p in plans]
    existing = {
        plan_id: report_id
        for plan_id, report_id in _rows(
            session,
            lambda c: sa_select(REPORT.c.plan_id, REPORT.c.id).where(
                REPORT.c.plan_id.in_(c), *_consolidated_of(REPORT, kind, period)
            ),
            plan_ids,
        )
    }
    now = utcnow()
    new_rows = [
        {
            "plan_id": p.id,
            "unit_id": p.issuer_id,
            "kind": kind,
            "period": period,
            "consolidated": True,
            "narrative": {},
            "completeness": completeness[p.id].as_dict(),
            "created_at": now,
            "updated_at": now,
        }
        for p in plans
        if p.id not in existing
    ]
    if new_rows:
        session.execute(insert(REPORT), new_rows)
    if existing:
        _clear_stale(session, list(existing.values()), now)
        session.execute(
            update(REPORT)
            .where(REPORT.c.id == bindparam("report_id"))
            .values(completeness=bindparam("figures"), updated_at=now),
            [
                {"report_id": report_id, "figures": completeness[plan_id].as_dict()}
                for plan_id, report_id in existing.items()
            ],
        )
        for chunk in batched(list(existing.values())):
            session.execute(delete(VALUE).where(VALUE.c.report_id.in_(chunk)))
            session.execute(delete(SOURCE).where(SOURCE.c.compiled_id.in_(chunk)))


def _clear_stale(session: Session, report_ids: list[int], now: Any) -> None:
    """Compiled reports about to be compiled again are current again (an audit row each)."""
    for chunk in batched(report_ids):
        cleared = session.execute(
            update(REPORT)
            .where(REPORT.c.id.in_(chunk), REPORT.c.stale.is_(True))
            .values(stale=False, stale_since=None)
            .returning(REPORT.c.id)
        ).scalars().all()
        _audit(session, cleared, "recompile", "stale", "current", "tổng hợp lại", "tổng hợp", now)


def _audit(
    session: Session,
    report_ids: Iterable[int],
    trigger: str,
    before: str,
    after: str,
    reason: str,
    actor: str,
    now: Any,
) -> None:
    rows = [
        {
            "entity": "report",
            "entity_id": report_id,
            "trigger": trigger,
            "from_state": before,
            "to_state": after,
            "actor": actor,
            "reason": reason,
            "at": now,
        }
        for report_id in report_ids
    ]
    if rows:
        session.execute(insert(AUDIT), rows)


def _consolidated_of(report: FromClause, kind: ReportKind, period: str) -> list[Any]:
    """The conditions that make ``report`` a consolidated report of this period."""
    return [report.c.consolidated.is_(True), report.c.kind == kind, report.c.period == period]


def _submitted(report: FromClause, kind: ReportKind, period: str) -> list[Any]:
    """The conditions that make ``report`` a unit's own report of this period, submitted (or
    already aggregated) on its request."""
    accepted = sa_select(REQUEST.c.id).where(
        REQUEST.c.id == report.c.request_id, REQUEST.c.status.in_(list(SENT))
    )
    return [
        report.c.consolidated.is_(False),
        report.c.kind == kind,
        report.c.period == period,
        accepted.exists(),
    ]


def _sum_into(
    session: Session, plan_ids: list[int], kind: ReportKind, period: str
) -> tuple[int, int]:
    """Record what these plans' consolidated reports count (one ``INSERT … SELECT`` into
    ``compiled_source``) and write their figures from exactly that (one ``INSERT … SELECT …
    GROUP BY``); returns the numbers of source and figure rows written.

    A compiling plan's figures are the sums, per indicator, of three kinds of source report:
    the submissions on the plan itself (less those of child committees that compiled their
    own subtree: they count through that), the consolidated reports of its child plans, and
    its issuer's own submission on the parent plan. SQL's SUM keeps "not reported" (NULL)
    apart from zero: it is NULL only when no source reported the figure.
    """
    target = REPORT.alias("target")
    source = REPORT.alias("source")
    child = PLAN.alias("child")
    child_report = REPORT.alias("child_report")
    compiling = PLAN.alias("compiling")

    def into(plan_id_column: Any) -> Any:
        return and_(target.c.plan_id == plan_id_column, *_consolidated_of(target, kind, period))

    compiled_below = (
        sa_select(child_report.c.id)
        .join(child, child.c.id == child_report.c.plan_id)
        .where(
            child.c.parent_id == source.c.plan_id,
            child_report.c.unit_id == source.c.unit_id,
            *_consolidated_of(child_report, kind, period),
        )
    )
    direct = (
        sa_select(target.c.id.label("target_id"), source.c.id.label("source_id"))
        .join(target, into(source.c.plan_id))
        .where(
            source.c.plan_id.in_(plan_ids),
            *_submitted(source, kind, period),
            ~compiled_below.exists(),
        )
    )
    from_children = (
        sa_select(target.c.id, child_report.c.id)
        .select_from(child_report)
        .join(child, child.c.id == child_report.c.plan_id)
        .join(target, into(child.c.parent_id))
        .where(child.c.parent_id.in_(plan_ids), *_consolidated_of(child_report, kind, period))
    )
    own = (
        sa_select(target.c.id, source.c.id)
        .select_from(compiling)
        .join(target, into(compiling.c.id))
        .join(
            source,
            and_(
                source.c.plan_id == compiling.c.parent_id,
                source.c.unit_id == compiling.c.issuer_id,
            ),
        )
        .where(compiling.c.id.in_(plan_ids), *_submitted(source, kind, period))
    )
    sources = union_all(direct, from_children, own).subquery("sources")
    counted = REPORT.alias("counted")
    contents = (
        sa_select(
            sources.c.target_id,
            sources.c.source_id,
            counted.c.request_id,
            REQUEST.c.submitted_at,
        )
        .join(counted, counted.c.id == sources.c.source_id)
        .outerjoin(REQUEST, REQUEST.c.id == counted.c.request_id)
    )
    recorded = session.execute(
        insert(SOURCE).from_select(
            ["compiled_id", "source_id", "request_id", "submitted_at"], contents
        )
    )
    sums = (
        sa_select(
            SOURCE.c.compiled_id,
            VALUE.c.indicator_code,
            *(func.sum(VALUE.c[name]) for name in NUMBERS),
        )
        .select_from(compiling)
        .join(target, into(compiling.c.id))
        .join(SOURCE, SOURCE.c.compiled_id == target.c.id)
        .join(VALUE, VALUE.c.report_id == SOURCE.c.source_id)
        .where(compiling.c.id.in_(plan_ids))
        .group_by(SOURCE.c.compiled_id, VALUE.c.indicator_code)
    )
    written = session.execute(
        insert(VALUE).from_select(["report_id", "indicator_code", *NUMBERS], sums)
    )
    return rows_affected(recorded), rows_affected(written)


def mark_stale(
    session: Session, *, request_id: int, reason: str, actor: str, at: Any = None
) -> list[int]:
    """A submission counted by compiled reports was returned: mark them stale, and the compiled
    reports that counted those, up the tree (an audit row each); returns their ids."""
    now = at or utcnow()
    why = f"yêu cầu báo cáo {request_id} bị trả lại: {reason}"
    frontier = set(
        session.execute(
            sa_select(SOURCE.c.compiled_id).where(SOURCE.c.request_id == request_id)
        ).scalars()
    )
    seen: set[int] = set()
    marked: list[int] = []
    while frontier:
        seen |= frontier
        for chunk in batched(sorted(frontier)):
            newly = session.execute(
                update(REPORT)
                .where(REPORT.c.id.in_(chunk), REPORT.c.stale.is_(False))
                .values(stale=True, stale_since=now)
                .returning(REPORT.c.id)
            ).scalars().all()
            _audit(session, newly, "stale", "current", "stale", why, actor, now)
            marked.extend(newly)
        frontier = {
            row
            for chunk in batched(sorted(frontier))
            for row in session.execute(
                sa_select(SOURCE.c.compiled_id).where(SOURCE.c.source_id.in_(chunk))
            ).scalars()
        } - seen
    for obj in list(session.identity_map.values()):  # loaded reports must show the flag
        if isinstance(obj, Report) and obj.id in seen:
            session.expire(obj)
    return sorted(marked)


@dataclass(frozen=True)
class Recompiled:
    plan_id: int
    kind: ReportKind
    period: str
    report_id: int


def reaggregate_stale(session: Session, *, actor: str) -> list[Recompiled]:
    """Compile again every stale compiled report, deepest first (each from what its children
    compiled: ``only_top``); a report under a cancelled plan stays stale."""
    stale = session.execute(
        sa_select(REPORT.c.id, REPORT.c.plan_id, REPORT.c.kind, REPORT.c.period)
        .join(PLAN, PLAN.c.id == REPORT.c.plan_id)
        .where(REPORT.c.consolidated.is_(True), REPORT.c.stale.is_(True))
        .order_by(PLAN.c.depth.desc(), REPORT.c.id)
    ).all()
    done = []
    for report_id, plan_id, kind, period in stale:
        try:
            aggregate_period(
                session=session,
                plan_id=plan_id,
                kind=ReportKind(kind),
                period=period,
                actor=actor,
                only_top=True,
            )
        except IllegalTransition:
            continue
        done.append(Recompiled(plan_id, ReportKind(kind), period, report_id))
    return done


def _consolidated(
    session: Session, plan_ids: list[int], kind: ReportKind, period: str
) -> list[Report]:
    """The consolidated reports of these plans for one period."""
    return _chunked(
        session,
        lambda c: select(Report).where(
            col(Report.plan_id).in_(c),
            Report.consolidated,
            Report.kind == kind,
            Report.period == period,
        ),
        plan_ids,
    )


def _chunked(session: Session, build: Callable[[list[int]], Any], ids: Iterable[int]) -> list:
    """ORM rows of a query built per batch of ids (SQLite caps bound parameters)."""
    return [row for chunk in batched(list(ids)) for row in session.exec(build(chunk)).all()]


def _rows(session: Session, build: Callable[[list[int]], Any], ids: Iterable[int]) -> list:
    """Plain column rows of a query built per batch of ids."""
    return [row for chunk in batched(list(ids)) for row in session.execute(build(chunk)).all()]


def assess(indicator: Indicator, numbers: dict[str, int | None], year: int) -> FigureRow:
    """One compiled indicator with its value and whether it meets the target for ``year``."""
    value: float | None = None
    if indicator.kind == IndicatorKind.ratio:
        num, den = numbers.get("numerator"), numbers.get("denominator")
        if num is not None and den:
            value = round(num * indicator.scale / den, 2)
    else:
        value = numbers.get("total")
    target = target_for(indicator, year)
    if target is None:
        status = "no target"
    elif value is None:
        status = "cannot be assessed"
    elif indicator.target_op == "le":
        status = "met" if value <= target else "not met"
    else:
        status = "met" if value >= target else "not met"
    return FigureRow(
        code=indicator.code,
        name=indicator.name,
        kind=indicator.kind,
        value=value,
        target=target,
        status=status,
        **{k: numbers.get(k) for k in NUMBERS},
    )


def compiled_figures(
    session: Session, *, plan_id: int, kind: ReportKind, period: str
) -> tuple[Report | None, list[FigureRow]]:
    """The consolidated report of one plan's issuer and its figures against the targets."""
    get_plan(session, plan_id)  # NotFound for an unknown plan
    found = _consolidated(session, [plan_id], kind, period)
    report = found[0] if found else None
    values = {}
    if report is not None:
        for v in session.exec(select(IndicatorValue).where(IndicatorValue.report_id == report.id)):
            values[v.indicator_code] = {k: getattr(v, k) for k in NUMBERS}
    year = int(period[:4])
    rows = [assess(ind, values.get(code, {}), year) for code, ind in indicators(session).items()]
    return report, rows
