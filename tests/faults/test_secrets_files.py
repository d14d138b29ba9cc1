"""Secrets never reach a log, files are private to the user, outputs never clobber the database."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from planflow.config.db import create_schema, get_engine
from planflow.config.files import OutputRefused, check_output, safe_name, write_private
from planflow.config.secrets import register_secret
from planflow.config.settings import get_settings
from planflow.models.outbox import ZaloToken
from planflow.models.time import utcnow

pytestmark = pytest.mark.faults

ACCESS = "AT-never-registered-5f1e9c0d"
REFRESH = "RT-never-registered-77b2a4e1"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_echoed_sql_never_shows_token_parameters(engine, monkeypatch, caplog):
    monkeypatch.setenv("PLANFLOW_ECHO_SQL", "true")
    get_settings.cache_clear()
    get_engine.cache_clear()
    echoing = get_engine()  # the fixture's database, through planflow's own engine factory
    assert echoing.echo
    with caplog.at_level(logging.DEBUG):
        row = ZaloToken(app_id="app-1", access_token=ACCESS, refresh_token=REFRESH,
                        rotations=0, updated_at=utcnow())
        with Session(echoing) as session:
            session.add(row)
            session.commit()
        with Session(echoing) as session, pytest.raises(IntegrityError) as raised:
            session.add(ZaloToken(app_id="app-1", access_token=ACCESS, refresh_token=REFRESH,
                                  rotations=0, updated_at=utcnow()))
            session.commit()
    assert "INSERT INTO" in caplog.text  # the echo did log the statements
    for text in (caplog.text, str(raised.value)):
        assert ACCESS not in text and REFRESH not in text
    echoing.dispose()


def test_every_logger_hides_registered_secrets(caplog):
    secret = "S3cret-value-registered-42"
    register_secret(secret)
    with caplog.at_level(logging.INFO):
        for name in ("prefect.flow_runs", "sqlalchemy.engine.Engine", "", "planflow.flows"):
            logging.getLogger(name).warning("token=%s in %s", secret, name)
        try:
            raise RuntimeError(f"boom {secret}")
        except RuntimeError:
            logging.getLogger("httpx").exception("failed")
    assert caplog.text.count("***") >= 5
    assert secret not in caplog.text
    assert all(secret not in r.getMessage() for r in caplog.records)


def test_secret_settings_are_registered(monkeypatch, caplog):
    monkeypatch.setenv("PLANFLOW_SMTP_PASSWORD", "smtp-pass-from-env-31")
    get_settings.cache_clear()
    get_settings()
    with caplog.at_level(logging.INFO):
        logging.getLogger("aiosmtplib").info("login with smtp-pass-from-env-31")
    assert "smtp-pass-from-env-31" not in caplog.text


def test_data_folder_and_database_are_private(tmp_path, monkeypatch):
    old = os.umask(0o022)
    try:
        data = tmp_path / "home" / "planflow"
        monkeypatch.setenv("PLANFLOW_DATA_DIR", str(data))
        monkeypatch.setenv("PLANFLOW_DATABASE_URL", "")
        get_settings.cache_clear()
        get_engine.cache_clear()
        engine = get_engine()
        create_schema(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("SELECT 1")
        database = data / "planflow.db"
        assert _mode(data) == 0o700
        assert _mode(database) == 0o600
        for extra in (data / "planflow.db-wal", data / "planflow.db-shm"):
            if extra.exists():
                assert _mode(extra) == 0o600
        written = write_private(data / "outbox" / "m.eml", b"x")
        assert _mode(written) == 0o600 and _mode(written.parent) == 0o700
        engine.dispose()
    finally:
        os.umask(old)


def test_an_existing_open_data_folder_is_tightened(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    monkeypatch.setenv("PLANFLOW_DATA_DIR", str(data))
    monkeypatch.setenv("PLANFLOW_DATABASE_URL", "")
    get_settings.cache_clear()
    get_engine.cache_clear()
    get_engine().dispose()
    assert _mode(data) == 0o700


def test_out_never_overwrites_the_database_or_an_existing_file(tmp_path):
    database = tmp_path / "data" / "planflow.db"
    create_schema(get_engine())
    before = database.read_bytes()
    for target in (
        database,
        Path(f"{database}-wal"),
        tmp_path / "data" / ".." / "data" / "planflow.db",
    ):
        with pytest.raises(OutputRefused, match="cơ sở dữ liệu"):
            check_output(target, force=True)
    existing = tmp_path / "plan.docx"
    existing.write_bytes(b"old")
    with pytest.raises(OutputRefused, match="--force"):
        check_output(existing, force=False)
    assert check_output(existing, force=True) == existing.resolve()
    assert database.read_bytes() == before and existing.read_bytes() == b"old"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("../../etc/passwd", "etc-passwd"), ("Hà Đông/01", "Ha-Dong-01"), ("..", "x"),
     ("a\x00b", "a-b")],
)
def test_generated_names_are_sanitised(raw, clean):
    assert safe_name(raw) == clean


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "planflow", *args], capture_output=True,
                          text=True, check=False, timeout=180)


def test_render_out_refuses_the_live_database_and_existing_files(tmp_path, monkeypatch):
    from tests.faults.conftest import build_tree

    engine = get_engine()
    create_schema(engine)
    with Session(engine) as session:
        plan_id = build_tree(session).top.id
        session.commit()
    database = tmp_path / "data" / "planflow.db"
    before = database.read_bytes()
    refused = _cli("plan", "render", str(plan_id), "--format", "md", "--out", str(database),
                   "--force")
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1, refused.stderr
    assert "cơ sở dữ liệu" in refused.stderr
    assert database.read_bytes()[:16] == before[:16] == b"SQLite format 3\x00"
    target = tmp_path / "mine.md"
    target.write_text("mine")
    kept = _cli("plan", "render", str(plan_id), "--format", "md", "--out", str(target))
    assert kept.returncode == 1 and "--force" in kept.stderr and target.read_text() == "mine"
    forced = _cli("plan", "render", str(plan_id), "--format", "md", "--out", str(target),
                  "--force")
    assert forced.returncode == 0, forced.stderr
    assert target.read_text() != "mine" and _mode(target) == 0o600


def test_default_form_name_is_sanitised_and_private(session, tree, tmp_path):
    from planflow.documents.writing.excel_form import write_form
    from planflow.models import OrgUnit, ReportRequest

    request = session.get(ReportRequest, tree.requests["Phường Hàng Bạc"].id)
    unit = session.get(OrgUnit, request.unit_id)
    unit.code = "../../../etc/cron.d/x"
    session.add(unit)
    session.flush()
    path = write_form(session, request_id=request.id)
    forms = get_settings().data_dir / "forms"
    assert path.parent == forms and path.name == f"request-{request.id}-etc-cron.d-x-2025-H1.xlsx"
    assert _mode(path) == 0o600
    with pytest.raises(OutputRefused, match="--force"):
        write_form(session, request_id=request.id, out=path)


def test_a_database_error_is_one_line_without_sql(engine):
    from sqlalchemy.exc import IntegrityError as Integrity
    from sqlalchemy.exc import OperationalError

    from planflow.errors import database_problem, one_line

    with Session(engine) as session, pytest.raises(Integrity) as raised:
        for _ in range(2):
            session.add(ZaloToken(app_id="dup", access_token=ACCESS, refresh_token=REFRESH,
                                  rotations=0, updated_at=utcnow()))
            session.flush()
    line = one_line(raised.value)
    assert "\n" not in line and "INSERT" not in line and ACCESS not in line
    assert line.startswith("lỗi: dữ liệu đã có")
    dropped = OperationalError("SELECT 1", {}, Exception("server closed the connection\nmore"))
    assert database_problem(dropped).startswith("mất kết nối")
    assert "\n" not in database_problem(dropped)
