"""Aggregating one period of a plan tree bottom-up: ward → district → city.

Each compiling committee's consolidated report = its own submitted figures + the submissions of
the agencies under its plan + the consolidated reports of its child committees (or their plain
submission where they compile nothing). Counts are summed; a ratio is re-computed from summed
numerators and denominators, never averaged; "not reported" (None) stays distinct from zero.
The children move to ``aggregated`` in the transaction that writes the consolidated report.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import delete, func, insert
from sqlmodel import Session, select

from planflow.models import (
    Indicator,
    IndicatorKind,
    IndicatorValue,
    OrgUnit,
    Plan,
    Report,
    ReportKind,
    ReportRequest,
    State,
    UnitKind,
)
from planflow.models.time import utcnow
from planflow.services.catalogue import indicators, target_for
from planflow.services.plans import get_plan
from planflow.states import IllegalTransition, fire_many

NUMBERS = ("male", "female", "total", "numerator", "denominator")
DONE = (State.submitted, State.aggregated)
EXPECTED = (State.issued, State.acknowledged, State.submitted, State.aggregated)


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
    plan_id: int
    kind: ReportKind
    period: str
    nodes: list[Completeness] = field(default_factory=list)
    aggregated: int = 0
    reports_written: int = 0
    values_written: int = 0


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
    top = get_plan(session, plan_id)
    # a cancelled plan is not compiled; a sub-plan cancelled because its unit ended (1/7/2025)
    # still compiles what was owed under it before: the period's tree is the one of its deadline
    if top.status == State.cancelled and top.parent_id is None:
        raise IllegalTransition(f"kế hoạch {plan_id} đã bị hủy: không tổng hợp báo cáo")
    tree_plans = session.exec(
        select(Plan).where((Plan.root_id == top.tree_id) | (Plan.id == top.tree_id))
    ).all()
    by_id = {p.id: p for p in tree_plans}
    wanted = {top.id} if only_top else _descendants(by_id, top.id)
    compiling = set(
        session.exec(
            select(ReportRequest.plan_id)
            .where(
                ReportRequest.plan_id.in_(list(wanted)),
                ReportRequest.kind == kind,
                ReportRequest.period == period,
                ReportRequest.status != State.cancelled,
            )
            .distinct()
        ).all()
    )
    result = AggregationResult(plan_id=plan_id, kind=kind, period=period)
    depths = sorted({by_id[p].depth for p in compiling}, reverse=True)
    for depth in depths:
        level = [by_id[p] for p in sorted(compiling) if by_id[p].depth == depth]
        _aggregate_level(session, level, by_id, kind, period, actor, result)
    session.flush()
    return result


def _descendants(by_id: dict[int, Plan], top_id: int) -> set[int]:
    children: dict[int | None, list[int]] = defaultdict(list)
    for plan in by_id.values():
        children[plan.parent_id].append(plan.id)
    found, stack = set(), [top_id]
    while stack:
        current = stack.pop()
        found.add(current)
        stack.extend(children.get(current, []))
    return found


def _aggregate_level(
    session: Session,
    plans: list[Plan],
    by_id: dict[int, Plan],
    kind: ReportKind,
    period: str,
    actor: str,
    result: AggregationResult,
) -> None:
    """Compile every plan of one depth at once: completeness from the requests, figures as
    SQL sums of the direct submissions plus the child committees' consolidated reports."""
    plan_ids = [p.id for p in plans]
    level_ids = set(plan_ids)
    requests = _rows(
        session,
        lambda c: select(
            ReportRequest.id,
            ReportRequest.plan_id,
            ReportRequest.unit_id,
            ReportRequest.status,
            ReportRequest.late,
            ReportRequest.origins,
        ).where(
            ReportRequest.plan_id.in_(c),
            ReportRequest.kind == kind,
            ReportRequest.period == period,
        ),
        plan_ids,
    )
    origins = {o for r in requests for o in (r.origins or [])}
    labels = _labels(
        session, {r.unit_id for r in requests} | {p.issuer_id for p in plans} | origins
    )
    # child committees that compiled their own subtree: counted through that report instead
    child_plan_ids = [p.id for p in by_id.values() if p.parent_id in level_ids]
    compiled_children = _rows(
        session,
        lambda c: select(Report.id, Report.plan_id, Report.unit_id).where(
            Report.plan_id.in_(c),
            Report.consolidated,
            Report.kind == kind,
            Report.period == period,
        ),
        child_plan_ids,
    )
    sources: dict[int, list[int]] = defaultdict(list)
    for report_id, child_plan, _unit in compiled_children:
        sources[by_id[child_plan].parent_id].append(report_id)
    compiled_units = [unit for _, _, unit in compiled_children]
    # own figures: the issuer's submission on the parent plan
    issuer_of = {p.issuer_id: p.id for p in plans if p.parent_id}
    for report_id, unit_id in _rows(
        session,
        lambda c: select(Report.id, Report.unit_id)
        .join(ReportRequest, ReportRequest.id == Report.request_id)
        .where(
            Report.plan_id.in_(c),
            ~Report.consolidated,
            Report.kind == kind,
            Report.period == period,
            Report.unit_id.in_(list(issuer_of)),
            ReportRequest.status.in_(list(DONE)),
        ),
        list({p.parent_id for p in plans if p.parent_id}),
    ):
        sources[issuer_of[unit_id]].append(report_id)
    completeness: dict[int, Completeness] = {
        p.id: Completeness(unit_id=p.issuer_id, unit=labels[p.issuer_id][1], plan_id=p.id)
        for p in plans
    }
    to_aggregate: list[int] = []
    for request_id, plan_id, unit_id, status, late, moved_from in sorted(
        requests, key=lambda r: labels[r.unit_id][0]
    ):
        if status not in EXPECTED:
            continue
        node = completeness[plan_id]
        node.expected += 1
        if moved_from:  # carried over from units that ended (1/7/2025)
            node.moved[labels[unit_id][1]] = [labels[o][1] for o in moved_from if o in labels]
        if status in DONE:
            if late:
                node.late += 1
                node.late_units.append(labels[unit_id][1])
            else:
                node.on_time += 1
            if status == State.submitted:
                to_aggregate.append(request_id)
        else:
            node.missing += 1
            node.missing_units.append(labels[unit_id][1])
    sums = _sum_direct(session, plan_ids, kind, period, compiled_units)
    _add_reports(session, sources, sums)
    _write_consolidated(session, plans, kind, period, completeness, sums, result)
    result.aggregated += len(fire_many(session, ReportRequest, to_aggregate, "aggregate", actor=actor))
    result.nodes.extend(completeness[p.id] for p in plans)


