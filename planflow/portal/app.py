"""The portal's routes. Every route takes its caller from one dependency in ``auth``; every
change goes through the same services (and ``fire``) as the flows and the CLI, with the audit
row naming ``portal:<unit code>`` and the access link, in the same transaction."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import tempfile
import weakref
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import IO, Annotated, Any
from urllib.parse import urlsplit

import anyio.to_thread
from fastapi import Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy import case, func, insert, select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from planflow.config.settings import get_settings
from planflow.models import (
    AccessLink,
    Assignment,
    IndicatorValue,
    OrgUnit,
    Plan,
    Report,
    ReportKind,
    ReportRequest,
    State,
    TransitionLog,
    UnitDocument,
)
from planflow.models.time import as_utc, local_date, local_tz, utcnow
from planflow.notifications.compose import plan_doc, report_title
from planflow.notifications.links import hash_token
from planflow.portal import forms, uploads
from planflow.portal.auth import (
    DB,
    Agency,
    AgencyPost,
    AgencyRequest,
    Caller,
    OwnPlan,
    OwnRequest,
    PortalDenied,
    UnitCaller,
    UnitPost,
    below,
    committee_of_agency,
    contact_for,
    link_state,
)
from planflow.portal.security import (
    COOKIE,
    FailureLimiter,
    SessionData,
    new_csrf,
    sign_session,
)
from planflow.services.catalogue import held_indicators
from planflow.services.reporting import acknowledge, return_report, submit_report
from planflow.states import OPEN, SENT, VISIBLE, PlanflowError, ValidationFailed
from planflow.states.machine import via_link
from planflow.vntext import cap

log = logging.getLogger("planflow.portal")

STATE_VI = {
    State.drafted: "Dự thảo",
    State.issued: "Chưa tiếp nhận",
    State.acknowledged: "Đã tiếp nhận, chưa gửi",
    State.submitted: "Đã gửi",
    State.aggregated: "Đã tổng hợp",
    State.cancelled: "Đã hủy",
}
MAX_BODY = uploads.MAX_BYTES + 2 * 1024 * 1024  # an upload at the limit plus the form around it
DENIED_TEXT = {
    "moved": (
        "Yêu cầu đã chuyển cho đơn vị kế thừa",
        (
            "Sau khi sắp xếp đơn vị hành chính, yêu cầu này do đơn vị kế thừa thực hiện; đơn vị "
            "không còn phải gửi báo cáo này. Các báo cáo đơn vị đã gửi trước đó vẫn được lưu."
        ),
    ),
    "no_session": (
        "Chưa mở phiên làm việc",
        (
            "Trang này chỉ mở được từ đường dẫn trong tin nhắn (thư điện tử, Zalo) mà hệ thống đã "
            "gửi cho đơn vị. Hãy mở lại đường dẫn mới nhất trong tin nhắn."
        ),
    ),
    "expired": (
        "Đường dẫn đã hết hạn",
        (
            "Đường dẫn truy cập của đơn vị đã hết hạn sử dụng. Mỗi tin nhắn mới của hệ thống đều "
            "kèm một đường dẫn mới; nếu chưa nhận được, đề nghị liên hệ cơ quan dưới đây."
        ),
    ),
    "revoked": (
        "Đường dẫn đã bị thu hồi",
        (
            "Đường dẫn truy cập này đã bị thu hồi. Đề nghị liên hệ cơ quan dưới đây để được cấp "
            "đường dẫn mới."
        ),
    ),
    "unknown_link": (
        "Đường dẫn không hợp lệ",
        (
            "Đường dẫn không đúng hoặc bị chép thiếu. Hãy mở đúng đường dẫn trong tin nhắn mới "
            "nhất mà hệ thống đã gửi cho đơn vị."
        ),
    ),
    "too_many": (
        "Tạm thời từ chối truy cập",
        "Có quá nhiều lần mở đường dẫn không hợp lệ từ địa chỉ này. Đề nghị thử lại sau ít phút.",
    ),
    "csrf": (
        "Biểu mẫu đã hết hiệu lực",
        (
            "Biểu mẫu không còn hợp lệ (trang đã mở quá lâu hoặc được gửi từ nơi khác). Hãy tải "
            "lại trang và gửi lại."
        ),
    ),
    "missing": (
        "Không tìm thấy trang",
        "Trang này không tồn tại hoặc không thuộc phạm vi của đơn vị.",
    ),
    "too_large": (
        "Tệp quá lớn",
        f"Nội dung gửi lên vượt quá {uploads.MAX_BYTES // 1024 // 1024} MB.",
    ),
}


@cache
def templates() -> Environment:
    """Pages: autoescaped, every variable required."""
    env = Environment(
        loader=PackageLoader("planflow.portal", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # shipped with the package: never changes under a running portal
    )
    env.filters["vn_date"] = lambda d: d.strftime("%d/%m/%Y") if d else ""
    env.filters["vn_time"] = lambda t: (
        t.astimezone(local_tz()).strftime("%H:%M %d/%m/%Y") if t else ""
    )
    env.filters["cap"] = cap
    return env


def page(
    name: str, *, caller: Caller | None = None, status: int = 200, **context: Any
) -> HTMLResponse:
    html = (
        templates()
        .get_template(name)
        .render(
            caller=caller,
            unit=caller.unit if caller else None,
            csrf=caller.csrf if caller else "",
            is_agency=context.pop("is_agency", False),
            **context,
        )
    )
    return HTMLResponse(html, status_code=status)


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes before anything parses them."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await _too_large(send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(send)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send) -> None:
    body = page(
        "message.html",
        title=DENIED_TEXT["too_large"][0],
        text=DENIED_TEXT["too_large"][1],
        contact=None,
        status=413,
    ).body
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"text/html; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": bytes(body)})


SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (
        b"content-security-policy",
        b"default-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'",
    ),
]
_OVERRIDDEN = {name for name, _ in SECURITY_HEADERS}


class SecurityHeaders:
    """Every response: the security headers, and ``Cache-Control: no-store`` unless the route
    set its own. Plain ASGI (a ``BaseHTTPMiddleware`` costs a task and a stream per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() not in _OVERRIDDEN
                ]
                if not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers + SECURITY_HEADERS}
            await send(message)

        await self.app(scope, receive, sending)


