"""Import a plan's text (UTF-8 text or .docx) into a structured plan, and store it as a draft.

``import_plan`` reads and parses the text and resolves every unit it names against the loaded
hierarchy; it writes nothing. ``save_plan`` stores the result as a drafted ``Plan`` with its
sections, assignments and reporting deadlines, and flushes; the caller owns the commit. The
JSON shape of ``ImportedPlan.to_dict()`` is documented in docs/import-schema.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from planflow.documents.reading.parser import ParsedPlan, Section, parse_plan, part_role
from planflow.documents.reading.resolve import Lookup, Resolver, find_issuer
from planflow.documents.reading.source import read_source
from planflow.models.base import pk
from planflow.models.enums import ReportKind, Role, State, UnitKind, period_for
from planflow.models.org import OrgUnit
from planflow.models.plan import Assignment, Plan, PlanDeadline, PlanSection
from planflow.services import hierarchy
from planflow.states.errors import ValidationFailed
from planflow.vntext import name_key, squash


@dataclass
class ImportedAssignment:
    """One unit's duties under one block of "Tổ chức thực hiện"."""

    block: str
    unit: str
    unit_code: str | None
    group_label: str | None
    request: bool
    role: Role
    duties: list[str]
    unit_id: int | None = None


@dataclass
class ImportedDeadline:
    """One line of the reporting regime, with its recipient resolved."""

    report_kind: ReportKind
    due_on: date
    from_units: list[str]
    to_unit: str | None
    to_unit_code: str | None
    to_unit_id: int | None = None
    date_text: str = ""  # the date as written, to find its line
    year_written: bool = True


@dataclass
class Unresolved:
    """A name the plan uses that stands for no single unit of the hierarchy, and why."""

    name: str
    reason: str
    where: str