def _labels(session: Session, unit_ids: set[int]) -> dict[int, tuple[str, str]]:
    """unit id → (code for ordering, the name documents use)."""
    out = {}
    for uid, code, name, kind in _rows(
        session,
        lambda c: select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.kind).where(
            OrgUnit.id.in_(c)
        ),
        unit_ids,
    ):
        out[uid] = (code, f"UBND {name}" if kind == UnitKind.committee else name)
    return out


def _sum_direct(
    session: Session, plan_ids: list[int], kind: ReportKind, period: str, skip_units: list[int]
) -> dict[int, dict[str, list[int | None]]]:
    """Per plan and indicator, SQL sums of the submitted reports on that plan, leaving out the
    units in ``skip_units`` (they count through their consolidated report)."""
    sums: dict[int, dict[str, list[int | None]]] = defaultdict(dict)
    columns = [getattr(IndicatorValue, n) for n in NUMBERS]
    for start in range(0, len(plan_ids), 500):
        chunk = plan_ids[start : start + 500]
        query = (
            select(Report.plan_id, IndicatorValue.indicator_code, *map(func.sum, columns))
            .join(IndicatorValue, IndicatorValue.report_id == Report.id)
            .join(ReportRequest, ReportRequest.id == Report.request_id)
            .where(
                Report.plan_id.in_(chunk),
                ~Report.consolidated,
                Report.kind == kind,
                Report.period == period,
                ReportRequest.status.in_(list(DONE)),
            )
            .group_by(Report.plan_id, IndicatorValue.indicator_code)
        )
        if skip_units:
            query = query.where(Report.unit_id.not_in(skip_units))
        for plan_id, code, *numbers in session.execute(query).all():
            sums[plan_id][code] = [None if n is None else int(n) for n in numbers]
    return sums