class RedactTokens(logging.Filter):
    """Access-log lines show ``/l/…`` instead of a link's token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                re.sub(r"/l/[^/?\s\"]+", "/l/…", a) if isinstance(a, str) else a
                for a in record.args
            )
        if isinstance(record.msg, str):
            record.msg = re.sub(r"/l/[^/?\s\"]+", "/l/…", record.msg)
        return True


# Per worker process: requests past the in-flight gate at once. Each holds at most one
# worker thread and two database connections (its session; a limiter's or a denial page's
# lookup), so the thread pool and the connection pool, sized from it, can never starve each
# other (a request holding a connection always gets a thread; a thread never waits for a
# connection). The pool keeps its connections: closing and reopening them under load costs a
# new PostgreSQL backend each time. Four is enough to keep a core busy while requests wait
# on the database; more threads only contend for the GIL (benchmarks/portal.py, 2 workers,
# 50 clients: 20 in flight gave 264 submissions/s and a p95 of 286 ms, 8 gave 304/s and
# 223 ms, 4 gave 338–365/s and 185–191 ms).
IN_FLIGHT = 4
THREADS = IN_FLIGHT
POOL_SIZE, POOL_OVERFLOW = 2 * IN_FLIGHT, IN_FLIGHT
SPOOL_IN_MEMORY = 1024 * 1024  # a body past this waits for its slot on disk


class InFlightGate:
    """At most ``limit`` requests of this process past this point; the others wait here, on
    the event loop, holding no thread and no connection. A request's body is received before
    it takes a slot, so a slow upload (a phone on a weak network) keeps no one else waiting."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._gates = weakref.WeakKeyDictionary()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(self.limit)
        message = await receive()
        if message["type"] != "http.request":
            return  # the client left before its request was whole
        if not message.get("more_body", False):  # a page or a small form: one message
            whole = message.get("body", b"")
            async with gate:
                await self.app(scope, _replay(io.BytesIO(whole), len(whole), receive), send)
            return
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as body:
            while True:
                body.write(message.get("body", b""))
                if not message.get("more_body", False):
                    break
                message = await receive()
                if message["type"] != "http.request":
                    return
            size = body.tell()
            body.seek(0)
            async with gate:
                await self.app(scope, _replay(body, size, receive), send)


