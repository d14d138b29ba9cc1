"""Every route × every kind of caller → the expected status, and nothing written across units."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from docx import Document
from fastapi.testclient import TestClient

from tests.portal.conftest import CALLERS, PortalWorld, counts, csrf_of

DOCX = io.BytesIO()
Document().save(DOCX)


def _excel(world: PortalWorld, engine) -> bytes:
    """The ward's own (empty) Excel form, as the portal hands it out."""
    from pathlib import Path
    from tempfile import TemporaryDirectory

    from sqlmodel import Session

    from planflow.documents.writing.excel_form import write_form

    with TemporaryDirectory() as folder, Session(engine) as session:
        path = write_form(session, request_id=world.six_month.id, out=Path(folder) / "f.xlsx")
        return path.read_bytes()


# route name -> (method, path, body builder); POST bodies get the caller's CSRF token
Route = tuple[str, Callable[[PortalWorld], str], Callable[[PortalWorld, Any], dict] | None]
ROUTES: dict[str, Route] = {
    "home": ("GET", lambda w: "/", None),
    "request": ("GET", lambda w: f"/requests/{w.six_month.id}", None),
    "acknowledge": ("POST", lambda w: f"/requests/{w.six_month.id}/acknowledge", lambda w, e: {}),
    "submit": (
        "POST",
        lambda w: f"/requests/{w.six_month.id}/submit",
        lambda w, e: {
            "data": {"f.HD-TT-SK.total": "4", "f.HD-LD.female": "2", "f.HD-LD.male": "5"}
        },
    ),
    "form_download": ("GET", lambda w: f"/requests/{w.six_month.id}/form.xlsx", None),
    "form_upload": (
        "POST",
        lambda w: f"/requests/{w.six_month.id}/form",
        lambda w, e: {"files": {"file": ("bieu-mau.xlsx", _excel(w, e))}},
    ),
    "document": (
        "POST",
        lambda w: f"/requests/{w.sub_plan.id}/document",
        lambda w, e: {"files": {"file": ("ke-hoach.docx", DOCX.getvalue())}},
    ),
    "plan": ("GET", lambda w: f"/plans/{w.plan.id}", None),
    "agency": ("GET", lambda w: "/agency", None),
    "agency_request": ("GET", lambda w: f"/agency/requests/{w.annual.id}", None),
    "return": (
        "POST",
        lambda w: f"/agency/requests/{w.annual.id}/return",
        lambda w, e: {"data": {"reason": "Thiếu số liệu học viên nữ."}},
    ),
}
OK = {"GET": 200, "POST": 303}
# who may use each route; everyone else with a live session gets 404, a dead session 401
ALLOWED = {
    "home": {"own", "sibling", "agency", "other"},
    "request": {"own"},
    "acknowledge": {"own"},
    "submit": {"own"},
    "form_download": {"own"},
    "form_upload": {"own"},
    "document": {"own"},
    "plan": {"own", "sibling", "agency"},  # the district plan asks both wards for reports
    "agency": {"agency", "other"},  # each standing agency has its own list
    "agency_request": {"agency"},
    "return": {"agency"},
}


def expected(route: str, caller: str) -> int:
    if caller in ("expired", "revoked", "none"):
        return 401
    return OK[ROUTES[route][0]] if caller in ALLOWED[route] else 404


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", list(ROUTES))
def test_route_answers_each_caller(route, caller, clients, world, engine):
    client: TestClient = clients[caller]
    method, path_of, body_of = ROUTES[route]
    path = path_of(world)
    before = counts(engine)
    if method == "GET":
        response = client.get(path)
    else:
        body = body_of(world, engine)
        live = caller not in ("expired", "revoked", "none")
        body.setdefault("data", {})["csrf"] = csrf_of(client) if live else "x"
        response = client.post(path, **body)
    want = expected(route, caller)
    assert response.status_code == want, (route, caller, response.text[:400])
    if want in (401, 404):
        assert counts(engine) == before  # 0 writes outside one's reach
        assert "Traceback" not in response.text
        assert re.search(r"Không tìm thấy|phiên làm việc|hết hạn|thu hồi", response.text)
    if want == 200 and route in ("request", "agency_request"):
        other_unit = world.sibling.label
        assert other_unit not in response.text  # 0 cross-unit reads


