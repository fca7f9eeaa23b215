"""A saved plan is exactly what was reviewed: apply re-derives it and refuses any difference.

Through the CLI on a real, applied repository: an honest saved plan applies; a corpus of edited
plan files (paths, modes, parameters, content, added, removed and reordered changes, flipped
options), each with and without a recomputed digest, is refused with the differences listed,
and nothing is written, inside the repository or outside it.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mlopsctl.core import planfile
from tests.builders import git, make_repo, run_mlopsctl

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def applied_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An applied, committed repository (trained once per module), then a reviewed CI edit."""
    base = tmp_path_factory.mktemp("saved-plan")
    root = make_repo(base, project={"name": "saved-plans"})  # its own name: the engine is shared
    proc = run_mlopsctl(["apply", "--auto-approve"], root)
    assert proc.returncode == 0, proc.stderr
    git(root, "add", "-A")
    if git(root, "status", "--porcelain"):  # apply commits what it wrote when it registers a version
        git(root, "commit", "-q", "-m", "applied")
    spec = (root / "mlops.yaml").read_text()
    (root / "mlops.yaml").write_text(spec.replace('python: "3.11"', 'python: "3.12"'))
    git(root, "commit", "-q", "-am", "CI on Python 3.12")
    return base


@pytest.fixture
def applied(applied_template: Path, tmp_path: Path) -> Path:
    base = tmp_path / "w"
    shutil.copytree(applied_template, base, symlinks=True)
    return base / "repo"


