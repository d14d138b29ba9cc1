"""The administrative hierarchy as rows: loading the official lists, and walking the tree.

Committees come from the official division lists (three tiers to 30/6/2025, two tiers since),
agencies and mass organisations from the shipped configuration (``config/data/agencies.json``).
Functions take a Session, flush, and never commit.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import func, insert, update
from sqlmodel import Session, col, select

from planflow.config.hierarchy_data import LEVELS, TIERS, Division, divisions, scheme
from planflow.models.base import stored_ids
from planflow.models.enums import Level, UnitKind
from planflow.models.org import OrgUnit
from planflow.models.time import utcnow
from planflow.states.errors import NotFound, ValidationFailed
from planflow.vntext import fold

ALL = "all"
LEVEL_ORDER = {level: i for i, level in enumerate(Level)}
KIND_ORDER = {UnitKind.committee: 0, UnitKind.agency: 1, UnitKind.mass_org: 2}
# Listing children: the bodies beside a committee before the committees below it.
_CHILD_ORDER = {UnitKind.agency: 0, UnitKind.mass_org: 1, UnitKind.committee: 2}

# Spellings people use that the lists do not carry (after folding, see _search_key).
_PROVINCE_ALIASES = {"hcm": "79", "tphcm": "79", "sai gon": "79", "thua thien hue": "46"}
_PREFIXES = ("thanh pho ", "tinh ", "tp ")
# Fields the loader owns; a re-run rewrites them when the shipped data changed.
_OWNED = (
    "name",
    "short_name",
    "level",
    "kind",
    "division_type",
    "gso_code",
    "role_key",
    "subordinate",
    "depth",
    "path",
    "parent_id",
    "aliases",
)
_CONTACTS = ("emails", "zalo_user_ids", "phones")


@dataclass(frozen=True)
class ProvinceRef:
    """A province of one tier scheme's official list."""

    tiers: int
    code: str
    name: str
    division_type: str
    codename: str
    division: Division = field(repr=False, compare=False)


@dataclass
class LoadResult:
    """What ``load_units`` did, counted per (level, kind)."""

    tiers: int
    provinces: list[str]
    created: Counter[tuple[Level, UnitKind]] = field(default_factory=Counter)
    existing: Counter[tuple[Level, UnitKind]] = field(default_factory=Counter)
    updated: Counter[tuple[Level, UnitKind]] = field(default_factory=Counter)

    @property
    def total_created(self) -> int:
        return sum(self.created.values())

    @property
    def total_existing(self) -> int:
        return sum(self.existing.values())

    @property
    def total_updated(self) -> int:
        return sum(self.updated.values())

    def rows(self) -> list[tuple[Level, UnitKind, int, int]]:
        """(level, kind, created, existing) in tree order, for printing."""
        keys = sorted(set(self.created) | set(self.existing), key=_order)
        return [(lv, kd, self.created[(lv, kd)], self.existing[(lv, kd)]) for lv, kd in keys]


# -- finding provinces -----------------------------------------------------------------------


def _search_key(text: str) -> str:
    """Folded, words separated by one space: "Đắk  Lắk" -> "dak lak"."""
    return re.sub(r"[^a-z0-9]+", " ", fold(text)).strip()


def _strip_prefix(key: str) -> str:
    return next((key[len(p) :] for p in _PREFIXES if key.startswith(p)), key)


@lru_cache(maxsize=2)
def _province_index(tiers: int) -> dict[str, ProvinceRef]:
    index: dict[str, ProvinceRef] = {}
    for div in divisions(tiers).provinces:
        ref = ProvinceRef(tiers, div.code, div.name, div.division_type, div.codename or "", div)
        for key in (div.code, div.name, div.codename or ""):
            folded = _search_key(key)
            index[folded] = index[_strip_prefix(folded)] = ref
    for alias, code in _PROVINCE_ALIASES.items():
        index[alias] = index[code]
    return index


def check_tiers(tiers: int) -> int:
    """``tiers`` itself when it names a scheme (3 or 2), else a one-line error."""
    if tiers not in TIERS:
        raise ValidationFailed(
            f"--tiers phải là 3 (đến 30/6/2025) hoặc 2 (từ 1/7/2025), không phải {tiers}"
        )
    return tiers


