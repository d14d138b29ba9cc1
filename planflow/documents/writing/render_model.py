"""What a rendered document says, in the order it says it: one model for .md, .html and .docx.

``plan_document`` (here) and ``render_report.report_document`` read the database and return a
``Document``: the Decree 30/2020/NĐ-CP header, the title, a flat body of paragraphs and tables,
the distribution list and the signature block. The renderers only lay it out; the wording is
decided here and in ``render_report``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

from planflow.config.hierarchy_data import area_of
from planflow.documents.writing.charts import Figure
from planflow.models import (
    Assignment,
    Level,
    OrgUnit,
    Plan,
    PlanDeadline,
    PlanKind,
    PlanSection,
    ReportKind,
    UnitKind,
)
from planflow.models.base import must_get
from planflow.services.plans import get_plan, sections_of
from planflow.vntext import date_words, uncap, vn_date

NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
TOPIC = "công tác bình đẳng giới và vì sự tiến bộ của phụ nữ"
BLANK = "\u00a0" * 6  # room for a number or a day written in by hand when the draft is signed
GAP = "…"  # what the plan's text does not say: left visibly blank for the drafter
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")
AREA_TYPES = ("Thành phố", "Thị xã", "Thị trấn", "Đặc khu", "Tỉnh", "Quận", "Huyện", "Phường", "Xã")


@dataclass(frozen=True)
class Para:
    """One paragraph. kind: part (I. …), heading (1. … in bold), text, item (- …),
    subitem (+ …), note (italic, smaller)."""

    kind: str
    text: str


@dataclass(frozen=True)
class Table:
    """A ruled table; widths in centimetres, align per column: l, c or r."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]
    align: tuple[str, ...]
    total_row: bool = False  # the last row sums the others: set in bold
    kind: str = "table"


@dataclass(frozen=True)
class Header:
    """The two-column header: issuing body and number (left), nation, motto, place and date."""

    issuer_lines: tuple[str, ...]
    number_line: str
    place_date: str
    nation: str = NATION
    motto: str = MOTTO


@dataclass(frozen=True)
class Signature:
    lines: tuple[str, ...]
    name: str  # "" on a draft: the line stays blank until it is signed


@dataclass
class Document:
    stem: str
    header: Header
    doc_type: str  # KẾ HOẠCH | BÁO CÁO
    title: str
    body: list[Para | Table | Figure] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    signature: Signature = field(default_factory=lambda: Signature((), ""))


# --- wording helpers -----------------------------------------------------------------------


def date_line(place: str, day: date | None, year: int) -> str:
    """'Hà Đông, ngày 14 tháng 02 năm 2025'; blanks to fill in by hand on an undated draft."""
    if day is None:
        return f"{place}, ngày{BLANK}tháng{BLANK}năm {year}"
    return f"{place}, {date_words(day)}"


def place_of(unit: OrgUnit) -> str:
    """'Quận Hà Đông' → 'Hà Đông': the place name a committee's documents are dated at."""
    return area_of(unit.name, Level(unit.level)).area_name


def in_sentence(name: str) -> str:
    """'Quận Hà Đông' → 'quận Hà Đông': how an area's name reads inside a sentence."""
    for prefix in AREA_TYPES:
        if name.startswith(prefix + " "):
            return prefix.lower() + name[len(prefix) :]
    return name


def prose_label(label: str) -> str:
    """'UBND Phường Liễu Giai' → 'UBND phường Liễu Giai', as lists in a document write it."""
    if label.startswith("UBND "):
        return "UBND " + in_sentence(label[5:])
    return label


def committee_name(unit: OrgUnit) -> str:
    """'Ủy ban nhân dân quận Hà Đông' for a committee, the body's own name otherwise."""
    if unit.kind == UnitKind.committee:
        return f"Ủy ban nhân dân {in_sentence(unit.name)}"
    return unit.name


