"""The file provider on real Git repositories: create, no-op, update, drift, conflicts, pruning."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from mlopsctl.core.model import Action
from mlopsctl.errors import MlopsError
from mlopsctl.files.ownership import parse
from mlopsctl.providers.file import FileProvider
from tests.builders import git
from tests.providers.file_builders import FilesEnv, make_files_env

HEADER = re.compile(
    r"^# Managed by mlopsctl \(templates/cfg\.yml\.j2\)\. Edit the specs, not this file\. "
    r"mlopsctl-digest: sha256:[0-9a-f]{64}$"
)


@pytest.fixture
def files_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FilesEnv:
    return make_files_env(tmp_path, monkeypatch)


@pytest.fixture
def env(files_env: FilesEnv) -> FilesEnv:
    files_env.template("cfg.yml.j2", "name: {{ name }}\nsize: {{ size }}\n")
    files_env.add("out/cfg.yml", "cfg.yml.j2", name="iris", size=1)
    return files_env


def commit_all(env: FilesEnv, msg: str = "update") -> None:
    git(env.root, "add", "-A")
    git(env.root, "commit", "-q", "-m", msg)


def test_create_writes_header_and_body(env: FilesEnv) -> None:
    plan = env.plan()
    change = plan["file.out/cfg.yml"]
    assert change.action is Action.CREATE
    assert change.reasons == ("new file rendered from templates/cfg.yml.j2",)
    assert change.after == {
        "path": "out/cfg.yml",
        "template": "cfg.yml.j2",
        "digest": change.after["digest"],
        "mode": "0644",
    }
    env.apply(plan)
    lines = env.read("out/cfg.yml").splitlines()
    assert HEADER.match(lines[0])
    assert lines[1:] == ["name: iris", "size: 1"]
    assert lines[0].endswith(change.after["digest"])
    assert (env.root / "out/cfg.yml").stat().st_mode & 0o777 == 0o644


def test_second_plan_is_noop_and_existing_finds_it(env: FilesEnv) -> None:
    env.apply(env.plan())
    plan = env.plan()
    assert [c.action for c in plan.values()] == [Action.NOOP]
    assert list(FileProvider().existing(env.ctx())) == ["file.out/cfg.yml"]


def test_update_shows_unified_diff_of_body(env: FilesEnv) -> None:
    env.apply(env.plan())
    env.add("out/cfg.yml", "cfg.yml.j2", name="iris", size=2)
    change = env.plan()["file.out/cfg.yml"]
    assert change.action is Action.UPDATE
    assert change.blocked is None
    assert change.reasons == ("template output changed (templates/cfg.yml.j2)",)
    assert change.diff is not None
    diff = change.diff.splitlines()
    assert diff[:2] == ["--- a/out/cfg.yml", "+++ b/out/cfg.yml"]
    assert "-size: 1" in diff and "+size: 2" in diff
    assert not any("mlopsctl-digest" in line for line in diff)  # the header is not part of the diff
    env.apply({"file.out/cfg.yml": change})
    assert env.read("out/cfg.yml").endswith("size: 2\n")
    assert not (env.root / ".mlopsctl/backups").exists()  # our own output needs no backup
    assert env.plan()["file.out/cfg.yml"].action is Action.NOOP


def test_mode_executable_bit(files_env: FilesEnv) -> None:
    files_env.template("run.sh.j2", "#!/bin/sh\necho hi\n")
    files_env.add("out/run.sh", "run.sh.j2", mode=0o755)
    files_env.apply(files_env.plan())
    assert os.access(files_env.root / "out/run.sh", os.X_OK)
    os.chmod(files_env.root / "out/run.sh", 0o644)
    change = files_env.plan()["file.out/run.sh"]
    assert change.action is Action.UPDATE
    assert change.reasons == ("mode 0644 -> 0755",)
    files_env.apply({change.address: change})
    assert os.access(files_env.root / "out/run.sh", os.X_OK)
    # Group-write differences (umask of another checkout) are not a change: Git does not track them.
    os.chmod(files_env.root / "out/run.sh", 0o775)
    assert files_env.plan()["file.out/run.sh"].action is Action.NOOP


def test_drift_committed_is_overwritten_without_backup(env: FilesEnv) -> None:
    env.apply(env.plan())
    env.write("out/cfg.yml", env.read("out/cfg.yml").replace("size: 1", "size: 42"))
    commit_all(env, "hand edit")
    head = git(env.root, "rev-parse", "HEAD")
    change = env.plan()["file.out/cfg.yml"]
    assert change.action is Action.UPDATE
    assert change.blocked is None
    assert change.reasons[0] == "edited by hand since it was rendered (drift)"
    assert change.reasons[-1] == f"the edited version is committed in Git at HEAD {head[:8]}; nothing is lost"
    assert "-size: 42" in change.diff.splitlines()
    facts = env.apply({change.address: change})
    assert "backup" not in facts[change.address]
    assert env.read("out/cfg.yml").endswith("size: 1\n")
    assert not (env.root / ".mlopsctl/backups").exists()


def test_drift_uncommitted_is_blocked_then_forced_with_backup(env: FilesEnv) -> None:
    env.apply(env.plan())
    commit_all(env, "rendered")
    edited = env.read("out/cfg.yml").replace("size: 1", "size: 7  # tuned by hand")
    env.write("out/cfg.yml", edited)
    change = env.plan()["file.out/cfg.yml"]
    assert change.action is Action.UPDATE
    assert change.reasons[0] == "edited by hand since it was rendered (drift)"
    assert change.blocked == (
        "edited by hand and not committed: commit it, or rerun with --force "
        "(the edited file is kept under .mlopsctl/backups/)"
    )
    with pytest.raises(MlopsError, match="edited by hand and not committed"):
        env.apply({change.address: change})
    assert env.read("out/cfg.yml") == edited  # refused: untouched

    forced_ctx = env.ctx(force=True)
    forced = env.plan(forced_ctx)["file.out/cfg.yml"]
    assert forced.blocked is None
    backup_reason = forced.reasons[-1]
    m = re.fullmatch(r"overwriting \(forced\); backup at (\.mlopsctl/backups/\d{8}T\d{6}Z/out/cfg\.yml)", backup_reason)
    assert m, backup_reason
    facts = env.apply({forced.address: forced}, forced_ctx)
    assert facts[forced.address]["backup"] == m.group(1)
    assert (env.root / m.group(1)).read_text(encoding="utf-8") == edited
    assert env.read("out/cfg.yml").endswith("size: 1\n")


def test_blocked_plan_applied_with_force_still_backs_up(env: FilesEnv) -> None:
    env.apply(env.plan())
    env.write("out/cfg.yml", env.read("out/cfg.yml") + "extra: 1\n")
    change = env.plan()["file.out/cfg.yml"]
    assert change.blocked
    facts = env.apply({change.address: change}, env.ctx(force=True))
    backup = env.root / facts[change.address]["backup"]
    assert backup.read_text(encoding="utf-8").endswith("extra: 1\n")


def test_hand_edit_equal_to_new_output_only_rewrites_header(env: FilesEnv) -> None:
    env.apply(env.plan())
    env.write("out/cfg.yml", env.read("out/cfg.yml").replace("size: 1", "size: 2"))
    env.add("out/cfg.yml", "cfg.yml.j2", name="iris", size=2)
    change = env.plan()["file.out/cfg.yml"]
    assert change.action is Action.UPDATE
    assert change.blocked is None
    assert change.diff is None
    env.apply({change.address: change})
    parsed = parse((env.root / "out/cfg.yml").read_bytes())
    assert not parsed.drifted
    assert env.plan()["file.out/cfg.yml"].action is Action.NOOP


def test_unmanaged_file_is_a_conflict(env: FilesEnv) -> None:
    env.write("out/cfg.yml", "mine: true\n")
    commit_all(env, "user file")  # even committed, a file we did not write is not ours to replace
    change = env.plan()["file.out/cfg.yml"]
    assert change.action is Action.UPDATE
    assert change.blocked == (
        "out/cfg.yml exists and was not written by mlopsctl; move it away, or rerun with --force (a backup is kept)"
    )
    with pytest.raises(MlopsError, match="was not written by mlopsctl"):
        env.apply({change.address: change})
    assert env.read("out/cfg.yml") == "mine: true\n"
    # Unmanaged files are never listed as ours, so never pruned.
    env.files.clear()
    assert env.plan() == {}

    env.add("out/cfg.yml", "cfg.yml.j2", name="iris", size=1)
    ctx = env.ctx(force=True)
    forced = env.plan(ctx)["file.out/cfg.yml"]
    assert forced.blocked is None and forced.reasons[-1].startswith(
        "overwriting (forced); backup at .mlopsctl/backups/"
    )
    facts = env.apply({forced.address: forced}, ctx)
    assert (env.root / facts[forced.address]["backup"]).read_text(encoding="utf-8") == "mine: true\n"
    assert parse((env.root / "out/cfg.yml").read_bytes()).managed


def test_prune_file_no_longer_desired_and_empty_dirs(files_env: FilesEnv) -> None:
    files_env.template("a.yml.j2", "a: 1\n")
    files_env.add("out/deep/a.yml", "a.yml.j2")
    files_env.add("out/keep.yml", "a.yml.j2")
    files_env.apply(files_env.plan())
    files_env.files[:] = [f for f in files_env.files if f.path != "out/deep/a.yml"]
    plan = files_env.plan()
    change = plan["file.out/deep/a.yml"]
    assert change.action is Action.DELETE
    assert change.reasons == ("no longer desired by the specs",)
    assert plan["file.out/keep.yml"].action is Action.NOOP
    files_env.apply(plan)
    assert not (files_env.root / "out/deep").exists()
    assert (files_env.root / "out/keep.yml").exists()

    files_env.files.clear()
    files_env.apply(files_env.plan())
    assert not (files_env.root / "out").exists()
    assert files_env.root.exists()


def test_prune_of_hand_edited_uncommitted_file_is_blocked(env: FilesEnv) -> None:
    env.apply(env.plan())
    env.write("out/cfg.yml", env.read("out/cfg.yml") + "# my note\n")
    env.files.clear()
    change = env.plan()["file.out/cfg.yml"]
    assert change.action is Action.DELETE
    assert change.blocked and change.blocked.startswith("edited by hand and not committed")
    with pytest.raises(MlopsError):
        env.apply({change.address: change})
    assert (env.root / "out/cfg.yml").exists()
    facts_ctx = env.ctx(force=True)
    forced = env.plan(facts_ctx)["file.out/cfg.yml"]
    env.apply({forced.address: forced}, facts_ctx)
    assert not (env.root / "out/cfg.yml").exists()
    backups = list((env.root / ".mlopsctl/backups").rglob("cfg.yml"))
    assert len(backups) == 1 and backups[0].read_text(encoding="utf-8").endswith("# my note\n")


def test_destroy_deletes_every_managed_file(env: FilesEnv) -> None:
    env.apply(env.plan())
    ctx = env.ctx(destroy=True)
    p = FileProvider()
    address = "file.out/cfg.yml"
    change = p.diff(address, None, p.read(address, None, ctx), ctx)
    assert change.action is Action.DELETE
    p.delete(change, ctx)
    assert not (env.root / "out").exists()


def test_shebang_and_dockerfile_directives_stay_first(files_env: FilesEnv) -> None:
    files_env.template("run.sh.j2", "#!/bin/sh\necho {{ word }}\n")
    files_env.template("Dockerfile.j2", "# syntax=docker/dockerfile:1\n# escape=\\\nFROM {{ base }}\n")
    files_env.template("serve.py.j2", "#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\nprint('x')\n")
    files_env.template("notes.md.j2", "# Notes\n")
    files_env.add("out/run.sh", "run.sh.j2", word="hi")
    files_env.add("docker/iris/Dockerfile", "Dockerfile.j2", base="python:3.11-slim")
    files_env.add("docker/iris/serve.py", "serve.py.j2")
    files_env.add("notes.md", "notes.md.j2")
    files_env.apply(files_env.plan())
    sh = files_env.read("out/run.sh").splitlines()
    assert sh[0] == "#!/bin/sh" and "mlopsctl-digest" in sh[1] and sh[2] == "echo hi"
    df = files_env.read("docker/iris/Dockerfile").splitlines()
    assert df[:2] == ["# syntax=docker/dockerfile:1", "# escape=\\"]
    assert df[2].startswith("# Managed by mlopsctl (templates/Dockerfile.j2)")
    py = files_env.read("docker/iris/serve.py").splitlines()
    assert py[:2] == ["#!/usr/bin/env python3", "# -*- coding: utf-8 -*-"] and "mlopsctl-digest" in py[2]
    md = files_env.read("notes.md").splitlines()
    assert md[0].startswith("<!-- Managed by mlopsctl (templates/notes.md.j2).") and md[0].endswith(" -->")
    assert all(c.action is Action.NOOP for c in files_env.plan().values())


def test_atomic_write_leaves_no_temp_files(env: FilesEnv) -> None:
    env.apply(env.plan())
    env.add("out/cfg.yml", "cfg.yml.j2", name="iris", size=3)
    # A temp file left behind by a killed apply is cleaned up by the next write.
    (env.root / "out/.cfg.yml.abc123.mlopsctl-tmp").write_text("half", encoding="utf-8")
    env.apply(env.plan())
    assert sorted(p.name for p in (env.root / "out").iterdir()) == ["cfg.yml"]


def test_concurrent_edit_between_plan_and_apply_is_refused(env: FilesEnv) -> None:
    env.apply(env.plan())
    env.add("out/cfg.yml", "cfg.yml.j2", name="iris", size=2)
    change = env.plan()["file.out/cfg.yml"]
    assert change.fingerprint
    # Same size, written right away: only a real re-read can tell (no stale stat cache).
    env.write("out/cfg.yml", env.read("out/cfg.yml").replace("size: 1", "size: 9"))
    with pytest.raises(MlopsError, match="changed since the plan was made"):
        env.apply({change.address: change})
    assert "size: 9" in env.read("out/cfg.yml")


def test_file_appearing_between_plan_and_create_is_refused(env: FilesEnv) -> None:
    change = env.plan()["file.out/cfg.yml"]
    assert change.action is Action.CREATE
    env.write("out/cfg.yml", "someone else's\n")
    with pytest.raises(MlopsError, match="changed since the plan"):
        env.apply({change.address: change})
    assert env.read("out/cfg.yml") == "someone else's\n"


def test_saved_plan_payload_is_written_verbatim(env: FilesEnv) -> None:
    from mlopsctl.core.model import Change

    change = env.plan()["file.out/cfg.yml"]
    restored = Change.from_dict(change.to_dict())
    env.template("cfg.yml.j2", "changed: {{ name }}\n")  # the apply writes what the plan showed
    env.apply({restored.address: restored}, env.ctx())
    assert env.read("out/cfg.yml") == change.payload["content"]


def test_two_file_sets_same_path(files_env: FilesEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlopsctl import files as files_pkg

    files_env.template("a.yml.j2", "a: 1\n")
    files_env.add("out/a.yml", "a.yml.j2")
    monkeypatch.setattr(
        files_pkg, "FILE_SETS", {"first": "mlopsctl_test_fileset:files", "second": "mlopsctl_test_fileset:files"}
    )
    with pytest.raises(
        MlopsError,
        match=r"two file sets write the same file out/a\.yml: file set 'first' "
        r"\(templates/a\.yml\.j2\) and file set 'second'",
    ):
        files_env.plan()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("../escape.yml", "plain path inside the repository"),
        ("/abs.yml", "plain path inside the repository"),
        (".git/config.yml", "inside .git/"),
        ("elsewhere/x.yml", "matches none of MANAGED_GLOBS"),
        ("out/data.json", "cannot put an ownership header"),
    ],
)
def test_bad_managed_paths(files_env: FilesEnv, path: str, message: str) -> None:
    files_env.template("a.j2", "a\n")
    files_env.add(path, "a.j2")
    with pytest.raises(MlopsError, match=message):
        files_env.plan()


def test_directory_at_target_path_is_never_replaced(env: FilesEnv) -> None:
    (env.root / "out/cfg.yml").mkdir(parents=True)
    change = env.plan(env.ctx(force=True))["file.out/cfg.yml"]
    assert change.blocked and "a directory is there" in change.blocked
    with pytest.raises(MlopsError, match="a directory is there"):
        env.apply({change.address: change}, env.ctx(force=True))
    assert (env.root / "out/cfg.yml").is_dir()


def test_missing_template_variable_names_template(files_env: FilesEnv) -> None:
    files_env.template("bad.yml.j2", "ok: 1\nname: {{ nme }}\n")
    files_env.add("out/bad.yml", "bad.yml.j2", name="iris")
    with pytest.raises(MlopsError, match=r"templates/bad\.yml\.j2:2: undefined variable: 'nme' is undefined"):
        files_env.plan()


def test_existing_ignores_files_without_header(env: FilesEnv) -> None:
    env.write("dvc.yaml", "stages: {}\n")
    env.write("docker/iris/Dockerfile", "FROM scratch\n")
    assert list(FileProvider().existing(env.ctx())) == []


def test_digest_cache_is_used_and_saved(env: FilesEnv) -> None:
    env.apply(env.plan())
    ctx = env.ctx()
    env.plan(ctx)
    ctx.save_memos()
    assert (env.root / ".mlopsctl/cache/digests.json").is_file()


def test_header_names_template_and_digest_of_body(env: FilesEnv) -> None:
    env.apply(env.plan())
    data = (env.root / "out/cfg.yml").read_bytes()
    parsed = parse(data)
    assert parsed.managed and parsed.template == "cfg.yml.j2"
    assert parsed.body == b"name: iris\nsize: 1\n"
    assert parsed.recorded_digest == parsed.body_digest


def test_windows_line_endings_are_not_drift(env: FilesEnv) -> None:
    env.apply(env.plan())
    p: Path = env.root / "out/cfg.yml"
    p.write_bytes(p.read_bytes().replace(b"\n", b"\r\n"))
    assert env.plan()["file.out/cfg.yml"].action is Action.NOOP


def test_existing_finds_hidden_paths_and_skips_symlinks(files_env: FilesEnv) -> None:
    files_env.template("w.yml.j2", "on: push\n")
    files_env.template("ignore.j2", "*.pyc\n")
    files_env.add(".github/workflows/mlops-x.yml", "w.yml.j2")
    files_env.add("docker/m/.dockerignore", "ignore.j2")
    files_env.apply(files_env.plan())
    (files_env.root / "docker/m/link.yml").symlink_to(files_env.root / ".github/workflows/mlops-x.yml")
    found = sorted(FileProvider().existing(files_env.ctx()))
    assert found == ["file..github/workflows/mlops-x.yml", "file.docker/m/.dockerignore"]
    # Dropping them from the specs prunes both, and leaves the symlink (not ours) alone.
    files_env.files.clear()
    plan = files_env.plan()
    assert {a: c.action for a, c in plan.items()} == {
        "file..github/workflows/mlops-x.yml": Action.DELETE,
        "file.docker/m/.dockerignore": Action.DELETE,
    }
    files_env.apply(plan)
    assert (files_env.root / "docker/m/link.yml").is_symlink()
    assert not (files_env.root / ".github").exists()


def test_parent_path_is_a_file(env: FilesEnv) -> None:
    env.write("out", "a file where a directory should be\n")
    change = env.plan(env.ctx(force=True))["file.out/cfg.yml"]
    assert change.blocked == (
        "out/cfg.yml cannot be written: one of its parent paths is a file; move it away (mlopsctl never replaces it)"
    )
    with pytest.raises(MlopsError, match="parent paths is a file"):
        env.apply({change.address: change}, env.ctx(force=True))
    assert env.read("out") == "a file where a directory should be\n"


def _flush(ctx: object) -> None:
    """What the commands do at the end of a run: save every cache the providers used."""
    ctx.save_memos()  # type: ignore[attr-defined]


def test_noop_plan_reuses_earlier_renders(env: FilesEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlopsctl.files import templating

    monkeypatch.delenv("CI", raising=False)  # a developer's machine
    ctx = env.ctx()
    env.apply(env.plan(ctx), ctx)
    _flush(ctx)
    ctx = env.ctx()
    env.plan(ctx)
    _flush(ctx)  # the second run records the now settled template digests too
    assert (env.root / ".mlopsctl/cache/renders.json").is_file()

    def boom(*_a: object, **_k: object) -> str:
        raise AssertionError("rendered although nothing changed")

    with monkeypatch.context() as m:
        m.setattr(templating, "render", boom)
        plan = env.plan()
    assert [c.action for c in plan.values()] == [Action.NOOP]

    # A new context value, or a changed template (included ones too), renders again.
    env.add("out/cfg.yml", "cfg.yml.j2", name="iris", size=5)
    assert env.plan()["file.out/cfg.yml"].action is Action.UPDATE
    env.add("out/cfg.yml", "cfg.yml.j2", name="iris", size=1)
    assert env.plan()["file.out/cfg.yml"].action is Action.NOOP
    env.template("part.j2", "size: {{ size }}\n")
    env.template("cfg.yml.j2", "name: {{ name }}\n{% include 'part.j2' %}")
    assert env.plan()["file.out/cfg.yml"].action is Action.NOOP  # same output from new sources
    ctx = env.ctx()
    env.plan(ctx)
    _flush(ctx)
    env.template("part.j2", "size: {{ size }}0\n")
    change = env.plan()["file.out/cfg.yml"]
    assert change.action is Action.UPDATE
    assert "+size: 10" in (change.diff or "")


def test_a_remembered_render_tells_the_order_of_keys(env: FilesEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same mapping in another order is another text: a render remembered for one order is
    never taken for the other (a spec's features reordered rewrites the params file)."""
    monkeypatch.delenv("CI", raising=False)
    env.template("map.yml.j2", "{% for k, v in items.items() %}{{ k }}: {{ v }}\n{% endfor %}")
    env.add("out/map.yml", "map.yml.j2", items={"a": 1, "b": 2})
    ctx = env.ctx()
    env.apply(env.plan(ctx), ctx)
    _flush(ctx)
    assert env.read("out/map.yml").endswith("a: 1\nb: 2\n")
    env.add("out/map.yml", "map.yml.j2", items={"b": 2, "a": 1})
    ctx = env.ctx()
    change = env.plan(ctx)["file.out/map.yml"]
    assert change.action is Action.UPDATE and "+b: 2" in (change.diff or "")
    _flush(ctx)
    (env.root / ".mlopsctl/cache/renders.json").unlink()  # without the memo: the same plan
    assert env.plan()["file.out/map.yml"].action is Action.UPDATE


