"""The first page of a plan: number and symbol, place and date, heading, title, issuer, and the
plan it implements ("Thực hiện Kế hoạch số … ngày … của …")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from planflow.documents.reading.phrases import before_verb
from planflow.models.enums import PlanKind
from planflow.vntext import fold, is_upper_line, squash, title_case_area

_NUMBER = re.compile(
    r"(?:^|\s)Số\s*[:.]?\s*(\d*)\s*/\s*(?:(\d{4})\s*/\s*)?([A-Za-zĐđ][A-Za-zĐđ0-9&.\-]*)"
)
# a number printed with its slash misplaced: "Số: 4155QĐ/ BTP" (4155/QĐ-BTP)
_NUMBER_MISPLACED = re.compile(
    r"(?:^|\s)Số\s*[:.]?\s*(\d+)\s*([A-ZĐ]{1,5})\s*/\s*([A-ZĐ][A-ZĐ0-9]*)\b"
)
_DATE_LINE = re.compile(
    r"^(?P<place>[^,\d]{2,60}?(?:\s\d{1,2})?)\s*,\s*ngày[\s.…_]*(?P<d>\d{1,2})?[\s.…_]*tháng[\s.…_]*"
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


def find_heading(lines: list[str], *, start: int = 0) -> tuple[int | None, PlanKind | None]:
    """Where the "KẾ HOẠCH" / "CHƯƠNG TRÌNH" heading is (within 80 lines of ``start``, or
    anywhere after a decision), and the kind it names."""
    stop = start + 80 if start == 0 else len(lines)
    for i in range(start, min(stop, len(lines))):
        line = lines[i]
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
        misplaced = _NUMBER_MISPLACED.search(line)
        if misplaced:
            digits, kind, body = misplaced.groups()
            return f"{int(digits)}/{kind}-{body}", f"{kind}-{body}"
        match = _NUMBER.search(line)
        if match:
            digits, year, symbol = match.group(1), match.group(2), match.group(3).rstrip(".-")
            middle = f"{year}/" if year else ""
            return (f"{int(digits)}/{middle}{symbol}" if digits else None), symbol
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


# the issuing body named under its parent in the header (Decree 30/2020: the parent body on the
# first line, the issuer on the second), or alone: a ministry, a department, a school
_BODY = r"(?:BỘ|SỞ|TRƯỜNG|PHÒNG|TRUNG\s+TÂM|BỆNH\s+VIỆN|CHI\s+CỤC|VĂN\s+PHÒNG)"
_BODY_LINE = re.compile(rf"^{_BODY}\s+(?!TRƯỞNG\b)\S")
_BODY_INSIDE = re.compile(rf"\s({_BODY}\s+(?!TRƯỞNG\b)\S.*)$")
_ACRONYM = re.compile(r"^[BCDĐGHKLMNPQRSTVX]{1,5}$")


def header_issuer(header: list[str], text: str = "") -> str | None:
    """ "ỦY BAN NHÂN DÂN" + "TỈNH ĐẮK LẮK" (or on one line) -> "UBND tỉnh Đắk Lắk"; a body under
    its committee ("UBND HUYỆN CẦN GIUỘC" / "TRƯỜNG MG PHƯỚC LÝ") or alone ("BỘ TƯ PHÁP") ->
    that body, spelled as the document's own text spells it (``text``)."""
    upper = [
        line
        for line in header
        if is_upper_line(line) and not fold(line).startswith(("cong hoa", "doc lap", "so:"))
    ]
    for i, line in enumerate(upper):
        match = re.match(rf"^{COMMITTEE}\b\s*(.*)$", line, re.IGNORECASE)
        if not match:
            if _BODY_LINE.match(line):
                return written_as(line, text)
            continue
        area = match.group(1).strip() or (upper[i + 1] if i + 1 < len(upper) else "")
        body = _BODY_INSIDE.search(area)
        if body:  # the body's line joined onto its committee's
            return written_as(body.group(1), text)
        below = upper[i + 1] if match.group(1).strip() and i + 1 < len(upper) else ""
        if _BODY_LINE.match(below):
            return written_as(below, text)
        return f"UBND {title_case_area(area)}".strip() if area else None
    return None


