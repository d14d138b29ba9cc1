"""The shipped hierarchy data: division lists per tier scheme and the agencies beside committees.

Three tiers (to 30/6/2025) come from ``data/divisions-3tier.json.gz`` (vietnam-provinces 0.6.0,
extracted by ``scripts/extract_divisions.py``); two tiers are read from the installed
``vietnam_provinces`` 2025.x package. Agencies, standing agencies and counterparts come from
``data/agencies.json``. Everything is read once per process.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any

from planflow.models.enums import Level, UnitKind

TIERS = (3, 2)

# Committee levels from the root down, per scheme.
LEVELS: dict[int, tuple[Level, ...]] = {
    3: (Level.province, Level.district, Level.ward),
    2: (Level.province, Level.ward),
}

# Name prefixes of administrative units; longest first so "Thành phố" wins over shorter ones.
_PREFIXES = ("Thành phố", "Thị trấn", "Đặc khu", "Thị xã", "Phường", "Huyện", "Quận", "Tỉnh", "Xã")


@dataclass(frozen=True)
class Division:
    """One administrative unit of a list: its GSO code, official name, type and sub-units."""

    code: str
    name: str
    division_type: str
    codename: str | None = None
    children: tuple[Division, ...] = ()


@dataclass(frozen=True)
class DivisionList:
    """A whole tier scheme: where it comes from and its provinces."""

    tiers: int
    source: dict[str, Any]
    provinces: tuple[Division, ...]


@dataclass(frozen=True)
class AgencySpec:
    """One agency or mass organisation to place beside a given committee."""

    role_key: str
    kind: UnitKind
    name: str
    short_name: str
    aliases: tuple[str, ...]

    @property
    def subordinate(self) -> bool:
        """Mass organisations are requested, not required (DESIGN.md §2)."""
        return self.kind != UnitKind.mass_org


@dataclass(frozen=True)
class Area:
    """How bodies beside a committee name its area."""

    area: str  # "thành phố Hà Nội", "quận Hà Đông", "Quận 1"
    area_type: str  # "Thành phố", "tỉnh", "quận"
    area_name: str  # "Hà Nội", "Hà Đông", "1"


def area_of(name: str, level: Level) -> Area:
    """The area phrases for a committee's official name (Nghị định 30/2020 capitalisation)."""
    prefix = next((p for p in _PREFIXES if name.startswith(p + " ")), "")
    proper = name[len(prefix) :].strip() if prefix else name
    # "Quận 1", "Phường 10": the type stays capitalised
    keep = not prefix or proper.isdigit()
    area = name if keep else f"{prefix[0].lower()}{prefix[1:]} {proper}"
    if level == Level.province:
        area_type = "Thành phố" if prefix == "Thành phố" else "tỉnh"
    else:
        area_type = prefix.lower()
    return Area(area=area, area_type=area_type, area_name=proper)


@dataclass(frozen=True)
class _Template:
    role_key: str
    kind: UnitKind
    fields: dict[str, Any]
    overrides: dict[str, dict[str, Any]]
    only: frozenset[str] | None
    omit: frozenset[str]

    def spec(self, area: Area, province_code: str) -> AgencySpec | None:
        if province_code in self.omit or (self.only is not None and province_code not in self.only):
            return None
        fields = self.fields | self.overrides.get(province_code, {})
        values = {"area": area.area, "area_type": area.area_type, "area_name": area.area_name}
        aliases = dict.fromkeys(a.format(**values) for a in fields.get("aliases", ()))
        return AgencySpec(
            role_key=self.role_key,
            kind=self.kind,
            name=fields["name"].format(**values),
            short_name=fields["short_name"].format(**values),
            aliases=tuple(aliases),
        )


@dataclass(frozen=True)
class Scheme:
    """The agencies, standing agencies and counterparts of one tier scheme."""

    tiers: int
    standing: dict[Level, str]
    counterparts: dict[Level, dict[str, str]]  # keyed by the parent committee's level
    templates: dict[Level, tuple[_Template, ...]]

    def agencies(self, level: Level, committee_name: str, province_code: str) -> list[AgencySpec]:
        """The bodies beside a committee of ``level`` named ``committee_name``."""
        area = area_of(committee_name, level)
        specs = (t.spec(area, province_code) for t in self.templates.get(level, ()))
        return [s for s in specs if s is not None]

    def counterpart_role(self, role_key: str | None, level: Level | None = None) -> str | None:
        """The role beside a child committee that mirrors ``role_key`` beside its ``level``
        parent; any level when ``level`` is None (each scheme maps from one level today)."""
        maps = [self.counterparts.get(level, {})] if level else self.counterparts.values()
        return next((m[role_key] for m in maps if role_key in m), None)


