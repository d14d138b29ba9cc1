"""Benchmark: the hostile files of the fault suite, end to end as an officer meets them.

- the 240 KB .docx of 75,000 short lowercase lines (issue 13: it took over 300 s): the wall time
  of ``planflow plan import FILE`` in a child process, median of 3, beside its floor measured in
  the same run: ``planflow --help`` (the command's start, which every import pays). Target:
  imported or refused in under 5 s.
- the 3.2 MB zip bomb .docx unpacking to 3 GB: the child's peak memory (ru_maxrss of a fresh
  grandchild, so nothing else is counted) beside the floor ``planflow --help``. Target: refused
  with memory under 500 MB.

Run: ``.venv/bin/python benchmarks/hostile.py`` (``make bench`` runs it).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.faults import hostile  # noqa: E402  (the generators the fault tests use)

PROBE = (
    "import resource, subprocess, sys;"
    "r = subprocess.run([sys.executable, '-m', 'planflow', *sys.argv[1:]], capture_output=True,"
    " text=True);"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)"
)


def timed(env: dict, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "planflow", *args], capture_output=True,
                         text=True, env=env, timeout=600, check=False)
    return time.perf_counter() - started, out


def peak_mb(env: dict, *args: str) -> tuple[float, int]:
    out = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                         env=env, timeout=600, check=True)
    kb, code = map(int, out.stdout.split())
    return kb / 1024, code


def main() -> int:
    def say(line: str) -> None:
        print(line, flush=True)

    with tempfile.TemporaryDirectory(prefix="planflow-bench-hostile-") as folder:
        base = Path(folder)
        env = {**os.environ, "PLANFLOW_DATA_DIR": str(base / "data"),
               "PREFECT_HOME": str(base / "prefect"),
               "PLANFLOW_DATABASE_URL": f"sqlite:///{base / 'data' / 'planflow.db'}"}
        docx, bomb = base / "short-lines.docx", base / "bomb.docx"
        lines = hostile.short_lowercase_docx(docx)
        hostile.zip_bomb_docx(bomb)
        say(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
        say(f"files: {docx.name} {docx.stat().st_size / 1000:.0f} KB, {lines:,} lines; "
            f"{bomb.name} {bomb.stat().st_size / 1e6:.1f} MB unpacking to 3 GB")
        floors, walls, line = [], [], ""
        for _ in range(3):
            floors.append(timed(env, "--help")[0])
            wall, out = timed(env, "plan", "import", str(docx))
            walls.append(wall)
            line = (out.stderr or out.stdout).strip().splitlines()[-1]
        wall, floor = statistics.median(walls), statistics.median(floors)
        say(f"240 KB .docx: {wall:.2f} s (median of 3), floor `planflow --help` {floor:.2f} s; "
            f"answer: {line[:120]}")
        bomb_mb, code = peak_mb(env, "plan", "import", str(bomb))
        help_mb, _ = peak_mb(env, "--help")
        say(f"zip bomb: peak memory {bomb_mb:.0f} MB (exit {code}), floor `planflow --help` "
            f"{help_mb:.0f} MB")
        say(f"targets: 240 KB .docx < 5 s: {'met' if wall < 5 else 'MISSED'} ({wall:.2f} s); "
            f"zip bomb < 500 MB: {'met' if bomb_mb < 500 else 'MISSED'} ({bomb_mb:.0f} MB)")
        return 0 if code == 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
