"""The figures form: built from the indicator catalogue, read back into ``submit_report``'s
input, and its problems put beside their fields in Vietnamese."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from planflow.errors import Problem
from planflow.models import Indicator, IndicatorKind, IndicatorValue

NARRATIVE = (
    ("results", "Kết quả nổi bật"),
    ("difficulties", "Khó khăn, vướng mắc"),
    ("proposals", "Đề xuất, kiến nghị"),
)
# Nữ before Nam, as the statistics forms print them; Tổng last, computed when left blank
INPUTS: dict[IndicatorKind, tuple[tuple[str, str], ...]] = {
    IndicatorKind.count: (("total", "Số lượng"),),
    IndicatorKind.by_sex: (("female", "Nữ"), ("male", "Nam"), ("total", "Tổng")),
    IndicatorKind.ratio: (("numerator", "Tử số"), ("denominator", "Mẫu số")),
}


@dataclass
class Row:
    """One indicator of the form, with what was typed and the problems of each field."""

    indicator: Indicator
    inputs: list[tuple[str, str, str]]  # (field, label, value typed)
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"f.{self.indicator.code}"


def blank_values(indicators: Iterable[Indicator]) -> dict[str, dict[str, str]]:
    return {i.code: {} for i in indicators}


def stored_values(values: Iterable[IndicatorValue]) -> dict[str, dict[str, str]]:
    """What a unit sent before, as the form shows it (a returned report is edited from it)."""
    out: dict[str, dict[str, str]] = {}
    for v in values:
        out[v.indicator_code] = {
            k: str(getattr(v, k))
            for k in ("male", "female", "total", "numerator", "denominator")
            if getattr(v, k) is not None
        }
    return out


def rows(
    indicators: Mapping[str, Indicator],
    typed: Mapping[str, Mapping[str, str]],
    problems: Iterable[Problem] = (),
) -> tuple[list[Row], list[str]]:
    """The form's rows, and the problems that belong to no field of the form."""
    out = []
    by_code: dict[str, Row] = {}
    for code, indicator in indicators.items():
        labels = INPUTS[IndicatorKind(indicator.kind)]
        if indicator.kind == IndicatorKind.ratio:
            labels = (
                ("numerator", indicator.numerator_label or "Tử số"),
                ("denominator", indicator.denominator_label or "Mẫu số"),
            )
        entered = typed.get(code, {})
        row = Row(indicator, [(f, label, entered.get(f, "")) for f, label in labels])
        out.append(row)
        by_code[code] = row
    general: list[str] = []
    for problem in problems:
        text = vietnamese(problem)
        place = problem.at or problem.field
        where = place.removeprefix("figures.")
        code, _, key = where.rpartition(".")  # codes may hold dots: NQ28-1.2
        if where in by_code:
            code, key = where, "_"
        target = by_code.get(code) if place.startswith("figures.") else None
        if target is None:
            general.append(text)
            continue
        if key not in {f for f, _, _ in target.inputs}:
            key = "_"
        target.errors.setdefault(key, []).append(text)
    return out, general


def read(form: Mapping[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[str, str], dict]:
    """The posted form as ``submit_report``'s figures and narrative, and what was typed.

    A blank field is 'not reported' (None); an indicator with every field blank is left out.
    Digits become numbers; anything else is passed on as typed, for validation to refuse.
    """
    typed: dict[str, dict[str, str]] = {}
    for key, value in form.items():
        if not key.startswith("f.") or not isinstance(value, str):
            continue
        code, _, name = key[2:].rpartition(".")  # codes may hold dots: NQ28-1.2
        if code and name:
            typed.setdefault(code, {})[name] = value.strip()
    figures: dict[str, dict[str, Any]] = {}
    for code, fields in typed.items():
        if not any(fields.values()):
            continue
        figures[code] = {k: _number(v) for k, v in fields.items()}
    narrative = {}
    for key, _ in NARRATIVE:
        text = form.get(f"n.{key}")
        if isinstance(text, str) and text.strip():
            narrative[key] = text.strip()
    return figures, narrative, typed


def _number(text: str) -> Any:
    if text == "":
        return None
    if text.isdigit() or (text.startswith("-") and text[1:].isdigit()):
        return int(text)
    return text


def vietnamese(problem: Problem) -> str:
    """What a unit reads beside a field: the rule in Vietnamese, with the figures it saw."""
    f = problem.facts
    texts = {
        "unknown_indicator": "Chỉ tiêu không có trong danh mục.",
        "not_fields": "Chỉ tiêu này cần nhập theo từng ô.",
        "not_a_field": "Ô này không thuộc chỉ tiêu.",
        "not_whole": f"Phải là số nguyên không âm, không có dấu chấm hay dấu phẩy "
        f"(đã nhập «{f.get('value')}»).",
        "negative": f"Không được là số âm (đã nhập {f.get('value')}).",
        "pair_sex": "Nhập cả số nữ và số nam, hoặc để trống cả hai.",
        "total_without_parts": f"Có tổng {f.get('total')} nhưng chưa nhập số nữ và số nam.",
        "pair_ratio": "Nhập cả tử số và mẫu số, hoặc để trống cả hai.",
        "unit_mismatch": "Biểu mẫu của đơn vị khác.",
        "period_mismatch": "Biểu mẫu của kỳ báo cáo khác.",
    }
    if problem.code == "sum_mismatch":
        return (
            f"Nữ {f['female']} + Nam {f['male']} = {f['female'] + f['male']}, "
            f"không bằng Tổng {f['total']}. Sửa số liệu hoặc để trống ô Tổng để tự tính."
        )
    if problem.code == "above_maximum":  # already written in Vietnamese by the service
        return f"{problem.rule.capitalize()}."
    if problem.code == "num_exceeds_den":
        return f"Tử số {f['numerator']} lớn hơn mẫu số {f['denominator']}."
    return texts.get(problem.code or "", "Giá trị không hợp lệ.")
