"""The reporting regime (chế độ báo cáo): which report is due when, from whom, to whom.

Plans write it in prose, in several places: bullets after the closing paragraph ("Báo cáo … 06
tháng gửi trước ngày 30/5/2020"), one long sentence ("(cụ thể: Kế hoạch … trước ngày 15/02/2025;
báo cáo … 06 tháng trước ngày 30/5, báo cáo năm trước ngày 30/11) gửi về cơ quan Thường trực
(Sở …)"), or inside the standing agency's own block ("Tổng hợp báo cáo UBND quận, Sở …: kết quả
06 tháng (trước ngày 25/5/2024)"). Each "trước ngày <date>" is one deadline; the words just before
it say which report; the sentence (or the line that introduces its bullets) says who sends it
and to whom.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from planflow.documents.reading.phrases import (
    before_verb,
    mentions,
    starts_with_unit_word,
    unit_list_at,
)
from planflow.models.enums import ReportKind
from planflow.vntext import DATE_PATTERN, fold, parse_date, squash

_DUE = re.compile(
    rf"(?:trước|chậm nhất(?:\s+(?:là|vào))?|không muộn hơn|hạn chót(?:\s+là)?)\s+"
    rf"(?:ngày\s+)?(?P<date>{DATE_PATTERN})",
    re.IGNORECASE,
)
_SEND = re.compile(r"\b(?:gửi|nộp)\s+(?:(?:về|cho|đến|tới|lên)\s+)*", re.IGNORECASE)
_REPORT_TO = re.compile(r"\bbáo cáo\s+(?:(?:về|cho|lên)\s+)*", re.IGNORECASE)
_ADDRESS = re.compile(r"\b(?:đề nghị|yêu cầu)\s+", re.IGNORECASE)
_RECIPIENT_STOP = re.compile(
    r"\s+(?:để|tổng hợp|trước|theo|trong|chậm nhất|kèm|cụ thể|trên cơ sở|đúng|kết quả|như sau|qua)"
    r"\b|[;:.()]"
)
_ADDRESS_STOP = re.compile(r"\s+và\s+(?:yêu cầu|đề nghị)\b|[;:.(]")
_STANDING = ("co quan thuong truc", "thuong truc")
_ITEM = re.compile(r"^(?:[-+]\s+|\d{1,2}\s*[.)]\s+|[a-zđ]\s*\)\s+)")

_SIX_MONTH = re.compile(r"\b0?6 tháng\b|\bsáu tháng\b|\bsơ kết\b|\bnửa năm\b")
_NINE_MONTH = re.compile(r"\b0?9 tháng\b|\bchín tháng\b|\bquý\b")
_AD_HOC = re.compile(r"\bđột xuất\b")
_YEAR = re.compile(r"\bnăm\b|\btổng kết\b")
_REPORT = re.compile(r"\bbáo cáo\b|\bkết quả\b|\btổng kết\b")
_PLAN = re.compile(r"\bkế hoạch\b")


@dataclass
class TextBlock:
    """Lines that may state deadlines; ``owners`` are the units of the block they come from."""

    lines: list[str]
    owners: list[str]
    context: str


@dataclass
class ReportLine:
    """One deadline as written: the report, the date, the senders and the recipients."""

    report_kind: ReportKind
    due_on: date
    from_units: list[str]
    to_units: list[str]
    clause: str  # the words that named the report
    date_text: str = ""  # the date as written ("15/6", "15 tháng 6 năm 2024")
    year_written: bool = True  # False: the year is the plan's (or the next, for an annual report)


def extract_deadlines(
    texts: list[TextBlock], *, year: int | None
) -> tuple[list[ReportLine], list[str]]:
    """Every "trước ngày <date>" in ``texts`` as a report line; plus warnings for the rest."""
    found: list[ReportLine] = []
    warnings: list[str] = []
    seen: set[tuple] = set()
    for block in texts:
        lead = block.context
        for raw in block.lines:
            item = _ITEM.match(raw)  # a bullet or numbered item: its lead-in line is context
            text = raw[item.end() :] if item else raw
            for line in _lines_in(
                text, lead if item else block.context, block.owners, year, warnings
            ):
                key = (line.report_kind, line.due_on, tuple(line.to_units), tuple(line.from_units))
                if key not in seen:
                    seen.add(key)
                    found.append(line)
            if not item:
                lead = text
    return found, warnings


def _lines_in(
    text: str, lead: str, owners: list[str], year: int | None, warnings: list[str]
) -> list[ReportLine]:
    out: list[ReportLine] = []
    start = 0
    for match in _DUE.finditer(text):
        clause = _clause(text, start, match.start())
        start = match.end()
        kind = classify(clause)
        due, written = parse_date(match.group("date"), default_year=year)
        if due is None:
            warnings.append(f"hạn báo cáo không đọc được ngày: {squash(match.group(0))!r}")
            continue
        if kind is None:
            warnings.append(f"hạn của loại báo cáo chưa biết: {squash(clause)!r} {due}")
            continue
        if kind == ReportKind.annual and not written and due.month < 6:
            due = due.replace(year=due.year + 1)  # "báo cáo năm trước ngày 15/01": next January
        to_units = recipients_in(text) or recipients_in(lead)
        from_units = owners or senders_in(text) or senders_in(lead)
        out.append(
            ReportLine(
                report_kind=kind,
                due_on=due,
                from_units=from_units,
                to_units=to_units,
                clause=squash(clause),
                date_text=squash(match.group("date")),
                year_written=written,
            )
        )
    return out


def _clause(text: str, start: int, end: int) -> str:
    """The words that name the report: from the last ";" or ":" (or the previous date) to the
    date; the whole stretch when that names nothing ("Báo cáo 6 tháng: trước ngày …")."""
    piece = text[start:end]
    cut = max(piece.rfind(";"), piece.rfind(":"), piece.rfind(". "))
    near = piece[cut + 1 :].strip(" ,(") if cut >= 0 else piece.strip(" ,(")
    return near if classify(near) is not None else piece.strip(" ,(:;")


def classify(clause: str) -> ReportKind | None:
    """Which report a clause names: unit plan, six-month, annual, ad hoc; None if unclear."""
    low = clause.lower()
    if _SIX_MONTH.search(low):
        return ReportKind.six_month
    if _NINE_MONTH.search(low):
        return None
    if _AD_HOC.search(low):
        return ReportKind.ad_hoc
    if _PLAN.search(low) and not _REPORT.search(low):
        return ReportKind.sub_plan
    if _REPORT.search(low) and _YEAR.search(low):
        return ReportKind.annual
    return None


def recipients_in(text: str) -> list[str]:
    """Who receives: "gửi (về) <unit>[, <unit>]", else "báo cáo <unit>, <unit>:"."""
    for pattern in (_SEND, _REPORT_TO):
        for match in pattern.finditer(text):
            rest = text[match.end() :]
            if not starts_with_unit_word(rest) or fold(rest).startswith("cac "):
                continue
            named = _standing_agency(rest)
            if named:
                return [named]
            phrase = before_verb(_RECIPIENT_STOP.split(rest, maxsplit=1)[0])
            units = [m.text for m in mentions(phrase)]
            kept = []
            for unit in units:
                if not starts_with_unit_word(unit) or fold(unit).startswith("cac "):
                    break
                kept.append(unit)
            if kept:
                return kept
    return []


def _standing_agency(rest: str) -> str | None:
    """ "cơ quan Thường trực (Sở …)" names the agency in brackets."""
    folded = fold(rest)
    if not folded.startswith(_STANDING):
        return None
    opening = rest.find("(")
    closing = rest.find(")", opening + 1)
    if 0 <= opening < 120 and closing > opening:
        return squash(rest[opening + 1 : closing])
    return None


def senders_in(text: str) -> list[str]:
    """Who owes the report: the units a sentence "đề nghị"s or "yêu cầu"s, else its subject."""
    found: list[str] = []
    for match in _ADDRESS.finditer(text):
        rest = text[match.end() :]
        span = before_verb(_ADDRESS_STOP.split(rest, maxsplit=1)[0])
        if starts_with_unit_word(span):
            found.extend(m.text for m in mentions(span))
    return found or unit_list_at(text)