@dataclass
class ImportedPlan:
    """A parsed plan with its units looked up in the hierarchy; nothing stored yet."""

    parsed: ParsedPlan
    tiers: int
    issuer: OrgUnit | None
    shape: str = "plain"
    raw: list[str] = field(default_factory=list)  # the source's lines as they came
    assignments: list[ImportedAssignment] = field(default_factory=list)
    deadlines: list[ImportedDeadline] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)

    @property
    def resolved_issuer(self) -> OrgUnit:
        """The issuer, which saving needs resolved."""
        if self.issuer is None:
            raise ValidationFailed(f"{self.parsed.source}: chưa xác định được cơ quan ban hành")
        return self.issuer

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON structure (docs/import-schema.md); dates as ISO 8601 strings."""
        p = self.parsed
        parent = p.parent_plan
        at = _Locator(self.raw)
        first_part = at.find(f"{p.parts[0][0]}. {p.parts[0][1]}") if p.parts else None
        parts = [at.item({"number": n, "title": t}, f"{n}. {t}") for n, t in p.parts]
        tasks = next((r["line"] for r in parts if part_role(r["title"]) == "implementation"), None)
        return {
            "source": p.source,
            "shape": self.shape,
            "tiers": self.tiers,
            "number": p.number,
            "symbol": p.symbol,
            "kind": p.kind.value,
            "wrapper": p.wrapper,
            "place": p.place,
            "issuer": p.issuer,
            "issuer_code": self.issuer.code if self.issuer else None,
            "issued_on": _iso(p.issued_on),
            "title": p.title or None,
            "year": p.year,
            "parent_plan": (
                {"number": parent.number, "date": _iso(parent.date), "issuer": parent.issuer}
                if parent
                else None
            ),
            "preamble": p.preamble,
            "parts": parts,
            "purpose": _sections(at, p.purpose, first_part),
            "sections": _sections(at, p.sections, first_part),
            "assignments": [
                {
                    "block": a.block,
                    "unit": a.unit,
                    "unit_code": a.unit_code,
                    "group_label": a.group_label,
                    "request": a.request,
                    "role": a.role.value,
                    "duties": a.duties,
                    "line": _block_line(at, p, a.block, tasks or first_part),
                    "how": "read",
                }
                for a in self.assignments
            ],
            "deadlines": [
                at.item(
                    {
                        "report_kind": d.report_kind.value,
                        "due_on": _iso(d.due_on),
                        "from_units": d.from_units,
                        "to_unit": d.to_unit,
                        "to_unit_code": d.to_unit_code,
                    },
                    d.date_text,
                    after=first_part,
                    how="read" if d.year_written else "guessed",
                    exact=True,
                )
                for d in self.deadlines
            ],
            "closing": p.closing,
            "recipients": p.recipients,
            "signer": {
                "name": p.signature.name,
                "title": p.signature.title,
                "block": p.signature.block,
            },
            "unresolved": [
                {"name": u.name, "reason": u.reason, "where": u.where} for u in self.unresolved
            ],
            "warnings": p.warnings,
            "gaps": gaps_of(self),
            "fields": provenance(p, self.raw) | _more_provenance(p, at, first_part),
        }


class _Locator:
    """Finds the line of the source (1-based, as it came) that holds a value: the first at or
    after a given line whose comparison key holds the value's (or, for a value wrapped over
    lines, its first twelve letters); linear in the text per value."""

    def __init__(self, raw: list[str]) -> None:
        self.raw = raw
        self.keys = [name_key(line) for line in raw]

    def find(
        self, value: str | None, *, after: int | None = None, exact: bool = False
    ) -> int | None:
        if not value:
            return None
        start = (after or 1) - 1
        if exact:  # a date as written: "15/6" must not match "115/6" or "15/60"
            pattern = re.compile(
                r"(?<![\d/])" + r"\s*".join(re.escape(x) for x in value.split()) + r"(?![\d/])"
            )
            for n in range(start, len(self.raw)):
                if pattern.search(self.raw[n]):
                    return n + 1
            return None
        wanted = name_key(value)
        if not wanted:
            return None
        for probe in (wanted, wanted[:12]):
            for n in range(start, len(self.keys)):
                if probe in self.keys[n]:
                    return n + 1
        return None

    def numbered(self, number: str, *, after: int | None = None) -> int | None:
        """The first line at or after ``after`` that starts with "<number>." or "<number>)"."""
        pattern = re.compile(rf"^\W*{re.escape(number)}\s*[.)]\s")
        start = (after or 1) - 1
        return next(
            (n + 1 for n in range(start, len(self.raw)) if pattern.match(self.raw[n])), None
        )

    def item(
        self,
        row: dict[str, Any],
        value: str | None,
        *,
        after: int | None = None,
        how: str = "read",
        exact: bool = False,
    ) -> dict[str, Any]:
        """``row`` with the line its ``value`` is on and how it was had."""
        line = self.find(value, after=after, exact=exact)
        return {**row, "line": line, "how": how}


def _sections(at: _Locator, sections: list[Section], after: int | None) -> list[dict[str, Any]]:
    out = []
    for s in sections:
        probe = f"{s.number.split('.')[-1]}. {s.title}" if s.number else (s.items or [s.title])[0]
        out.append(at.item(_section(s), probe, after=after))
    return out


def _block_line(at: _Locator, p: ParsedPlan, number: str, after: int | None) -> int | None:
    """The line of a block's heading: "2. Hội Liên hiệp …", "b) UBND …"; else the first line
    numbered as it after part TỔ CHỨC THỰC HIỆN ("2. Đề nghị Hội …": "Đề nghị" is not in the
    label)."""
    block = next((b for b in p.blocks if b.number == number), None)
    if block is None:
        return None
    digits = number.rstrip("abcdđeghiklmnopqrstuvxyz")
    letter = number[len(digits) :]
    label = f"{letter}) {block.label}" if letter else f"{number}. {block.label}"
    found = at.find(label, after=after)
    if found is None and not letter:
        found = at.numbered(number, after=after)
    return found


def _more_provenance(p: ParsedPlan, at: _Locator, first_part: int | None) -> dict[str, Any]:
    """The lines of the preamble, the plan it implements, the closing, each recipient and each
    line of the signature block."""
    tail_from = at.find("Nơi nhận", after=first_part) if p.recipients else None

    def one(value: str | None, *, after: int | None = None) -> dict[str, Any]:
        if not value:
            return {"line": None, "how": "missing"}
        return {"line": at.find(value, after=after), "how": "read"}

    parent = p.parent_plan
    return {
        "preamble": one(p.preamble.split("\n")[0] if p.preamble else None),
        "parent_plan": one(parent.number if parent else None),
        "closing": one(p.closing.split("\n")[0] if p.closing else None, after=first_part),
        "recipient_lines": [one(r, after=tail_from) for r in p.recipients],
        "signer_block": [one(line, after=tail_from) for line in p.signature.block],
    }


def provenance(p: ParsedPlan, raw: list[str]) -> dict[str, dict[str, Any]]:
    """Where each header and tail field came from: ``{"line": n, "how": "read" | "guessed" |
    "missing"}``, ``line`` the first line of the file (1-based, as it came, before any joining)
    that holds the value, ``null`` when none does (a value put together from several lines or
    inferred). Linear in the size of the text: one pass per field."""
    keys = [name_key(line) for line in raw]
    date_line = f"{p.place}, ngày" if p.place else None
    values: dict[str, Any] = {
        "number": p.number,
        "kind": p.number or p.symbol or ("KẾ HOẠCH" if p.kind.value == "plan" else "CHƯƠNG TRÌNH"),
        "wrapper": "QUYẾT ĐỊNH" if p.wrapper else None,
        "place": date_line,
        "issued_on": date_line if p.issued_on else None,
        "year": (p.title if "year" in p.guessed else date_line) if p.year else None,
        "issuer": _area_words(p.issuer),
        "title": p.title or None,
        "signer": p.signature.name,
        "signer_title": p.signature.title,
        "recipients": "Nơi nhận" if p.recipients else None,
    }
    out: dict[str, dict[str, Any]] = {}
    for field_name, value in values.items():
        if value is None:
            out[field_name] = {"line": None, "how": "missing"}
            continue
        how = "guessed" if field_name in p.guessed else "read"
        out[field_name] = {"line": _line_of(keys, str(value)), "how": how}
    return out


def _area_words(issuer: str | None) -> str | None:
    """ "UBND tỉnh Tây Ninh" -> "tỉnh Tây Ninh": what the header's line says of the issuer."""
    if not issuer:
        return None
    return issuer.split(" ", 1)[1] if issuer.startswith("UBND ") and " " in issuer else issuer