def _replay(body: IO[bytes], size: int, receive: Receive) -> Receive:
    """``receive`` for a body already received: its bytes, then what the client sends next
    (a disconnect)."""
    whole = False

    async def replayed() -> Message:
        nonlocal whole
        if whole:
            return await receive()
        chunk = body.read(64 * 1024)
        whole = body.tell() >= size
        return {"type": "http.request", "body": chunk, "more_body": not whole}

    return replayed


def portal_engine() -> Engine:
    """The configured database; on PostgreSQL with a pool sized for the portal's threads."""
    from sqlalchemy import create_engine

    from planflow.config.db import get_engine

    configured = get_engine()  # registers the URL's password as a secret, as every engine
    if configured.dialect.name == "sqlite":
        return configured
    return create_engine(
        configured.url,
        echo=configured.echo,
        hide_parameters=True,  # parameters carry personal data: never in logs or errors
        # no ping at each checkout (a round trip per request): connections are renewed every
        # 30 minutes, and one that died with its server fails one request, after which
        # SQLAlchemy renews every connection of the pool
        pool_pre_ping=False,
        pool_recycle=1800,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
    )


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
    yield


def create_app(engine: Engine | None = None) -> FastAPI:
    """The portal on ``engine`` (default: the configured database)."""
    settings = get_settings()
    app = FastAPI(
        docs_url=None, redoc_url=None, openapi_url=None, title="planflow portal", lifespan=_lifespan
    )
    app.state.engine = engine or portal_engine()
    app.state.limiter = FailureLimiter(app.state.engine, settings.portal_failed_links_per_minute)
    # the last added is the outermost: the security headers on every answer (a 413 too), the
    # body's limit before the gate receives the body, the gate around the rest
    app.add_middleware(InFlightGate, limit=IN_FLIGHT)
    app.add_middleware(BodyLimit, limit=MAX_BODY)
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(PortalDenied)
    async def denied(request: Request, exc: PortalDenied) -> HTMLResponse:
        return _denied_page(request, exc.status, exc.why, exc.unit)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> HTMLResponse:
        if exc.status_code == 405:
            return page(
                "message.html",
                status=405,
                title="Không thực hiện được",
                text="Thao tác này không được hỗ trợ trên trang này.",
                contact=None,
            )
        return _denied_page(request, 404, "missing", None)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> HTMLResponse:
        return _denied_page(request, 404, "missing", None)

    _routes(app)
    return app


def _denied_page(request: Request, status: int, why: str, unit: OrgUnit | None) -> HTMLResponse:
    title, text = DENIED_TEXT[why]
    contact = None
    if unit is not None and why in ("expired", "revoked", "no_session"):
        with Session(request.app.state.engine) as session:
            contact = contact_for(session, unit)
    response = page("message.html", status=status, title=title, text=text, contact=contact)
    if why in ("expired", "revoked"):
        response.delete_cookie(COOKIE, path="/")
    return response


async def form_data(request: Request) -> FormData:
    return await request.form()


Posted = Annotated[FormData, Depends(form_data)]