def find_province(name_or_code: str, tiers: int) -> ProvinceRef:
    """The province a name, code or codename names, forgiving case, accents and prefixes."""
    index = _province_index(check_tiers(tiers))
    key = _search_key(name_or_code)
    if key.isdigit():
        key = f"{int(key):02d}"
    ref = index.get(key) or index.get(_strip_prefix(key))
    if ref is None:
        raise NotFound(
            f"không có tỉnh {name_or_code!r} trong danh sách {tiers} cấp; "
            f"xem các tên hợp lệ: planflow units provinces --tiers {tiers}"
        )
    return ref


def resolve_provinces(name_or_code: str, tiers: int) -> list[ProvinceRef]:
    """One province, or every province of the list for ``"all"``."""
    if _search_key(name_or_code) == ALL:
        return list_provinces(tiers)
    return [find_province(name_or_code, tiers)]


def list_provinces(tiers: int) -> list[ProvinceRef]:
    """Every province of a tier scheme's list, in GSO code order."""
    return [find_province(div.code, tiers) for div in divisions(check_tiers(tiers)).provinces]


# -- loading ---------------------------------------------------------------------------------


def load_units(
    *, session: Session, province: str, tiers: int, demo_contacts: bool = False
) -> LoadResult:
    """Insert the committees, agencies and mass organisations of a province (or ``"all"``)
    that are missing, update loader-owned fields that changed, and leave the rest alone."""
    refs = resolve_provinces(province, tiers)
    result = LoadResult(tiers=tiers, provinces=[r.code for r in refs])
    existing = _existing_rows(session, tiers)
    ids = {code: row["id"] for code, row in existing.items()}
    for generation in _planned_rows(refs, tiers):
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for row in generation:
            parent_code = row.pop("parent_code")
            row["parent_id"] = ids[parent_code] if parent_code else None
            key = (Level(row["level"]), UnitKind(row["kind"]))
            old = existing.get(row["code"])
            if old is None:
                inserts.append(_new_row(row, demo_contacts))
                result.created[key] += 1
                continue
            result.existing[key] += 1
            changes = {f: row[f] for f in _OWNED if old[f] != row[f]}
            if demo_contacts and not any(old[c] for c in _CONTACTS):
                changes |= _demo_contacts(row["code"])
            if changes:
                updates.append({"id": old["id"], **changes})
                result.updated[key] += 1
        if inserts:
            returned = session.execute(
                insert(OrgUnit).returning(col(OrgUnit.code), col(OrgUnit.id)), inserts
            )
            ids.update({code: id_ for code, id_ in returned})
        if updates:
            session.execute(update(OrgUnit), updates)
    if tiers == 3:  # the agencies merged on 1/3/2025 (LĐTBXH → Nội vụ), as dated successions
        from planflow.services.succession import record_agency_successions

        record_agency_successions(session, result.provinces)
    session.flush()
    return result


def _existing_rows(session: Session, tiers: int) -> dict[str, dict[str, Any]]:
    columns = [OrgUnit.id, OrgUnit.code, *(getattr(OrgUnit, f) for f in _OWNED + _CONTACTS)]
    rows = session.execute(select(*columns).where(OrgUnit.tiers == tiers))
    return {row.code: dict(row._mapping) for row in rows}