def _line_of(keys: list[str], value: str) -> int | None:
    """The first line whose key holds the value's (or, for a value wrapped over lines, the
    start of it: its first twelve letters)."""
    wanted = name_key(value)
    if not wanted:
        return None
    for probe in (wanted, wanted[:12]):
        for n, key in enumerate(keys, start=1):
            if probe in key:
                return n
    return None


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _section(s: Section) -> dict[str, Any]:
    return {"number": s.number, "title": s.title, "items": s.items}


# --- import -------------------------------------------------------------------------------


def import_plan(*, session: Session, text_or_path: str | Path, tiers: int = 3) -> ImportedPlan:
    """Read, parse and resolve a plan; ``ValidationFailed`` names the file and what is wrong."""
    hierarchy.check_tiers(tiers)
    source = read_source(text_or_path)
    parsed = parse_plan(source.lines, source=source.name)
    hints = [
        h for h in (parsed.parent_plan.issuer if parsed.parent_plan else None, parsed.place) if h
    ]
    found = find_issuer(session, tiers=tiers, issuer=parsed.issuer, place=parsed.place, hints=hints)
    imported = ImportedPlan(
        parsed=parsed, tiers=tiers, issuer=found.unit, shape=source.shape, raw=source.raw or []
    )
    resolver = Resolver(session, found.unit) if found.unit else None
    why = f"chưa xác định được cơ quan ban hành ({found.reason})"
    if found.unit is None:
        imported.unresolved.append(Unresolved(parsed.issuer or "", found.reason or "", "issuer"))

    def lookup(name: str, group: bool, where: str) -> Lookup:
        result = resolver.lookup(name, group=group) if resolver else Lookup(reason=why)
        entry = Unresolved(name, result.reason or "", where)
        if not result.units and entry not in imported.unresolved:
            imported.unresolved.append(entry)
        return result

    for block in parsed.blocks:
        shared = block.label if len(block.mentions) > 1 else None
        for mention in block.mentions:
            result = lookup(mention.text, mention.group, f"block {block.number}")
            expanded = mention.group or len(result.units) > 1
            for unit in result.units or (None,):
                imported.assignments.append(
                    ImportedAssignment(
                        block=block.number,
                        unit=unit.label if expanded and unit else mention.text,
                        unit_code=unit.code if unit else None,
                        group_label=block.label if expanded else shared,
                        request=block.request or (unit is not None and not unit.subordinate),
                        role=block.role,
                        duties=list(block.duties),
                        unit_id=unit.id if unit else None,
                    )
                )
    for line in parsed.deadlines:
        names: list[str | None] = list(line.to_units) or [None]
        for name in names:
            unit = lookup(name, False, "deadline").unit if name else None
            imported.deadlines.append(
                ImportedDeadline(
                    report_kind=line.report_kind,
                    due_on=line.due_on,
                    from_units=line.from_units,
                    to_unit=name,
                    to_unit_code=unit.code if unit else None,
                    to_unit_id=unit.id if unit else None,
                    date_text=line.date_text,
                    year_written=line.year_written,
                )
            )
    return imported


