"""The rendered serving app, in-process: serve.py imported from its rendered text, driven through
ASGI directly (no server, no HTTP client), and a body corpus shared with the container fuzz test."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.builders import FEATURES

# Bodies that are not a prediction request; each must get a 4xx with a message.
DEEP = 100_000
MALFORMED: dict[str, bytes] = {
    "empty": b"",
    "whitespace": b" \n\t ",
    "not json": b"sepal_length=1",
    "truncated json": b'{"rows": [{"sepal_length": 1',
    "not utf-8": b'{"rows": "\xff\xfe"}',
    "nested 100,000 deep": b"[" * DEEP + b"]" * DEEP,
    "nested objects 100,000 deep": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    "integer of 5,000 digits": b'{"sepal_length": ' + b"9" * 5000 + b"}",
    "a string": b'"rows"',
    "a number": b"42",
    "null": b"null",
    "rows not a list": b'{"rows": 5}',
    "row not an object": b'{"rows": [5]}',
    "no rows": b'{"rows": []}',
}


def row(**override: Any) -> dict[str, Any]:
    base = {f: 1.5 for f in FEATURES}
    base.update(override)
    return base


BAD_VALUES: dict[str, Any] = {
    "integer of 400 digits": int("9" * 400),
    "negative integer of 400 digits": -int("9" * 400),
    "string": "wide",
    "list": [1, 2],
    "object": {"a": 1},
    "boolean": True,
    "null": None,
    "nested list": [[[[[[1]]]]]],
}
NON_FINITE = {"NaN": b"NaN", "Infinity": b"Infinity", "-Infinity": b"-Infinity"}


def render_serve(tmp: Path) -> Any:
    """Import serve.py as mlopsctl renders it (a fresh module per call)."""
    from mlopsctl.files.templating import render

    path = tmp / "serve.py"
    path.write_text(render("docker/serve.py.j2", {"model": "iris", "project": "demo"}), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"serve_{abs(hash(tmp))}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fitted_model() -> Any:
    import pandas as pd
    from sklearn.tree import DecisionTreeClassifier

    frame = pd.DataFrame([row(), row(sepal_length=9.0)])
    return DecisionTreeClassifier(random_state=0).fit(frame, ["a", "b"])


def metadata() -> dict[str, Any]:
    features = {f: {"type": "float", "min": 0} for f in FEATURES}
    return {"model": "iris", "version": 1, "task": "classification", "features": features}


@dataclass
class Answer:
    status: int
    body: Any
    chunks_read: int = 0
    headers: dict[str, str] = field(default_factory=dict)


def call(app: Any, chunks: list[bytes], *, length: int | str | None = None, method: str = "POST",
         path: str = "/predict") -> Answer:
    """One request through the ASGI app; ``length`` is the Content-Length header (None: chunked)."""
    headers = [(b"content-type", b"application/json")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": headers, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 8080)}
    answer = Answer(status=0, body=None)
    pending = list(chunks)
    out: list[bytes] = []

    async def receive() -> dict[str, Any]:
        if not pending:
            return {"type": "http.disconnect"}
        answer.chunks_read += 1
        chunk = pending.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = {k.decode(): v.decode() for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            out.append(message.get("body", b""))

    asyncio.run(app(scope, receive, send))
    raw = b"".join(out)
    try:
        answer.body = json.loads(raw)
    except ValueError:
        answer.body = raw.decode("utf-8", "replace")
    return answer


def post(app: Any, body: bytes) -> Answer:
    return call(app, [body], length=len(body))


def set_limit(limit: int) -> None:
    os.environ["MLOPSCTL_MAX_BODY_BYTES"] = str(limit)
