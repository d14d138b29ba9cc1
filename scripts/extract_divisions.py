"""Extract the pre-2025 three-tier division list from vietnam-provinces 0.6.0 into planflow's data.

The project depends on vietnam-provinces 2025.x (today's two-tier list); 0.6.0 (63 provinces,
696 districts, 10,051 wards, data date 2025-01-04) cannot be installed beside it, so its data is
shipped as ``planflow/config/data/divisions-3tier.json.gz``. Run it with a Python that has 0.6.0:

    python3 -m venv /tmp/vp06 && /tmp/vp06/bin/pip install vietnam-provinces==0.6.0
    /tmp/vp06/bin/python scripts/extract_divisions.py

The output is byte-for-byte reproducible (gzip mtime 0, no file name in the header).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
from pathlib import Path

EXPECTED_VERSION = "0.6.0"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "planflow/config/data/divisions-3tier.json.gz"

# 0.6.0 labels every province "tỉnh", every district "huyện" and every ward "xã": the name's
# prefix is the only reliable type, so the types come from there (vocabulary of the package enum).
PROVINCE_TYPES = {"Thành phố": "thành phố trung ương", "Tỉnh": "tỉnh"}
DISTRICT_TYPES = {"Quận": "quận", "Huyện": "huyện", "Thị xã": "thị xã", "Thành phố": "thành phố"}
WARD_TYPES = {"Phường": "phường", "Xã": "xã", "Thị trấn": "thị trấn"}


def typed(name: str, prefixes: dict[str, str]) -> tuple[str, str]:
    """The name with its prefix in the usual case, and the division type that prefix says."""
    for prefix, kind in prefixes.items():
        # two districts read "Thành Phố …" in 0.6.0; the prefix is written "Thành phố"
        if name.casefold().startswith(prefix.casefold() + " "):
            return prefix + name[len(prefix) :], kind
    raise ValueError(f"no known division prefix in {name!r}")


def unit(row: dict, width: int, prefixes: dict[str, str]) -> dict:
    """One unit's compact fields: zero-padded GSO code, name, division type."""
    name, kind = typed(row["name"], prefixes)
    return {"code": f"{row['code']:0{width}d}", "name": name, "division_type": kind}


def compact(provinces: list[dict]) -> list[dict]:
    """The fields planflow uses, GSO codes zero-padded (province 2, district 3, ward 5 digits)."""
    return [
        unit(p, 2, PROVINCE_TYPES)
        | {
            "codename": p["codename"],
            "districts": [
                unit(d, 3, DISTRICT_TYPES) | {"wards": [unit(w, 5, WARD_TYPES) for w in d["wards"]]}
                for d in p["districts"]
            ],
        }
        for p in provinces
    ]


def build(source: Path, version: str, data_date: str) -> dict:
    """The whole document: a header naming the source, then the nested list."""
    provinces = compact(json.loads(source.read_text(encoding="utf-8")))
    districts = [d for p in provinces for d in p["districts"]]
    return {
        "source": {
            "package": "vietnam-provinces",
            "registry": "PyPI",
            "version": version,
            "data_date": data_date,
            "codes": "GSO (Tổng cục Thống kê) administrative unit codes, zero-padded",
            "note": "division_type derived from the name prefix (0.6.0 labels all alike); "
            "prefix case normalised in 2 names (Thành Phố Bắc Kạn, Thành Phố Đồng Hới)",
            "counts": {
                "provinces": len(provinces),
                "districts": len(districts),
                "wards": sum(len(d["wards"]) for d in districts),
            },
        },
        "provinces": provinces,
    }


def write(document: dict, out: Path) -> int:
    """Write ``document`` as reproducible gzip JSON; returns the number of bytes written."""
    raw = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as gz:
        gz.write(raw)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buffer.getvalue())
    return len(buffer.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()

    import vietnam_provinces as vp

    if vp.__version__ != EXPECTED_VERSION:
        raise SystemExit(
            f"need vietnam-provinces {EXPECTED_VERSION}, this Python has {vp.__version__}"
        )
    document = build(vp.NESTED_DIVISIONS_JSON_PATH, vp.__version__, vp.__data_version__)
    size = write(document, args.out)
    print(f"{args.out}: {size:,} bytes, {document['source']['counts']}")


if __name__ == "__main__":
    main()