def _resolve(entry: dict[str, Any], shared: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in entry:
        return shared[entry["$ref"]] | {k: v for k, v in entry.items() if k != "$ref"}
    return entry


def _template(entry: dict[str, Any], shared: dict[str, Any]) -> _Template:
    entry = _resolve(entry, shared)
    only = entry.get("only")
    return _Template(
        role_key=entry["role_key"],
        kind=UnitKind(entry["kind"]),
        fields={k: entry[k] for k in ("name", "short_name", "aliases")},
        overrides={code: _resolve(o, shared) for code, o in entry.get("overrides", {}).items()},
        only=frozenset(only["codes"]) if only else None,
        omit=frozenset(entry.get("omit", {}).get("codes", ())),
    )


@lru_cache(maxsize=2)
def scheme(tiers: int) -> Scheme:
    """The agencies configuration of a tier scheme (3 or 2)."""
    _check(tiers)
    raw = json.loads(files("planflow.config").joinpath("data/agencies.json").read_text("utf-8"))
    shared = raw["shared"]
    conf = raw["schemes"][str(tiers)]
    return Scheme(
        tiers=tiers,
        standing={Level(k): v for k, v in conf["standing_agency"].items()},
        counterparts={Level(k): dict(v) for k, v in conf["counterparts"].items()},
        templates={
            Level(level): tuple(_template(e, shared) for e in entries)
            for level, entries in conf["agencies"].items()
        },
    )


@lru_cache(maxsize=2)
def divisions(tiers: int) -> DivisionList:
    """The official division list of a tier scheme, provinces in GSO code order."""
    _check(tiers)
    return _three_tier() if tiers == 3 else _two_tier()


def _three_tier() -> DivisionList:
    path = files("planflow.config").joinpath("data/divisions-3tier.json.gz")
    raw = json.loads(gzip.decompress(path.read_bytes()))

    def unit(row: dict[str, Any], children: tuple[Division, ...] = ()) -> Division:
        return Division(
            code=row["code"],
            name=row["name"],
            division_type=row["division_type"],
            codename=row.get("codename"),
            children=children,
        )

    provinces = tuple(
        unit(p, tuple(unit(d, tuple(unit(w) for w in d["wards"])) for d in p["districts"]))
        for p in raw["provinces"]
    )
    return DivisionList(tiers=3, source=raw["source"], provinces=provinces)


def _two_tier() -> DivisionList:
    import vietnam_provinces as vp

    raw = json.loads(vp.NESTED_DIVISIONS_JSON_PATH.read_text(encoding="utf-8"))
    provinces = tuple(
        Division(
            code=f"{p['code']:02d}",
            name=_province_name(p["name"], p["division_type"]),
            division_type=p["division_type"],
            codename=p["codename"],
            children=tuple(
                Division(
                    code=f"{w['code']:05d}",
                    name=" ".join(w["name"].split()),  # 10 names carry a double space
                    division_type=w["division_type"],
                )
                for w in p["wards"]
            ),
        )
        for p in raw
    )
    source = {
        "package": "vietnam-provinces",
        "registry": "PyPI",
        "version": vp.__version__,
        "data_date": vp.__data_version__,
        "codes": "GSO administrative unit codes, zero-padded",
    }
    return DivisionList(tiers=2, source=source, provinces=provinces)


def _province_name(name: str, division_type: str) -> str:
    """The official name: 2025.x writes cities in full but provinces without "Tỉnh "."""
    if division_type == "tỉnh" and not name.startswith("Tỉnh "):
        return f"Tỉnh {name}"
    return name


def _check(tiers: int) -> None:
    if tiers not in TIERS:
        raise ValueError(f"tiers must be 3 or 2, not {tiers!r}")
