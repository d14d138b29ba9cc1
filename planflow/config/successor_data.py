"""The 2025 map change as data: which new commune and province took over each old one, and
which agency took over each merged one.

Communes and provinces come from the converter data of the PyPI package ``vietnamadminunits``
(MIT): every ward of the pre-2025 list goes whole into one new commune, or is split in parts
with one default new commune. Its keys are folded names; its ``dataset.db`` gives their GSO
codes. The data files are read directly, without importing the package (its converter module
loads geometry libraries planflow does not need). Agency successions are configuration in
``data/agency_successions.json``, each with the document it rests on.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib.metadata import version
from importlib.resources import files
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from planflow.models.enums import Level
from planflow.vntext import fold

PACKAGE = "vietnamadminunits"


@dataclass(frozen=True)
class NewCommune:
    """Where (part of) an old ward went: the new commune's GSO code."""

    code: str
    whole: bool
    default: bool


@dataclass(frozen=True)
class Successions:
    """Old province code → new province code; old ward code → its new communes."""

    source: dict[str, Any]
    provinces: dict[str, str]
    wards: dict[str, tuple[NewCommune, ...]]
    fallback: dict[str, str]  # old ward code → how it was matched when the package lacks it

    def default_commune(self, ward_code: str) -> str | None:
        """The one new commune an old ward's open work goes to."""
        found = self.wards.get(ward_code, ())
        return next((c.code for c in found if c.default), found[0].code if found else None)


@dataclass(frozen=True)
class AgencySuccession:
    """One configured agency change: the role beside committees of ``level`` in ``tiers`` passes
    to ``to_role`` (beside the same committee, or, with ``to_level``, beside its successors)."""

    tiers: int
    level: Level
    from_role: str
    to_role: str | None
    to_level: Level | None
    effective_on: date
    matter: str
    whole: bool
    source: str


@dataclass(frozen=True)
class Reorganisation:
    """The 1 July 2025 change: its date and the documents it rests on."""

    effective_on: date
    sources: dict[str, str]


@lru_cache(maxsize=65536)
def package_key(text: str) -> str:
    """The package's keys: folded, letters and digits only: "Phường Mộ Lao" → "phuongmolao"."""
    return re.sub(r"[^a-z0-9]", "", fold(text))


def _spaced(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).split())


def _data_dir() -> Path:
    spec = find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the package {PACKAGE} is not installed (pip install {PACKAGE})")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


@lru_cache(maxsize=1)
def successions() -> Successions:
    """The province and ward successions of 1/7/2025, keyed by the three-tier list's codes."""
    from planflow.config.hierarchy_data import divisions

    data = _data_dir()
    converter = json.loads((data / "converter_2025.json").read_text(encoding="utf-8"))
    with sqlite3.connect(f"file:{data / 'dataset.db'}?mode=ro", uri=True) as db:
        legacy = {
            f"{p}_{d}_{w}": code
            for p, d, w, code in db.execute(
                "SELECT provinceKey, districtKey, wardKey, wardCode FROM admin_units_legacy"
            )
        }
        old_provinces = dict(
            db.execute("SELECT DISTINCT provinceKey, provinceCode FROM admin_units_legacy")
        )
        # the package's new-commune codes differ from the official list's for 131 communes
        # (each took the code of another of its merged wards): match by name within the province
        # (exact name first; "Hòa"/"Hoà" spellings by the folded name)
        official: dict[tuple[str, str], str] = {}
        for p in divisions(2).provinces:
            for w in p.children:
                official[(p.code, _spaced(w.name))] = w.code
                official.setdefault((p.code, package_key(w.name)), w.code)
        new_wards = {
            (p, w): official.get((p_code, _spaced(name))) or official[(p_code, package_key(name))]
            for p, w, p_code, name in db.execute(
                "SELECT provinceKey, wardKey, provinceCode, ward FROM admin_units"
            )
        }
        new_provinces = dict(
            db.execute("SELECT DISTINCT provinceKey, provinceCode FROM admin_units")
        )
    provinces = {
        old_provinces[old]: new_provinces[new]
        for new, olds in converter["DICT_PROVINCE"].items()
        for old in olds
    }
    by_key: dict[str, list[NewCommune]] = {}
    for new_p, undivided in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for new_w, olds in undivided.items():
            for old in olds:
                by_key.setdefault(old, []).append(NewCommune(new_wards[(new_p, new_w)], True, True))
    for new_p, olds in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old, parts in olds.items():
            by_key.setdefault(old, []).extend(
                NewCommune(new_wards[(new_p, part["newWardKey"])], False, part["isDefaultNewWard"])
                for part in parts
            )
    by_code = {legacy[k]: tuple(v) for k, v in by_key.items() if k in legacy}
    wards: dict[str, tuple[NewCommune, ...]] = {}
    fallback: dict[str, str] = {}
    for province in divisions(3).provinces:
        p_key = package_key(province.name)
        for district in province.children:
            d_key = package_key(district.name)
            missing = []
            for ward in district.children:
                found = by_code.get(ward.code) or by_code.get(
                    legacy.get(f"{p_key}_{d_key}_{package_key(ward.name)}", "")
                )
                if found:
                    wards[ward.code] = found
                    if ward.code not in by_code:
                        fallback[ward.code] = "same name in the same district, another code"
                else:
                    missing.append(ward.code)
            if missing:  # merged into a neighbour before the package's list was taken
                counts = Counter(
                    c.code for w in district.children for c in wards.get(w.code, ()) if c.default
                )
                if counts:
                    commune = counts.most_common(1)[0][0]
                    for code in missing:
                        wards[code] = (NewCommune(commune, True, True),)
                        fallback[code] = "not in the package: where most of its district went"
    source = {
        "package": PACKAGE,
        "registry": "PyPI",
        "version": version(PACKAGE),
        "licence": "MIT",
        "files": "data/converter_2025.json, data/dataset.db",
    }
    return Successions(source=source, provinces=provinces, wards=wards, fallback=fallback)


@lru_cache(maxsize=1)
def _config() -> dict[str, Any]:
    path = files("planflow.config").joinpath("data/agency_successions.json")
    return json.loads(path.read_text(encoding="utf-8"))


def agency_successions() -> list[AgencySuccession]:
    """The configured agency changes, each with its source document."""
    out = []
    for entry in _config()["agencies"]:
        if not (entry.get("source") or "").strip():
            raise ValueError(f"agency succession {entry}: the source document is missing")
        out.append(
            AgencySuccession(
                tiers=entry["tiers"],
                level=Level(entry["level"]),
                from_role=entry["from_role"],
                to_role=entry.get("to_role"),
                to_level=Level(entry["to_level"]) if entry.get("to_level") else None,
                effective_on=date.fromisoformat(entry["effective_on"]),
                matter=entry.get("matter", "all"),
                whole=entry.get("whole", True),
                source=entry["source"],
            )
        )
    return out


def reorganisation() -> Reorganisation:
    """The date the two-tier map took effect and the documents behind it."""
    conf = _config()["reorganisation"]
    return Reorganisation(date.fromisoformat(conf["effective_on"]), dict(conf["sources"]))
