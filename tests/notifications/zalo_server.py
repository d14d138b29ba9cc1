"""A loopback stand-in for Zalo's OA, ZNS and OAuth endpoints, scriptable per test.

It speaks the documented shapes: HTTP 200 with ``error`` 0 or a negative code, ``access_token``
and ``secret_key`` headers, single-use refresh tokens that rotate on every refresh.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

TOKEN_ERROR = {"/v3.0/oa/message/cs": -216, "/message/template": -124}


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: Any
    answered: int  # the ``error`` code sent back (or the HTTP status when not 200)


@dataclass
class ZaloState:
    secret_key: str
    access_token: str
    refresh_token: str
    invalid_phones: set[str] = field(default_factory=set)
    non_followers: set[str] = field(default_factory=set)
    script: deque = field(default_factory=deque)  # forced answers for the next sends
    requests: list[Recorded] = field(default_factory=list)
    refreshes: list[Recorded] = field(default_factory=list)
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def expire_access_token(self) -> None:
        """Every access token is now invalid until the next refresh."""
        with self.lock:
            self.access_token = "expired-" + self.access_token

    @property
    def sends(self) -> list[Recorded]:
        return [r for r in self.requests if r.answered == 0]


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeZalo/1.0"
    state: ZaloState

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _reply(self, status: int, body: dict | None = None) -> None:
        payload = json.dumps(body or {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        # the client may have timed out and left
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(payload)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        headers = {k.lower(): v for k, v in self.headers.items()}
        state = self.state
        if self.path == "/v4/oa/access_token":
            return self._refresh(headers, parse_qs(raw))
        if self.path not in TOKEN_ERROR:
            return self._reply(404, {"error": -404})
        body = json.loads(raw)
        with state.lock:
            action = state.script.popleft() if state.script else None
        if isinstance(action, tuple) and action[0] == "slow":
            time.sleep(action[1])
            action = None
        if action == "http500":
            state.requests.append(Recorded(self.path, headers, body, 500))
            return self._reply(500, {"message": "internal error"})
        if action == "expire":
            state.expire_access_token()
        with state.lock:
            valid = headers.get("access_token") == state.access_token
        if not valid:
            code = TOKEN_ERROR[self.path]
            state.requests.append(Recorded(self.path, headers, body, code))
            return self._reply(200, {"error": code, "message": "Access token is invalid"})
        if self.path == "/message/template":
            if body.get("phone") in state.invalid_phones:
                state.requests.append(Recorded(self.path, headers, body, -108))
                return self._reply(200, {"error": -108, "message": "Phone number is invalid"})
            n = next(state.counter)
            state.requests.append(Recorded(self.path, headers, body, 0))
            return self._reply(
                200,
                {
                    "error": 0,
                    "message": "Success",
                    "data": {"msg_id": f"zns-{n}", "sent_time": "0"},
                },
            )
        user = (body.get("recipient") or {}).get("user_id")
        if user in state.non_followers:
            state.requests.append(Recorded(self.path, headers, body, -213))
            return self._reply(200, {"error": -213, "message": "User has not followed OA"})
        n = next(state.counter)
        state.requests.append(Recorded(self.path, headers, body, 0))
        return self._reply(
            200,
            {"error": 0, "message": "Success", "data": {"message_id": f"oa-{n}", "user_id": user}},
        )

    def _refresh(self, headers: dict[str, str], form: dict[str, list[str]]) -> None:
        state = self.state
        given = (form.get("refresh_token") or [""])[0]
        with state.lock:
            ok = (
                headers.get("secret_key") == state.secret_key
                and given == state.refresh_token
                and (form.get("grant_type") or [""])[0] == "refresh_token"
            )
            if ok:
                n = next(state.counter)
                state.access_token = f"access-{n}-fresh"
                state.refresh_token = f"refresh-{n}-fresh"  # the old one is dead from now on
                answer = {
                    "access_token": state.access_token,
                    "refresh_token": state.refresh_token,
                    "expires_in": "90000",
                }
            else:
                answer = {
                    "error": -14014,
                    "error_name": "Invalid refresh token",
                    "error_description": "refresh token is invalid",
                }
            state.refreshes.append(Recorded(self.path, headers, form, 0 if ok else -14014))
        self._reply(200, answer)


class ZaloServer:
    """Runs the fake on 127.0.0.1 in a thread; ``url`` serves all three base URLs."""

    def __init__(self, state: ZaloState):
        self.state = state
        handler = type("Handler", (_Handler,), {"state": state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ZaloServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