def written_as(name: str, text: str) -> str:
    """A name in capitals as the document writes it elsewhere in ordinary case ("TRƯỜNG MG
    PHƯỚC LÝ" -> "Trường MG Phước Lý"); else its first two words capitalised, the rest in
    lower case, acronyms ("MG") kept."""
    name = squash(name)
    pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in name.split()) + r"(?!\w)"
    for found in re.finditer(pattern, text, re.IGNORECASE):
        if not is_upper_line(found.group(0)):
            return squash(found.group(0))
    return " ".join(
        w if _ACRONYM.match(w) else (w.capitalize() if n < 2 else w.lower())
        for n, w in enumerate(name.split())
    )


_AREA_NAME = r"(?P<name>[^\s,;.()]+(?:\s+[^\s,;.()]+){0,3})"
_AREA_REF = re.compile(rf"(?:trên địa bàn|của|tại)\s+(?P<type>{AREA_TYPES})\s+{_AREA_NAME}")
_LEVEL = re.compile(rf"{COMMITTEE}\s+(?P<type>{AREA_TYPES})\b", re.IGNORECASE)
_BOARD = re.compile(
    r"^(?:TM\.\s*)?(?P<board>BAN\s+(?:VÌ\s+SỰ\s+TIẾN\s+BỘ(?:\s+CỦA)?\s+PHỤ\s+NỮ|CHỈ\s+ĐẠO\b.*))"
    rf"(?:\s+(?P<area>{AREA_TYPES.upper()}.*))?$"
)


def find_issuer(
    top: list[str],
    preamble: str,
    closing: str,
    place: str | None,
    symbol: str | None = None,
    text: str = "",
) -> tuple[str | None, str | None]:
    """Who issued the plan, and a warning when it is a guess.

    Read from the header ("ỦY BAN NHÂN DÂN / TỈNH ĐẮK LẮK", or a board under its committee:
    "UBND THÀNH PHỐ HÀ NỘI / BAN VÌ SỰ TIẾN BỘ CỦA PHỤ NỮ"), else from the preamble ("UBND
    quận Hà Đông xây dựng Kế hoạch"); a header whose issuer line lacks the area ("ỦY BAN NHÂN
    DÂN" alone, the province line lost) is completed from the document's own references ("trên
    địa bàn tỉnh Bạc Liêu") or the place line, with a warning."""
    board = _board_issuer(top)
    if board:
        return board, None
    found = header_issuer(top, text or preamble) or issuer_in(preamble) or issuer_in(closing)
    if found and (len(found.split()) > 2 or not found.startswith("UBND")):
        return found, None
    text = " ".join([*top, preamble])
    level = _LEVEL.search(text)
    area_type = level.group("type").lower() if level else None
    for ref in _AREA_REF.finditer(preamble):
        words = []
        for word in ref.group("name").split():
            if not word[:1].isupper():
                break
            words.append(word)
        if words and (area_type is None or ref.group("type").lower() == area_type):
            guess = squash(f"UBND {ref.group('type').lower()} {' '.join(words)}")
            return guess, (
                f"cơ quan ban hành: phần đầu không ghi địa bàn; lấy {guess!r} theo các văn bản "
                "được dẫn"
            )
    committee_symbol = bool(symbol) and fold(symbol or "").endswith("ubnd")
    if place and (found or level or committee_symbol):
        written_type = re.match(rf"^({AREA_TYPES})\s+(\S.*)$", place, re.IGNORECASE)
        if written_type:  # "Thành phố Hồ Chí Minh, ngày …"
            area_type, place = written_type.group(1).lower(), written_type.group(2)
        elif area_type is None and fold(place) in _CENTRAL_CITIES:
            area_type = "thành phố"
        guess = squash(f"UBND {area_type or 'tỉnh'} {place}")
        return guess, (
            f"cơ quan ban hành: phần đầu không ghi địa bàn; lấy {guess!r} theo dòng địa danh"
        )
    return found, ("cơ quan ban hành: văn bản không ghi cơ quan ban hành" if not found else None)


# the cities under the central government (thành phố trực thuộc trung ương): a committee of one
# is "UBND thành phố …", not "UBND tỉnh …" (Huế since 2025)
_CENTRAL_CITIES = frozenset(
    fold(name) for name in ("Hà Nội", "Hồ Chí Minh", "Hải Phòng", "Đà Nẵng", "Cần Thơ", "Huế")
)


