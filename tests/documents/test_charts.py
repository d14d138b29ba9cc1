"""Charts of the compiled report: drawn from the report's own figures, embedded in .docx, .html
and .md, and bounded in rows and size whatever the number of committees."""

from __future__ import annotations

import struct
from io import BytesIO
from pathlib import Path

from docx import Document as open_docx
from sqlmodel import Session

from planflow.documents.writing import charts
from planflow.documents.writing.render import write_report
from planflow.models import ReportKind
from tests.documents.cycle import PERIOD, reported


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_the_compiled_report_carries_both_charts_in_every_format(
    session: Session, tmp_path: Path
) -> None:
    ids = reported(session)
    out = {
        fmt: write_report(
            session,
            plan_id=ids["root"],
            kind=ReportKind.six_month,
            period=PERIOD,
            fmt=fmt,
            out=tmp_path / f"report.{fmt}",
        )
        for fmt in ("docx", "html", "md")
    }
    word = open_docx(out["docx"])
    assert len(word.inline_shapes) == 2
    captions = [p.text for p in word.paragraphs if p.text.startswith("Biểu đồ")]
    assert captions == [
        "Biểu đồ 1. Tình hình nộp báo cáo theo nơi tổng hợp",
        "Biểu đồ 2. Các chỉ tiêu so với mục tiêu",
    ]
    for fmt in ("html", "md"):
        text = out[fmt].read_text(encoding="utf-8")
        assert text.count("data:image/png;base64,") == 2


def test_a_chart_of_many_committees_is_bounded() -> None:
    rows = [charts.Completeness(f"UBND xã {n}", n % 7, n % 3, n % 2) for n in range(300)]
    figure = charts.completeness_chart(rows)
    assert figure is not None and f"{charts.MAX_ROWS} nơi tổng hợp đầu" in figure.caption
    width, height = _png_size(figure.png)
    assert width <= charts.WIDTH_IN * charts.DPI * 1.1 and height <= 9 * charts.DPI * 1.1
    few = charts.completeness_chart(rows[:3])
    assert few is not None and "đầu" not in few.caption
    assert _png_size(few.png)[1] < height


def test_no_chart_without_figures() -> None:
    assert charts.completeness_chart([charts.Completeness("A", 0, 0, 0)]) is None
    assert charts.indicator_chart([charts.Indicator("X", 10.0, None, None)]) is None
    met = charts.indicator_chart([charts.Indicator("X", 60.0, 50.0, True)])
    assert met is not None and BytesIO(met.png).getbuffer().nbytes > 1000
