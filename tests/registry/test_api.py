"""The registry API on real tags: versions, "latest", assignments (GTO semantics), materialize."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from mlopsctl.errors import MlopsError
from mlopsctl.registry import api
from mlopsctl.registry.tags import read_tags, write_tag
from tests.builders import git
from tests.registry.registry_builders import dvc, gto_show, track, train_candidate

# Real DVC runs, training or Git registries in every test: left out of the fast suite.
pytestmark = pytest.mark.slow



def _register(root: Path, n: int, *, commit: str | None = None, not_before: int = 0) -> int:
    """Write a version tag the way the model provider does, for the candidate in the tree."""
    art = root / "artifacts" / "iris" / "model.joblib"
    raw = art.read_bytes()
    payload = {
        "version": n,
        "artifact": {"path": "artifacts/iris/model.joblib", "md5": hashlib.md5(raw).hexdigest(),
                     "sha256": hashlib.sha256(raw).hexdigest()},
        "metrics": json.loads((root / "reports/iris/metrics.json").read_text()),
        "lineage": json.loads((root / "artifacts/iris/lineage.json").read_text()),
    }
    rec = write_tag(root, f"iris@v{n}.0.0", commit or git(root, "rev-parse", "HEAD"), payload, not_before=not_before)
    return rec.time


def _assign(root: Path, env: str, counter: int, commit: str, not_before: int, cancel: bool = False) -> int:
    name = f"iris#{env}{'!' if cancel else ''}#{counter}"
    return write_tag(root, name, commit, {"by": "mlopsctl"}, not_before=not_before).time


def test_versions_latest_and_assignments_agree_with_gto(reg_repo: Path) -> None:
    root = reg_repo
    t = _register(root, 1)
    c1 = git(root, "rev-parse", "HEAD")
    train_candidate(root, columns=4)
    track(root, message="retrain")
    c2 = git(root, "rev-parse", "HEAD")
    t = _register(root, 2, not_before=t)
    t = _assign(root, "production", 1, c1, t)
    t = _assign(root, "production", 2, c2, t)  # promotion
    t = _assign(root, "staging", 3, c2, t)
    t = _assign(root, "production", 4, c1, t)  # rollback: the newest assignment wins

    versions = api.list_versions(root, "iris")
    assert [v.version for v in versions] == [1, 2]
    assert versions[1].commit == c2 and versions[1].metrics["accuracy"] == 1.0
    assert versions[0].lineage["data"]["path"] == "data/iris.csv"
    assert api.resolve(root, "iris", "latest").version == 2  # type: ignore[union-attr]
    assert api.resolve(root, "iris", 1).commit == c1  # type: ignore[union-attr]
    assert api.resolve(root, "iris", 7) is None
    assert api.assignment(root, "iris", "production").version == 1  # type: ignore[union-attr]
    assert api.assignment(root, "iris", "staging").version == 2  # type: ignore[union-attr]
    assert api.assignment(root, "iris", "qa") is None

    shown = gto_show(root)["iris"]
    assert shown["version"] == "v2.0.0"
    assert shown["stage"] == {"production": "v1.0.0", "staging": "v2.0.0"}

    # Unassign the rollback: production falls back to the older, still active assignment (GTO too).
    _assign(root, "production", 5, c1, t, cancel=True)
    assert api.assignment(root, "iris", "production").version == 2  # type: ignore[union-attr]
    assert gto_show(root)["iris"]["stage"]["production"] == "v2.0.0"


def test_deregistered_and_foreign_versions_are_not_listed(reg_repo: Path) -> None:
    root = reg_repo
    t = _register(root, 1)
    head = git(root, "rev-parse", "HEAD")
    t = write_tag(root, "iris@v1.0.0!", head, {"reason": "bad"}, not_before=t).time
    git(root, "tag", "-a", "iris@v5.0.0", "-m", "registered by hand, no record")
    assert api.list_versions(root, "iris") == []
    assert api.resolve(root, "iris", "latest") is None
    from mlopsctl.registry.state import RegistryState

    # ...but their numbers are taken: the next version does not reuse a tag name.
    assert RegistryState.read(root).model("iris").next_version == 6


def test_materialize_from_cache_and_remote(reg_repo: Path, tmp_path: Path) -> None:
    root = reg_repo
    _register(root, 1)
    mv = api.resolve(root, "iris", 1)
    assert mv is not None
    # The working copy is gone (e.g. a fresh checkout): the DVC cache still has the object.
    shutil.rmtree(root / "artifacts" / "iris")
    out = api.materialize(root, mv, tmp_path / "out")
    assert out == tmp_path / "out"
    assert hashlib.sha256(out.read_bytes()).hexdigest() == mv.artifact_sha256

    # Pushed to the DVC remote and the cache emptied: fetched from the remote, still verified.
    dvc(root, "push", "-q")
    shutil.rmtree(root / ".dvc" / "cache")
    dest_dir = tmp_path / "dir"
    dest_dir.mkdir()
    out2 = api.materialize(root, mv, dest_dir)
    assert out2 == dest_dir / "model.joblib"
    assert hashlib.sha256(out2.read_bytes()).hexdigest() == mv.artifact_sha256


def test_materialize_refuses_a_tampered_artifact(reg_repo: Path, tmp_path: Path) -> None:
    root = reg_repo
    _register(root, 1)
    mv = api.resolve(root, "iris", 1)
    assert mv is not None
    cached = root / ".dvc" / "cache" / "files" / "md5" / mv.artifact_md5[:2] / mv.artifact_md5[2:]
    assert cached.is_file()
    cached.chmod(0o644)
    cached.write_bytes(cached.read_bytes() + b"tampered")
    (root / "artifacts" / "iris" / "model.joblib").unlink()
    dest = tmp_path / "model.joblib"
    with pytest.raises(MlopsError, match=r"does not match its record.*was not used"):
        api.materialize(root, mv, dest)
    assert not dest.exists()
    assert not list(tmp_path.glob(".model.joblib.*"))  # no temporary left behind


def test_materialize_missing_everywhere(reg_repo: Path, tmp_path: Path) -> None:
    root = reg_repo
    _register(root, 1)
    mv = api.resolve(root, "iris", 1)
    assert mv is not None
    shutil.rmtree(root / ".dvc" / "cache")
    (root / "artifacts" / "iris" / "model.joblib").unlink()
    with pytest.raises(MlopsError, match="neither in the DVC cache nor on the DVC remote"):
        api.materialize(root, mv, tmp_path / "m.joblib")


def test_read_tags_is_one_subprocess(reg_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    _register(reg_repo, 1)
    calls: list[list[str]] = []
    real = subprocess.run

    def spy(cmd: list[str], *a: object, **kw: object) -> object:
        calls.append(list(cmd))
        return real(cmd, *a, **kw)  # type: ignore[call-overload]

    monkeypatch.setattr(subprocess, "run", spy)
    records = read_tags(reg_repo)
    first = len(calls)
    api.list_versions(reg_repo, "iris")
    # At most one each (none when the answer kept with the tags' file stats serves it).
    assert first <= 1 and len(calls) - first <= 1 and all(c[:2] == ["git", "for-each-ref"] for c in calls)
    assert any(r.name == "iris@v1.0.0" for r in records)
