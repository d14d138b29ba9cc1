"""Parse a plan's text into its parts: header, title, purpose, content, assignments, regime, tail.

Pure text in, plain data out; no database. The parser follows the layout every administrative
document has under Decree 30/2020/NĐ-CP (header with "Số: …/KH-…" and "<place>, ngày … tháng …
năm …", a "KẾ HOẠCH" or "CHƯƠNG TRÌNH" heading and title, parts numbered I, II, III …, sections
numbered 1, 2, 3 …, dash and plus bullets, the distribution list and the signature block); it
knows the usual wording of those parts, not any one plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from planflow.documents.reading import header, layout, tail
from planflow.documents.reading.header import AREA_TYPES, COMMITTEE, ParentRef
from planflow.documents.reading.layout import LETTERED, NUMBERED, RECIPIENTS, ROMAN
from planflow.documents.reading.phrases import (
    Mention,
    mentions,
    split_heading,
    starts_with_unit_word,
    strip_request,
)
from planflow.documents.reading.regime import ReportLine, TextBlock, extract_deadlines
from planflow.documents.reading.tail import Signature
from planflow.models.enums import PlanKind, Role
from planflow.states.errors import ValidationFailed
from planflow.vntext import fold, is_upper_line, squash

_CLOSING = re.compile(
    rf"^(?:{COMMITTEE}\s+(?:{AREA_TYPES}\s*)?(?:\S+\s+){{0,3}}?(?:đề nghị|yêu cầu|giao)\b"
    r"|Trên đây là|Trong quá trình (?:tổ chức )?(?:triển khai|thực hiện))",
    re.IGNORECASE,
)


@dataclass
class Section:
    """A numbered section: its number as written, title, and bullet items."""

    number: str | None
    title: str
    items: list[str] = field(default_factory=list)


@dataclass
class Block:
    """One numbered block of "Tổ chức thực hiện": the units it names and their duties."""

    number: str
    label: str  # the units as written
    mentions: list[Mention]
    request: bool  # the block says "Đề nghị …"
    duties: list[str]

    @property
    def role(self) -> Role:
        """Lead when a duty says "chủ trì" or the block is the unit's own; coordinate when every
        duty is "phối hợp …"."""
        folded = [fold(d) for d in self.duties]
        if any("chu tri" in d for d in folded):
            return Role.lead
        if folded and all(d.startswith("phoi hop") for d in folded):
            return Role.coordinate
        return Role.lead


@dataclass
class ParsedPlan:
    """What the text says, before any unit is looked up."""

    source: str
    number: str | None
    symbol: str | None
    kind: PlanKind
    place: str | None
    issued_on: date | None
    year: int | None
    issuer: str | None
    title: str
    preamble: str | None
    parent_plan: ParentRef | None
    purpose: list[Section]
    sections: list[Section]
    blocks: list[Block]
    closing: str | None
    deadlines: list[ReportLine]
    recipients: list[str]
    signature: Signature
    warnings: list[str] = field(default_factory=list)
    wrapper: str | None = None  # "decision" when a decision carries the plan
    guessed: set[str] = field(default_factory=set)  # fields inferred, not read (with a warning)
    parts: list[tuple[str, str]] = field(default_factory=list)  # ("I", "MỤC ĐÍCH, YÊU CẦU")
    # each part's own lines under its heading, as written (the closing cut off the last)
    part_lines: list[list[str]] = field(default_factory=list)


@dataclass
class _Part:
    numeral: str
    title: str
    role: str  # purpose | content | implementation | reporting
    lines: list[str]


def parse_plan(lines: list[str], *, source: str = "<text>") -> ParsedPlan:
    """Parse a plan's raw lines; ``ValidationFailed`` when the text is not a plan.

    A plan issued by a decision ("QUYẾT ĐỊNH / BAN HÀNH KẾ HOẠCH …", the plan attached after
    the decision's signature) takes the decision's number, date, signer and recipients, and the
    plan's own title (the decision's subject when the plan's is not in the text)."""
    lines = _split_heading_line(layout.clean_lines(lines))
    warnings: list[str] = []
    decision_at = _decision_heading(lines)
    heading_at, kind_from_heading = header.find_heading(
        lines, start=decision_at + 1 if decision_at is not None else 0
    )
    decision_end = heading_at if heading_at is not None else len(lines)
    body_from = heading_at + 1 if heading_at is not None else decision_end
    parts_at = _find_parts(
        lines, start=body_from if decision_at is not None or heading_at is not None else 0
    )
    header_end = _header_end(lines, decision_at, heading_at, parts_at)
    top = lines[:header_end]
    number, symbol = header.number_and_symbol(top)
    wrapper = "decision" if decision_at is not None or _is_decision(symbol) else None
    if heading_at is None and not parts_at and wrapper is None and not _is_plan_symbol(symbol):
        raise ValidationFailed(
            f"{source}: không phải kế hoạch: không có tiêu đề KẾ HOẠCH hay CHƯƠNG TRÌNH, không có "
            "các phần đánh số (I., II., …)"
        )
    if parts_at:
        tail_after = parts_at[-1]
    elif heading_at is not None:
        tail_after = heading_at
    else:
        tail_after = decision_end - 1 if decision_at is not None else header_end
    tail_at = tail.find_tail(lines, after=tail_after)
    place, issued_on, year = header.place_and_date(top)
    decision_title = ""
    decision_tail: tuple[list[str], Signature] = ([], Signature(None, None, []))
    if decision_at is not None:
        decision_title = squash(" ".join(header.upper_run(lines, decision_at + 1, decision_end)))
        articles = [i for i in range(decision_at, decision_end) if _ARTICLE.match(lines[i])]
        at = tail.find_tail(lines[:decision_end], after=articles[-1] if articles else decision_at)
        decision_tail = tail.read_tail(lines[at:decision_end])
    title_lines, preamble_lines = header.title_and_preamble(
        lines,
        heading_at,
        parts_at[0] if parts_at else tail_at,
        preamble_from=header_end if heading_at is None and decision_at is None else None,
    )
    title = squash(" ".join(title_lines))
    from_decision = header.plan_of_decision(decision_title)
    guessed: set[str] = set()
    if not title and from_decision:
        title = from_decision[1]
        guessed.add("title")
        warnings.append(
            "tên kế hoạch: văn bản không ghi tên riêng của kế hoạch; lấy theo quyết định"
        )
    if not symbol and kind_from_heading is None and not from_decision:
        guessed.add("kind")
    kind = header.kind_of(
        symbol, kind_from_heading or (from_decision[0] if from_decision else None)
    )
    preamble = "\n".join(preamble_lines) or None
    if year is None:
        year = header.year_in(title)
        guessed.add("year")
        warnings.append(
            f"năm: không có dòng ngày tháng; lấy năm {year} theo giai đoạn ghi trong tên"
            if year
            else "năm: không có dòng ngày tháng, tên không ghi giai đoạn; để trống năm"
        )

    parts = _split_parts(lines, parts_at, tail_at)
    closing_lines: list[str] = []
    if parts:
        closing_lines = _cut_closing(parts[-1])
    purpose = [s for p in parts if p.role == "purpose" for s in _sections(p.lines)]
    sections = _content_sections([p for p in parts if p.role == "content"])
    blocks = [b for p in parts if p.role == "implementation" for b in _blocks(p.lines)]

    texts = _regime_texts(parts, blocks, closing_lines)
    deadlines, regime_warnings = extract_deadlines(texts, year=year)
    recipients, signature = tail.read_tail(lines[tail_at:])
    if not recipients and not signature.block and wrapper == "decision":
        recipients, signature = decision_tail
    issuer, how = header.find_issuer(
        top, preamble or "", " ".join(closing_lines), place, symbol, text="\n".join(lines)
    )
    if how:
        warnings.append(how)
        guessed.add("issuer")
    warnings.extend(regime_warnings)
    warnings.extend(signature.corrections)
    if not any(p.role == "implementation" for p in parts):
        warnings.append("không có phần TỔ CHỨC THỰC HIỆN: không có phân công")
    return ParsedPlan(
        source=source,
        number=number,
        symbol=symbol,
        kind=kind,
        place=place,
        issued_on=issued_on,
        year=year,
        issuer=issuer,
        title=title,
        preamble=preamble,
        parent_plan=header.parent_ref(preamble or ""),
        purpose=purpose,
        sections=sections,
        blocks=blocks,
        closing="\n".join(closing_lines) or None,
        deadlines=deadlines,
        recipients=recipients,
        signature=signature,
        warnings=warnings,
        wrapper=wrapper,
        parts=[(p.numeral, p.title) for p in parts],
        part_lines=[list(p.lines) for p in parts],
        guessed=guessed,
    )


_HEADING_WITH_TITLE = re.compile(r"^(KẾ HOẠCH|CHƯƠNG TRÌNH)\s*:?\s+(\S.*)$")


def _split_heading_line(lines: list[str]) -> list[str]:
    """A heading with its title on one line near the top, the title in ordinary case ("KẾ
    HOẠCH Triển khai … năm 2022", as a portal posts it): two lines, as the layout has them."""
    for i, line in enumerate(lines[:10]):
        if ROMAN.match(line) or header.find_heading([line])[0] is not None:
            return lines
        match = _HEADING_WITH_TITLE.match(line)
        if match and match.group(2)[:1].isupper() and not is_upper_line(match.group(2)):
            return [*lines[:i], match.group(1), match.group(2), *lines[i + 1 :]]
    return lines


_DECISION = re.compile(r"^QUYẾT\s*ĐỊNH$")
_ARTICLE = re.compile(r"^(?:Điều\s+\d+|QUYẾT ĐỊNH\s*:)")


def _decision_heading(lines: list[str]) -> int | None:
    """The "QUYẾT ĐỊNH" heading of a decision that carries the plan, before any plan heading."""
    for i, line in enumerate(lines[:60]):
        if _DECISION.match(line):
            return i
        if header.find_heading([line])[0] is not None or ROMAN.match(line):
            return None
    return None


def _is_decision(symbol: str | None) -> bool:
    return symbol is not None and fold(symbol).startswith("qd")


def _is_plan_symbol(symbol: str | None) -> bool:
    return symbol is not None and fold(symbol).startswith(("kh", "ctr"))


def _header_end(
    lines: list[str], decision_at: int | None, heading_at: int | None, parts_at: list[int]
) -> int:
    """Where the header (issuer, number, place and date) ends."""
    for at in (decision_at, heading_at, parts_at[0] if parts_at else None):
        if at is not None:
            return at
    last = 0
    for i, line in enumerate(lines[:30]):
        if header.number_and_symbol([line])[1] or header.place_and_date([line])[0]:
            last = i + 1
    return last


# --- parts --------------------------------------------------------------------------------


def _find_parts(lines: list[str], *, start: int) -> list[int]:
    """Indexes of the part headings I., II., III. … taken in sequence (a stray "V." is text)."""
    found: list[int] = []
    expected = 1
    for i in range(start, len(lines)):
        match = ROMAN.match(lines[i])
        if match and _roman(match.group(1)) == expected:
            found.append(i)
            expected += 1
        elif RECIPIENTS.match(lines[i]) and found:
            break
    return found


def _roman(numeral: str) -> int:
    values = {"I": 1, "V": 5, "X": 10}
    total = 0
    for a, b in zip(numeral, numeral[1:] + " ", strict=True):
        total += -values[a] if values.get(b, 0) > values[a] else values[a]
    return total


def part_role(title: str) -> str:
    """purpose | content | implementation | reporting, from a part's heading."""
    return _role(title)


def _role(title: str) -> str:
    folded = fold(title)
    if "to chuc thuc hien" in folded or "phan cong" in folded or "trach nhiem" in folded:
        return "implementation"
    if "bao cao" in folded:
        return "reporting"
    if any(w in folded for w in ("muc dich", "yeu cau", "muc tieu", "chi tieu")):
        return "purpose"
    return "content"


def _split_parts(lines: list[str], parts_at: list[int], tail_at: int) -> list[_Part]:
    parts = []
    for n, at in enumerate(parts_at):
        end = parts_at[n + 1] if n + 1 < len(parts_at) else tail_at
        match = ROMAN.match(lines[at])
        if match is None:  # parts_at holds only lines ROMAN matched
            raise ValueError(f"line {at + 1} does not start a part: {lines[at]!r}")
        title = match.group(2).strip()
        body = lines[at + 1 : end]
        if ":" in title and not is_upper_line(title.split(":", 1)[1]):
            title, first = (s.strip() for s in title.split(":", 1))
            body = ([first] if first else []) + body
        parts.append(_Part(match.group(1), title.rstrip(" ."), _role(title), body))
    return parts


def _content_sections(parts: list[_Part]) -> list[Section]:
    """The sections of the content parts; with several such parts, numbered "II.1", "III" …"""
    sections: list[Section] = []
    for part in parts:
        found = _sections(part.lines) or [Section(None, part.title, [])]
        if found[0].number is None and not found[0].title:
            found[0].title = part.title  # "III. KINH PHÍ THỰC HIỆN" with a paragraph under it
        if len(parts) > 1:
            for s in found:
                s.number = f"{part.numeral}.{s.number}" if s.number else part.numeral
        sections.extend(found)
    return sections


def _cut_closing(part: _Part) -> list[str]:
    """Remove and return the closing paragraph(s) at the end of the last part."""
    for i, line in enumerate(part.lines):
        if i > 0 and _CLOSING.match(line):
            closing = part.lines[i:]
            part.lines = part.lines[:i]
            return closing
    return []


def _items(lines: list[str]) -> list[str]:
    """Bullets and paragraphs as items; "+ " sub-bullets stay with the item above them."""
    items: list[str] = []
    for line in lines:
        if line.startswith("+ ") and items:
            items[-1] = f"{items[-1]}\n{line}"
        elif line.startswith(("- ", "+ ")):
            items.append(line[2:].strip())
        else:
            items.append(line)
    return items


def _sections(lines: list[str]) -> list[Section]:
    """Numbered sections (1., 2., … in sequence) with their items; text before them comes
    first as a section without number."""
    intro: list[str] = []
    sections: list[Section] = []
    bodies: list[list[str]] = []
    for line in lines:
        match = NUMBERED.match(line)
        if match and int(match.group(1)) == len(sections) + 1:
            sections.append(Section(match.group(1), match.group(2).strip(), []))
            bodies.append([])
        elif sections:
            bodies[-1].append(line)
        else:
            intro.append(line)
    for section, body in zip(sections, bodies, strict=True):
        section.items = _items(body)
        if section.items:  # a heading, not a numbered paragraph
            section.title = section.title.rstrip(" .:")
    if intro:
        sections.insert(0, Section(None, "", _items(intro)))
    return sections


def _blocks(lines: list[str]) -> list[Block]:
    blocks: list[Block] = []
    for number, heading, body in _numbered(lines, NUMBERED):
        lettered = list(_numbered(body, LETTERED))
        if lettered and _all_units(h for _, h, _ in lettered) and not split_heading(heading)[1]:
            for letter, sub_heading, sub_body in lettered:
                blocks.append(_block(f"{number}{letter}", sub_heading, sub_body))
        else:
            blocks.append(_block(number, heading, body))
    return blocks


def _numbered(lines: list[str], pattern: re.Pattern[str]):
    """(number, heading, body lines) for each numbered line; numbers must run in sequence."""
    current: tuple[str, str, list[str]] | None = None
    count = 0
    for line in lines:
        match = pattern.match(line)
        if match and _in_sequence(match.group(1), count):
            if current:
                yield current
            count += 1
            current = (match.group(1), match.group(2).strip(), [])
        elif current:
            current[2].append(line)
    if current:
        yield current


def _in_sequence(label: str, count: int) -> bool:
    if label.isdigit():
        return int(label) == count + 1
    # Vietnamese lettering (a, b, c, d, đ, e, g …) or the Latin one (… d, e, f …)
    return label in (
        "abcdđeghiklmnopqrstuvxy"[count : count + 1],
        "abcdefghijklmnopqrstuvwxyz"[count : count + 1],
    )


def _all_units(headings) -> bool:
    return all(starts_with_unit_word(strip_request(h)[0]) for h in headings)


def _block(number: str, heading: str, body: list[str]) -> Block:
    text, request = strip_request(heading)
    label, inline = split_heading(text)
    duties = ([inline[:1].upper() + inline[1:]] if inline else []) + _items(body)
    return Block(number, label, mentions(label), request, duties)


# --- reporting regime ---------------------------------------------------------------------


def _regime_texts(parts: list[_Part], blocks: list[Block], closing: list[str]) -> list[TextBlock]:
    """Where reporting deadlines are written: the blocks, a reporting part, the closing."""
    texts: list[TextBlock] = []
    for block in blocks:
        owners = [m.text for m in block.mentions]
        texts.append(TextBlock(lines=block.duties, owners=owners, context=block.label))
    for part in parts:
        if part.role == "reporting":
            texts.append(TextBlock(lines=part.lines, owners=[], context=""))
        elif part.role == "implementation":
            intro = []
            for line in part.lines:
                if NUMBERED.match(line):
                    break
                intro.append(line)
            if intro:
                texts.append(TextBlock(lines=intro, owners=[], context=""))
    if closing:
        texts.append(TextBlock(lines=closing, owners=[], context=""))
    return texts