# --- save ---------------------------------------------------------------------------------


def save_plan(*, session: Session, imported: ImportedPlan) -> Plan:
    """Store an imported plan as a drafted Plan with its sections, assignments and deadlines.

    Flushes, never commits. A plan with gaps (no title, number, date, signer or recipients in
    the text: ``gaps_of``) is stored all the same, as a draft for the officer to complete; it
    refuses (``ValidationFailed``) a plan whose issuer is unknown or that gives no year (the
    plan belongs to an issuer and a year), and a second copy of a stored plan (same issuer,
    year and number; for a draft without a number, the same title).
    """
    p = imported.parsed
    if imported.issuer is None:
        reason = next((u.reason for u in imported.unresolved if u.where == "issuer"), "unknown")
        raise ValidationFailed(
            f"{p.source}: không lưu được: chưa xác định được cơ quan ban hành ({reason})"
        )
    if p.year is None:
        raise ValidationFailed(f"{p.source}: không lưu được: văn bản không ghi năm")
    issuer = imported.resolved_issuer
    _refuse_duplicate(session, imported)
    parent = _parent_plan(session, imported)
    plan = Plan(
        number=p.number,
        kind=p.kind,
        year=p.year,
        title=p.title,
        place=p.place,
        issued_on=p.issued_on,
        signer_name=p.signature.name,
        signer_title=p.signature.title,
        signature_block="\n".join(p.signature.block) or None,
        preamble=p.preamble,
        closing=p.closing,
        issuer_id=pk(issuer),
        standing_agency_id=_standing_agency_id(session, imported),
        parent_id=parent.id if parent else None,
        root_id=(parent.root_id or parent.id) if parent else None,
        depth=parent.depth + 1 if parent else 0,
        status=State.drafted,
        recipients=list(p.recipients),
        parts=_parts(p, imported.raw),  # [] for a text without parts: still not a draft
    )
    session.add(plan)
    session.flush()
    for part, sections in (("purpose", p.purpose), ("content", p.sections)):
        for position, s in enumerate(sections, start=1):
            session.add(
                PlanSection(
                    plan_id=pk(plan),
                    part=part,
                    position=position,
                    number=s.number,
                    title=s.title,
                    items=list(s.items),
                )
            )
    for row in _assignment_rows(imported):
        session.add(Assignment(plan_id=pk(plan), **row))
    for row in _deadline_rows(imported, p.year):
        session.add(PlanDeadline(plan_id=pk(plan), **row))
    session.flush()
    return plan


