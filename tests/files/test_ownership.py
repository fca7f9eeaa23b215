"""The ownership header: placement, parsing, and the body digest it records."""

from __future__ import annotations

import pytest

from mlopsctl.errors import MlopsError
from mlopsctl.files.ownership import body_digest, comment_style, compose, parse


@pytest.mark.parametrize(
    ("path", "style"),
    [
        ("a.yml", "# "),
        ("dvc.yaml", "# "),
        ("docker/x/Dockerfile", "# "),
        ("requirements-dev.txt", "# "),
        (".gitignore", "# "),
        ("docker/x/.dockerignore", "# "),
        ("s.py", "# "),
        ("README.md", "<!-- "),
        ("x.json", None),
        ("x.bin", None),
    ],
)
def test_comment_styles(path: str, style: str | None) -> None:
    got = comment_style(path)
    assert (got[0] if got else None) == style


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("a.yml", "a: 1\n"),
        ("a.yml", ""),
        ("a.yml", "no newline at end"),
        ("run.sh", "#!/bin/sh\necho\n"),
        ("run.sh", "#!/bin/sh"),  # nothing after the shebang line: header goes first
        ("docker/x/Dockerfile", "# syntax=docker/dockerfile:1\nFROM x\n"),
        ("s.py", "# coding: utf-8\nx = 1\n"),
        ("n.md", "# Title\r\nwindows\r\n"),
        ("a.txt", "form\x0cfeed\u2028separator\n"),
    ],
)
def test_compose_then_parse_round_trips(path: str, body: str) -> None:
    text = compose(body, path, "t.j2")
    parsed = parse(text.encode())
    assert parsed.managed
    assert parsed.template == "t.j2"
    assert parsed.body == body.encode()
    assert parsed.recorded_digest == body_digest(body.encode())
    assert not parsed.drifted


def test_edit_is_drift_and_header_only_in_first_lines() -> None:
    text = compose("a: 1\n", "a.yml", "t.j2")
    assert parse(text.replace("a: 1", "a: 2").encode()).drifted
    deep = "x\n" * 20 + text
    assert not parse(deep.encode()).managed
    assert not parse(b"# mlopsctl-digest: sha256:" + b"0" * 64 + b"\n").managed  # needs the full header


def test_header_cannot_go_into_json() -> None:
    with pytest.raises(MlopsError, match=r"x\.json: mlopsctl cannot put an ownership header"):
        compose("{}", "x.json", "t.j2")
