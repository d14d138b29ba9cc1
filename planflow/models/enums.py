"""The vocabularies the tables use: levels, kinds, roles and lifecycle states."""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    """Administrative level of a committee (and of the agencies beside it)."""

    province = "province"  # tỉnh / thành phố trực thuộc trung ương
    district = "district"  # quận / huyện / thị xã / thành phố thuộc tỉnh
    ward = "ward"  # phường / xã / thị trấn


class UnitKind(StrEnum):
    """What sort of body a unit is; mass organisations are not subordinate."""

    committee = "committee"  # Ủy ban nhân dân
    agency = "agency"  # Sở (province) / Phòng (district)
    mass_org = "mass_org"  # Hội LHPN, MTTQ, đoàn thể


class PlanKind(StrEnum):
    plan = "plan"  # Kế hoạch (KH)
    programme = "programme"  # Chương trình (CTr)


class Role(StrEnum):
    lead = "lead"  # chủ trì
    coordinate = "coordinate"  # phối hợp


class ReportKind(StrEnum):
    sub_plan = "sub_plan"  # kế hoạch của đơn vị
    six_month = "six_month"  # báo cáo 6 tháng (sơ kết)
    annual = "annual"  # báo cáo năm (tổng kết)
    ad_hoc = "ad_hoc"  # báo cáo đột xuất


class State(StrEnum):
    """States shared by the plan and report lifecycles (DESIGN.md §4)."""

    drafted = "drafted"
    issued = "issued"
    acknowledged = "acknowledged"
    submitted = "submitted"
    aggregated = "aggregated"
    cancelled = "cancelled"


class IndicatorKind(StrEnum):
    count = "count"  # type: ignore[assignment]  # a plain count; str.count is shadowed
    by_sex = "by_sex"  # male / female / total
    ratio = "ratio"  # numerator / denominator


def period_for(kind: ReportKind, year: int) -> str:
    """The period label a report kind covers in a plan year: ``2025``, ``2025-H1``."""
    return f"{year}-H1" if kind == ReportKind.six_month else str(year)
