"""Charts of the compiled report, drawn with matplotlib (Agg, no display): who reported, per
compiling committee, and each indicator against its target. PNG bytes, embedded by the .docx,
.html and .md renderers.

Bounds: at most ``MAX_ROWS`` committees and ``MAX_ROWS`` indicators a chart (the rest are in the
tables beside it, and the caption says so); the figure's size is capped, so a national report
draws in the same time and memory as a district's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO

MAX_ROWS = 40
WIDTH_IN = 6.3  # 16 cm: the text width of the A4 page
DPI = 150


@dataclass(frozen=True)
class Figure:
    """A chart in the document: PNG bytes, its caption, its width on the page."""

    png: bytes
    caption: str
    width_cm: float = 16.0
    kind: str = "figure"


@dataclass(frozen=True)
class Completeness:
    label: str
    on_time: int
    late: int
    missing: int


@dataclass(frozen=True)
class Indicator:
    code: str
    value: float
    target: float | None
    met: bool | None


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 8, "svg.hashsalt": "planflow"})
    return plt


def _png(fig) -> bytes:
    buffer = BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def _capped(rows: Sequence, what: str) -> tuple[Sequence, str]:
    if len(rows) <= MAX_ROWS:
        return rows, ""
    return rows[:MAX_ROWS], f" ({MAX_ROWS} {what} đầu; đủ cả trong bảng)"


def completeness_chart(rows: Sequence[Completeness]) -> Figure | None:
    """One bar per compiling committee: reports on time, late and missing, stacked."""
    if not rows or not any(r.on_time + r.late + r.missing for r in rows):
        return None
    shown, note = _capped(rows, "nơi tổng hợp")
    plt = _pyplot()
    height = min(9.0, 0.9 + 0.28 * len(shown))
    fig, ax = plt.subplots(figsize=(WIDTH_IN, height))
    try:
        labels = [r.label for r in shown][::-1]
        on_time = [r.on_time for r in shown][::-1]
        late = [r.late for r in shown][::-1]
        missing = [r.missing for r in shown][::-1]
        ax.barh(labels, on_time, color="#2e7d32", label="Đúng hạn")
        ax.barh(labels, late, left=on_time, color="#f9a825", label="Muộn")
        ax.barh(
            labels, missing, left=[a + b for a, b in zip(on_time, late, strict=True)],
            color="#c62828", label="Chưa nộp",
        )  # fmt: skip
        ax.set_xlabel("Số báo cáo phải nộp")
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=7, frameon=False, ncols=3)
        ax.spines[["top", "right"]].set_visible(False)
        return Figure(_png(fig), f"Biểu đồ 1. Tình hình nộp báo cáo theo nơi tổng hợp{note}")
    finally:
        plt.close(fig)


def indicator_chart(rows: Sequence[Indicator]) -> Figure | None:
    """One bar per indicator with a target (in %): its value, and the target as a mark."""
    rows = [r for r in rows if r.target is not None]
    if not rows:
        return None
    shown, note = _capped(rows, "chỉ tiêu")
    plt = _pyplot()
    height = min(9.0, 1.0 + 0.3 * len(shown))
    fig, ax = plt.subplots(figsize=(WIDTH_IN, height))
    try:
        labels = [r.code for r in shown][::-1]
        values = [r.value for r in shown][::-1]
        colours = [{True: "#2e7d32", False: "#c62828"}.get(r.met, "#9e9e9e") for r in shown][::-1]
        ax.barh(labels, values, color=colours)
        targets = [r.target for r in shown][::-1]
        ax.scatter(targets, labels, marker="|", s=220, color="#000", label="Mục tiêu", zorder=3)
        ax.set_xlabel("Giá trị (%) · xanh: đạt, đỏ: chưa đạt, vạch đen: mục tiêu")
        ax.spines[["top", "right"]].set_visible(False)
        return Figure(_png(fig), f"Biểu đồ 2. Các chỉ tiêu so với mục tiêu{note}")
    finally:
        plt.close(fig)


__all__ = ["Completeness", "Figure", "Indicator", "completeness_chart", "indicator_chart"]
