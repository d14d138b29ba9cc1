"""A committee's compiled report as a ``Document``: who reported (on time, late, missing)
per compiling committee, and the indicator table against the national targets."""

from __future__ import annotations

from sqlmodel import Session, col, select

from planflow.documents.writing import charts
from planflow.documents.writing.render_model import (
    TOPIC,
    Document,
    Header,
    Para,
    Signature,
    Table,
    committee_name,
    date_line,
    in_sentence,
    issuer_lines,
    number_line,
    numbered,
    period_text,
    place_of,
    prose_label,
)
from planflow.models import Indicator, OrgUnit, Plan, Report, ReportKind
from planflow.models.base import must_get
from planflow.services.aggregation import FigureRow, compiled_figures
from planflow.services.catalogue import indicators
from planflow.services.plans import get_plan
from planflow.states import NotFound
from planflow.vntext import kind_vi, uncap, vn_date, vn_int, vn_number

STATUS_VI = {
    "met": "Đạt",
    "not met": "Chưa đạt",
    "cannot be assessed": "Không đánh giá được",
    "no target": "–",
}


def report_document(session: Session, plan_id: int, kind: ReportKind, period: str) -> Document:
    """A committee's compiled report for one period: who reported, and the indicator table."""
    kind = ReportKind(kind)
    plan = get_plan(session, plan_id)
    report, figures = compiled_figures(session, plan_id=plan_id, kind=kind, period=period)
    if report is None:
        raise NotFound(
            f"kế hoạch {plan_id} chưa có {kind_vi(kind)} tổng hợp kỳ "
            f"{period}: hãy tổng hợp kỳ này trước (planflow report aggregate)"
        )
    issuer = must_get(session, OrgUnit, plan.issuer_id)
    parent = session.get(Plan, plan.parent_id) if plan.parent_id else None
    when = period_text(kind, period)
    doc = Document(
        stem=f"plan-{plan.id}-{kind.value.replace('_', '-')}-{period}",
        header=Header(
            issuer_lines=issuer_lines(issuer, None),
            number_line=number_line(None, "BC-UBND"),
            place_date=date_line(plan.place or place_of(issuer), None, int(period[:4])),
        ),
        doc_type="BÁO CÁO",
        title=f"Kết quả {TOPIC} {when}",
    )
    source = f"Kế hoạch số {plan.number}" if plan.number else "Kế hoạch"
    if plan.issued_on:
        source += f" ngày {vn_date(plan.issued_on)}"
    doc.body.append(
        Para(
            "text",
            (
                f"Thực hiện {source} của {committee_name(issuer)} về {uncap(plan.title)}, "
                f"{committee_name(issuer)} báo cáo kết quả {TOPIC} {when} như sau:"
            ),
        )
    )
    if report.stale:
        doc.body.append(
            Para(
                "note",
                "Lưu ý: số liệu tổng hợp này chưa cập nhật — một báo cáo đã được tính vào bị trả "
                "lại sau khi tổng hợp; lượt rà soát hằng ngày sẽ tổng hợp lại.",
            )
        )
    nodes, counts = _completeness_rows(session, plan, report, kind, period)
    doc.body.append(Para("part", "I. TÌNH HÌNH BÁO CÁO CỦA CÁC ĐƠN VỊ"))
    total = nodes[-1]
    doc.body.append(
        Para(
            "text",
            (
                f"Tổng số báo cáo phải nộp: {total[2]}; đúng hạn: {total[3]}; muộn: {total[4]}; "
                f"chưa nộp: {total[5]}."
            ),
        )
    )
    doc.body.append(
        Table(
            columns=(
                "TT",
                "Nơi tổng hợp",
                "Phải nộp",
                "Đúng hạn",
                "Muộn",
                "Chưa nộp",
                "Đơn vị chưa nộp, nộp muộn",
            ),
            rows=tuple(nodes),
            widths=(0.9, 3.6, 1.6, 1.6, 1.6, 1.6, 5.6),
            align=("c", "l", "r", "r", "r", "r", "l"),
            total_row=True,
        )
    )
    chart = charts.completeness_chart(counts)
    if chart is not None:
        doc.body.append(chart)
    doc.body.append(Para("part", "II. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU"))
    catalogue = indicators(session)
    doc.body.append(
        Table(
            columns=(
                "Mã",
                "Chỉ tiêu",
                "Nữ",
                "Nam",
                "Tổng số / Tử số, mẫu số",
                "Giá trị",
                "Mục tiêu",
                "Đánh giá",
            ),
            rows=tuple(_figure_row(f, catalogue.get(f.code)) for f in figures),
            widths=(2.3, 3.8, 1.5, 1.5, 2.3, 1.6, 1.5, 2.0),
            align=("l", "l", "r", "r", "r", "r", "c", "c"),
        )
    )
    chart = charts.indicator_chart(
        [
            charts.Indicator(
                f.code, f.value, f.target, {"met": True, "not met": False}.get(f.status)
            )
            for f in figures
            if f.value is not None and f.target is not None
        ]
    )
    if chart is not None:
        doc.body.append(chart)
    doc.body.append(
        Para(
            "note",
            (
                "Ghi chú: “–” là chưa có số liệu (khác với số 0). "
                "Các tỷ lệ được tính lại từ tổng tử số và tổng mẫu số của các đơn vị, "
                "không lấy trung bình các tỷ lệ. Mục tiêu theo "
                "Nghị quyết số 28/NQ-CP ngày 03/3/2021 của Chính phủ."
            ),
        )
    )
    narrative = {k: v for k, v in (report.narrative or {}).items() if v and v.strip()}
    if narrative:
        doc.body.append(Para("part", "III. ĐÁNH GIÁ CHUNG"))
        for key, text in narrative.items():
            doc.body.append(Para("heading", NARRATIVE_TITLES.get(key, key)))
            doc.body.extend(Para("text", p) for p in text.splitlines() if p.strip())
    recipients = []
    if parent is not None:
        above = must_get(session, OrgUnit, parent.standing_agency_id or parent.issuer_id)
        recipients.append(f"{above.name} (để b/cáo)")
    recipients.append(f"Chủ tịch, các Phó Chủ tịch UBND {in_sentence(issuer.name)}")
    if plan.standing_agency_id:
        recipients.append(_agency_on_deadline(session, plan, kind, period).name)
    recipients.append("Lưu: VT")
    doc.recipients = numbered(recipients)
    block = plan.signature_block or "TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"
    doc.signature = Signature(tuple(block.splitlines()), "")
    return doc


