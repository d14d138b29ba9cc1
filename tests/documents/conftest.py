"""Shared pieces for the import tests: the seed files, a loaded hierarchy, a docx builder."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session, select

from planflow.models import OrgUnit
from tests.factories import hanoi_units

# the three seed plans, as the package ships them (byte for byte the files in shared/seeds)
SEEDS = Path(__file__).parents[2] / "planflow" / "samples"
HANOI_2020 = SEEDS / "hanoi-2020-37-KH-UBND.txt"
HANOI_2025 = SEEDS / "hanoi-2025-KH-UBND-draft.txt"
HADONG_2024 = SEEDS / "hadong-2024-70-KH-UBND.txt"
DAKLAK_2023 = Path(__file__).parent / "daklak_2023.txt"

# The corpus's texts are public copies of provincial plans; the repository keeps only what a
# reader wrote down from them (corpus/expected.json, with each text's source address), because
# the only copies this project could reach were given on condition that they are not copied
# verbatim. The texts are read from PLANFLOW_CORPUS_DIR, else from shared/corpus beside the
# clone (where a copy may be laid that is not ours to commit); the tests that need them skip,
# saying so, without.
CORPUS_EXPECTED = Path(__file__).parent / "corpus" / "expected.json"
SHARED_CORPUS = Path(__file__).parents[3] / "shared" / "corpus"
CORPUS_DIR = Path(os.environ.get("PLANFLOW_CORPUS_DIR") or (
    SHARED_CORPUS if SHARED_CORPUS.is_dir() else Path(__file__).parent / "corpus"))


def corpus_file(name: str) -> Path:
    """A corpus text by file name, or a skip naming what is missing and where it is looked for."""
    path = CORPUS_DIR / name
    if not path.is_file():
        pytest.skip(f"corpus text {name} is not in {CORPUS_DIR} (set PLANFLOW_CORPUS_DIR)")
    return path


def require_tools(*names: str, install: str) -> dict[str, str]:
    """The paths of these programs; without one, a skip naming the install, or under CI (whose
    .ci/run installs them) a failure."""
    found = {name: shutil.which(name) for name in names}
    missing = [name for name, path in found.items() if not path]
    if missing and os.environ.get("CI"):
        pytest.fail(f"CI: {', '.join(missing)} missing (.ci/run installs them: {install})")
    if missing:
        pytest.skip(f"needs {', '.join(missing)}: {install}")
    return {name: str(path) for name, path in found.items()}


def libreoffice_pdf(soffice: str, source: Path, out_dir: Path, profile: Path) -> Path:
    """``source`` printed to PDF by LibreOffice in ``out_dir``; ``profile`` its own user folder,
    so it runs safely beside other soffice runs."""
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to",
         "pdf", "--outdir", str(out_dir), str(source)],
        check=True, capture_output=True, timeout=300,
    )
    return out_dir / f"{source.stem}.pdf"


@pytest.fixture
def hanoi(session: Session) -> Session:
    """A session on a database holding Hà Nội's three-tier hierarchy (committed)."""
    hanoi_units(session)
    session.commit()
    return session


def code_of(session: Session, unit_id: int | None) -> str | None:
    if unit_id is None:
        return None
    return session.get(OrgUnit, unit_id).code


def ward_codes(session: Session, district_code: str) -> list[str]:
    """The ward committees the loaded three-tier list puts under a district."""
    district = session.exec(
        select(OrgUnit).where(OrgUnit.tiers == 3, OrgUnit.code == district_code)
    ).one()
    rows = session.exec(
        select(OrgUnit).where(OrgUnit.parent_id == district.id, OrgUnit.kind == "committee")
    ).all()
    return sorted(u.code for u in rows)


def docx_from_text(text: str, path: Path) -> Path:
    """A Word file laid out like a real one: the header ("Số", place and date) and the tail
    (Nơi nhận | signature) in two-column tables, the body as paragraphs, bold runs for ``**``."""
    from docx import Document

    lines = text.split("\n")
    heading = next(
        i for i, line in enumerate(lines) if line.strip() in ("KẾ HOẠCH", "CHƯƠNG TRÌNH")
    )
    tail = next(i for i, line in enumerate(lines) if line.strip().startswith("Nơi nhận"))
    signature = next(
        i for i in range(tail, len(lines)) if lines[i].replace("*", "").startswith("TM.")
    )
    document = Document()

    def put(container, line: str) -> None:
        paragraph = container.add_paragraph()
        bold = "**" in line
        paragraph.add_run(line.replace("**", "")).bold = bold

    header = [line for line in lines[:heading] if line.strip()]
    table = document.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    left.paragraphs[0].text = header[0]
    for line in header[1:]:
        put(right, line)
    for line in lines[heading:tail]:
        put(document, line)
    table = document.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    left.paragraphs[0].text = lines[tail]
    for line in lines[tail + 1 : signature]:
        put(left, line)
    for line in lines[signature:]:
        put(right, line)
    document.save(path)
    return path