def _safe_next(target: str | None) -> str:
    """A path on this site only (never another host), default the home page."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _local_today():
    return local_date(utcnow())


def _returns(session: Session, ids: list[int]) -> dict[int, TransitionLog]:
    """The latest 'return' audit row of each request: the reason the unit reads."""
    found: dict[int, TransitionLog] = {}
    if not ids:
        return found
    rows = session.execute(
        select(TransitionLog)
        .where(
            TransitionLog.entity == "report_request",
            TransitionLog.entity_id.in_(ids),  # type: ignore[attr-defined]
            TransitionLog.trigger == "return",
        )
        .order_by(TransitionLog.id)
    ).scalars()
    for row in rows:
        found[row.entity_id] = row
    return found


def _describe(session: Session, rows: list[ReportRequest]) -> list[dict[str, Any]]:
    plans = (
        {
            p.id: p
            for p in session.execute(
                select(Plan).where(Plan.id.in_({r.plan_id for r in rows}))  # type: ignore[union-attr]
            ).scalars()
        }
        if rows
        else {}
    )
    unit_ids = {r.recipient_id for r in rows} | {p.issuer_id for p in plans.values()}
    unit_ids |= {r.unit_id for r in rows}
    units = (
        {
            u.id: u
            for u in session.execute(
                select(OrgUnit).where(OrgUnit.id.in_([i for i in unit_ids if i]))  # type: ignore[union-attr]
            ).scalars()
        }
        if rows
        else {}
    )
    returns = _returns(session, [r.id for r in rows if r.status == State.acknowledged])
    today = _local_today()
    out = []
    for r in rows:
        plan = plans[r.plan_id]
        issuer = units.get(plan.issuer_id)
        to = units.get(r.recipient_id or -1) or issuer
        returned = returns.get(r.id) if r.status == State.acknowledged else None
        out.append(
            {
                "row": r,
                "title": report_title(r.kind, r.period),
                "plan": plan,
                "plan_ref": f"{plan_doc(plan)} của {issuer.label if issuer else ''}",
                "to": to.label if to else "",
                "unit": units[r.unit_id],
                "state": STATE_VI[State(r.status)],
                "overdue": r.status in OPEN and r.deadline < today,
                "returned": returned,
            }
        )
    return out


def _groups(items: list[dict[str, Any]]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        r = item["row"]
        if item["returned"] is not None:
            groups["returned"].append(item)
        elif item["overdue"]:
            groups["overdue"].append(item)
        elif r.status in OPEN:
            groups["due"].append(item)
        else:
            groups["sent"].append(item)
    titles = [
        ("overdue", "Quá hạn"),
        ("due", "Cần thực hiện"),
        ("returned", "Bị trả lại để bổ sung, chỉnh sửa"),
        ("sent", "Đã gửi"),
    ]
    return [(key, title, groups[key]) for key, title in titles]


def _sent(session: Session, row: ReportRequest) -> tuple[Report | None, list[IndicatorValue]]:
    """The report a request's unit sent, if any, and its figures."""
    report = session.execute(select(Report).where(Report.request_id == row.id)).scalar_one_or_none()
    if report is None:
        return None, []
    values = session.execute(select(IndicatorValue).where(IndicatorValue.report_id == report.id))
    return report, list(values.scalars())


def _documents(session: Session, row: ReportRequest) -> list[UnitDocument]:
    """The files a request's unit uploaded, oldest first."""
    return list(
        session.execute(
            select(UnitDocument).where(UnitDocument.request_id == row.id).order_by(UnitDocument.id)
        ).scalars()
    )