def _add_reports(
    session: Session,
    sources: dict[int, list[int]],
    sums: dict[int, dict[str, list[int | None]]],
) -> None:
    """Add whole reports (own submissions, children's consolidated reports) to the sums."""
    owner: dict[int, list[int]] = defaultdict(list)
    for plan_id, report_ids in sources.items():
        for report_id in report_ids:
            owner[report_id].append(plan_id)
    for report_id, code, *numbers in _rows(
        session,
        lambda c: select(
            IndicatorValue.report_id,
            IndicatorValue.indicator_code,
            *(getattr(IndicatorValue, n) for n in NUMBERS),
        ).where(IndicatorValue.report_id.in_(c)),
        owner,
    ):
        for plan_id in owner[report_id]:
            acc = sums[plan_id].setdefault(code, [None] * len(NUMBERS))
            for i, value in enumerate(numbers):
                if value is not None:
                    acc[i] = value if acc[i] is None else acc[i] + value


def _write_consolidated(
    session: Session,
    plans: list[Plan],
    kind: ReportKind,
    period: str,
    completeness: dict[int, Completeness],
    sums: dict[int, dict[str, list[int | None]]],
    result: AggregationResult,
) -> None:
    plan_ids = [p.id for p in plans]
    existing = {r.plan_id: r for r in _consolidated(session, plan_ids, kind, period)}
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
        session.execute(insert(Report.__table__), new_rows)
    for plan_id, report in existing.items():
        report.completeness = completeness[plan_id].as_dict()
        report.updated_at = now
        session.add(report)
    session.flush()
    report_ids = {r.plan_id: r.id for r in _consolidated(session, plan_ids, kind, period)}
    ids = list(report_ids.values())
    for start in range(0, len(ids), 900):
        session.execute(
            delete(IndicatorValue).where(IndicatorValue.report_id.in_(ids[start : start + 900]))
        )
    values = [
        {"report_id": report_ids[plan_id], "indicator_code": code, **dict(zip(NUMBERS, acc))}
        for plan_id, per_code in sums.items()
        for code, acc in per_code.items()
    ]
    for start in range(0, len(values), 5000):  # Core insert: one executemany, not per-row ORM
        session.execute(insert(IndicatorValue.__table__), values[start : start + 5000])
    result.reports_written += len(plans)
    result.values_written += len(values)


def _consolidated(
    session: Session, plan_ids: list[int], kind: ReportKind, period: str
) -> list[Report]:
    """The consolidated reports of these plans for one period."""
    return _chunked(
        session,
        lambda c: select(Report).where(
            Report.plan_id.in_(c),
            Report.consolidated,
            Report.kind == kind,
            Report.period == period,
        ),
        plan_ids,
    )


def _chunked(session: Session, build, ids, size: int = 900) -> list:
    """ORM rows of a query built per chunk of ids (SQLite caps bound parameters)."""
    ids = list(ids)
    out: list = []
    for start in range(0, len(ids), size):
        out.extend(session.exec(build(ids[start : start + size])).all())
    return out


def _rows(session: Session, build, ids, size: int = 900) -> list:
    """Plain column rows of a query built per chunk of ids."""
    ids = list(ids)
    out: list = []
    for start in range(0, len(ids), size):
        out.extend(session.execute(build(ids[start : start + size])).all())
    return out


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
