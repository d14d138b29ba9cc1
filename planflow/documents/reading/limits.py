"""Bounds on every imported file, checked before it is parsed: size on disk, size unpacked
(a .docx or .xlsx is a zip: a small file can unpack to gigabytes), members, lines.

The limits are settings (``PLANFLOW_IMPORT_MAX_*``) with defaults far above any real plan or
form; a refusal is one Vietnamese line naming the file, the limit and the setting.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from planflow.config.settings import get_settings
from planflow.states.errors import ValidationFailed

_CHUNK = 1 << 20


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


def read_bounded(path: Path) -> bytes:
    """The bytes of ``path``, refused if larger than ``PLANFLOW_IMPORT_MAX_BYTES``."""
    limit = get_settings().import_max_bytes
    size = path.stat().st_size
    if size > limit:
        raise ValidationFailed(
            f"{path.name}: tệp quá lớn ({_mb(size)}, tối đa {_mb(limit)}; "
            "PLANFLOW_IMPORT_MAX_BYTES)"
        )
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:  # grew while we read it
        raise ValidationFailed(f"{path.name}: tệp quá lớn (tối đa {_mb(limit)})")
    return data


def check_zip(name: str, data: bytes | Path, *, form: bool = False) -> None:
    """Refuse a zip whose members are too many or unpack beyond the limit (a report form's
    own, smaller limit with ``form``). Each member is inflated in 1 MB steps and counted,
    never read whole, so a header that lies about its size is caught as well as an honest
    bomb."""
    settings = get_settings()
    limit = settings.import_max_form_unpacked_bytes if form else settings.import_max_unpacked_bytes
    setting = "PLANFLOW_IMPORT_MAX_" + ("FORM_" if form else "") + "UNPACKED_BYTES"
    members = settings.import_max_zip_members
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        with zipfile.ZipFile(source) as archive:
            infos = archive.infolist()
            if len(infos) > members:
                raise ValidationFailed(
                    f"{name}: tệp nén có {len(infos)} thành phần, tối đa {members} "
                    "(PLANFLOW_IMPORT_MAX_ZIP_MEMBERS)"
                )
            declared = sum(info.file_size for info in infos)
            if declared > limit:
                raise _too_big(name, declared, limit, setting)
            total = 0
            for info in infos:
                with archive.open(info) as member:
                    while chunk := member.read(_CHUNK):
                        total += len(chunk)
                        if total > limit:
                            raise _too_big(name, total, limit, setting)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        raise ValidationFailed(f"{name}: tệp nén hỏng, không đọc được ({exc})") from None


def _too_big(name: str, size: int, limit: int, setting: str) -> ValidationFailed:
    return ValidationFailed(
        f"{name}: giải nén ra quá lớn (ít nhất {_mb(size)}, tối đa {_mb(limit)}; {setting})"
    )


def check_pages(name: str, count: int) -> None:
    """Refuse a PDF of more pages than ``PLANFLOW_IMPORT_MAX_PDF_PAGES``, before any is read."""
    limit = get_settings().import_max_pdf_pages
    if count > limit:
        raise ValidationFailed(
            f"{name}: tệp PDF có {count} trang, tối đa {limit} (PLANFLOW_IMPORT_MAX_PDF_PAGES)"
        )


def check_lines(name: str, count: int) -> None:
    """Refuse a text of more lines than ``PLANFLOW_IMPORT_MAX_LINES``."""
    limit = get_settings().import_max_lines
    if count > limit:
        raise ValidationFailed(
            f"{name}: văn bản có {count} dòng, tối đa {limit} (PLANFLOW_IMPORT_MAX_LINES)"
        )