def _request_page(
    session: Session,
    caller: Caller,
    row: ReportRequest,
    *,
    typed: dict[str, dict[str, str]] | None = None,
    narrative: dict[str, str] | None = None,
    problems=(),
    errors: list[str] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    item = _describe(session, [row])[0]
    catalogue = held_indicators(session)
    report, values = _sent(session, row)
    if typed is None:
        typed = forms.stored_values(values)
    if narrative is None:
        narrative = dict(report.narrative) if report is not None else {}
    rows, general = forms.rows(catalogue, typed, problems)
    documents = _documents(session, row)
    sent_rows = [r for r in rows if any(v for _, _, v in r.inputs)]
    return page(
        "request.html",
        caller=caller,
        status=status,
        is_agency=committee_of_agency(session, caller.unit) is not None,
        item=item,
        rows=rows,
        sent_rows=sent_rows,
        narrative=narrative,
        narrative_fields=forms.NARRATIVE,
        errors=(errors or []) + general,
        notice=notice,
        documents=documents,
        editable=row.status in OPEN,
        sub_plan=row.kind == ReportKind.sub_plan,
        report=report,
    )


def _changed_meanwhile(session: Session, caller: Caller, row: ReportRequest) -> HTMLResponse:
    """The request's page again (409) when its state moved while the unit was on it."""
    return _request_page(
        session,
        caller,
        row,
        status=409,
        errors=["Yêu cầu đã thay đổi trạng thái; hãy tải lại trang."],
    )


NOTICES = {
    "ack": "Đã ghi nhận đơn vị tiếp nhận yêu cầu.",
    "sent": "Đã gửi báo cáo. Cảm ơn đơn vị.",
    "doc": "Đã nhận kế hoạch của đơn vị và ghi nhận đã gửi.",
    "returned": "Đã trả lại báo cáo; đơn vị được thông báo kèm lý do.",
}


def _routes(app: FastAPI) -> None:
    @app.get("/l/{token}")
    def open_link(token: str, request: Request, session: DB, next: str | None = None):
        address = request.client.host if request.client else "?"
        limiter: FailureLimiter = request.app.state.limiter
        if limiter.blocked(address):
            return _denied_page(request, 429, "too_many", None)
        link = session.execute(
            select(AccessLink).where(AccessLink.token_hash == hash_token(token))
        ).scalar_one_or_none()
        if link is None:
            limiter.failed(address)
            log.info("portal: unknown link from %s", address)
            return _denied_page(request, 404, "unknown_link", None)
        unit = session.get(OrgUnit, link.unit_id)
        why = link_state(link)
        if why:
            return _denied_page(request, 410, why, unit)
        link.last_used_at = utcnow()
        session.add(link)
        session.commit()
        response = RedirectResponse(_safe_next(next), status_code=303)
        response.set_cookie(
            COOKIE,
            sign_session(SessionData(link_id=link.id, csrf=new_csrf())),  # type: ignore[arg-type]
            max_age=max(0, int((as_utc(link.expires_at) - utcnow()).total_seconds())),
            httponly=True,
            samesite="lax",
            secure=get_settings().public_https,
            path="/",
        )
        return response

    @app.post("/logout")
    def logout(caller: UnitPost):
        response = page(
            "message.html",
            caller=None,
            title="Đã đóng phiên làm việc",
            text="Để làm việc tiếp, hãy mở lại đường dẫn trong tin nhắn.",
            contact=None,
        )
        response.delete_cookie(COOKIE, path="/")
        return response

    @app.get("/", response_class=HTMLResponse)
    def home(caller: UnitCaller, session: DB):
        rows = list(
            session.execute(
                select(ReportRequest)
                .where(
                    ReportRequest.unit_id == caller.unit.id,
                    ReportRequest.status.in_(list(VISIBLE)),  # type: ignore[attr-defined]
                )
                .order_by(ReportRequest.deadline, ReportRequest.id)
            ).scalars()
        )
        committee = committee_of_agency(session, caller.unit)
        return page(
            "home.html",
            caller=caller,
            is_agency=committee is not None,
            committee=committee,
            groups=_groups(_describe(session, rows)),
        )

    @app.get("/requests/{request_id}", response_class=HTMLResponse)
    def request_view(row: OwnRequest, caller: UnitCaller, session: DB, ok: str | None = None):
        return _request_page(session, caller, row, notice=NOTICES.get(ok or ""))

    @app.post("/requests/{request_id}/acknowledge")
    def request_acknowledge(row: OwnRequest, caller: UnitPost, session: DB):
        if row.status == State.issued:
            try:
                with via_link(caller.link.id):  # type: ignore[arg-type]
                    acknowledge(session=session, request_id=row.id, actor=caller.actor)
                session.commit()
            except PlanflowError:
                session.rollback()
                return _changed_meanwhile(session, caller, row)
        return RedirectResponse(f"/requests/{row.id}?ok=ack", status_code=303)

    @app.post("/requests/{request_id}/submit")
    def request_submit(row: OwnRequest, caller: UnitPost, session: DB, form: Posted):
        figures, narrative, typed = forms.read(form)
        if row.status not in OPEN or row.kind == ReportKind.sub_plan:
            return _request_page(
                session, caller, row, status=409, errors=["Yêu cầu này hiện không nhận số liệu."]
            )
        try:
            with via_link(caller.link.id):  # type: ignore[arg-type]
                submit_report(
                    session=session,
                    request_id=row.id,
                    figures=figures,
                    narrative=narrative,
                    actor=caller.actor,
                    locked=row,  # read FOR UPDATE by own_request
                    catalogue=held_indicators(session),
                )
            session.commit()
        except ValidationFailed as exc:
            session.rollback()
            return _request_page(
                session,
                caller,
                row,
                typed=typed,
                narrative=narrative,
                problems=exc.problems,
                status=422,
                errors=[("Báo cáo chưa được gửi: có số liệu cần sửa (xem các ô được đánh dấu).")],
            )
        except PlanflowError:
            session.rollback()
            return _request_page(
                session,
                caller,
                row,
                typed=typed,
                narrative=narrative,
                status=409,
                errors=["Yêu cầu đã thay đổi trạng thái; hãy tải lại trang."],
            )
        return RedirectResponse(f"/requests/{row.id}?ok=sent", status_code=303)

    @app.get("/requests/{request_id}/form.xlsx")
    def request_form(row: OwnRequest, caller: UnitCaller, session: DB):
        from planflow.documents.writing.excel_form import write_form

        if row.kind == ReportKind.sub_plan:
            raise PortalDenied(404, "missing")
        with tempfile.TemporaryDirectory() as folder:
            path = write_form(session, request_id=row.id, out=Path(folder) / "bieu-mau.xlsx")
            data = path.read_bytes()
        return Response(
            data,
            media_type=uploads.MEDIA["xlsx"],
            headers={"Content-Disposition": f'attachment; filename="bieu-mau-{row.id}.xlsx"'},
        )

    @app.post("/requests/{request_id}/form")
    def request_form_upload(
        row: OwnRequest, caller: UnitPost, session: DB, file: Annotated[UploadFile, File()]
    ):
        from planflow.documents.reading.excel_form import import_form, read_form

        if row.status not in OPEN or row.kind == ReportKind.sub_plan:
            return _request_page(
                session, caller, row, status=409, errors=["Yêu cầu này hiện không nhận số liệu."]
            )
        try:
            checked = uploads.check(
                file.filename or "", file.file.read(uploads.MAX_BYTES + 1), ("xlsx",)
            )
        except uploads.Refused as exc:
            return _request_page(session, caller, row, status=422, errors=[str(exc)])
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "bieu-mau.xlsx"
            path.write_bytes(checked.data)
            try:
                form = read_form(path)
            except PlanflowError:
                return _request_page(
                    session,
                    caller,
                    row,
                    status=422,
                    errors=[f"Tệp «{checked.filename}» không phải biểu mẫu báo cáo của hệ thống."],
                )
            if form.request_id != row.id:
                return _request_page(
                    session,
                    caller,
                    row,
                    status=422,
                    errors=[
                        (
                            f"Tệp «{checked.filename}» là biểu mẫu của yêu cầu khác; "
                            "hãy tải biểu mẫu "
                            "của chính yêu cầu này."
                        )
                    ],
                )
            try:
                with via_link(caller.link.id):  # type: ignore[arg-type]
                    import_form(session, path=path, actor=caller.actor)
                session.commit()
            except ValidationFailed as exc:
                session.rollback()
                typed = {c: {k: str(v) for k, v in f.items()} for c, f in form.figures.items()}
                return _request_page(
                    session,
                    caller,
                    row,
                    typed=typed,
                    narrative=form.narrative,
                    problems=exc.problems,
                    status=422,
                    errors=[f"Biểu mẫu «{checked.filename}» chưa được nhận: có số liệu cần sửa."],
                )
            except PlanflowError:
                session.rollback()
                return _request_page(
                    session,
                    caller,
                    row,
                    status=422,
                    errors=[f"Biểu mẫu «{checked.filename}» chưa được nhận."],
                )
        return RedirectResponse(f"/requests/{row.id}?ok=sent", status_code=303)

    @app.post("/requests/{request_id}/document")
    def request_document(
        row: OwnRequest, caller: UnitPost, session: DB, file: Annotated[UploadFile, File()]
    ):
        if row.kind != ReportKind.sub_plan or row.status not in OPEN:
            return _request_page(
                session,
                caller,
                row,
                status=409,
                errors=["Yêu cầu này hiện không nhận tệp kế hoạch."],
            )
        try:
            checked = uploads.check(
                file.filename or "", file.file.read(uploads.MAX_BYTES + 1), ("docx", "pdf")
            )
        except uploads.Refused as exc:
            return _request_page(session, caller, row, status=422, errors=[str(exc)])
        uploads.store(checked)
        try:
            with via_link(caller.link.id):  # type: ignore[arg-type]
                session.add(
                    UnitDocument(
                        request_id=row.id,
                        unit_id=caller.unit.id,
                        filename=checked.filename,  # type: ignore[arg-type]
                        media_type=checked.media_type,
                        size=len(checked.data),
                        sha256=checked.sha256,
                        link_id=caller.link.id,
                    )
                )
                submit_report(
                    session=session,
                    request_id=row.id,
                    figures={},
                    actor=caller.actor,
                    narrative={"document": f"{checked.filename} (SHA-256 {checked.sha256})"},
                )
            session.commit()
        except PlanflowError:
            session.rollback()
            return _changed_meanwhile(session, caller, row)
        return RedirectResponse(f"/requests/{row.id}?ok=doc", status_code=303)

    @app.get("/plans/{plan_id}", response_class=HTMLResponse)
    def plan_view(plan: OwnPlan, caller: UnitCaller, session: DB):
        issuer = session.get(OrgUnit, plan.issuer_id)
        duties = list(
            session.execute(
                select(Assignment).where(
                    Assignment.plan_id == plan.id, Assignment.unit_id == caller.unit.id
                )
            ).scalars()
        )
        rows = list(
            session.execute(
                select(ReportRequest)
                .where(
                    ReportRequest.plan_id == plan.id,
                    ReportRequest.unit_id == caller.unit.id,
                    ReportRequest.status.in_(list(VISIBLE)),  # type: ignore[attr-defined]
                )
                .order_by(ReportRequest.deadline)
            ).scalars()
        )
        return page(
            "plan.html",
            caller=caller,
            is_agency=committee_of_agency(session, caller.unit) is not None,
            plan=plan,
            plan_ref=f"{plan_doc(plan)} của {issuer.label if issuer else ''}",
            duties=duties,
            items=_describe(session, rows),
        )

    @app.get("/agency", response_class=HTMLResponse)
    def agency_home(agency: Agency, session: DB, choice: str | None = None):
        kind, _, period = (choice or "").partition("|")
        base = (
            select(ReportRequest)
            .join(OrgUnit, OrgUnit.id == ReportRequest.unit_id)
            .where(
                below(agency.committee),
                ReportRequest.unit_id != agency.caller.unit.id,
                ReportRequest.status.in_(list(VISIBLE)),  # type: ignore[attr-defined]
            )
        )
        options = [
            (k, p, n, o)
            for k, p, n, o in session.execute(
                select(
                    ReportRequest.kind,
                    ReportRequest.period,
                    func.count(),
                    func.sum(case((ReportRequest.status.in_(list(OPEN)), 1), else_=0)),
                )  # type: ignore[attr-defined]
                .join(OrgUnit, OrgUnit.id == ReportRequest.unit_id)
                .where(base.whereclause)  # type: ignore[arg-type]
                .group_by(ReportRequest.kind, ReportRequest.period)
                .order_by(ReportRequest.period, ReportRequest.kind)
            ).all()
        ]
        chosen = next(((k, p) for k, p, _, _ in options if k == kind and p == period), None)
        if chosen is None and options:
            open_first = [o for o in options if o[3]] or options
            chosen = (open_first[0][0], open_first[0][1])
        rows: list[ReportRequest] = []
        if chosen:
            rows = list(
                session.execute(
                    base.where(
                        ReportRequest.kind == chosen[0], ReportRequest.period == chosen[1]
                    ).order_by(OrgUnit.depth, OrgUnit.path)
                ).scalars()
            )
        items = _describe(session, rows)
        counts = {"expected": len(items), "on_time": 0, "late": 0, "missing": 0}
        for item in items:
            r = item["row"]
            if r.status in SENT:
                counts["late" if r.late else "on_time"] += 1
            else:
                counts["missing"] += 1
        filled = (
            dict(
                session.execute(
                    select(Report.request_id, func.count(IndicatorValue.id))
                    .join(IndicatorValue, IndicatorValue.report_id == Report.id)
                    .where(Report.request_id.in_([r.id for r in rows]))  # type: ignore[union-attr]
                    .group_by(Report.request_id)
                ).all()
            )
            if rows
            else {}
        )
        compiled = _compiled(session, agency.committee, chosen) if chosen else []
        return page(
            "agency.html",
            caller=agency.caller,
            is_agency=True,
            committee=agency.committee,
            options=[(k, p, report_title(k, p), n) for k, p, n, _ in options],
            chosen=chosen,
            items=items,
            counts=counts,
            filled=filled,
            compiled=compiled,
        )

    @app.get("/agency/requests/{request_id}", response_class=HTMLResponse)
    def agency_request_view(row: AgencyRequest, agency: Agency, session: DB, ok: str | None = None):
        return _agency_request_page(session, agency.caller, row, notice=NOTICES.get(ok or ""))

    @app.post("/agency/requests/{request_id}/return")
    def agency_return(
        row: AgencyRequest, agency: AgencyPost, session: DB, reason: Annotated[str, Form()] = ""
    ):
        caller = agency.caller
        if not reason.strip():
            return _agency_request_page(
                session, caller, row, status=422, reason_error="Cần nêu lý do trả lại."
            )
        if row.status != State.submitted:
            return _agency_request_page(
                session,
                caller,
                row,
                status=409,
                reason_error="Chỉ trả lại được báo cáo đã gửi, chưa tổng hợp.",
            )
        try:
            with via_link(caller.link.id):  # type: ignore[arg-type]
                return_report(
                    session=session, request_id=row.id, reason=reason.strip(), actor=caller.actor
                )
            session.commit()
        except PlanflowError:
            session.rollback()
            return _agency_request_page(
                session,
                caller,
                row,
                status=409,
                reason_error="Báo cáo đã thay đổi trạng thái; hãy tải lại trang.",
            )
        return RedirectResponse(f"/agency/requests/{row.id}?ok=returned", status_code=303)

    @app.get("/agency/report.docx")
    def agency_report(agency: Agency, session: DB, plan_id: int, kind: str, period: str):
        from planflow.documents.writing.render import render_report

        plan = session.get(Plan, plan_id)
        if plan is None or plan.issuer_id != agency.committee.id or kind not in ReportKind:
            raise PortalDenied(404, "missing")
        try:
            data = render_report(
                session, plan_id=plan_id, kind=ReportKind(kind), period=period, fmt="docx"
            )
        except PlanflowError:
            raise PortalDenied(404, "missing") from None
        return Response(
            data,
            media_type=uploads.MEDIA["docx"],
            headers={
                "Content-Disposition": (
                    f'attachment; filename="bao-cao-{plan_id}-{kind}-{period}.docx"'
                )
            },
        )

    @app.get("/static/portal.css")
    def stylesheet():
        css = (Path(__file__).parent / "static" / "portal.css").read_text("utf-8")
        return Response(
            css, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
        )

    if get_settings().portal_bench_floor:

        @app.post("/bench/floor/{request_id}")
        def bench_floor(request_id: int, session: DB, form: Posted):
            """Benchmark floor: one row of the same size, no session, no validation."""
            figures, narrative, _ = forms.read(form)
            session.execute(
                insert(Report.__table__).values(  # type: ignore[attr-defined]
                    request_id=None,
                    plan_id=int(str(form.get("plan_id") or 0)),
                    unit_id=int(str(form.get("unit_id") or 0)),
                    kind="ad_hoc",
                    period=f"floor-{request_id}",
                    consolidated=False,
                    narrative={"figures": figures, **narrative},
                    completeness={},
                    created_at=utcnow(),
                    updated_at=utcnow(),
                )
            )
            session.commit()
            return Response(status_code=204)


def _compiled(session: Session, committee: OrgUnit, chosen: tuple[str, str]) -> list[dict]:
    """The committee's compiled reports for the chosen period, as the CLI renders them."""
    from planflow.documents.writing.render_report import _completeness_rows

    kind, period = chosen
    if kind == ReportKind.sub_plan:
        return []
    out = []
    plans = session.execute(select(Plan).where(Plan.issuer_id == committee.id)).scalars()
    for plan in plans:
        report = session.execute(
            select(Report).where(
                Report.plan_id == plan.id,
                Report.consolidated,
                Report.kind == kind,
                Report.period == period,
            )
        ).scalar_one_or_none()
        if report is None:
            continue
        out.append(
            {
                "plan": plan,
                "rows": _completeness_rows(session, plan, report, ReportKind(kind), period),
            }
        )
    return out


def _agency_request_page(
    session: Session,
    caller: Caller,
    row: ReportRequest,
    *,
    status: int = 200,
    notice: str | None = None,
    reason_error: str | None = None,
) -> HTMLResponse:
    item = _describe(session, [row])[0]
    report, values = _sent(session, row)
    rows, _ = forms.rows(held_indicators(session), forms.stored_values(values))
    documents = _documents(session, row)
    return page(
        "agency_request.html",
        caller=caller,
        status=status,
        is_agency=True,
        item=item,
        sent_rows=[r for r in rows if any(v for _, _, v in r.inputs)],
        report=report,
        narrative=dict(report.narrative) if report else {},
        narrative_fields=forms.NARRATIVE,
        documents=documents,
        notice=notice,
        reason_error=reason_error,
        can_return=row.status == State.submitted,
    )