def subject_line(title: str, *, source: str = "") -> str:
    """The subject line (trích yếu) as Decree 30/2020 sets it: lower case, bold, its first
    letter a capital. A title typed in capitals is lowered word by word; a word keeps a capital
    where the plan's own text writes it so ("tỉnh Tây Ninh", "Chiến lược quốc gia"), and
    symbols ("08/CT-TTg") keep theirs. A title already in lower case is kept as written."""
    if not title or not any(ch.isalpha() for ch in title) or not title.isupper():
        return title
    capital: dict[str, int] = {}
    for match in re.finditer(r"(?<=[^\W\d_] )[^\W\d_]+", source):  # mid-sentence words only
        word = match.group()
        if not word.isupper():
            key = word.lower()
            capital[key] = capital.get(key, 0) + (1 if word[:1].isupper() else -1)
    seen = {key: key[:1].upper() + key[1:] for key, votes in capital.items() if votes > 0}
    words = []
    for word in title.split(" "):
        if re.search(r"[\d/]", word):
            words.append(word)
            continue
        lower = word.lower()
        core = lower.strip("“”\"'(),.;:")
        words.append(lower.replace(core, seen[core]) if core in seen else lower)
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def period_text(kind: ReportKind | str, period: str) -> str:
    """'6 tháng đầu năm 2025', 'năm 2025'."""
    year = period[:4]
    if kind == ReportKind.six_month:
        return f"6 tháng đầu năm {year}"
    if kind == ReportKind.ad_hoc:
        return f"đột xuất ({period})"
    return f"năm {year}"


def issuer_lines(unit: OrgUnit, parent: OrgUnit | None) -> tuple[str, ...]:
    """The issuing body in capitals: 'ỦY BAN NHÂN DÂN' / 'QUẬN HÀ ĐÔNG'."""
    if unit.kind == UnitKind.committee:
        return ("ỦY BAN NHÂN DÂN", unit.name.upper())
    above = f"UBND {parent.name}".upper() if parent else ""
    return tuple(x for x in (above, unit.name.upper()) if x)


def number_line(number: str | None, symbol: str) -> str:
    """'Số: 70/KH-UBND', or 'Số:      /KH-UBND' until a number is assigned at issue."""
    return f"Số: {number}" if number else f"Số:{BLANK}/{symbol}"


def lines_of(text: str | None) -> list[Para]:
    """Duties or items as written: '- …' items, '+ …' sub-items, a lone sentence as text."""
    raw = [line.strip() for line in (text or "").splitlines() if line.strip()]
    out: list[Para] = []
    for line in raw:
        own = line.lstrip("-– ").strip()
        if line.startswith("+"):
            out.append(Para("subitem", line.lstrip("+ ").strip()))
        elif _MARKED.match(own):  # "- a) …": the line's own letter, no dash added before it
            out.append(Para("text", own))
        elif line.startswith(("-", "–")) or len(raw) > 1:
            out.append(Para("item", line.lstrip("-– ").strip()))
        else:
            out.append(Para("text", line))
    return out


def numbered(items: Iterable[str]) -> list[str]:
    """A distribution list punctuated as the decree wants: '…;' each, '….' the last."""
    items = [i.strip().rstrip(";.").strip() for i in items if i and i.strip()]
    return [f"{i};" for i in items[:-1]] + ([f"{items[-1]}."] if items else [])


# --- plans ----------------------------------------------------------------------------------


def _agency_on(session: Session, agency_id: int | None, day: date | None) -> OrgUnit | None:
    """The agency valid on the day the plan is dated (LĐTBXH before 1/3/2025, Nội vụ after)."""
    from planflow.services.succession import unit_on

    if agency_id is None:
        return None
    return session.get(OrgUnit, unit_on(session, agency_id, day) if day else agency_id)


