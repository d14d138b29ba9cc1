"""Unit names as plans write them, resolved against the loaded hierarchy; never guessed.

A name is looked up among the bodies beside the issuing committee first, then beside each
committee above it, so "Hội LHPN" in a district plan is the district's and "Sở Lao động - Thương
binh và Xã hội" in the same plan is the city's. Spellings are compared through ``name_key`` (tone
mark position, Unicode form, hyphens, "và"/"&", case) against each unit's name, short name and
aliases, with the area written after it ("… thành phố Hà Nội", "… quận") taken off. A name that
matches nothing, or more than one unit, is reported with the reason, not guessed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import Session, col, select

from planflow.config.hierarchy_data import area_of
from planflow.documents.reading.phrases import UNIT_WORDS
from planflow.models.base import pk
from planflow.models.enums import Level, UnitKind
from planflow.models.org import OrgUnit
from planflow.services import hierarchy
from planflow.vntext import canonical, fold, initials, name_key, squash

GROUP = "một nhóm, không phải một đơn vị"
_COMMITTEE = re.compile(
    r"^(?:UBND|Ủy ban nhân dân|Uỷ ban nhân dân)\b\s*(?P<rest>.*)$", re.IGNORECASE
)
_TYPES = ("thành phố", "thị xã", "thị trấn", "đặc khu", "tỉnh", "quận", "huyện", "phường", "xã")
_STANDING = ("co quan thuong truc", "thuong truc")
_PREFIX_WORDS = sorted(UNIT_WORDS, key=len, reverse=True)
_VIET_NAM = name_key("Việt Nam")


@dataclass(frozen=True)
class Lookup:
    """The units a name stands for, or why it stands for none."""

    units: tuple[OrgUnit, ...] = ()
    reason: str | None = None

    @property
    def unit(self) -> OrgUnit | None:
        return self.units[0] if len(self.units) == 1 else None


def find_issuer(
    session: Session, *, tiers: int, issuer: str | None, place: str | None, hints: list[str]
) -> Lookup:
    """The committee that issued a plan: "UBND quận Hà Đông", or "UBND Thành phố" + place."""
    if not issuer:
        return Lookup(reason="văn bản không ghi cơ quan ban hành")
    match = _COMMITTEE.match(squash(issuer))
    board = re.match(
        r"^(Ban\s+(?:Vì sự tiến bộ của phụ nữ|Chỉ đạo\b.*?))"
        r"\s+(?:tỉnh|thành phố|quận|huyện|thị xã|phường|xã)\b",
        squash(issuer),
        re.IGNORECASE,
    )
    if board:
        return Lookup(
            reason=f"văn bản do {board.group(1)} ban hành; ban không phải là đơn vị của cây tổ "
            "chức: hãy lưu kế hoạch dưới Ủy ban nhân dân cùng cấp"
        )
    if not match:
        return Lookup(reason="chỉ Ủy ban nhân dân (UBND) được nhận là cơ quan ban hành")
    area_type, area_name = _split_area(match.group("rest"))
    area_name = area_name or (place or "")
    if not area_name:
        return Lookup(reason="văn bản không ghi địa bàn của Ủy ban nhân dân ban hành")
    rows = session.exec(
        select(OrgUnit).where(OrgUnit.tiers == tiers, OrgUnit.kind == UnitKind.committee)
    ).all()
    if not rows:
        return Lookup(
            reason=f"chưa nạp cây đơn vị {tiers} cấp "
            f"(planflow units load --province … --tiers {tiers})"
        )
    wanted = name_key(area_name)
    found = [
        u
        for u in rows
        if name_key(area_of(u.name, Level(u.level)).area_name) == wanted
        and (not area_type or _type_matches(u, area_type))
    ]
    if len(found) > 1:
        found = _narrow(session, found, hints) or found
    if not found:
        return Lookup(
            reason=f"không có Ủy ban nhân dân {issuer!r} ({area_name}) trong cây {tiers} cấp"
        )
    if len(found) > 1:
        names = ", ".join(f"{u.name} ({u.code})" for u in found[:5])
        return Lookup(reason=f"chưa rõ là đơn vị nào: {names}")
    return Lookup(units=(found[0],))


def _split_area(rest: str) -> tuple[str | None, str]:
    rest = squash(rest)
    low = rest.lower()
    for type_word in _TYPES:
        if low == type_word or low.startswith(type_word + " "):
            return type_word, rest[len(type_word) :].strip()
    return None, rest


def _type_matches(unit: OrgUnit, area_type: str) -> bool:
    division = (unit.division_type or "").lower()
    if area_type == "thành phố" and unit.level == Level.province:
        return division.startswith("thành phố")
    return division.startswith(area_type) or (area_type == "tỉnh" and unit.level == Level.province)


def _narrow(session: Session, found: list[OrgUnit], hints: list[str]) -> list[OrgUnit]:
    """Keep the committees whose province a hint names (the parent plan's issuer, the place)."""
    keys = [name_key(h) for h in hints if h]
    kept = []
    for unit in found:
        root = session.exec(
            select(OrgUnit).where(
                OrgUnit.tiers == unit.tiers, OrgUnit.code == unit.path.split("/")[0]
            )
        ).first()
        area = name_key(area_of(root.name, Level(root.level)).area_name) if root else ""
        if area and any(area in k for k in keys):
            kept.append(unit)
    return kept


class Resolver:
    """Looks names up among the units of the issuer's province, nearest committee first."""

    def __init__(self, session: Session, issuer: OrgUnit) -> None:
        self.session = session
        self.issuer = issuer
        root_code = issuer.path.split("/")[0]
        rows = session.exec(
            select(OrgUnit).where(
                OrgUnit.tiers == issuer.tiers,
                OrgUnit.active,
                (col(OrgUnit.code) == root_code)
                | col(OrgUnit.path).startswith(root_code + "/", autoescape=True),
            )
        ).all()
        self.units = {u.id: u for u in rows}
        self.children: dict[int, list[OrgUnit]] = defaultdict(list)
        for unit in sorted(rows, key=lambda u: u.code):
            if unit.parent_id is not None:
                self.children[unit.parent_id].append(unit)
        self.chain = self._chain(issuer)
        self._keys: dict[int, tuple[set[str], set[str]]] = {}

    def _chain(self, unit: OrgUnit) -> list[OrgUnit]:
        chain = [unit]
        while chain[-1].parent_id in self.units:
            chain.append(self.units[chain[-1].parent_id])
        return chain

    # -- public ------------------------------------------------------------------------------

    def lookup(self, name: str, *, group: bool = False) -> Lookup:
        """The unit (or, for a committee group, the units) a name stands for."""
        name = squash(name)
        committee = _COMMITTEE.match(name)
        if committee:
            return self._committees(committee.group("rest"), name)
        if group:
            return Lookup(reason=GROUP)
        standing = self._standing(name)
        if standing is not None:
            return standing
        return self._body(name)

    # -- committees --------------------------------------------------------------------------

    def _committees(self, rest: str, name: str) -> Lookup:
        rest = squash(rest)
        if fold(rest).startswith("cac "):
            return self._committee_group(rest.split(" ", 1)[1] if " " in rest else "")
        area_type, area_name = _split_area(rest)
        if area_name and area_type is None and fold(area_name).startswith("cap"):
            return Lookup(reason=GROUP)  # "UBND các cấp", "UBND cấp xã"
        if not area_name:
            for committee in self.chain:
                if area_type is None or _type_matches(committee, area_type):
                    return Lookup(units=(committee,))
            return Lookup(reason=f"không có Ủy ban nhân dân {area_type} ở trên {self.issuer.label}")
        wanted = name_key(area_name)
        found = [
            u
            for u in self.units.values()
            if u.kind == UnitKind.committee
            and name_key(area_of(u.name, Level(u.level)).area_name) == wanted
            and (area_type is None or _type_matches(u, area_type))
        ]
        if len(found) == 1:
            return Lookup(units=(found[0],))
        if found:
            return Lookup(reason="chưa rõ là đơn vị nào: " + ", ".join(u.name for u in found[:5]))
        return Lookup(reason=f"không có Ủy ban nhân dân {name!r} trong {self.chain[-1].name}")

    def _committee_group(self, types_text: str) -> Lookup:
        """ "quận, huyện, thị xã" -> every child committee of the issuer of those types."""
        wanted = [t.strip().lower() for t in re.split(r",|\s+và\s+", types_text) if t.strip()]
        if not wanted or not all(t in _TYPES for t in wanted):
            return Lookup(reason=GROUP)
        below = [u for u in self.children[pk(self.issuer)] if u.kind == UnitKind.committee]
        found = [u for u in below if any(_type_matches(u, t) for t in wanted)]
        if not found:
            return Lookup(
                reason=f"không có Ủy ban nhân dân {', '.join(wanted)} nào trực thuộc "
                f"{self.issuer.label}"
            )
        return Lookup(units=tuple(found))

    # -- agencies and mass organisations -----------------------------------------------------

    def _standing(self, name: str) -> Lookup | None:
        """ "cơ quan Thường trực" without a name: the issuer's configured standing agency."""
        if fold(name).strip(" .") not in _STANDING:
            return None
        agency = hierarchy.standing_agency(self.session, self.issuer)
        if agency is None:
            return Lookup(reason="chưa cấu hình cơ quan thường trực của cơ quan ban hành")
        return Lookup(units=(agency,))

    def _body(self, name: str) -> Lookup:
        for loose in (False, True):
            for committee in self.chain:
                suffixes = _area_suffixes(committee)
                wanted = _variants(name_key(name), suffixes)
                if loose:
                    wanted = {fold(k) for k in wanted}
                found = [
                    u
                    for u in self.children[pk(committee)]
                    if u.kind != UnitKind.committee and wanted & self._unit_keys(u, loose)
                ]
                if len(found) == 1:
                    return Lookup(units=(found[0],))
                if len(found) > 1:
                    names = ", ".join(u.name for u in found)
                    return Lookup(reason=f"chưa rõ là đơn vị nào: {names}")
        where = " hoặc ".join(c.label for c in self.chain)
        return Lookup(reason=f"không có đơn vị nào tên như vậy bên cạnh {where}")

    def _unit_keys(self, unit: OrgUnit, loose: bool) -> set[str]:
        if unit.id not in self._keys:
            parent = self.units.get(unit.parent_id)
            suffixes = _area_suffixes(parent) if parent else []
            keys: set[str] = set()
            for text in _spellings(unit, parent):
                keys |= _variants(name_key(text), suffixes)
            self._keys[pk(unit)] = (keys, {fold(k) for k in keys})
        exact, folded = self._keys[pk(unit)]
        return folded if loose else exact


def _area_suffixes(committee: OrgUnit) -> list[str]:
    """How text after a body's name can name its committee's area, as keys, longest first."""
    area = area_of(committee.name, Level(committee.level))
    keys = {name_key(committee.name), name_key(area.area), name_key(area.area_name)}
    keys.add(name_key(area.area_type))
    return sorted((k for k in keys if k), key=len, reverse=True)


def _variants(key: str, suffixes: list[str]) -> set[str]:
    """``key`` with an area suffix taken off, then "Việt Nam" taken off: every stage."""
    out = {key}
    for suffix in suffixes:
        if key.endswith(suffix) and len(key) > len(suffix):
            out.add(key[: -len(suffix)])
            break
    out |= {k[: -len(_VIET_NAM)] for k in out if k.endswith(_VIET_NAM) and k != _VIET_NAM}
    return out


def _spellings(unit: OrgUnit, parent: OrgUnit | None) -> list[str]:
    """The unit's name, short name, aliases and abbreviations made from its bare name."""
    texts = [unit.name, *(unit.aliases or [])]
    if unit.short_name:
        texts.append(unit.short_name)
    bare = unit.name
    if parent is not None:
        area = area_of(parent.name, Level(parent.level)).area
        if canonical(bare).lower().endswith(canonical(area).lower()):
            bare = bare[: -len(area)].strip()
    low = canonical(bare).lower()
    for word in _PREFIX_WORDS:
        if low.startswith(word + " "):
            prefix, rest = bare[: len(word)], bare[len(word) :].strip()
            if len(rest.split()) >= 2:
                texts.append(f"{prefix} {initials(rest)}")  # "Hội LHPN", "Phòng TCKH"
            texts.append(initials(bare))  # "UBMTTQVN"
            break
    return texts
