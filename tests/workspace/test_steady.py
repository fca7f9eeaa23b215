"""The steady phase: facts read once while a plan is computed, and never trusted past it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlopsctl.workspace import steady


def test_remembered_once_per_phase_and_never_outside() -> None:
    calls: list[int] = []

    def make() -> int:
        calls.append(1)
        return len(calls)

    assert steady.remembered("k", make) == 1 and steady.remembered("k", make) == 2  # outside: every time
    assert not steady.active()
    with steady.phase():
        assert steady.active()
        assert steady.remembered("k", make) == 3
        with steady.phase():  # nested: still the same phase
            assert steady.remembered("k", make) == 3
        assert steady.remembered("k", make) == 3
        assert steady.remembered("other", make) == 4
    assert not steady.active()
    with steady.phase():  # a new phase reads again
        assert steady.remembered("k", make) == 5


def test_phase_ends_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError), steady.phase():
        steady.remembered("k", lambda: 1)
        raise RuntimeError("boom")
    assert not steady.active()
    assert steady.remembered("k", lambda: 2) == 2


def test_a_plan_reads_dvc_config_once_and_the_next_plan_sees_a_change(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlopsctl.core.plan import compute_plan
    from mlopsctl.pipeline import config
    from tests.pipeline.dvcrepos import context, dvc, make_repo

    monkeypatch.setenv("DVC_SYSTEM_CONFIG_DIR", str(tmp_path / "system"))
    monkeypatch.setenv("DVC_GLOBAL_CONFIG_DIR", str(tmp_path / "global"))
    root = make_repo(tmp_path, models=("iris", "wine"))
    dvc(root, "init", "-q")
    dvc(root, "remote", "add", "-d", "first", str(tmp_path / "first"))
    reads: list[list[str]] = []  # each time the four files are stat'ed to check the config memo
    real = config._stat_key

    def counted(paths: list[str]) -> tuple[object, ...]:
        reads.append(paths)
        return real(paths)

    monkeypatch.setattr(config, "_stat_key", counted)

    def remotes() -> set[str]:
        plan = compute_plan(context(root))
        return {c.before["remote"]["name"] for c in plan.changes
                if c.kind == "dataset" and c.before and c.before.get("remote")}

    assert remotes() == {"first"}
    assert len(reads) == 1  # two datasets, two models, their stages: one read of the four files
    dvc(root, "remote", "add", "-d", "second", str(tmp_path / "second"))
    assert remotes() == {"second"}  # the steady memo ended with the first plan
    assert len(reads) == 2