def _planned_rows(refs: Iterable[ProvinceRef], tiers: int) -> list[list[dict[str, Any]]]:
    """The rows the lists call for, one list per depth, so parents are written first."""
    levels = LEVELS[tiers]
    conf = scheme(tiers)
    generations: list[list[dict[str, Any]]] = [[] for _ in range(len(levels) + 1)]

    def visit(div: Division, depth: int, parent: dict[str, Any] | None, province: str) -> None:
        level = levels[depth]
        path = f"{parent['path']}/{div.code}" if parent else div.code
        committee = _row(
            tiers=tiers,
            code=div.code,
            name=div.name,
            level=level,
            kind=UnitKind.committee,
            path=path,
            parent=parent,
            division_type=div.division_type,
            gso_code=div.code,
        )
        generations[depth].append(committee)
        for spec in conf.agencies(level, div.name, province):
            code = f"{div.code}-{spec.role_key}"
            generations[depth + 1].append(
                _row(
                    tiers=tiers,
                    code=code,
                    name=spec.name,
                    level=level,
                    kind=spec.kind,
                    path=f"{path}/{code}",
                    parent=committee,
                    short_name=spec.short_name,
                    role_key=spec.role_key,
                    subordinate=spec.subordinate,
                    aliases=list(spec.aliases),
                )
            )
        for child in div.children:
            visit(child, depth + 1, committee, province)

    for ref in refs:
        visit(ref.division, 0, None, ref.code)
    return [g for g in generations if g]


def _row(
    *,
    tiers: int,
    code: str,
    name: str,
    level: Level,
    kind: UnitKind,
    path: str,
    parent: dict[str, Any] | None,
    **fields: Any,
) -> dict[str, Any]:
    """One planned row: every loader-owned field, defaults first, ``fields`` over them."""
    row: dict[str, Any] = {
        "tiers": tiers,
        "code": code,
        "name": name,
        "short_name": None,
        "level": level.value,
        "kind": kind.value,
        "division_type": None,
        "gso_code": None,
        "role_key": None,
        "subordinate": True,
        "depth": path.count("/"),
        "path": path,
        "aliases": [],
        "parent_code": parent["code"] if parent else None,
    }
    return row | fields


def _new_row(row: dict[str, Any], demo_contacts: bool) -> dict[str, Any]:
    # A Core-level bulk insert skips the model's Python defaults, so every column is given here.
    contacts = _demo_contacts(row["code"]) if demo_contacts else {c: [] for c in _CONTACTS}
    return row | contacts | {"active": True, "created_at": utcnow()}


def _demo_contacts(code: str) -> dict[str, list[str]]:
    """Made-up contacts, for demos only: an address on the reserved .test domain, a fake Zalo
    id, and a well-formed +84 10… number, a range no Vietnamese subscriber number uses
    (mobiles are +84 3/5/7/8/9 + 8 digits, landlines +84 2x + 8)."""
    digits = zlib.crc32(code.encode()) % 10**7
    return {
        "emails": [f"{code}@demo.planflow.test"],
        "zalo_user_ids": [f"demo-zalo-{code}"],
        "phones": [f"+8410{digits:07d}"],
    }


# -- walking the tree ------------------------------------------------------------------------


def standing_role(tiers: int, level: Level | str) -> str | None:
    """The role key of the standing agency beside a committee of ``level`` in a scheme."""
    return scheme(check_tiers(tiers)).standing.get(Level(level))


def counterpart_role(role_key: str, *, tiers: int, level: Level | str | None = None) -> str | None:
    """The role beside a child committee that mirrors ``role_key`` beside its parent of
    ``level`` (any level when omitted), or None when the body has no counterpart below."""
    return scheme(check_tiers(tiers)).counterpart_role(role_key, Level(level) if level else None)


def _under(unit: OrgUnit, *, include_self: bool = True):
    """The SQL condition for ``unit``'s subtree, by path prefix within its tier scheme."""
    below = col(OrgUnit.path).startswith(unit.path + "/", autoescape=True)
    if include_self:
        below = below | (col(OrgUnit.id) == unit.id)
    return (col(OrgUnit.tiers) == unit.tiers) & below


def _sorted(units: Iterable[OrgUnit]) -> list[OrgUnit]:
    """Parents before children; agencies, mass organisations, then committees; list order."""
    return sorted(units, key=lambda u: (u.depth, _CHILD_ORDER[UnitKind(u.kind)], u.id))


def _order(key: tuple[Level, UnitKind]) -> tuple[int, int]:
    return LEVEL_ORDER[Level(key[0])], KIND_ORDER[UnitKind(key[1])]


