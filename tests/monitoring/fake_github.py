"""A local server answering the GitHub REST endpoints the retraining proposal uses (pulls)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

TOKEN = "test-token"


@dataclass
class FakePulls:
    pulls: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""


def _handler(state: FakePulls) -> type[BaseHTTPRequestHandler]:
    list_re = re.compile(r"^/repos/([^/]+/[^/]+)/pulls$")
    one_re = re.compile(r"^/repos/([^/]+/[^/]+)/pulls/(\d+)$")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, data: Any) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _authorised(self) -> bool:
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._send(401, {"message": "Bad credentials"})
                return False
            return True

        def _body(self) -> dict[str, Any]:
            n = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(n) or b"{}")

        def do_GET(self) -> None:
            u = urlparse(self.path)
            state.requests.append(("GET", self.path))
            if not self._authorised():
                return
            m = list_re.match(u.path)
            if not m:
                self._send(404, {"message": "Not Found"})
                return
            q = parse_qs(u.query)
            head = unquote((q.get("head") or [""])[0])
            found = [p for p in state.pulls if p["repo"] == m.group(1) and p["state"] == "open"
                     and (not head or f"{p['owner']}:{p['head']}" == head)]
            self._send(200, found)

        def do_POST(self) -> None:
            u = urlparse(self.path)
            state.requests.append(("POST", self.path))
            if not self._authorised():
                return
            m = list_re.match(u.path)
            if not m:
                self._send(404, {"message": "Not Found"})
                return
            body = self._body()
            if body.get("head") == body.get("base"):
                self._send(422, {"message": "Validation Failed"})
                return
            number = len(state.pulls) + 1
            pr = {"number": number, "repo": m.group(1), "owner": m.group(1).split("/")[0], "state": "open",
                  "head": body["head"], "base": body["base"], "title": body["title"], "body": body["body"],
                  "html_url": f"https://github.test/{m.group(1)}/pull/{number}"}
            state.pulls.append(pr)
            self._send(201, pr)

        def do_PATCH(self) -> None:
            u = urlparse(self.path)
            state.requests.append(("PATCH", self.path))
            if not self._authorised():
                return
            m = one_re.match(u.path)
            pr = next((p for p in state.pulls if m and p["number"] == int(m.group(2))), None)
            if pr is None:
                self._send(404, {"message": "Not Found"})
                return
            pr.update(self._body())
            self._send(200, pr)

    return Handler


@contextmanager
def fake_pulls() -> Iterator[FakePulls]:
    state = FakePulls()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
