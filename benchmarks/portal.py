"""The units' portal under load: 2,000 distinct wards, each with its own access link, submit
their six-month figures over HTTP — 50 concurrent clients (httpx, async), PostgreSQL, the
portal served by uvicorn with 2 workers (``planflow portal --workers 2``). Beside it, in the
same server and the same run, the floor: an endpoint (enabled only by
``PLANFLOW_PORTAL_BENCH_FLOOR``) that inserts one report row of the same size, without
session, validation or state change.

    PLANFLOW_BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python benchmarks/portal.py [--wards 2000] [--clients 50]

Prints submissions/s, p50/p95/p99 latency, errors and lost submissions (rows counted
afterwards) for both. Targets: ≥ 100 submissions/s, p95 < 300 ms, 0 errors, 0 lost,
throughput ≥ 0.3× the floor's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, insert, select, text
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


async def run(base: str, tokens: list[tuple[int, int, str]], clients: int, plan_id: int) -> dict:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
        gate = asyncio.Semaphore(clients)
        sessions: dict[int, tuple[str, str]] = {}

        async def open_link(request_id: int, token: str) -> None:
            async with gate:
                r = await http.get(f"/l/{token}?next=/requests/{request_id}")
                cookie = r.cookies.get("planflow_portal") or ""
                page = await http.get(
                    f"/requests/{request_id}", headers={"cookie": f"planflow_portal={cookie}"}
                )
                csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
                sessions[request_id] = (cookie, csrf.group(1) if csrf else "")

        await asyncio.gather(*(open_link(i, t) for i, _, t in tokens))
        unit_of = {i: u for i, u, _ in tokens}

        async def timed(path_of, headers_of, data_of) -> tuple[float, list[float], int]:
            latencies: list[float] = []
            errors = 0

            async def one(request_id: int) -> None:
                nonlocal errors
                async with gate:
                    start = time.perf_counter()
                    try:
                        r = await http.post(
                            path_of(request_id),
                            data=data_of(request_id),
                            headers=headers_of(request_id),
                        )
                        ok = r.status_code in (204, 303)
                    except httpx.HTTPError:
                        ok = False
                    latencies.append(time.perf_counter() - start)
                    errors += not ok

            start = time.perf_counter()
            await asyncio.gather(*(one(i) for i, _, _ in tokens))
            return time.perf_counter() - start, latencies, errors

        portal = await timed(
            lambda i: f"/requests/{i}/submit",
            lambda i: {"cookie": f"planflow_portal={sessions[i][0]}"},
            lambda i: {**FIGURES, "csrf": sessions[i][1]},
        )
        floor = await timed(
            lambda i: f"/bench/floor/{i}",
            lambda i: {},
            lambda i: {
                **FIGURES,
                "csrf": sessions[i][1],
                "plan_id": str(plan_id),
                "unit_id": str(unit_of[i]),
            },
        )
    return {"portal": portal, "floor": floor}


def quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wards", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    admin_url = (
        os.environ.get("PLANFLOW_BENCH_POSTGRES_URL")
        or os.environ.get("PLANFLOW_TEST_POSTGRES_URL")
        or ""
    ).strip()
    if not admin_url.startswith("postgresql"):
        sys.exit("benchmarks/portal.py: set PLANFLOW_BENCH_POSTGRES_URL to a PostgreSQL URL")
    schema = f"bench_portal_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = admin_url + ("&" if "?" in admin_url else "?") + f"options=-csearch_path%3D{schema}"
    server = None
    try:
        t0 = time.perf_counter()
        tokens, plan_id = prepare(url, args.wards)
        setup = time.perf_counter() - t0
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        data_dir = Path(tempfile.mkdtemp(prefix="planflow-bench-portal-"))
        env = {
            **os.environ,
            "PLANFLOW_DATABASE_URL": url,
            "PLANFLOW_PUBLIC_URL": base,
            "PLANFLOW_PORTAL_BENCH_FLOOR": "1",
            "PLANFLOW_DATA_DIR": str(data_dir),
            "PLANFLOW_PORTAL_FAILED_LINKS_PER_MINUTE": "10000",
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
                str(args.workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(600):
            try:
                if httpx.get(f"{base}/static/portal.css", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            server.terminate()
            sys.exit(
                "the portal did not start: " + server.communicate(timeout=20)[1].decode()[-2000:]
            )
        result = asyncio.run(run(base, tokens, args.clients, plan_id))
        with Session(create_engine(url)) as session:
            from planflow.models import Report, ReportRequest

            submitted = session.execute(
                select(func.count())
                .select_from(ReportRequest)
                .where(ReportRequest.plan_id == plan_id, ReportRequest.status == "submitted")
            ).scalar_one()
            floor_rows = session.execute(
                select(func.count()).select_from(Report).where(Report.period.like("floor-%"))
            ).scalar_one()
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}; "
            f"setup {setup:.1f} s"
        )
        print(
            f"{args.wards} wards, {args.clients} concurrent clients, uvicorn with "
            f"{args.workers} workers, PostgreSQL"
        )
        print(
            f"{'':8} {'subm/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7} "
            f"{'lost':>5}"
        )
        rates = {}
        for name, (wall, lat, errors), rows in (
            ("portal", result["portal"], submitted),
            ("floor", result["floor"], floor_rows),
        ):
            ms = [v * 1000 for v in lat]
            rates[name] = len(lat) / wall
            lost = (len(lat) - errors) - rows
            print(
                f"{name:8} {rates[name]:8.1f} {quantile(ms, 50):8.1f} {quantile(ms, 95):8.1f} "
                f"{quantile(ms, 99):8.1f} {errors:7d} {lost:5d}"
            )
        print(f"portal / floor throughput: {rates['portal'] / rates['floor']:.2f}×")
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


if __name__ == "__main__":
    main()