def test_a_ci_runner_remembers_renders_only_where_it_found_some(env: FilesEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CI runner's clone is new and gone after the job: a plan there that finds no render memo
    makes none (no key of it would be looked up again); one it finds is used and kept."""
    from mlopsctl.files import templating

    memo = env.root / ".mlopsctl/cache/renders.json"
    monkeypatch.setenv("CI", "true")
    ctx = env.ctx()
    env.apply(env.plan(ctx), ctx)
    _flush(ctx)
    ctx = env.ctx()
    assert [c.action for c in env.plan(ctx).values()] == [Action.NOOP]
    _flush(ctx)
    assert not memo.exists()

    monkeypatch.delenv("CI")
    for _ in range(2):  # the second run records the settled template digests too
        ctx = env.ctx()
        env.plan(ctx)
        _flush(ctx)
    kept = memo.read_text()
    monkeypatch.setenv("CI", "true")
    with monkeypatch.context() as m:
        m.setattr(templating, "render", lambda *_a, **_k: (_ for _ in ()).throw(AssertionError("rendered")))
        ctx = env.ctx()
        assert [c.action for c in env.plan(ctx).values()] == [Action.NOOP]
    _flush(ctx)
    assert memo.read_text() == kept


def test_corrupt_render_memo_is_ignored(env: FilesEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    ctx = env.ctx()
    env.apply(env.plan(ctx), ctx)
    memo = env.root / ".mlopsctl/cache/renders.json"
    memo.parent.mkdir(parents=True, exist_ok=True)
    memo.write_text("{broken")
    ctx = env.ctx()
    assert [c.action for c in env.plan(ctx).values()] == [Action.NOOP]
    _flush(ctx)
    assert memo.read_text().startswith("{")
