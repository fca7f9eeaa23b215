"""The serving API of a real container, fuzzed: malformed bodies get a 4xx with a message, a body
over the limit a 413 before it is read, and the container keeps answering.

(Named to run before test_engine.py, whose last test removes the session's images.)
"""

from __future__ import annotations

import http.client
import json
import random
from typing import Any

import pytest

from mlopsctl.core.model import Action
from tests.serving.serve_app import BAD_VALUES, MALFORMED, NON_FINITE, row
from tests.serving.serving_repo import free_ports

pytestmark = [pytest.mark.docker, pytest.mark.slow]

LIMIT = 4 * 1024 * 1024  # the image's default MLOPSCTL_MAX_BODY_BYTES


def _request(port: int, body: bytes, *, chunked: bool = False, declared: int | None = None) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Content-Type": "application/json"}
        if chunked:
            conn.putrequest("POST", "/predict")
            for k, v in {**headers, "Transfer-Encoding": "chunked"}.items():
                conn.putheader(k, v)
            conn.endheaders()
            try:
                for i in range(0, len(body), 65536):
                    part = body[i:i + 65536]
                    conn.send(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                conn.send(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered and closed before the rest arrived: what we want
        else:
            conn.putrequest("POST", "/predict")
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Content-Length", str(declared if declared is not None else len(body)))
            conn.endheaders()
            try:
                conn.send(body)
            except (BrokenPipeError, ConnectionResetError):
                pass
        resp = conn.getresponse()
        raw = resp.read()
        try:
            return resp.status, json.loads(raw)
        except ValueError:
            return resp.status, raw.decode("utf-8", "replace")
    finally:
        conn.close()


def _health(port: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/health")
        return conn.getresponse().status
    finally:
        conn.close()


def _corpus() -> dict[str, bytes]:
    out = {f"malformed: {k}": v for k, v in MALFORMED.items()}
    for name, value in BAD_VALUES.items():
        out[f"value: {name}"] = json.dumps({"rows": [row(petal_width=value)]}).encode()
    for name, token in NON_FINITE.items():
        out[f"value: {name}"] = json.dumps({"rows": [row()]}).encode().replace(b"1.5", token, 1)
    rng = random.Random(13)
    good = json.dumps({"rows": [row(), row(sepal_length=3.0)]}).encode()
    for i in range(60):  # byte-level mutations of a good request
        b = bytearray(good)
        for _ in range(rng.randint(1, 6)):
            op = rng.choice(("flip", "drop", "dup"))
            at = rng.randrange(len(b))
            if op == "flip":
                b[at] = rng.randrange(256)
            elif op == "drop":
                del b[at]
            else:
                b[at:at] = b[at:at + rng.randint(1, 20)]
        out[f"mutation {i}"] = bytes(b)
    return out


def test_serving_api_refuses_malformed_bodies_and_keeps_serving(serving: Any) -> None:
    [port] = free_ports(1)
    [change] = serving.converge(serving.ctx({"fuzz": 1}, {"fuzz": port}), "deployment")
    assert change.action is Action.CREATE

    failures = []
    for name, body in _corpus().items():
        status, answer = _request(port, body)
        ok = status in (200, 400, 413, 422) and (status == 200 or (isinstance(answer, dict) and answer.get("error")))
        if name.startswith(("malformed", "value")) and status == 200:
            ok = False
        if not ok:
            failures.append(f"{name}: {status} {str(answer)[:200]}")
    assert not failures, "\n".join(failures)

    # Too big, declared: refused from the header (the body is never sent in full).
    status, answer = _request(port, b"[" * 1024, declared=LIMIT + 1)
    assert status == 413 and "MLOPSCTL_MAX_BODY_BYTES" in answer["error"]
    # Too big, streamed without a length: cut off once past the limit.
    status, answer = _request(port, b" " * (LIMIT + 2 * 65536), chunked=True)
    assert status == 413 and "MLOPSCTL_MAX_BODY_BYTES" in answer["error"]

    assert _health(port) == 200
    status, answer = _request(port, json.dumps({"rows": [row()]}).encode())
    assert status == 200 and len(answer["predictions"]) == 1
