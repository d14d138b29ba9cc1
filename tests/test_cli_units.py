"""``planflow units``: load then tree in process; errors through the real entry point."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from planflow import cli


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    cli._mount()
    return CliRunner()


def planflow(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed entry point (``planflow.cli:main``) in a child process."""
    code = "from planflow.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
        check=False,
    )


def test_load_then_tree_shows_the_official_names(runner: CliRunner) -> None:
    loaded = runner.invoke(cli.app, ["units", "load", "--province", "Hà Nội", "--tiers", "3"])
    assert loaded.exit_code == 0, loaded.output
    assert "Thành phố Hà Nội (3 cấp): tạo mới 841 đơn vị" in loaded.output
    assert "526 mới" in loaded.output

    summary = runner.invoke(cli.app, ["units", "tree"])
    assert summary.exit_code == 0, summary.output
    assert "UBND Thành phố Hà Nội [01]" in summary.output
    assert "UBND cấp xã 526" in summary.output
    assert ("Sở Lao động - Thương binh và Xã hội thành phố Hà Nội [01-labour] "
            "(cơ quan thường trực)") in summary.output
    assert "UBND Quận Hà Đông [268]" in summary.output
    assert "Phường Vạn Phúc" not in summary.output  # one level only by default

    hadong = runner.invoke(cli.app, ["units", "tree", "268", "--tiers", "3"])
    assert hadong.exit_code == 0, hadong.output
    assert "Phòng Tài chính - Kế hoạch quận Hà Đông" in hadong.output
    assert "UBND Phường Vạn Phúc [09544]" in hadong.output


def test_load_is_idempotent_from_the_command_line(runner: CliRunner) -> None:
    args = ["units", "load", "--province", "ha noi", "--tiers", "2", "--demo-contacts"]
    assert runner.invoke(cli.app, args).exit_code == 0
    again = runner.invoke(cli.app, args)
    assert again.exit_code == 0, again.output
    assert "tạo mới 0 đơn vị, 139 đã có (0 cập nhật)" in again.output


def test_provinces_lists_the_valid_names(runner: CliRunner) -> None:
    listed = runner.invoke(cli.app, ["units", "provinces", "--tiers", "2"])
    assert listed.exit_code == 0, listed.output
    assert "01  Thành phố Hà Nội" in listed.output
    assert "66  Tỉnh Đắk Lắk" in listed.output
    assert "vietnam-provinces 2025." in listed.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["units", "load", "--province", "Atlantis", "--tiers", "3"], "không có tỉnh 'Atlantis'"),
        (["units", "load", "--province", "01", "--tiers", "4"], "phải là 3 hoặc 2"),
        (["units", "tree"], "chưa nạp đơn vị nào"),
    ],
)
def test_errors_print_one_line_and_exit_non_zero(args: list[str], message: str) -> None:
    done = planflow(*args)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr


def test_reorganise_dry_run_prints_in_vietnamese_and_changes_nothing(runner: CliRunner) -> None:
    from sqlalchemy import func
    from sqlmodel import Session, select

    from planflow.config.db import get_engine
    from planflow.models import OrgUnit, TransitionLog

    missing = planflow("units", "reorganise", "--province", "Hà Nội", "--on", "2025-07-01")
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1
    assert "chưa nạp đơn vị ba cấp" in missing.stderr
    loaded = runner.invoke(cli.app, ["units", "load", "--province", "Hà Nội", "--tiers", "3"])
    assert loaded.exit_code == 0, loaded.output
    bad_day = planflow("units", "reorganise", "--province", "Hà Nội", "--on", "1/7/2025")
    assert bad_day.returncode == 1 and "cần một ngày dạng 2025-07-01" in bad_day.stderr

    def counts() -> tuple[int, int, int]:
        with Session(get_engine()) as s:
            units = s.scalar(select(func.count()).select_from(OrgUnit))
            ended = s.scalar(select(func.count()).select_from(OrgUnit).where(~OrgUnit.active))
            audit = s.scalar(select(func.count()).select_from(TransitionLog))
            return units, ended, audit

    before = counts()
    dry = runner.invoke(cli.app, ["units", "reorganise", "--province", "Hà Nội", "--on",
                                  "2025-07-01", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Chạy thử (không thay đổi dữ liệu)" in dry.output
    assert "Đơn vị sẽ kết thúc hoạt động: 841" in dry.output
    assert counts() == before
    done = runner.invoke(cli.app, ["units", "reorganise", "--province", "Hà Nội"])
    assert done.exit_code == 0, done.output
    assert "Đơn vị đã kết thúc hoạt động: 841" in done.output
    assert counts()[1] == 841