def get_unit(session: Session, tiers: int, code: str) -> OrgUnit:
    """The unit with this planflow code in a tier scheme, or NotFound."""
    unit = session.exec(
        select(OrgUnit).where(OrgUnit.tiers == check_tiers(tiers), OrgUnit.code == code)
    ).first()
    if unit is None:
        raise NotFound(f"không có đơn vị mã {code!r} trong cây {tiers} cấp")
    return unit


def province_units(session: Session, tiers: int, code: str) -> list[OrgUnit]:
    """Every unit of one loaded province (name or code), the province committee first."""
    root = get_unit(session, tiers, find_province(code, tiers).code)
    return _sorted(session.exec(select(OrgUnit).where(_under(root))).all())


def loaded_provinces(session: Session, tiers: int | None = None) -> list[OrgUnit]:
    """The province committees in the database, by scheme (3 before 2) and code."""
    query = select(OrgUnit).where(OrgUnit.depth == 0, OrgUnit.kind == UnitKind.committee)
    if tiers is not None:
        query = query.where(OrgUnit.tiers == check_tiers(tiers))
    return list(session.exec(query.order_by(col(OrgUnit.tiers).desc(), OrgUnit.code)).all())


def children(session: Session, unit_id: int, kind: UnitKind | None = None) -> list[OrgUnit]:
    """The units directly under ``unit_id``, optionally of one kind."""
    query = select(OrgUnit).where(OrgUnit.parent_id == unit_id)
    if kind is not None:
        query = query.where(OrgUnit.kind == kind)
    return _sorted(session.exec(query).all())


def child_committees(session: Session, unit_id: int) -> list[OrgUnit]:
    """The committees directly under ``unit_id`` (districts of a province, wards of a district)."""
    return children(session, unit_id, UnitKind.committee)


def _beside(session: Session, committee: OrgUnit, role_key: str | None) -> OrgUnit | None:
    if not role_key:
        return None
    return session.exec(
        select(OrgUnit).where(OrgUnit.parent_id == committee.id, OrgUnit.role_key == role_key)
    ).first()


def standing_agency(session: Session, committee: OrgUnit) -> OrgUnit | None:
    """The committee's standing agency (cơ quan thường trực) per the scheme's configuration."""
    return _beside(session, committee, standing_role(committee.tiers, committee.level))


def counterpart(session: Session, agency: OrgUnit, committee: OrgUnit) -> OrgUnit | None:
    """The body beside ``committee`` that mirrors ``agency`` (beside the committee's parent)."""
    if not agency.role_key:
        return None
    return _beside(
        session,
        committee,
        counterpart_role(agency.role_key, tiers=agency.tiers, level=agency.level),
    )


def subtree_ids(session: Session, unit: OrgUnit) -> list[int]:
    """The ids of ``unit`` and everything below it."""
    return stored_ids(session.exec(select(OrgUnit.id).where(_under(unit))).all())


def subtree_sizes(session: Session, unit: OrgUnit) -> dict[str, int]:
    """For each unit directly under ``unit``, keyed by its path: how many units its subtree
    holds, itself included (one query, whatever the depth)."""
    depth = unit.path.count("/") + 1
    sizes: dict[str, int] = defaultdict(int)
    for path in session.exec(select(OrgUnit.path).where(_under(unit, include_self=False))):
        sizes["/".join(path.split("/")[: depth + 1])] += 1
    return dict(sizes)


def subtree(session: Session, unit: OrgUnit, depth: int) -> list[OrgUnit]:
    """``unit`` and the units at most ``depth`` levels below it, parents before children."""
    query = select(OrgUnit).where(_under(unit), OrgUnit.depth <= unit.depth + depth)
    return _sorted(session.exec(query).all())


def tree_summary(session: Session, unit: OrgUnit) -> list[tuple[Level, UnitKind, int]]:
    """How many units of each (level, kind) ``unit``'s subtree holds, itself included."""
    query = (
        select(OrgUnit.level, OrgUnit.kind, func.count())
        .where(_under(unit))
        .group_by(OrgUnit.level, OrgUnit.kind)
    )
    counts = [(Level(lv), UnitKind(kd), n) for lv, kd, n in session.exec(query).all()]
    return sorted(counts, key=lambda c: _order((c[0], c[1])))
