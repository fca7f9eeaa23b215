"""The serving app in-process: every malformed body gets a 4xx with a message, the body size is
limited before the body is read, and a fuzzed body never gets a 500."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.serving.serve_app import (
    BAD_VALUES,
    MALFORMED,
    NON_FINITE,
    call,
    fitted_model,
    metadata,
    post,
    render_serve,
    row,
)

LIMIT = 1024 * 1024  # above the 200 kB of the deeply nested bodies, so they are parsed


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    pytest.importorskip("starlette", reason="the serving stack is a test extra (pip install -e '.[test]')")
    mp = pytest.MonkeyPatch()
    mp.setenv("MLOPSCTL_MAX_BODY_BYTES", str(LIMIT))
    try:
        serve = render_serve(tmp_path_factory.mktemp("serve"))
    finally:
        mp.undo()
    assert serve.MAX_BODY_BYTES == LIMIT
    return serve.create_app(metadata(), fitted_model())


def _refused(answer: Any, status: int | tuple[int, ...]) -> str:
    want = status if isinstance(status, tuple) else (status,)
    assert answer.status in want, (answer.status, answer.body)
    assert isinstance(answer.body, dict) and answer.body.get("error"), answer.body
    return str(answer.body["error"])


def test_a_good_request_is_answered(app: Any) -> None:
    answer = post(app, json.dumps({"rows": [row(), row(sepal_length=9.0)]}).encode())
    assert answer.status == 200 and answer.body["predictions"] == ["a", "b"]


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_bodies_get_a_4xx_with_a_message(app: Any, name: str) -> None:
    answer = post(app, MALFORMED[name])
    message = _refused(answer, (400, 422))
    if name.startswith("nested"):
        assert "nested too deeply" in message
    if name == "empty":
        assert "empty body" in message


@pytest.mark.parametrize("name", sorted(BAD_VALUES))
def test_bad_values_get_a_422_naming_the_field(app: Any, name: str) -> None:
    message = _refused(post(app, json.dumps({"rows": [row(petal_width=BAD_VALUES[name])]}).encode()), 422)
    assert "rows[0].petal_width" in message
    if "400 digits" in name:
        assert "out of range" in message and len(message) < 300


@pytest.mark.parametrize("name", sorted(NON_FINITE))
def test_non_finite_numbers_are_refused(app: Any, name: str) -> None:
    body = json.dumps({"rows": [row()]}).encode().replace(b"1.5", NON_FINITE[name], 1)
    assert "finite" in _refused(post(app, body), 422)


def test_a_body_declared_too_big_is_refused_before_it_is_read(app: Any) -> None:
    chunks = [b" " * 1024] * 100
    answer = call(app, chunks, length=LIMIT + 1)
    assert "MLOPSCTL_MAX_BODY_BYTES" in _refused(answer, 413)
    assert answer.chunks_read == 0


def test_a_streamed_body_is_cut_off_at_the_limit(app: Any) -> None:
    chunks = [b" " * 1024] * 2000  # 2 MB, no Content-Length (chunked)
    answer = call(app, chunks)
    _refused(answer, 413)
    assert answer.chunks_read == LIMIT // 1024 + 1


def test_an_invalid_content_length_is_a_400(app: Any) -> None:
    body = json.dumps({"rows": [row()]}).encode()
    assert "Content-Length" in _refused(call(app, [body], length="12abc"), 400)


def test_fuzzed_bodies_never_get_a_500(app: Any, tmp_path: Path) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**500), max_value=10**500),
                        st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20))
    values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids,
                          max_size=4), max_leaves=20)
    rows = st.fixed_dictionaries({}, optional={f: values for f in ("sepal_length", "petal_width", "x")})
    bodies = st.one_of(
        values.map(lambda v: json.dumps(v).encode()),
        st.lists(rows, max_size=3).map(lambda r: json.dumps({"rows": r}).encode()),
        st.binary(max_size=64),
    )

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(bodies)
    def check(body: bytes) -> None:
        answer = post(app, body)
        assert answer.status in (200, 400, 413, 422), (body[:200], answer.status, answer.body)
        if answer.status != 200:
            assert answer.body.get("error"), answer.body

    check()
