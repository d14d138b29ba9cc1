"""Hostile files: refused in one Vietnamese line, before they are parsed, with bounded memory;
nothing stored. The 240 KB .docx of short lines and the 3 GB zip bomb come from the issue."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func
from sqlmodel import Session, select

from planflow.documents.form import SHEET, TABLE_ROW
from planflow.documents.reading import layout
from planflow.documents.reading.excel_form import import_form
from planflow.documents.writing.excel_form import write_form
from planflow.models import IndicatorValue, Plan, Report, ReportRequest, State
from planflow.states import ValidationFailed
from tests.faults import hostile

pytestmark = pytest.mark.faults

MEMORY_CEILING_KB = 500 * 1024


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    made = {name: folder / name for name in (
        "short-lines.docx", "bomb.docx", "lying-bomb.docx", "cells.xlsx", "huge.txt",
        "bomb.xlsx", "pages.pdf",
    )}
    hostile.short_lowercase_docx(made["short-lines.docx"])
    hostile.zip_bomb_docx(made["bomb.docx"])
    hostile.zip_bomb_docx(made["lying-bomb.docx"], lie=True)
    hostile.million_cell_xlsx(made["cells.xlsx"])
    hostile.huge_text(made["huge.txt"])
    hostile.many_pages_pdf(made["pages.pdf"])
    made["bomb.xlsx"].write_bytes(made["bomb.docx"].read_bytes())
    return made


def run_cli(*args: str) -> tuple[subprocess.CompletedProcess, int]:
    """Run planflow in a child process; returns the result and the child's peak RSS in KB."""
    child = subprocess.Popen(
        [sys.executable, "-m", "planflow", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        out, err = child.communicate(timeout=120)
    finally:
        child.kill()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return subprocess.CompletedProcess(child.args, child.returncode, out, err), peak


def _one_refusal(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == "", result.stderr
    for word in words:
        assert word in result.stderr


def _plans(engine) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(Plan))


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("short-lines.docx", ["dòng", "PLANFLOW_IMPORT_MAX_LINES"]),
        ("bomb.docx", ["giải nén", "PLANFLOW_IMPORT_MAX_UNPACKED_BYTES"]),
        # its header says 1 KB: inflating stops there and the checksum fails
        ("lying-bomb.docx", ["tệp nén hỏng"]),
        ("huge.txt", ["quá lớn", "PLANFLOW_IMPORT_MAX_BYTES"]),
        # 5,000 pages in a few hundred KB, refused before the first is laid out
        ("pages.pdf", ["5000 trang", "PLANFLOW_IMPORT_MAX_PDF_PAGES"]),
    ],
)
def test_hostile_plan_files_are_refused_in_one_line_with_bounded_memory(
    engine, files, name, words
):
    before = _plans(engine)
    result, _ = run_cli("plan", "import", str(files[name]), "--save")
    _one_refusal(result, name, *words)
    assert _plans(engine) == before  # nothing stored


def test_zip_bomb_is_refused_under_500_mb(engine, files):
    """Peak memory of a child that imports only the bomb (RUSAGE_CHILDREN: the largest child
    so far, so this runs it in a fresh grandchild to measure it alone)."""
    probe = (
        "import resource, subprocess, sys;"
        "r = subprocess.run([sys.executable, '-m', 'planflow', 'plan', 'import', sys.argv[1]],"
        " capture_output=True, text=True);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode);"
        "print(r.stderr, end='')"
    )
    for name in ("bomb.docx", "lying-bomb.docx"):
        assert files[name].stat().st_size > 3_000_000
        out = subprocess.run([sys.executable, "-c", probe, str(files[name])],
                             capture_output=True, text=True, timeout=120, check=True)
        first, error = out.stdout.split("\n", 1)
        peak_kb, code = map(int, first.split())
        assert code == 1 and error.count("\n") == 1 and "nén" in error, error
        assert peak_kb < MEMORY_CEILING_KB, f"{name}: peak {peak_kb / 1024:.0f} MB"


def test_line_joining_is_linear():
    """The joiner looks at each input line a bounded number of times: doubling a document of
    lines that all continue each other doubles the characters examined (it was quadratic)."""
    scanned = []
    real = layout.is_upper_line

    def counting(text: str) -> bool:
        scanned.append(len(text))
        return real(text)

    def cost(n: int) -> int:
        scanned.clear()
        layout.clean_lines(["công tác bình đẳng giới và"] * n)
        return sum(scanned)

    layout.is_upper_line = counting
    try:
        small, large = cost(5_000), cost(10_000)
    finally:
        layout.is_upper_line = real
    assert len(layout.clean_lines(["công tác bình đẳng giới và"] * 100)) == 1
    assert large <= 2.1 * small


def test_million_cell_workbook_is_refused_as_a_form(engine, files, tmp_path):
    result, _ = run_cli("report", "import", str(files["cells.xlsx"]))
    _one_refusal(result, "giải nén", "PLANFLOW_IMPORT_MAX_FORM_UNPACKED_BYTES")
    result, _ = run_cli("report", "import", str(files["bomb.xlsx"]))
    _one_refusal(result, "giải nén")


def test_form_with_a_repeated_indicator_code_is_refused(session, tree, tmp_path):
    request = tree.requests["Phường Hàng Bạc"]
    path = write_form(session, request_id=request.id, out=tmp_path / "form.xlsx")
    book = load_workbook(path)
    sheet = book[SHEET]
    first, second = TABLE_ROW + 1, TABLE_ROW + 2
    sheet[f"B{second}"] = sheet[f"B{first}"].value  # the same code on two rows
    for row, value in ((first, 5), (second, 7)):
        for letter in "EFGH":
            if sheet[f"{letter}{row}"].protection.locked is False:
                sheet[f"{letter}{row}"] = value
    book.save(path)
    with pytest.raises(ValidationFailed, match=r"mã chỉ tiêu .* lặp lại ở dòng 14 và dòng 15"):
        import_form(session, path=path)
    session.rollback()
    assert session.get(ReportRequest, request.id).status == State.issued
    assert session.scalar(select(func.count()).select_from(Report)) == 0
    assert session.scalar(select(func.count()).select_from(IndicatorValue)) == 0


def test_limits_are_settings(monkeypatch, tmp_path):
    from planflow.config.settings import get_settings
    from planflow.documents.reading.source import read_source

    text = tmp_path / "plan.txt"
    text.write_text("KẾ HOẠCH\n" + "dòng\n" * 200, encoding="utf-8")
    monkeypatch.setenv("PLANFLOW_IMPORT_MAX_LINES", "150")
    get_settings.cache_clear()
    with pytest.raises(ValidationFailed, match="202 dòng, tối đa 150"):
        read_source(text)
    monkeypatch.setenv("PLANFLOW_IMPORT_MAX_BYTES", "1024")
    get_settings.cache_clear()
    with pytest.raises(ValidationFailed, match="quá lớn"):
        read_source(text)
    assert os.path.getsize(text) > 1024