def snapshot(base: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``base`` (the repo and its siblings) but the state folder, with its mode."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = [d for d in dirnames if d not in (".mlopsctl", ".git")]
        for name in filenames:
            p = Path(dirpath) / name
            if not p.is_symlink():
                out[str(p.relative_to(base))] = (p.read_bytes(), p.stat().st_mode)
    return out


def save_plan(root: Path) -> tuple[Path, Doc]:
    out = root.parent / "reviewed.json"
    proc = run_mlopsctl(["plan", "-o", str(out)], root)
    assert proc.returncode == 0, proc.stderr
    return out, json.loads(out.read_text())


def pending(doc: Doc, address: str | None = None) -> Doc:
    return next(c for c in doc["changes"] if c["action"] != "no-op" and (address is None or c["address"] == address))


def _set(doc: Doc, fn: Callable[[Doc], None]) -> Doc:
    doc = copy.deepcopy(doc)
    fn(doc)
    return doc


def tampered(doc: Doc) -> Iterator[tuple[str, Doc]]:
    """Edits a hostile or careless reviewer could make to a saved plan."""

    def with_change(where: str, /, **kw: Any) -> Callable[[Doc], None]:
        def fn(d: Doc) -> None:
            c = next(c for c in d["changes"] if c["address"] == where)
            for key, value in kw.items():
                if "." in key:
                    outer, inner = key.split(".")
                    c[outer] = {**(c.get(outer) or {}), inner: value}
                else:
                    c[key] = value
        return fn

    first = pending(doc)["address"]
    yield "setuid mode", _set(doc, with_change(first, **{"payload.mode": "4755", "after.mode": "4755"}))
    yield "content", _set(doc, with_change(first, **{"payload.content": "on: push\njobs: {x: {run: id}}\n"}))
    for evil in ("file.../outside.txt", "file./tmp/outside.txt", "file.docker/../../outside.txt"):
        yield f"path {evil}", _set(doc, lambda d, e=evil: d["changes"].append(
            {**copy.deepcopy(pending(d)), "address": e, "action": "create"}))
    yield "renamed path", _set(doc, with_change(first, address="file.outside.yml"))
    yield "removed change", _set(doc, lambda d: d["changes"].remove(pending(d)))
    yield "noop turned delete", _set(doc, with_change("file.dvc.yaml", action="delete", after=None))
    yield "stage params", _set(doc, with_change("stage.iris.train", action="update",
                                                 **{"after.params": {"n_estimators": 1}}))
    yield "params file", _set(doc, with_change("file.params/iris.yaml", action="update",
                                                **{"payload.content": "estimator:\n  params: {n_estimators: 1}\n"}))
    yield "reasons", _set(doc, with_change(first, reasons=["nothing to see"]))
    yield "before", _set(doc, with_change(first, before=None))
    yield "reordered", _set(doc, lambda d: d["changes"].reverse())
    yield "duplicated", _set(doc, lambda d: d["changes"].append(copy.deepcopy(pending(d))))
    yield "destroy", _set(doc, lambda d: d.update(destroy=True))
    yield "force", _set(doc, lambda d: d.update(options={**d["options"], "force": True}))
    yield "targets", _set(doc, lambda d: d.update(targets=["file.dvc.yaml"]))
    yield "unknown option", _set(doc, lambda d: d.update(options={**d["options"], "run": True}))
    yield "created_at", _set(doc, lambda d: d.update(created_at="../../etc"))


def corpus(doc: Doc) -> Iterator[tuple[str, Doc]]:
    for name, bad in tampered(doc):
        yield f"{name} (stale digest)", bad
        if name == "force":
            continue  # nothing here is blocked, so forcing derives the reviewed plan: equal, and applied
        resealed = copy.deepcopy(bad)
        resealed["digest"] = planfile._digest(resealed)
        yield f"{name} (digest recomputed)", resealed


def test_the_reviewed_plan_applies_and_converges(applied: Path, cli) -> None:
    out, doc = save_plan(applied)
    assert doc["digest"].startswith("sha256:") and doc["options"] == {
        "force": False, "allow_destroy_protected": False, "allow_no_models": False}
    result = cli("apply", str(out), repo=applied)
    assert result.exit_code == 0, result.output
    assert 'python-version: "3.12"' in (applied / ".github/workflows/mlops-plan.yml").read_text()
    again = cli("plan", "--detailed-exitcode", repo=applied)
    assert again.exit_code == 0 and "No changes." in again.stdout


@pytest.mark.slow
def test_every_edited_plan_file_is_refused_with_its_differences(applied: Path, cli) -> None:
    out, doc = save_plan(applied)
    before = snapshot(applied.parent)
    cases = list(corpus(doc))
    assert len(cases) >= 35
    for name, bad in cases:
        out.write_text(json.dumps(bad))
        result = cli("apply", str(out), repo=applied)
        text = result.output
        assert result.exit_code == 1, (name, text)
        assert "Traceback" not in text and "unexpected" not in text, (name, text)
        assert "nothing was applied" in text and "\n  - " in text, (name, text)
        if "stale digest" in name:
            assert "was edited after `mlopsctl plan -o` wrote it" in text, name
        after = snapshot(applied.parent)
        after.pop("reviewed.json")
        assert after == {k: v for k, v in before.items() if k != "reviewed.json"}, name
    assert not (applied.parent / "outside.txt").exists() and not Path("/tmp/outside.txt").exists()


def test_a_difference_names_the_field_and_both_values(applied: Path, cli) -> None:
    out, doc = save_plan(applied)
    first = pending(doc)
    first["payload"]["mode"] = first["after"]["mode"] = "4755"
    doc["digest"] = planfile._digest(doc)
    out.write_text(json.dumps(doc))
    result = cli("apply", str(out), repo=applied)
    assert result.exit_code == 1
    assert f"{first['address']}.after.mode: '4755' in the saved plan, '0644' now" in result.stderr
    assert "was edited after" not in result.stderr  # the digest was recomputed: re-derivation caught it


def test_reality_moving_after_review_is_refused(applied: Path, cli) -> None:
    out, _ = save_plan(applied)
    wf = applied / ".github/workflows/mlops-apply.yml"
    wf.write_text(wf.read_text() + "# reviewed? no\n")
    result = cli("apply", str(out), repo=applied)
    assert result.exit_code == 1
    assert "file..github/workflows/mlops-apply.yml" in result.stderr and "nothing was applied" in result.stderr
    assert wf.read_text().endswith("# reviewed? no\n")


def test_a_forced_plan_re_derives_to_the_same_backup(applied: Path, cli) -> None:
    wf = applied / ".github/workflows/mlops-plan.yml"
    wf.write_text(wf.read_text() + "# hand edit\n")
    out = applied.parent / "forced.json"
    assert cli("plan", "--force", "-o", str(out), repo=applied).exit_code == 0
    result = cli("apply", str(out), repo=applied)
    assert result.exit_code == 0, result.output
    backups = list((applied / ".mlopsctl" / "backups").rglob("mlops-plan.yml"))
    assert len(backups) == 1 and backups[0].read_text().endswith("# hand edit\n")


@pytest.mark.parametrize("content", ["[]", '{"kind": "mlopsctl-plan", "changes": [1]}',
                                     '{"kind": "mlopsctl-plan", "changes": [], "pins": 5}',
                                     '{"kind": "mlopsctl-plan", "changes": [{"address": 3}]}',
                                     '{"kind": "mlopsctl-plan", "changes": [], "targets": [1]}',
                                     "[" * 100_000])
def test_a_damaged_plan_file_is_a_message(applied: Path, cli, content: str) -> None:
    bad = applied.parent / "bad.json"
    bad.write_text(content)
    result = cli("apply", str(bad), repo=applied)
    assert result.exit_code == 1 and "plan file" in result.stderr and "unexpected" not in result.stderr