def test_expired_and_revoked_links_name_whom_to_contact(app, world, engine):
    from tests.portal.conftest import client_for, end_link

    for how in ("expired", "revoked"):
        end_link(engine, world.tokens[how], how)
        response = client_for(app, None).get(f"/l/{world.tokens[how]}")
        assert response.status_code == 410
        assert ("hết hạn" if how == "expired" else "thu hồi") in response.text
        assert world.agency.label in response.text  # the district's Phòng LĐTBXH
        assert "ldtbxh@hadong.example.vn" in response.text
        assert "set-cookie" not in {k.lower() for k in response.headers if "session" in k}


def test_unknown_links_are_rate_limited_per_address(app, world):
    from tests.portal.conftest import client_for

    client = client_for(app, None)
    statuses = [client.get(f"/l/not-a-token-{n}").status_code for n in range(12)]
    assert statuses[:10] == [404] * 10 and statuses[10:] == [429, 429]
    # even the right token is refused from that address until the window passes
    assert client.get(f"/l/{world.tokens['own']}").status_code == 429


def test_the_failed_link_limit_is_shared_by_the_worker_processes(engine, world):
    """Two app instances on one database (as two uvicorn workers are) count the same failures:
    alternating between them does not double the allowance."""
    from planflow.portal import create_app
    from tests.portal.conftest import client_for

    first, second = client_for(create_app(engine), None), client_for(create_app(engine), None)
    statuses = [
        client.get(f"/l/not-a-token-{n}").status_code
        for n, client in enumerate([first, second] * 5)
    ]
    assert statuses == [404] * 10
    assert first.get("/l/not-a-token-x").status_code == 429
    assert second.get("/l/not-a-token-y").status_code == 429
    assert second.get(f"/l/{world.tokens['own']}").status_code == 429


def test_link_opens_a_session_and_lands_without_the_token(app, world):
    client = TestClient(app, base_url="http://127.0.0.1:8080", follow_redirects=False)
    response = client.get(f"/l/{world.tokens['own']}?next=/requests/{world.six_month.id}")
    assert response.status_code == 303
    assert response.headers["location"] == f"/requests/{world.six_month.id}"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Secure" not in cookie  # the public URL is http here
    assert world.tokens["own"] not in cookie
    # never an open redirect
    response = client.get(f"/l/{world.tokens['own']}?next=https://evil.example/")
    assert response.headers["location"] == "/"


def test_cookie_is_secure_when_the_public_url_is_https(engine, world, monkeypatch):
    from planflow.config.settings import get_settings
    from planflow.portal import create_app

    monkeypatch.setenv("PLANFLOW_PUBLIC_URL", "https://portal.example.vn")
    get_settings.cache_clear()
    client = TestClient(create_app(engine), follow_redirects=False)
    assert "Secure" in client.get(f"/l/{world.tokens['own']}").headers["set-cookie"]


@pytest.mark.parametrize("csrf", [None, "", "forged-token-value"])
def test_post_without_the_session_csrf_token_is_refused(clients, world, engine, csrf):
    client = clients["own"]
    before = counts(engine)
    data = {} if csrf is None else {"csrf": csrf}
    response = client.post(f"/requests/{world.six_month.id}/acknowledge", data=data)
    assert response.status_code == 403
    assert "Biểu mẫu đã hết hiệu lực" in response.text
    agency = clients["agency"]
    response = agency.post(
        f"/agency/requests/{world.annual.id}/return",
        data={"reason": "x", **({} if csrf is None else {"csrf": csrf})},
    )
    assert response.status_code == 403
    assert counts(engine) == before


def test_a_csrf_token_of_another_session_is_refused(clients, world, engine):
    before = counts(engine)
    stolen = csrf_of(clients["sibling"])
    response = clients["own"].post(
        f"/requests/{world.six_month.id}/acknowledge", data={"csrf": stolen}
    )
    assert response.status_code == 403
    assert counts(engine) == before