NARRATIVE_TITLES = {
    "results": "Kết quả nổi bật",
    "difficulties": "Khó khăn, vướng mắc",
    "proposals": "Đề xuất, kiến nghị",
}


def _agency_on_deadline(session: Session, plan: Plan, kind: ReportKind, period: str) -> OrgUnit:
    """The standing agency valid on the period's deadline: a report due 30/5/2025 went to Sở
    Nội vụ, though the plan was issued in January for Sở LĐTBXH."""
    from planflow.models import PlanDeadline
    from planflow.services.succession import unit_on

    agency_id = plan.standing_agency_id or plan.issuer_id
    due = session.exec(
        select(col(PlanDeadline.due_on)).where(
            col(PlanDeadline.plan_id) == plan.id,
            col(PlanDeadline.kind) == kind,
            col(PlanDeadline.period) == period,
        )
    ).first()
    return must_get(session, OrgUnit, unit_on(session, agency_id, due) if due else agency_id)


def _completeness_rows(
    session: Session, plan: Plan, report: Report, kind: ReportKind, period: str
) -> tuple[list[tuple[str, ...]], list[charts.Completeness]]:
    """The issuer's own row (units reporting to it directly), one per child committee that
    compiled the period, and a total row; and the same counts for the chart (no total)."""
    children = session.exec(
        select(Report, OrgUnit)
        .join(Plan, col(Plan.id) == col(Report.plan_id))
        .join(OrgUnit, col(OrgUnit.id) == col(Report.unit_id))
        .where(
            Plan.parent_id == plan.id,
            Report.consolidated,
            Report.kind == kind,
            Report.period == period,
        )
        .order_by(OrgUnit.code)
    ).all()
    agency = _agency_on_deadline(session, plan, kind, period)
    direct = f"Báo cáo trực tiếp về {agency.short_name or agency.name}"
    nodes = [(direct, report.completeness or {})]
    nodes += [  # a child whose sub-plan is not issued yet expects nothing: no row
        (prose_label(unit.label), child.completeness or {})
        for child, unit in children
        if (child.completeness or {}).get("expected")
    ]
    rows: list[tuple[str, ...]] = []
    bars: list[charts.Completeness] = []
    sums = [0, 0, 0, 0]
    for n, (label, c) in enumerate(nodes, start=1):
        counts = [c.get(k, 0) for k in ("expected", "on_time", "late", "missing")]
        bars.append(charts.Completeness(label, *counts[1:]))
        sums = [a + b for a, b in zip(sums, counts, strict=True)]
        who = []
        for title, key in (("Chưa nộp", "missing_units"), ("Nộp muộn", "late_units")):
            if c.get(key):
                who.append(f"{title}: " + ", ".join(map(prose_label, c[key])) + ".")
        if c.get("moved"):  # requests carried over from units that ended (1/7/2025)
            who.append(
                "Sau sắp xếp đơn vị hành chính: "
                + "; ".join(
                    f"{prose_label(unit)} (chuyển từ {', '.join(map(prose_label, olds))})"
                    for unit, olds in sorted(c["moved"].items())
                )
                + "."
            )
        rows.append((str(n), label, *(vn_int(x) for x in counts), " ".join(who)))
    rows.append(("", "Tổng cộng", *(vn_int(x) for x in sums), ""))
    return rows, bars


def _figure_row(f: FigureRow, indicator: Indicator | None) -> tuple[str, ...]:
    unit = indicator.unit if indicator else ""
    ratio = f.kind == "ratio"
    if ratio:
        amount = (
            "–"
            if f.numerator is None and f.denominator is None
            else f"{vn_int(f.numerator)} / {vn_int(f.denominator)}"
        )
    else:
        amount = vn_int(f.total)
    suffix = "%" if unit == "%" else ""
    value = vn_number(f.value) + (suffix if f.value is not None else "")
    if not ratio and f.target is None:
        value = ""  # a plain count: its value is its total
    target = ""
    if f.target is not None:
        op = "≤" if indicator is not None and indicator.target_op == "le" else "≥"
        target = f"{op}\u00a0{vn_number(f.target)}{suffix}"  # never broken after the sign
    female = "" if f.kind == "count" or ratio else vn_int(f.female)
    male = "" if f.kind == "count" or ratio else vn_int(f.male)
    return (f.code, f.name, female, male, amount, value, target or "–", STATUS_VI[f.status])


__all__ = ["report_document"]
