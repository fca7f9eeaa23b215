"""Run memos: read once while planning, once more when an apply run starts, then kept."""

from __future__ import annotations

from pathlib import Path

from mlopsctl.core.context import Context
from mlopsctl.core.events import RunLog
from tests.core.notes import make_project


class Reading:
    pass


def test_a_run_memo_is_read_again_once_per_apply_run(tmp_path: Path) -> None:
    ctx = Context(root=tmp_path, project=make_project(tmp_path))
    made: list[Reading] = []

    def read() -> Reading:
        made.append(Reading())
        return made[-1]

    planned = ctx.run_memo(Reading, read)
    assert ctx.run_memo(Reading, read) is planned  # the plan reads once
    for run in (1, 2):
        ctx.run_log = RunLog(tmp_path / ".mlopsctl", f"apply-{run}")
        applying = ctx.run_memo(Reading, read)
        assert applying is not planned and ctx.run_memo(Reading, read) is applying
        assert ctx.memo(Reading) is applying  # the one memo of its type
        ctx.run_log.close()
        ctx.run_log = None
        planned = ctx.run_memo(Reading, read)
        assert planned is not applying  # the next plan reads again
    assert len(made) == 5
