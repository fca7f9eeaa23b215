"""The registry read once per run and kept current in memory: always equal to a fresh read of the tags."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlopsctl.core.events import RunLog
from mlopsctl.core.model import Action
from mlopsctl.providers.model import ModelProvider
from mlopsctl.registry import api, state
from mlopsctl.registry.state import RegistryState
from mlopsctl.registry.tags import read_tags
from tests.builders import git, make_repo, write_tree
from tests.registry.registry_builders import context, gto_show, plan_one, stage


def _fresh(root: Path) -> RegistryState:
    return RegistryState.from_records(read_tags(root))  # not through the counted name below


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every time the registry reads all tags (what RegistryState.read calls)."""
    seen: list[Path] = []

    def counting(root: Path) -> Any:
        seen.append(root)
        return read_tags(root)

    monkeypatch.setattr(state, "read_tags", counting)
    return seen


def _version(n: int, blob: bytes) -> dict[str, Any]:
    return {"version": n, "by": "mlopsctl", "metrics": {"accuracy": 0.9 + n / 100},
            "artifact": {"path": "artifacts/iris/model.joblib", "md5": hashlib.md5(blob).hexdigest(),
                         "sha256": hashlib.sha256(blob).hexdigest()}}


def test_every_remembered_write_equals_a_fresh_read(tmp_path: Path, reads: list[Path]) -> None:
    root = make_repo(tmp_path, models=("iris", "wine"))
    ctx = context(root)
    c1 = git(root, "rev-parse", "HEAD")
    assert api.state_for(ctx) == _fresh(root)
    write_tree(root, {"src/notes.txt": "retrained\n"})
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "retrain")
    c2 = git(root, "rev-parse", "HEAD")

    def write(name: str, commit: str, payload: dict[str, Any]) -> None:
        model = name.split("@")[0].split("#")[0]
        newest = api.model_registry(ctx, model).newest_time
        api.write_and_remember(ctx, name, commit, payload, not_before=newest)
        assert api.state_for(ctx) == _fresh(root), name

    write("iris@v1.0.0", c1, _version(1, b"one"))
    write("wine@v1.0.0", c1, {**_version(1, b"wine"), "artifact": {"sha256": "ab" * 32}})
    write("iris@v2.0.0", c2, _version(2, b"two"))
    write("iris#production#3", c1, {"by": "mlopsctl", "environment": "production", "version": 1})
    write("iris#staging#4", c2, {"by": "mlopsctl", "environment": "staging", "version": 2})
    write("iris#production#5", c2, {"by": "mlopsctl", "environment": "production", "version": 2})
    write("iris#staging!#6", c2, {"by": "mlopsctl", "environment": "staging", "version": 2})
    write("iris@v1.0.0!", c1, {"reason": "withdrawn"})
    write("wine@deprecated", c1, {"reason": "retired"})

    fresh = _fresh(root)  # each model's registry is built when first asked for
    assert fresh.assigned() == ["iris"] and not fresh._built
    assert fresh.model("iris") == api.model_registry(ctx, "iris") and list(fresh._built) == ["iris"]
    assert ({(m, e) for m in fresh.assigned() for e in fresh.model(m).assignments}
            == {(m, e) for m, r in fresh.models.items() for e in r.assignments} == {("iris", "production")})
    reg = api.model_registry(ctx, "iris")
    assert [mv.version for mv in reg.versions] == [2] and reg.deregistered.keys() == {1}
    assert reg.assignments["production"].version == 2 and "staging" not in reg.assignments
    assert reg.next_counter == 7
    assert len(reads) == 1  # the tags were read once; every write after that was folded in


def test_a_short_commit_name_is_read_back_rather_than_guessed(tmp_path: Path, reads: list[Path]) -> None:
    root = make_repo(tmp_path)
    ctx = context(root)
    short = git(root, "rev-parse", "--short", "HEAD")
    api.write_and_remember(ctx, "iris@v1.0.0", short, _version(1, b"one"))
    assert api.state_for(ctx) == _fresh(root)
    assert api.model_registry(ctx, "iris").latest.commit == git(root, "rev-parse", "HEAD")  # type: ignore[union-attr]
    assert len(reads) == 2