def _board_issuer(top: list[str]) -> str | None:
    """ "BAN VÌ SỰ TIẾN BỘ CỦA PHỤ NỮ THÀNH PHỐ" under "UBND THÀNH PHỐ HÀ NỘI" -> "Ban Vì sự
    tiến bộ của phụ nữ thành phố Hà Nội"."""
    for i, line in enumerate(top):
        match = _BOARD.match(line) if is_upper_line(line) else None
        if not match:
            continue
        board = match.group("board")
        name = board[:4].title() + board[4:].lower()
        name = re.sub(r"^Ban vì", "Ban Vì", re.sub(r"^Ban chỉ", "Ban Chỉ", name))
        committee = header_issuer(top[:i])
        area = (
            committee.split(" ", 1)[1]
            if committee and " " in committee
            else title_case_area(match.group("area") or "")
        )
        return squash(f"{name} {area}")
    return None


def issuer_in(text: str) -> str | None:
    """ "… UBND quận Hà Đông xây dựng Kế hoạch …" -> "UBND quận Hà Đông"."""
    for match in _ISSUER_VERB.finditer(text):
        words = match.group("name").split()
        if all(w[:1].isupper() for w in words):
            return squash(f"UBND {match.group('type')} {' '.join(words)}")
    return None


def year_in(text: str) -> int | None:
    """The first "năm YYYY" (or "giai đoạn YYYY - …") in ``text``, in any case."""
    match = re.search(r"(?:năm|giai đoạn)\s+(\d{4})", text, re.IGNORECASE)
    return int(match.group(1)) if match else None


def title_and_preamble(
    lines: list[str], heading_at: int | None, body_at: int, *, preamble_from: int | None = None
) -> tuple[list[str], list[str]]:
    """The title (the capitals after the heading, over as many lines as they were wrapped
    onto) and the preamble up to part I."""
    if heading_at is None:
        return [], lines[preamble_from or 0 : body_at]
    title = upper_run(lines, heading_at + 1, body_at) or lines[heading_at + 1 : body_at][:1]
    rest = lines[heading_at + 1 + len(title) : body_at]
    return title, [x for x in rest if not _ATTACHED.match(x)]


_ATTACHED = re.compile(r"^\((?:Kèm|Ban hành kèm|Ban hành)\b", re.IGNORECASE)


def upper_run(lines: list[str], start: int, end: int) -> list[str]:
    """The lines in capitals (or without letters: "2021-2025") from ``start``: a wrapped title.
    The issuing authority's line of a decision ("ỦY BAN NHÂN DÂN TỈNH …") ends it."""
    run: list[str] = []
    for line in lines[start:end]:
        letters = any(ch.isalpha() for ch in line)
        if (letters and not is_upper_line(line)) or re.match(
            rf"^(?:CHỦ TỊCH\s+)?{COMMITTEE}\b|^(?:BỘ TRƯỞNG BỘ|GIÁM ĐỐC SỞ)\b"
            r"|^[IVX]{1,5}\s*[.:/]\s",
            line,
        ):
            break
        run.append(line)
    return run


_ISSUES = re.compile(
    r"^(?:V\s*Ề\s*V\s*IỆC\s*)?(?:V\s*Ề\s*)?(?:BAN\s*HÀNH|PHÊ\s*DUYỆT)\s*(?:KÈM\s*THEO\s*)?"
    r"(?P<what>K\s*Ế\s*H\s*OẠCH|CH\s*ƯƠNG\s*TRÌNH)\s*(?P<rest>.*)$"
)


def plan_of_decision(subject: str) -> tuple[PlanKind, str] | None:
    """ "BAN HÀNH KẾ HOẠCH THỰC HIỆN …" -> (plan, "THỰC HIỆN …"): what the decision issues."""
    match = _ISSUES.match(squash(subject).upper())
    if not match or not match.group("rest"):
        return None
    kind = PlanKind.programme if "TRÌNH" in match.group("what") else PlanKind.plan
    start = len(squash(subject)) - len(match.group("rest"))
    return kind, squash(subject)[start:].strip()


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
