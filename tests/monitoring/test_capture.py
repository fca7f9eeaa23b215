"""The capture module the serving image embeds: standard library only, sampled, size-bounded."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

from mlopsctl.monitoring import capture
from mlopsctl.monitoring.capture import CURRENT, PREVIOUS, Capture, from_env
from mlopsctl.monitoring.current import read_capture

ROWS = [{"a": float(i), "c": "x"} for i in range(100)]


def test_only_the_standard_library() -> None:
    tree = ast.parse(Path(capture.__file__).read_text(encoding="utf-8"))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported - {"__future__"} <= set(sys.stdlib_module_names)


def test_records_rows_with_predictions_and_reads_back(tmp_path: Path) -> None:
    cap = Capture(str(tmp_path / "cap"), version=3)
    assert cap.record(ROWS, ["yes"] * 100) == 100
    first = json.loads((tmp_path / "cap" / CURRENT).read_text().splitlines()[0])
    assert first["features"] == {"a": 0.0, "c": "x"} and first["prediction"] == "yes" and first["version"] == 3
    cur = read_capture(tmp_path / "cap", "cap/")
    assert len(cur.frame) == 100 and cur.predictions == ["yes"] * 100 and cur.versions == {"3": 100}


def test_sampling(tmp_path: Path) -> None:
    cap = Capture(str(tmp_path), sample=0.25, seed=1)
    written = sum(cap.record(ROWS, [0] * 100) for _ in range(40))
    assert 0.2 * 4000 < written < 0.3 * 4000


def test_size_bound_with_rotation_keeps_newest(tmp_path: Path) -> None:
    cap = Capture(str(tmp_path), max_bytes=20_000)
    for batch in range(200):
        cap.record([{"a": float(batch), "pad": "x" * 50}], [batch])
    total = sum(p.stat().st_size for p in tmp_path.iterdir())
    assert total <= 20_000 and (tmp_path / PREVIOUS).is_file()
    cur = read_capture(tmp_path, "cap/")
    assert cur.predictions is not None and cur.predictions[-1] == 199  # oldest dropped, newest kept
    assert cur.predictions == sorted(cur.predictions)


def test_a_write_failure_never_fails_the_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cap = Capture(str(blocker / "sub"))
    assert cap.record(ROWS, [1] * 100) == 0 and cap.record(ROWS, [1] * 100) == 0
    assert capsys.readouterr().err.count("request capture stopped") == 1


def test_from_env(tmp_path: Path) -> None:
    assert from_env(environ={}) is None
    cap = from_env(version=2, environ={"MLOPSCTL_CAPTURE_DIR": str(tmp_path), "MLOPSCTL_CAPTURE_SAMPLE": "0.5",
                                       "MLOPSCTL_CAPTURE_MAX_MB": "1"})
    assert cap is not None and cap.sample == 0.5 and cap.max_bytes == 1024 * 1024 and cap.version == 2


def test_truncated_last_line_is_skipped(tmp_path: Path) -> None:
    Capture(str(tmp_path)).record(ROWS[:3], [1, 2, 3])
    with open(tmp_path / CURRENT, "a", encoding="utf-8") as f:
        f.write('{"ts": 1, "features": {"a"')
    assert len(read_capture(tmp_path, "cap/").frame) == 3


def test_serving_image_gets_the_same_source() -> None:
    from mlopsctl.files.templating import render
    from mlopsctl.serving.files import TEMPLATES, capture_source

    assert TEMPLATES["capture.py"] == "docker/capture.py.j2"
    assert render("docker/capture.py.j2", {"capture_source": capture_source()}) == Path(capture.__file__).read_text()