def _parts(p: ParsedPlan, raw: list[str]) -> list[dict[str, str]]:
    """The plan's parts as written: number, heading, role, and the lines under the heading
    ("text", one line each), which the render prints as they are: the plan's own numbering,
    lettering, bullets, block headings and reporting regime. A footnote the reader set aside
    as page furniture comes back: its mark where the text has it, its text in the "notes" of
    the part that holds the mark (the last part when no part holds it, or past the first
    hundred footnotes)."""
    texts = [list(lines) for lines in p.part_lines] or [[] for _ in p.parts]
    notes: list[list[str]] = [[] for _ in texts]
    marks: dict[tuple[int, int], list[tuple[int, str]]] = {}
    for count, (mark, context, note) in enumerate(_footnotes(raw)):
        # each placing reads the parts once: bounded, so a hostile text stays linear
        place = _place_of(texts, context, marks) if count < _MAX_PLACED else None
        if place is not None:
            marks.setdefault(place[:2], []).append((place[2], mark))
        if texts:
            notes[place[0] if place else len(texts) - 1].append(f"{mark} {note}")
    for (at, n), found in marks.items():
        for end, mark in sorted(found, reverse=True):
            texts[at][n] = texts[at][n][:end] + mark + texts[at][n][end:]
    out = []
    for (number, title), lines, own in zip(p.parts, texts, notes, strict=True):
        part = {"number": number, "title": title, "role": part_role(title)}
        part["text"] = "\n".join(lines)
        if own:
            part["notes"] = "\n".join(own)
        out.append(part)
    return out


_SUPERSCRIPTS = "¹²³⁴⁵⁶⁷⁸⁹⁰"
_MAX_PLACED = 100  # footnotes put back in their sentence; a real plan has a handful
_FOOTNOTE = re.compile(rf"^\s*([{_SUPERSCRIPTS}]+)\s*(\S.*)$")
_MARK = re.compile(rf"(?<=\S)[{_SUPERSCRIPTS}]+")
_FURNITURE = str.maketrans(
    {
        **{ord(ch): None for ch in _SUPERSCRIPTS + "\u200b\ufeff"},
        **dict.fromkeys(map(ord, "✓✔\t\u00a0"), " "),
    }
)


def _footnotes(raw: list[str]) -> list[tuple[str, str, str]]:
    """(mark, the words before the mark on its line, the note's text) of each footnote whose
    mark the body carries, in the order of the text."""
    notes: dict[str, list[str]] = {}
    for line in raw:
        found = _FOOTNOTE.match(line)
        if found:
            notes.setdefault(found.group(1), []).append(squash(found.group(2).replace("**", "")))
    out: list[tuple[str, str, str]] = []
    for line in raw:
        if _FOOTNOTE.match(line):
            continue
        for found in _MARK.finditer(line):
            before = line[: found.start()].replace("**", "").replace("__", "")
            context = squash(before.translate(_FURNITURE)).lstrip("-–—•+* ")
            waiting = notes.get(found.group())
            if waiting and len(context) >= 8:
                out.append((found.group(), context, waiting.pop(0)))
    return out


def _place_of(
    texts: list[list[str]], context: str, taken: dict[tuple[int, int], list[tuple[int, str]]]
) -> tuple[int, int, int] | None:
    """(part, line, offset) just after the first untaken place that ``context`` (its last 120
    characters, else its last 40) ends at in the parts' lines."""
    for size in (120, 40):
        probe = context[-size:]
        for at, lines in enumerate(texts):
            for n, line in enumerate(lines):
                start = 0
                while (found := line.find(probe, start)) >= 0:
                    end = found + len(probe)
                    if end not in {e for e, _ in taken.get((at, n), [])}:
                        return at, n, end
                    start = found + 1
    return None


GAPS = {
    "title": "trích yếu (tên kế hoạch)",
    "number": "số văn bản",
    "issued_on": "ngày ban hành",
    "place": "địa danh",
    "signer": "người ký",
    "recipients": "nơi nhận",
    "assignments": "phân công tổ chức thực hiện",
}


def gaps_of(imported: ImportedPlan) -> list[str]:
    """What the text does not say and a drafter must fill in, as keys of ``GAPS``."""
    p = imported.parsed
    missing = {
        "title": not p.title,
        "number": p.number is None,
        "issued_on": p.issued_on is None,
        "place": p.place is None,
        "signer": p.signature.name is None,
        "recipients": not p.recipients,
        "assignments": not p.blocks,
    }
    return [key for key in GAPS if missing[key]]