def plan_document(session: Session, plan_id: int) -> Document:
    """A plan as its issuer would print it; a cascaded sub-plan as its issuer's draft."""
    plan = get_plan(session, plan_id)
    issuer = must_get(session, OrgUnit, plan.issuer_id)
    parent = session.get(Plan, plan.parent_id) if plan.parent_id else None
    parent_issuer = session.get(OrgUnit, parent.issuer_id) if parent else None
    agency = _agency_on(session, plan.standing_agency_id, plan.issued_on)
    symbol = "CTr-UBND" if plan.kind == PlanKind.programme else "KH-UBND"
    # an imported plan keeps its parts (a list, empty when the text has none); the cascade's
    # drafts have None
    imported = plan.parts is not None
    by_decision = bool(plan.number) and "/QĐ" in (plan.number or "").upper()
    place = plan.place or (GAP if imported else place_of(issuer))
    doc = Document(
        stem=f"plan-{plan.id}",
        header=Header(
            issuer_lines=issuer_lines(
                issuer, session.get(OrgUnit, issuer.parent_id) if issuer.parent_id else None
            ),
            # a plan a decision carries has no number of its own: the decision's is below
            # an imported text without a number line gets a gap, not a symbol it never had
            number_line=""
            if by_decision
            else (
                f"Số: {GAP}" if imported and not plan.number else number_line(plan.number, symbol)
            ),
            place_date="" if by_decision else date_line(place, plan.issued_on, plan.year),
        ),
        doc_type="CHƯƠNG TRÌNH" if plan.kind == PlanKind.programme else "KẾ HOẠCH",
        # the cascade writes the official name ("trên địa bàn Quận Hà Đông"); prose lowers it
        title=subject_line(
            plan.title.replace(f" {issuer.name}", f" {in_sentence(issuer.name)}"),
            source=_casing_source(session, plan, issuer),
        )
        or GAP,
    )
    if by_decision:
        when = f" ngày {vn_date(plan.issued_on)}" if plan.issued_on else ""
        doc.body.append(
            Para(
                "note", f"(Kèm theo Quyết định số {plan.number}{when} của {committee_name(issuer)})"
            )
        )
    preamble = _preamble(plan, None if imported else parent, issuer)  # a draft's is finished
    doc.body.extend(as_written(preamble) if imported else [Para("text", p) for p in preamble])
    # a cascaded sub-plan reads its parent's sections until it writes its own
    sections = sorted(sections_of(session, plan), key=lambda s: s.position)
    rows = session.exec(
        select(Assignment, OrgUnit)
        .join(OrgUnit, col(OrgUnit.id) == col(Assignment.unit_id))
        .where(Assignment.plan_id == plan.id)
        .order_by(col(Assignment.position), col(Assignment.id))
    ).all()
    deadlines = session.exec(
        select(PlanDeadline)
        .where(col(PlanDeadline.plan_id) == plan.id)
        .order_by(col(PlanDeadline.due_on))
    ).all()
    where = "tại Kế hoạch này"
    if plan.parts is not None:  # an imported plan: its own parts, as written
        body = _own_parts(plan.parts, sections, rows)
    else:
        parts: list[tuple[str, list[Para]]] = []
        purpose = [s for s in sections if s.part == "purpose"]
        content = [s for s in sections if s.part != "purpose"]
        if purpose:
            parts.append(("MỤC ĐÍCH, YÊU CẦU", _sections(purpose)))
        if content:
            parts.append(("NỘI DUNG THỰC HIỆN", _sections(content)))
        if rows:
            drafts = plan.parent_id is not None
            parts.append(("TỔ CHỨC THỰC HIỆN", _assignment_blocks(rows, list_members=drafts)))
            where = f"tại Mục {ROMAN[len(parts) - 1]}"
        regime = _regime(session, plan, deadlines, agency, (parent, parent_issuer), issuer, where)
        if regime:
            parts.append(("CHẾ ĐỘ BÁO CÁO", regime))
        body = []
        for numeral, (title, paras) in zip(ROMAN, parts, strict=False):
            body.append(Para("part", f"{numeral}. {title}"))
            body.extend(paras)
    doc.body.extend(body)
    drafted = plan.parent_id is not None and not imported  # the cascade's own draft
    if plan.closing:
        doc.body.extend(as_written(plan.closing.splitlines()))
    elif drafted:
        doc.body.append(Para("text", _closing(doc.title, issuer, rows)))
    if plan.recipients:
        doc.recipients = numbered(plan.recipients)
    elif drafted:
        doc.recipients = numbered(_default_recipients(session, issuer, rows, parent))
    else:
        doc.recipients = [GAP]  # the text names none: a blank for the drafter, not a guess
    if plan.signature_block:
        block = tuple(plan.signature_block.splitlines())
    elif drafted:
        block = ("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH")
    else:
        block = (GAP,)
    doc.signature = Signature(block, plan.signer_name or "")
    return doc


