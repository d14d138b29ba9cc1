"""The units' portal under load: 2,000 distinct wards, each with its own access link, submit
their six-month figures over HTTP — 50 concurrent clients, each a keep-alive connection driven
by a minimal asyncio HTTP/1.1 client (light, so it leaves the cores to the server) — to the
portal on PostgreSQL, served by uvicorn with 2 workers (``planflow portal --workers 2``).
Beside it, in the same server and the same run, the floor: an endpoint (enabled only by
``PLANFLOW_PORTAL_BENCH_FLOOR``) that inserts one report row of the same size, without
session, validation or state change.

    .venv/bin/python benchmarks/portal.py [--wards 2000] [--clients 50] [--strict]

PostgreSQL from ``PLANFLOW_BENCH_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``); the benchmark works in a schema of its
own, dropped afterwards. When the server is unreachable it prints one line saying so and exits
0. Prints, for the portal and the floor: submissions/s, p50/p95/p99 latency, errors, lost
submissions (rows counted afterwards), CPU ms per request of the server, of PostgreSQL and of
the load generator, and the load average; then one PASS/MISS line per target: ≥ 100
submissions/s, p95 < 300 ms, 0 errors, 0 lost, throughput ≥ 0.3× the floor's. Exits 1 on
errors or lost submissions (with ``--strict``, also on any missed target).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

import httpx
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

FIGURES = {  # plausible six-month figures of a ward, every indicator of the catalogue
    "f.NQ28-1.2.numerator": "3",
    "f.NQ28-1.2.denominator": "9",
    "f.NQ28-2.1.numerator": "41",
    "f.NQ28-2.1.denominator": "80",
    "f.NQ28-2.2.numerator": "12",
    "f.NQ28-2.2.denominator": "30",
    "f.NQ28-3.2.numerator": "7",
    "f.NQ28-3.2.denominator": "10",
    "f.NQ28-4.1.numerator": "2",
    "f.NQ28-4.1.denominator": "2",
    "f.HD-TT-SK.total": "4",
    "f.HD-TT-NG.female": "160",
    "f.HD-TT-NG.male": "95",
    "f.HD-TH-LOP.total": "2",
    "f.HD-TH-HV.female": "48",
    "f.HD-TH-HV.male": "22",
    "f.HD-LD.female": "5",
    "f.HD-LD.male": "9",
    "f.HD-BL-PH.total": "1",
    "n.results": "Tổ chức 4 buổi truyền thông về bình đẳng giới tại các tổ dân phố.",
    "n.difficulties": "Kinh phí còn hạn chế.",
    "n.proposals": "Đề nghị tổ chức tập huấn cho cán bộ cơ sở.",
}
PROVINCES = ("01", "38", "40", "26", "27", "30", "36")  # Hà Nội, Thanh Hóa, Nghệ An, … (3 tiers)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(url: str, wards: int) -> tuple[list[tuple[int, int, str]], int]:
    """Real wards of a few provinces, one issued six-month request and one link each."""
    from planflow.config.db import create_schema
    from planflow.models import OrgUnit, Plan, ReportRequest, State
    from planflow.notifications import links
    from planflow.services import hierarchy
    from planflow.services.catalogue import load_indicators

    engine = create_engine(url)
    create_schema(engine)
    with Session(engine) as session:
        load_indicators(session=session)
        found: list[OrgUnit] = []
        for code in PROVINCES:
            hierarchy.load_units(session=session, province=code, tiers=3)
            session.flush()
            found = list(
                session.execute(
                    select(OrgUnit)
                    .where(OrgUnit.tiers == 3, OrgUnit.level == "ward", OrgUnit.kind == "committee")
                    .order_by(OrgUnit.id)
                ).scalars()
            )
            if len(found) >= wards:
                break
        found = found[:wards]
        province = session.execute(
            select(OrgUnit).where(OrgUnit.tiers == 3, OrgUnit.code == "01")
        ).scalar_one()
        plan = Plan(
            year=2025,
            title="Kế hoạch đo tải cổng đơn vị",
            issuer_id=province.id,
            number="99/KH-UBND",
            issued_on=date(2025, 1, 20),
            status=State.issued,
        )
        session.add(plan)
        session.flush()
        session.execute(
            insert(ReportRequest.__table__),
            [
                {
                    "plan_id": plan.id,
                    "unit_id": w.id,
                    "kind": "six_month",
                    "period": "2025-H1",
                    "deadline": date(2099, 5, 20),
                    "status": "issued",
                    "late": False,
                    "overdue": False,
                    "version": 1,
                    "created_at": plan.created_at,
                }
                for w in found
            ],
        )
        ids = dict(
            session.execute(
                select(ReportRequest.unit_id, ReportRequest.id).where(
                    ReportRequest.plan_id == plan.id
                )
            ).all()
        )
        tokens = []
        for w in found:
            _, token = links.mint(session, w.id)
            tokens.append((ids[w.id], w.id, token))
        session.commit()
        return tokens, plan.id


class Connection:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams: the load generator must cost
    the machine far less than the server it measures (httpx spends ~1 ms of CPU a request)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> tuple[int, bytes, bytes]:
        """Send one prepared request; the status, the header block and the body."""
        for attempt in (0, 1):  # the server may close an idle keep-alive connection
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            assert self.reader is not None
            try:
                self.writer.write(raw)
                head = await self.reader.readuntil(b"\r\n\r\n")
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt:
                    raise
                continue
            status = int(head[9:12])
            length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            body = await self.reader.readexactly(int(length.group(1))) if length else b""
            if re.search(rb"(?im)^connection:\s*close", head):
                self.close()
            return status, head, body
        raise ConnectionError("unreachable")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def get(path: str, cookie: str = "") -> bytes:
    extra = f"Cookie: {cookie}\r\n" if cookie else ""
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode()


def post(path: str, form: dict[str, str], cookie: str = "") -> bytes:
    body = urlencode(form).encode()
    extra = f"Cookie: {cookie}\r\n" if cookie else ""
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


@dataclass
class Phase:
    wall: float
    latencies: list[float]
    errors: int
    client_cpu: float  # seconds of this process's CPU (the load generator)
    server_cpu: float  # seconds of the portal's processes (uvicorn and its workers)
    database_cpu: float  # seconds of the PostgreSQL backends serving the portal
    load: float  # 1-minute load average at the end of the phase


def cpu_of(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each of ``pids`` so far (Linux /proc; empty elsewhere)."""
    out = {}
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two readings (a process that appeared in between counts in full)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def family(pid: int) -> list[int]:
    """``pid`` and its descendants (the uvicorn supervisor and its workers)."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in (task / "children").read_text().split()]
    return out


def postgres_pids(admin_url: str) -> list[int]:
    """The PostgreSQL backends serving the portal under test (its connections carry an
    application name of their own; other work on the same server is not counted)."""
    engine = create_engine(admin_url)
    with engine.connect() as conn:
        pids = list(
            conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
                {"name": APPLICATION},
            ).scalars()
        )
    engine.dispose()
    return pids


async def run(
    port: int,
    server_pid: int,
    admin_url: str,
    tokens: list[tuple[int, int, str]],
    clients: int,
    plan_id: int,
) -> dict[str, Phase]:
    pool = [Connection(port) for _ in range(clients)]

    async def drive(raws: list[bytes], ok: tuple[int, ...]) -> tuple[list, list[float], int]:
        """Send every request, ``clients`` at a time each on its own keep-alive connection."""
        queue = list(enumerate(raws))
        queue.reverse()
        answers: list = [None] * len(raws)
        latencies: list[float] = []
        errors = 0

        async def worker(conn: Connection) -> None:
            nonlocal errors
            while queue:
                index, raw = queue.pop()
                start = time.perf_counter()
                try:
                    answers[index] = await conn.request(raw)
                    good = answers[index][0] in ok
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    conn.close()
                    good = False
                latencies.append(time.perf_counter() - start)
                errors += not good

        await asyncio.gather(*(worker(c) for c in pool))
        return answers, latencies, errors

    # each ward opens its own link (a session cookie) and its form (the CSRF token): untimed
    opened, _, failed = await drive(
        [get(f"/l/{t}?next=/requests/{i}") for i, _, t in tokens], (303,)
    )
    if failed:
        raise SystemExit(f"{failed} ward(s) could not open their link")
    cookies = [
        re.search(rb"(?im)^set-cookie:\s*(planflow_portal=[^;\r\n]+)", a[1]).group(1).decode()
        for a in opened
    ]
    pages, _, failed = await drive(
        [get(f"/requests/{i}", c) for (i, _, _), c in zip(tokens, cookies, strict=True)], (200,)
    )
    if failed:
        raise SystemExit(f"{failed} ward(s) could not open their form")
    csrfs = [re.search(rb'name="csrf" value="([^"]+)"', a[2]).group(1).decode() for a in pages]
    submissions = [
        post(f"/requests/{i}/submit", {**FIGURES, "csrf": csrf}, cookie)
        for (i, _, _), cookie, csrf in zip(tokens, cookies, csrfs, strict=True)
    ]
    floors = [
        post(
            f"/bench/floor/{i}",
            {**FIGURES, "csrf": csrf, "plan_id": str(plan_id), "unit_id": str(unit)},
        )
        for (i, unit, _), csrf in zip(tokens, csrfs, strict=True)
    ]
    out = {}
    for name, raws in (("portal", submissions), ("floor", floors)):
        servers = family(server_pid)
        c0, s0, d0 = time.process_time(), cpu_of(servers), cpu_of(postgres_pids(admin_url))
        start = time.perf_counter()
        _, latencies, errors = await drive(raws, (204, 303))
        wall = time.perf_counter() - start
        s1, d1 = cpu_of(servers), cpu_of(postgres_pids(admin_url))
        out[name] = Phase(
            wall=wall,
            latencies=latencies,
            errors=errors,
            client_cpu=time.process_time() - c0,
            server_cpu=spent(s0, s1),
            database_cpu=spent(d0, d1),
            load=os.getloadavg()[0],
        )
        await asyncio.sleep(1)  # let the first phase's last commits settle
    for conn in pool:
        conn.close()
    return out


def quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


APPLICATION = "planflow-bench-portal"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGETS = "≥ 100 submissions/s, p95 < 300 ms, 0 errors, 0 lost, throughput ≥ 0.3× the floor's"


def reachable(url: str) -> str | None:
    """None when PostgreSQL at ``url`` answers, else why not (one line, no password)."""
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 5})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any driver error: the reason is printed, not raised
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        return reason[0] if reason else type(exc).__name__
    return None


def start_server(url: str, port: int, workers: int, data_dir: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PLANFLOW_DATABASE_URL": url,
        "PLANFLOW_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PLANFLOW_PORTAL_BENCH_FLOOR": "1",
        "PLANFLOW_DATA_DIR": str(data_dir),
        "PLANFLOW_PORTAL_FAILED_LINKS_PER_MINUTE": "10000",
        "PREFECT_HOME": str(data_dir / "prefect"),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "planflow",
            "portal",
            "--port",
            str(port),
            "--workers",
            f"{workers}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    for _ in range(1200):
        if server.poll() is not None:
            break
        try:
            css = httpx.get(f"http://127.0.0.1:{port}/static/portal.css", timeout=2)
            if css.status_code == 200:
                # every worker up: uvicorn's supervisor starts them together; give them a moment
                time.sleep(2)
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit(
        "benchmarks/portal.py: the portal did not start: "
        + server.communicate(timeout=20)[1].decode()[-2000:]
    )


def report(args, setup: float, phases: dict[str, Phase], rows: dict[str, int]) -> bool:
    """Print the figures and one verdict line per target; True when every target is met."""
    print(
        f"portal benchmark: {args.wards} wards, {args.clients} concurrent clients, uvicorn with "
        f"{args.workers} workers, PostgreSQL; {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; setup {setup:.1f} s"
    )
    print(
        f"{'':8} {'subm/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7} "
        f"{'lost':>5} {'CPU ms/request: server':>23} {'db':>5} {'client':>7} {'load':>5}"
    )
    rates, p95, errs, lost = {}, {}, {}, {}
    for name, phase in phases.items():
        n = len(phase.latencies)
        ms = [v * 1000 for v in phase.latencies]
        rates[name] = n / phase.wall
        p95[name] = quantile(ms, 95)
        errs[name] = phase.errors
        lost[name] = (n - phase.errors) - rows[name]
        print(
            f"{name:8} {rates[name]:8.1f} {quantile(ms, 50):8.1f} {p95[name]:8.1f} "
            f"{quantile(ms, 99):8.1f} {phase.errors:7d} {lost[name]:5d} "
            f"{phase.server_cpu * 1000 / n:23.2f} {phase.database_cpu * 1000 / n:5.2f} "
            f"{phase.client_cpu * 1000 / n:7.2f} {phase.load:5.1f}"
        )
    ratio = rates["portal"] / rates["floor"]
    checks = [
        ("throughput ≥ 100 submissions/s", rates["portal"] >= 100, f"{rates['portal']:.1f}/s"),
        ("p95 latency < 300 ms", p95["portal"] < 300, f"{p95['portal']:.0f} ms"),
        ("0 errors", errs["portal"] == 0 and errs["floor"] == 0, f"{errs['portal']}"),
        ("0 lost", lost["portal"] == 0 and lost["floor"] == 0, f"{lost['portal']}"),
        ("throughput ≥ 0.3× the floor's", ratio >= 0.3, f"{ratio:.2f}×"),
    ]
    for label, ok, seen in checks:
        print(f"{'PASS' if ok else 'MISS'}  {label}: {seen}")
    busy = max(p.load for p in phases.values())
    if busy > (os.cpu_count() or 1):
        print(
            f"note: load average {busy:.1f} on {os.cpu_count()} cores — other work shared the "
            "machine; throughput and latency are not this machine's best"
        )
    return all(ok for _, ok, _ in checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wards", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when a throughput or latency target is missed (errors and lost always do)",
    )
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="planflow-bench-portal-"))
    # before planflow is imported: its state (and Prefect's) stays in the temporary folder
    os.environ["PLANFLOW_DATA_DIR"] = str(data_dir)
    os.environ["PREFECT_HOME"] = str(data_dir / "prefect")
    admin_url = os.environ.get("PLANFLOW_BENCH_POSTGRES_URL", "").strip() or DEFAULT_URL
    if not admin_url.startswith("postgresql"):
        print("portal benchmark not run: PLANFLOW_BENCH_POSTGRES_URL is not a PostgreSQL URL")
        shutil.rmtree(data_dir, ignore_errors=True)
        return 0
    why = reachable(admin_url)
    if why is not None:
        host = make_url(admin_url).render_as_string(hide_password=True)
        print(f"portal benchmark not run: PostgreSQL at {host} is unreachable ({why})")
        shutil.rmtree(data_dir, ignore_errors=True)
        return 0
    # its own schema, dropped afterwards: nothing else in that database is read or touched
    schema = f"bench_portal_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = admin_url + ("&" if "?" in admin_url else "?") + f"options=-csearch_path%3D{schema}"
    served = url + f"&application_name={APPLICATION}"
    server = None
    # a TERM (a CI timeout, `kill`) still stops the server and drops the schema
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        t0 = time.perf_counter()
        tokens, plan_id = prepare(url, args.wards)
        setup = time.perf_counter() - t0
        port = free_port()
        server = start_server(served, port, args.workers, data_dir)
        phases = asyncio.run(run(port, server.pid, admin_url, tokens, args.clients, plan_id))
        engine = create_engine(url)
        with Session(engine) as session:
            from planflow.models import Report, ReportRequest

            rows = {
                "portal": session.execute(
                    select(func.count())
                    .select_from(ReportRequest)
                    .where(ReportRequest.plan_id == plan_id, ReportRequest.status == "submitted")
                ).scalar_one(),
                "floor": session.execute(
                    select(func.count()).select_from(Report).where(Report.period.like("floor-%"))
                ).scalar_one(),
            }
        engine.dispose()
        met = report(args, setup, phases, rows)
        failed = any(p.errors for p in phases.values()) or any(
            rows[name] != len(p.latencies) - p.errors for name, p in phases.items()
        )
        return 1 if failed or (args.strict and not met) else 0
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