def test_an_apply_run_reads_the_tags_again_once(tmp_path: Path, reads: list[Path]) -> None:
    """What a person tagged between plan and apply (while the plan waited for a yes) is seen by apply."""
    root = make_repo(tmp_path)
    ctx = context(root)
    assert api.model_registry(ctx, "iris").latest is None  # the plan's read
    head = git(root, "rev-parse", "HEAD")
    git(root, "tag", "-a", "-m", json.dumps(_version(1, b"by hand")), "iris@v1.0.0", head)  # a person, meanwhile
    assert api.model_registry(ctx, "iris").latest is None  # the same plan keeps what it read
    ctx.run_log = RunLog(ctx.state_dir, "apply-test")  # an apply run starts
    try:
        assert api.model_registry(ctx, "iris").latest.version == 1  # type: ignore[union-attr]
        api.write_and_remember(ctx, "iris#production#2", head, {"by": "mlopsctl"},
                               not_before=api.model_registry(ctx, "iris").newest_time)
        assert api.model_registry(ctx, "iris").assignments["production"].version == 1
        assert len(reads) == 2
    finally:
        ctx.run_log.close()
        ctx.run_log = None
    assert api.state_for(ctx) == _fresh(root)
    assert len(reads) == 3  # the next plan reads again


def _fake_outputs(root: Path, models: list[str]) -> None:
    """What a finished stage leaves for each model (without training)."""
    tree: dict[str, str | bytes] = {}
    for i, m in enumerate(models):
        tree[f"artifacts/{m}/model.joblib"] = b"model %d" % i
        tree[f"artifacts/{m}/lineage.json"] = json.dumps({"model": m})
        tree[f"reports/{m}/metrics.json"] = json.dumps({"accuracy": 0.95, "f1_macro": 0.94})
        tree[f"reports/{m}/plots/confusion.csv"] = "actual,predicted\nsetosa,setosa\n"
        tree[f"reports/{m}/plots/roc.csv"] = "fpr,tpr\n0,0\n1,1\n"
        tree[f"reports/{m}/plots/precision_recall.csv"] = "recall,precision\n0,1\n1,0\n"
    write_tree(root, tree)


@pytest.mark.slow
def test_registering_many_versions_reads_the_tags_once_and_gto_agrees(tmp_path: Path, reads: list[Path]) -> None:
    models = ["a", "b", "c", "d"]
    root = make_repo(tmp_path, models=models, files={".gitignore": ".mlopsctl/\nartifacts/\n"})
    _fake_outputs(root, models)  # reports/ are apply's record: the first registration commits them
    ctx = context(root)
    provider = ModelProvider()
    changes = []
    for m in models:
        ctx.upstream[f"stage.{m}.train"] = stage(m)
        changes.append(plan_one(provider, f"model.{m}", ctx))
    assert all(c.action is Action.CREATE and not c.blocked for c in changes), changes
    head = git(root, "rev-parse", "HEAD")
    ctx.run_log = RunLog(ctx.state_dir, "apply-test")
    try:
        facts = [provider.apply(c, ctx) for c in changes]
    finally:
        ctx.run_log.close()
        ctx.run_log = None
    assert [f["tag"] for f in facts if f] == [f"{m}@v1.0.0" for m in models]
    assert len(reads) == 2  # once for the plan, once when the apply run started
    record = git(root, "rev-parse", "HEAD")
    assert record != head and git(root, "status", "--porcelain") == ""  # one record commit, for all
    assert {mv.commit for m in models for mv in api.model_registry(ctx, m).versions} == {record}
    assert api.state_for(ctx) == _fresh(root)
    shown = gto_show(root)
    assert sorted(shown) == models
    assert {row["version"] for row in shown.values()} == {"v1.0.0"}