def _casing_source(session: Session, plan: Plan, issuer: OrgUnit) -> str:
    """The plan's own sentences, where its words show their capitals: preamble, sections,
    closing, recipients, and the issuer's area ("tỉnh Tây Ninh")."""
    texts = [plan.preamble, plan.closing, f"của {in_sentence(issuer.name)}", *plan.recipients]
    for s in sections_of(session, plan):
        texts += [s.title, s.body, *(s.items or [])]
    return " ".join(t for t in texts if t)


def _preamble(plan: Plan, parent: Plan | None, issuer: OrgUnit) -> list[str]:
    text = (plan.preamble or "").strip()
    if parent is not None and text.startswith("Thực hiện") and not text.endswith((":", ".")):
        # the cascade pre-fills "Thực hiện Kế hoạch số … ngày … của UBND …": finish the sentence
        text = (
            f"{text} {uncap(parent.title)}, {committee_name(issuer)} xây dựng Kế hoạch "
            "thực hiện như sau:"
        )
    return [p.strip() for p in text.split("\n") if p.strip()]


def _sections(sections: Iterable[PlanSection]) -> list[Para]:
    out: list[Para] = []
    for s in sections:
        label = f"{s.number}. " if s.number else ""
        items = list(s.items or [])
        if not s.title and not label:  # text under a part heading, before its sections
            out.extend(p for i in items for p in lines_of(i if i.startswith("+") else f"- {i}"))
            continue
        if not items and not s.body:  # a numbered aim written as one sentence (Hà Đông's I.)
            out.append(Para("text", f"{label}{s.title}"))
            continue
        out.append(Para("heading", f"{label}{s.title}"))
        if s.body:
            out.extend(Para("text", p) for p in s.body.splitlines() if p.strip())
        if len(items) == 1 and not items[0].startswith(("-", "+")):
            out.append(Para("text", items[0]))
            continue
        for item in items:
            if _MARKED.match(item):  # "a) …", "1. …": the plan's own numbering, no dash added
                first, *subs = item.split("\n")
                out.append(Para("text", first))
                out.extend(lines_of("\n".join(subs)))
            else:
                out.extend(lines_of(item if item.startswith("+") else f"- {item}"))
    return out


_MARKED = re.compile(r"^(?:[a-zđ]|\d{1,2}(?:\.\d{1,2})*)\s*[).]\s")


def _own_parts(
    parts: list[dict[str, str]],
    sections: list[PlanSection],
    rows: Sequence[tuple[Assignment, OrgUnit]],
) -> list[Para]:
    """An imported plan's body under its own part headings ("I. MỤC TIÊU", "IV. TỔ CHỨC THỰC
    HIỆN" …), in its order and numbering. A part saved with its lines ("text") prints them as
    written: its numbering, lettering and bullets, the assignment blocks in the plan's words,
    the reporting regime's own sentences. A plan imported before the lines were kept is laid
    out from its sections and assignments: a content section numbered "II.1" sits under part
    II as "1."."""
    purpose = [s for s in sections if s.part == "purpose"]
    content = [s for s in sections if s.part != "purpose"]
    several = sum(1 for p in parts if p["role"] == "content") > 1
    out: list[Para] = []
    used_purpose = False
    for part in parts:
        out.append(Para("part", f"{part['number']}. {part['title']}"))
        if "text" in part:  # the lines under the heading, kept at import: printed as written
            out.extend(as_written(part["text"].splitlines()))
            out.extend(Para("note", n) for n in part.get("notes", "").splitlines() if n)
        elif part["role"] == "purpose" and not used_purpose:
            out.extend(_sections(purpose))
            used_purpose = True
        elif part["role"] == "content":
            mine = [s for s in content if not several or _under(s.number, part["number"])]
            out.extend(_sections([_renumbered(s, part) for s in mine]))
        elif part["role"] == "implementation":
            out.extend(_assignment_blocks(rows))
    return out


