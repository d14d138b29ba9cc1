"""Files units upload: their own plan (.docx, .pdf) and filled Excel forms. Each is checked by
its content, not its name; Office files are zip archives, checked without extracting them."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from planflow.config.settings import get_settings

MAX_BYTES = 10 * 1024 * 1024
# an Office file inflates a few times; a zip bomb inflates thousands of times
MAX_UNPACKED = 100 * 1024 * 1024
MAX_RATIO = 200
MAX_ENTRIES = 2000

MEDIA = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# what must be inside each kind of Office archive
MARKERS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}


class Refused(Exception):
    """An upload refused; the message is what the unit reads."""


@dataclass(frozen=True)
class Checked:
    filename: str
    kind: str
    media_type: str
    data: bytes
    sha256: str


def check(filename: str, data: bytes, allowed: tuple[str, ...]) -> Checked:
    """The upload if its size, name and content agree with one of ``allowed``; else Refused."""
    name = os.path.basename((filename or "").replace("\\", "/")).strip() or "tep-tai-len"
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    wanted = " hoặc ".join(f".{a}" for a in allowed)
    if len(data) > MAX_BYTES:
        raise Refused(
            f"Tệp «{name}» có dung lượng {len(data) / 1024 / 1024:.1f} MB, vượt quá mức tối đa "
            f"{MAX_BYTES // 1024 // 1024} MB."
        )
    if not data:
        raise Refused(f"Tệp «{name}» rỗng.")
    if ext not in allowed:
        raise Refused(f"Tệp «{name}» không đúng định dạng: chỉ nhận tệp {wanted}.")
    if ext == "pdf":
        if not data.startswith(b"%PDF-"):
            raise Refused(f"Nội dung tệp «{name}» không phải là tệp PDF dù tên tệp có đuôi .pdf.")
    else:
        _check_office(name, ext, data)
    return Checked(name, ext, MEDIA[ext], data, hashlib.sha256(data).hexdigest())


def _check_office(name: str, ext: str, data: bytes) -> None:
    not_office = f"Nội dung tệp «{name}» không phải là tệp .{ext} hợp lệ."
    if not data.startswith(b"PK\x03\x04"):
        raise Refused(not_office)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            names = {e.filename for e in entries}
            if MARKERS[ext] not in names:
                raise Refused(not_office)
            unpacked = sum(e.file_size for e in entries)
            packed = sum(e.compress_size for e in entries) or 1
            if (
                len(entries) > MAX_ENTRIES
                or unpacked > MAX_UNPACKED
                or unpacked / packed > MAX_RATIO
            ):
                raise Refused(
                    f"Tệp «{name}» bị từ chối: nội dung nén bất thường "
                    f"(giải nén ra {unpacked / 1024 / 1024:.0f} MB)."
                )
            # the sizes above are what the archive claims: read the main part, bounded, to be sure
            with archive.open(MARKERS[ext]) as part:
                seen = 0
                while chunk := part.read(1 << 20):
                    seen += len(chunk)
                    if seen > MAX_UNPACKED:
                        raise Refused(f"Tệp «{name}» bị từ chối: nội dung nén bất thường.")
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError):
        raise Refused(not_office) from None


def store(checked: Checked) -> Path:
    """Keep the file under ``<data dir>/uploads``, named by its checksum (mode 0600)."""
    folder = get_settings().data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{checked.sha256}.{checked.kind}"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(checked.data)
    return path
