"""The first page of a plan: number and symbol, place and date, heading, title, issuer, and the
plan it implements ("Thực hiện Kế hoạch số … ngày … của …")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from planflow.documents.reading.phrases import before_verb
from planflow.documents.vntext import fold, is_upper_line, squash, title_case_area
from planflow.models.enums import PlanKind

_NUMBER = re.compile(r"(?:^|\s)Số\s*[:.]?\s*(\d*)\s*/\s*([A-Za-zĐđ][A-Za-zĐđ0-9&.\-]*)")
_DATE_LINE = re.compile(
    r"^(?P<place>[^,\d]{2,60}?)\s*,\s*ngày[\s.…_]*(?P<d>\d{1,2})?[\s.…_]*tháng[\s.…_]*"
    r"(?P<m>\d{1,2})?[\s.…_]*năm[\s.…_]*(?P<y>\d{4})",
    re.IGNORECASE,
)
_HEADINGS = {"ke hoach": PlanKind.plan, "chuong trinh": PlanKind.programme}
AREA_TYPES = r"(?:tỉnh|thành phố|quận|huyện|thị xã|phường|xã|thị trấn)"
COMMITTEE = r"(?:UBND|Ủy ban nhân dân|Uỷ ban nhân dân|ỦY BAN NHÂN DÂN|UỶ BAN NHÂN DÂN)"
_ISSUER_VERB = re.compile(
    rf"{COMMITTEE}\s+(?P<type>{AREA_TYPES})(?P<name>(?:\s+\S+){{0,4}}?)"
    r"\s+(?:ban hành|xây dựng|đề nghị|yêu cầu|giao|chỉ đạo)\b",
    re.IGNORECASE,
)
_PARENT = re.compile(
    r"(?P<verb>Thực hiện|Căn cứ|Triển khai)\s+(?P<what>Kế hoạch|Chương trình)(?:\s+hành động)?"
    r"\s+số\s+(?P<number>\d+\s*/\s*[A-Za-zĐđ][A-Za-zĐđ0-9&.\-]*)"
    r"(?:\s+ngày\s+(?P<date>\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{4}))?"
    r"(?:\s+của\s+(?P<issuer>.+))?",
    re.IGNORECASE,
)


@dataclass
class ParentRef:
    """The plan this one implements, as the preamble cites it."""

    number: str
    date: date | None
    issuer: str | None


def find_heading(lines: list[str]) -> tuple[int | None, PlanKind | None]:
    """Where the "KẾ HOẠCH" / "CHƯƠNG TRÌNH" heading is, and the kind it names."""
    for i, line in enumerate(lines[:80]):
        if not is_upper_line(line):
            continue
        folded = fold(line).strip(" .:")
        for word, kind in _HEADINGS.items():
            if folded == word or (folded.startswith(word + " ") and len(folded) < 60):
                return i, kind
    return None, None


def number_and_symbol(header: list[str]) -> tuple[str | None, str | None]:
    """ "Số: 70 /KH-UBND" -> ("70/KH-UBND", "KH-UBND"); a draft's "Số: /KH-UBND" -> (None, …)."""
    for line in header:
        match = _NUMBER.search(line)
        if match:
            digits, symbol = match.group(1), match.group(2).rstrip(".-")
            return (f"{int(digits)}/{symbol}" if digits else None), symbol
    return None, None


def place_and_date(header: list[str]) -> tuple[str | None, date | None, int | None]:
    """ "Hà Nội, ngày 20 tháng 02 năm 2020" -> (place, date, year); a draft's blank day and
    month give no date but still the year."""
    for line in header:
        match = _DATE_LINE.search(line)
        if not match:
            continue
        year = int(match.group("y"))
        issued = None
        if match.group("d") and match.group("m"):
            try:
                issued = date(year, int(match.group("m")), int(match.group("d")))
            except ValueError:
                issued = None
        return squash(match.group("place")), issued, year
    return None, None, None


def kind_of(symbol: str | None, from_heading: PlanKind | None) -> PlanKind:
    """Plan (KH) or programme (CTr), from the symbol first, else from the heading."""
    if symbol:
        head = fold(symbol.split("-")[0])
        if head.startswith("ctr"):
            return PlanKind.programme
        if head.startswith("kh"):
            return PlanKind.plan
    return from_heading or PlanKind.plan


def header_issuer(header: list[str]) -> str | None:
    """ "ỦY BAN NHÂN DÂN" + "TỈNH ĐẮK LẮK" (or on one line) -> "UBND tỉnh Đắk Lắk"."""
    upper = [
        line
        for line in header
        if is_upper_line(line) and not fold(line).startswith(("cong hoa", "doc lap", "so:"))
    ]
    for i, line in enumerate(upper):
        match = re.match(rf"^{COMMITTEE}\b\s*(.*)$", line, re.IGNORECASE)
        if not match:
            continue
        area = match.group(1).strip() or (upper[i + 1] if i + 1 < len(upper) else "")
        return f"UBND {title_case_area(area)}".strip() if area else None
    return None


def issuer_in(text: str) -> str | None:
    """ "… UBND quận Hà Đông xây dựng Kế hoạch …" -> "UBND quận Hà Đông"."""
    for match in _ISSUER_VERB.finditer(text):
        words = match.group("name").split()
        if all(w[:1].isupper() for w in words):
            return squash(f"UBND {match.group('type')} {' '.join(words)}")
    return None


def year_in(text: str) -> int | None:
    """The first "năm YYYY" in ``text``."""
    match = re.search(r"năm\s+(\d{4})", text)
    return int(match.group(1)) if match else None


def title_and_preamble(
    lines: list[str], heading_at: int | None, body_at: int
) -> tuple[list[str], list[str]]:
    """The title (the logical line after the heading) and the preamble up to part I."""
    if heading_at is None:
        return [], lines[:body_at]
    between = lines[heading_at + 1 : body_at]
    if not between:
        return [], []
    return between[:1], between[1:]


def parent_ref(preamble: str) -> ParentRef | None:
    """ "Thực hiện Kế hoạch số 39/KH-UBND ngày 29/01/2024 của UBND thành phố Hà Nội …"."""
    for match in _PARENT.finditer(preamble):
        when = None
        if match.group("date"):
            d, m, y = (int(x) for x in re.findall(r"\d+", match.group("date")))
            try:
                when = date(y, m, d)
            except ValueError:
                when = None
        issuer = _body_name(match.group("issuer") or "")
        number = re.sub(r"\s+", "", match.group("number"))
        return ParentRef(number=number, date=when, issuer=issuer)
    return None


def _body_name(text: str) -> str | None:
    """The issuing body at the start of ``text``: "UBND thành phố Hà Nội triển khai …" -> name."""
    text = re.sub(r"^(?:Ủy|Uỷ) ban nhân dân\b", "UBND", text.strip())
    text = re.split(r"[,;.(]|\s(?:về|năm|giai đoạn|trong|nhằm|với|theo)\s", text, maxsplit=1)[0]
    return squash(before_verb(text)) or None