_HEADING = re.compile(r"^\d{1,2}(?:\.\d{1,2})*\s*[.)]\s+\S")
_LONGEST_HEADING = 200  # characters: a longer numbered line is a paragraph, not a heading


def as_written(lines: Sequence[str]) -> list[Para]:
    """A plan's own lines, one paragraph each, with their own marks: "- …" an item, "+ …" a
    sub-item, "a) …" and numbered paragraphs as text keeping their letter or number; a numbered
    line with lines under it (and short enough to be one) is a heading. Nothing is added or
    reworded: only the layout (bold, indent) is chosen."""
    texts = [line.strip() for line in lines if line.strip()]
    out: list[Para] = []
    for i, line in enumerate(texts):
        after = texts[i + 1] if i + 1 < len(texts) else None
        if line.startswith("+ "):
            out.append(Para("subitem", line[2:].strip()))
        elif line.startswith("- "):
            out.append(Para("item", line[2:].strip()))
        elif (
            _HEADING.match(line)
            and after is not None
            and not _HEADING.match(after)
            and len(line) <= _LONGEST_HEADING
            and not line.endswith(";")
        ):
            out.append(Para("heading", line))
        else:
            out.append(Para("text", line))
    return out


def _under(number: str | None, numeral: str) -> bool:
    return number is not None and (number == numeral or number.startswith(f"{numeral}."))


def _renumbered(section: PlanSection, part: dict[str, str]) -> PlanSection:
    """ "II.1" under part II reads "1."; the part itself ("III" with a paragraph) no number."""
    number = section.number
    if number == part["number"]:
        number, title = None, "" if section.title == part["title"] else section.title
    else:
        title = section.title
        if number and number.startswith(f"{part['number']}."):
            number = number.split(".", 1)[1]
    return PlanSection(
        plan_id=section.plan_id, part=section.part, position=section.position,
        number=number, title=title, body=section.body, items=section.items,
    )  # fmt: skip


def _assignment_blocks(
    rows: Sequence[tuple[Assignment, OrgUnit]], *, list_members: bool = False
) -> list[Para]:
    """One numbered block per unit; units sharing a group label share a block. A cascaded draft
    (``list_members``) names the units of each group, so the unit drafting it sees who they are;
    a plan's own text is rendered as written, without that line."""
    blocks: list[list[tuple[Assignment, OrgUnit]]] = []
    by_label: dict[str, list[tuple[Assignment, OrgUnit]]] = {}
    for a, unit in rows:
        if a.group_label:
            if a.group_label not in by_label:
                by_label[a.group_label] = []
                blocks.append(by_label[a.group_label])
            by_label[a.group_label].append((a, unit))
        else:
            blocks.append([(a, unit)])
    out: list[Para] = []
    for n, members in enumerate(blocks, start=1):
        first, unit = members[0]
        name = first.group_label or (
            prose_label(unit.label) if unit.kind == UnitKind.committee else unit.name
        )
        prefix = "Đề nghị " if all(a.requested for a, _ in members) else ""
        out.append(Para("heading", f"{n}. {prefix}{name}"))
        duties = {a.duties.strip() for a, _ in members}
        if len(duties) == 1:
            out.extend(lines_of(first.duties))
        else:  # members of one group with different duties: each says whose they are
            for a, u in members:
                out.append(
                    Para("item", f"{u.name}: " + " ".join(p.text for p in lines_of(a.duties)))
                )
        if list_members and len(members) > 1:
            label = first.group_label or ""
            noun = label.split(" các ", 1)[1] if " các " in label else "đơn vị"
            names = ", ".join(u.name for _, u in members)
            out.append(Para("text", f"Gồm {len(members)} {noun}: {names}."))
    return out


REGIME_UNITS = {
    ReportKind.sub_plan: "Kế hoạch thực hiện năm {year} của đơn vị",
    ReportKind.six_month: "Báo cáo kết quả thực hiện 06 tháng đầu năm {year}",
    ReportKind.annual: "Báo cáo kết quả thực hiện năm {year}",
    ReportKind.ad_hoc: "Báo cáo đột xuất ({period})",
}