@pytest.mark.slow
def test_gto_by_hand_between_two_registrations_of_one_run(tmp_path: Path) -> None:
    """A tag another client wrote during the run is not in memory; the next run reads it."""
    root = make_repo(tmp_path, models=["a"], files={".gitignore": ".mlopsctl/\nartifacts/\n"})
    _fake_outputs(root, ["a"])
    ctx = context(root)
    ctx.upstream["stage.a.train"] = stage("a")
    change = plan_one(ModelProvider(), "model.a", ctx)
    ModelProvider().apply(change, ctx)
    gto = str(Path(sys.executable).with_name("gto"))
    subprocess.run([gto, "assign", "a", "--stage", "prod", "--version", "v1.0.0"], cwd=root, check=True,
                   capture_output=True)
    assert "prod" not in api.model_registry(ctx, "a").assignments  # this run did not write it
    assert api.model_registry(context(root), "a").assignments["prod"].version == 1  # the next run reads it


def _recorded_repo(tmp_path: Path, models: list[str]) -> Path:
    """Models whose stages are recorded (``dvc commit`` of outputs made without training) and committed."""
    from tests.builders import run_mlopsctl
    from tests.registry.registry_builders import dvc

    root = make_repo(tmp_path, models=models)
    rendered = run_mlopsctl(["apply", "--auto-approve", "--target", "file.*"], root)
    assert rendered.returncode == 0, rendered.stderr
    dvc(root, "init", "-q")
    dvc(root, "remote", "add", "-d", "local", "../dvc-remote")
    git(root, "rm", "-r", "-q", "--cached", "data")
    dvc(root, "add", "-q", *[f"data/{m}.csv" for m in models])
    dvc(root, "push", "-q")
    _fake_outputs(root, models)
    dvc(root, "commit", "-f", "-q")
    dvc(root, "push", "-q")  # as the stages do after training
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "stages recorded")
    return root


def _git_children(root: Path) -> list[str]:
    """git processes still working in ``root`` (the tag writer's, when a run left them behind)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and Path(proc / "cwd").resolve() == root.resolve():
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return [c for c in found if c.startswith("git ")]


@pytest.mark.slow
def test_kill_9_while_registering_then_apply_registers_the_rest_once(tmp_path: Path) -> None:
    import os
    import signal
    import time

    from tests.builders import mlopsctl_command, run_mlopsctl

    models = ["a", "b", "c", "d"]
    root = _recorded_repo(tmp_path, models)
    target = ["--target", "model.*"]
    history = root / ".mlopsctl" / "history.jsonl"
    history.unlink()  # the steps that rendered the files
    planned = run_mlopsctl(["plan", *target], root)
    assert planned.stdout.count("register v1") == len(models) and "Plan: 4 to add, 0 to change" in planned.stdout
    proc = subprocess.Popen([*mlopsctl_command(), "apply", "--auto-approve", *target], cwd=root,
                            env={**os.environ, "MLOPSCTL_PAUSE_AFTER_STEPS": "2"}, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (history.is_file() and history.read_text().count('"address": "model.') >= 2):
        assert time.monotonic() < deadline and proc.poll() is None, "apply never registered two versions"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert sorted(git(root, "tag", "--list").split()) == ["a@v1.0.0", "b@v1.0.0"]
    deadline = time.monotonic() + 10
    while _git_children(root):  # the writer's git processes end with their input
        assert time.monotonic() < deadline, _git_children(root)
        time.sleep(0.05)
    again = run_mlopsctl(["apply", "--auto-approve", *target], root)
    assert again.returncode == 0, again.stderr
    assert sorted(git(root, "tag", "--list").split()) == [f"{m}@v1.0.0" for m in models]
    assert run_mlopsctl(["plan", "--detailed-exitcode", *target], root).returncode == 0
    assert {row["version"] for row in gto_show(root).values()} == {"v1.0.0"}