def _refuse_duplicate(session: Session, imported: ImportedPlan) -> None:
    p = imported.parsed
    query = select(Plan).where(Plan.issuer_id == imported.resolved_issuer.id, Plan.year == p.year)
    if p.number:
        query = query.where(Plan.number == p.number)
        what = f"kế hoạch {p.number}"
    else:
        query = query.where(col(Plan.number).is_(None), col(Plan.title) == p.title)
        what = "dự thảo cùng tên"
    existing = session.exec(query).first()
    if existing is not None:
        raise ValidationFailed(
            f"{p.source}: {what} của {imported.resolved_issuer.label} ({p.year}) đã được lưu "
            f"thành kế hoạch {existing.id}"
        )


def _parent_plan(session: Session, imported: ImportedPlan) -> Plan | None:
    """The stored plan this one implements ("Thực hiện Kế hoạch số …"), if it is stored."""
    ref = imported.parsed.parent_plan
    if ref is None or not ref.issuer:
        return None
    committee = Resolver(session, imported.resolved_issuer).lookup(ref.issuer).unit
    if committee is None:
        return None
    query = select(Plan).where(Plan.issuer_id == committee.id, Plan.number == ref.number)
    if ref.date:
        query = query.where(Plan.year == ref.date.year)
    parent = session.exec(query).first()
    if parent is None:
        return None
    sibling = session.exec(
        select(Plan).where(
            col(Plan.parent_id) == parent.id, col(Plan.issuer_id) == imported.resolved_issuer.id
        )
    ).first()
    if sibling is not None:
        raise ValidationFailed(
            f"{imported.parsed.source}: {imported.resolved_issuer.label} đã có kế hoạch "
            f"{sibling.id} thực hiện kế hoạch {parent.number or parent.id}"
        )
    return parent


def _standing_agency_id(session: Session, imported: ImportedPlan) -> int | None:
    """The agency the plan's units report to, when it sits beside the issuer; else the one the
    configuration names for the issuer."""
    issuer = imported.resolved_issuer
    first = sorted(imported.deadlines, key=lambda d: d.due_on)
    for line in first:
        if line.to_unit_id is None:
            continue
        unit = session.get(OrgUnit, line.to_unit_id)
        if unit and unit.parent_id == issuer.id and unit.kind == UnitKind.agency:
            return unit.id
        break
    agency = hierarchy.standing_agency(session, issuer)
    return agency.id if agency else None


def _assignment_rows(imported: ImportedPlan) -> list[dict[str, Any]]:
    """One row per resolved unit; a unit named in two blocks gets both blocks' duties."""
    rows: dict[int, dict[str, Any]] = {}
    for a in imported.assignments:
        if a.unit_id is None or (imported.issuer and a.unit_id == imported.resolved_issuer.id):
            continue
        duties = "\n".join(f"- {d}" for d in a.duties)
        row = rows.get(a.unit_id)
        if row is None:
            rows[a.unit_id] = {
                "unit_id": a.unit_id,
                "role": a.role,
                "requested": a.request,
                "position": len(rows),
                "group_label": a.group_label,
                "duties": duties,
            }
            continue
        if duties and duties not in row["duties"]:
            row["duties"] = f"{row['duties']}\n{duties}".strip()
        if a.role == Role.lead:
            row["role"] = Role.lead
        row["requested"] = row["requested"] or a.request
    return list(rows.values())


def _deadline_rows(imported: ImportedPlan, year: int) -> list[dict[str, Any]]:
    """One row per report kind: the earliest date is what the units owe the issuer's standing
    agency; a later date of the same kind is the issuer's own report upward."""
    by_kind: dict[ReportKind, list[ImportedDeadline]] = {}
    for line in imported.deadlines:
        by_kind.setdefault(line.report_kind, []).append(line)
    rows = []
    for kind, lines in by_kind.items():
        lines.sort(key=lambda d: d.due_on)
        first = lines[0]
        recipient = next(
            (d.to_unit_id for d in lines if d.due_on == first.due_on and d.to_unit_id), None
        )
        later = [d.due_on for d in lines if d.due_on > first.due_on]
        rows.append(
            {
                "kind": kind,
                "period": period_for(kind, year),
                "due_on": first.due_on,
                "recipient_id": recipient,
                "upward_due_on": later[0] if later else None,
            }
        )
    return rows