def _regime(
    session: Session,
    plan: Plan,
    deadlines: Sequence[PlanDeadline],
    agency: OrgUnit | None,
    above: tuple[Plan | None, OrgUnit | None],
    issuer: OrgUnit,
    where: str,
) -> list[Para]:
    """Units → standing agency by ``due_on``; the standing agency → upward by ``upward_due_on``."""
    if not deadlines:
        return []
    parent, parent_issuer = above
    upward = sorted(
        ((d, d.upward_due_on) for d in deadlines if d.upward_due_on), key=lambda pair: pair[1]
    )
    first, second = ("1. ", "2. ") if upward else ("", "")

    def what(line: PlanDeadline) -> str:
        return REGIME_UNITS[ReportKind(line.kind)].format(year=plan.year, period=line.period)

    recipient = agency
    if deadlines[0].recipient_id and (agency is None or deadlines[0].recipient_id != agency.id):
        recipient = session.get(OrgUnit, deadlines[0].recipient_id)
    to = f"{recipient.name} (cơ quan thường trực)" if recipient else committee_name(issuer)
    out = [
        Para("text", f"{first}Các cơ quan, đơn vị được giao nhiệm vụ {where} gửi báo cáo về {to}:")
    ]
    out += _listed(f"{what(d)}: trước ngày {vn_date(d.due_on)}" for d in deadlines)
    if upward:
        compiler = recipient.name if recipient else committee_name(issuer)
        upper = committee_name(parent_issuer) if parent_issuer else "cấp trên"
        parent_agency = (
            session.get(OrgUnit, parent.standing_agency_id)
            if parent is not None and parent.standing_agency_id
            else None
        )
        via = f" (qua {parent_agency.name})" if parent_agency else ""
        out.append(
            Para(
                "text",
                f"{second}{compiler} tổng hợp, tham mưu {committee_name(issuer)} báo cáo "
                f"{upper}{via}:",
            )
        )
        out += _listed(
            f"{_upward_label(d, plan, issuer, what(d))}: trước ngày {vn_date(due)}"
            for d, due in upward
        )
    return out


def _upward_label(line: PlanDeadline, plan: Plan, issuer: OrgUnit, label: str) -> str:
    if line.kind == ReportKind.sub_plan:
        return f"Kế hoạch thực hiện năm {plan.year} của {committee_name(issuer)}"
    return label


def _listed(texts: Iterable[str]) -> list[Para]:
    return [Para("item", text) for text in numbered(texts)]


def _closing(title: str, issuer: OrgUnit, rows: Sequence[tuple[Assignment, OrgUnit]]) -> str:
    requested = [u.name for a, u in rows if a.requested]
    asks = f"đề nghị {', '.join(requested)} và " if requested else ""
    return (
        f"Trên đây là Kế hoạch {uncap(title)}. {committee_name(issuer)} {asks}"
        "yêu cầu các cơ quan, đơn vị liên quan nghiêm túc triển khai thực hiện./."
    )


def _default_recipients(
    session: Session,
    issuer: OrgUnit,
    rows: Sequence[tuple[Assignment, OrgUnit]],
    parent: Plan | None,
) -> list[str]:
    """For a cascaded draft: the parent's standing agency (to report to), the leadership, the
    assigned bodies, the ward committees by their group, and the archive."""
    out: list[str] = []
    if parent is not None:
        above = session.get(OrgUnit, parent.standing_agency_id or parent.issuer_id)
        if above is not None:
            out.append(f"{above.name} (để b/cáo)")
    out.append(f"Chủ tịch, các Phó Chủ tịch UBND {in_sentence(issuer.name)}")
    groups: list[str] = []
    for a, unit in rows:
        if a.group_label:
            label = a.group_label.replace("Ủy ban nhân dân", "UBND", 1)
            if label not in groups:
                groups.append(label)
                out.append(label)
        else:
            out.append(unit.name)
    out.append("Lưu: VT")
    return out


__all__ = [
    "Document",
    "Header",
    "Para",
    "Signature",
    "Table",
    "as_written",
    "lines_of",
    "plan_document",
]
