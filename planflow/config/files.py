"""Files planflow writes: private to the user, never over the database, safe names.

The data folder holds the database (with Zalo tokens) and the forms, reports and messages made
from it, so folders are created 0700 and files 0600 whatever the process umask says.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

from planflow.errors import PlanflowError

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+|\.{2,}")


class OutputRefused(PlanflowError):
    """An output path that would overwrite a file without --force, or the database itself."""


def private_dir(path: Path, *, tighten: bool = False) -> Path:
    """Create ``path`` (and missing parents) as 0700 folders; with ``tighten``, an existing
    ``path`` of ours open to others becomes 0700 too (never a shared folder such as /tmp)."""
    path = Path(path)
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(parents=True, exist_ok=True)
    for folder in missing:
        os.chmod(folder, PRIVATE_DIR)
    info = path.stat()
    if tighten and info.st_uid == os.getuid() and info.st_mode & 0o077 and not (
        info.st_mode & 0o1000  # sticky: a shared folder
    ):
        os.chmod(path, PRIVATE_DIR)
    return path


def touch_private(path: Path) -> None:
    """Create an empty 0600 file unless it exists (a SQLite database before its first open)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE)
    os.close(fd)


def write_private(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically as a 0600 file in a private folder."""
    path = Path(path)
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def safe_name(text: str, *, limit: int = 80) -> str:
    """``text`` as one file-name component: ASCII letters, digits, dot, dash, underscore."""
    flat = unicodedata.normalize("NFKD", text).replace("đ", "d").replace("Đ", "D")
    flat = flat.encode("ascii", "ignore").decode("ascii")
    name = re.sub(r"-{2,}", "-", _UNSAFE.sub("-", flat)).strip(".-_")[:limit]
    return name or "x"


def check_output(out: Path, *, force: bool) -> Path:
    """``out`` made absolute, refused if it is the database (or its journal) or exists unforced."""
    from planflow.config.settings import get_settings

    path = Path(out).expanduser().resolve()
    database = _database_file(get_settings().resolved_database_url)
    if database is not None and path in {
        database.with_name(database.name + suffix) for suffix in ("", "-wal", "-shm", "-journal")
    }:
        raise OutputRefused(f"không ghi đè cơ sở dữ liệu: {path}")
    if path.is_dir():
        raise OutputRefused(f"đường dẫn --out là một thư mục: {path}")
    if path.exists() and not force:
        raise OutputRefused(f"tệp đã có: {path} (thêm --force để ghi đè)")
    return path


def _database_file(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser().resolve()
