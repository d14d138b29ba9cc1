"""Rendering plans and compiled reports as .md, .html (Jinja2) and .docx (python-docx).

The layout is the administrative one of Decree 30/2020/NĐ-CP; what the documents say comes
from ``render_model``. Templates autoescape HTML and use ``StrictUndefined``: a missing value
is an error, never a blank in an official document.
"""

from __future__ import annotations

import base64
import re
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line imports Format; the rest loads when a document is made
    from jinja2 import Environment
    from sqlmodel import Session

    from planflow.documents.writing.render_model import Document
    from planflow.models import ReportKind


class Format(StrEnum):
    docx = "docx"
    html = "html"
    md = "md"


_MD_INLINE = re.compile(r"([\\`*_\[\]<>|])")
_MD_BLOCK = re.compile(r"^(\s*)(\d+)\.(\s)|^(\s*)([-+#>])(\s|$)")


def md_escape(text: str) -> str:
    """Text as literal Markdown: inline marks escaped, no accidental list or heading."""
    text = _MD_INLINE.sub(r"\\\1", str(text))
    return _MD_BLOCK.sub(
        lambda m: (
            f"{m.group(1)}{m.group(2)}\\.{m.group(3)}"
            if m.group(2)
            else f"{m.group(4)}\\{m.group(5)}{m.group(6)}"
        ),
        text,
    )


@cache
def environment() -> Environment:
    """The template environment: HTML autoescaped, undefined names fail loudly."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("planflow.documents.writing", "templates"),
        autoescape=select_autoescape(["html"], default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["b64"] = lambda data: base64.b64encode(data).decode("ascii")
    return env


def render_document(doc: Document, fmt: Format | str) -> bytes:
    """One document in one format, as the bytes of the file."""
    fmt = Format(fmt)
    if fmt == Format.docx:
        from planflow.documents.writing.render_docx import docx_bytes

        return docx_bytes(doc)
    text = environment().get_template(f"document.{fmt.value}").render(doc=doc)
    return text.encode("utf-8")


def render_plan(session: Session, *, plan_id: int, fmt: Format | str) -> bytes:
    """A plan (a cascaded sub-plan renders as its issuer's draft)."""
    from planflow.documents.writing.render_model import plan_document

    return render_document(plan_document(session, plan_id), fmt)


def render_report(
    session: Session, *, plan_id: int, kind: ReportKind, period: str, fmt: Format | str
) -> bytes:
    """The compiled report of a plan's issuer for one period (after aggregation)."""
    from planflow.documents.writing.render_report import report_document

    return render_document(report_document(session, plan_id, kind, period), fmt)


def _write(
    doc: Document, fmt: Format | str, out: Path | None, folder: Path, *, force: bool = False
) -> Path:
    """Write under ``folder`` by a sanitised name, or to ``out`` (never the database, and an
    existing file only with ``force``); the file is private to the user (0600)."""
    from planflow.config.files import check_output, safe_name, write_private

    fmt = Format(fmt)
    if out is not None:
        path = check_output(out, force=force)
    else:
        path = folder / f"{safe_name(doc.stem)}.{fmt.value}"
    return write_private(path, render_document(doc, fmt))


def write_plan(
    session: Session,
    *,
    plan_id: int,
    fmt: Format | str,
    out: Path | None = None,
    force: bool = False,
) -> Path:
    """Write a plan to ``out`` (default: <data dir>/documents/plan-ID.FMT); returns the path."""
    from planflow.config.settings import get_settings
    from planflow.documents.writing.render_model import plan_document

    doc = plan_document(session, plan_id)
    return _write(doc, fmt, out, get_settings().data_dir / "documents", force=force)


def write_report(
    session: Session,
    *,
    plan_id: int,
    kind: ReportKind,
    period: str,
    fmt: Format | str,
    out: Path | None = None,
    force: bool = False,
) -> Path:
    """Write a compiled report (default: <data dir>/reports/plan-ID-KIND-PERIOD.FMT)."""
    from planflow.config.settings import get_settings
    from planflow.documents.writing.render_report import report_document

    doc = report_document(session, plan_id, kind, period)
    return _write(doc, fmt, out, get_settings().data_dir / "reports", force=force)


def write_report_set(
    session: Session, *, plan_id: int, kind: ReportKind, period: str, folder: Path,
    note: str | None = None,
) -> dict[Format, Path]:
    """The compiled report as .docx, .html and .md side by side in ``folder``; ``note`` is
    printed above its body (the demo labels its simulated figures so)."""
    from planflow.documents.writing.render_model import Para
    from planflow.documents.writing.render_report import report_document

    doc = report_document(session, plan_id, kind, period)
    if note:
        doc.body.insert(0, Para("note", note))
    return {fmt: _write(doc, fmt, None, folder) for fmt in Format}


__all__ = [
    "Format",
    "environment",
    "md_escape",
    "render_document",
    "render_plan",
    "render_report",
    "write_plan",
    "write_report",
    "write_report_set",
]
