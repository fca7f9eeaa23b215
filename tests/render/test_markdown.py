"""The Markdown plan (PR comment, job summary): snapshots of what a reviewer reads, and the size limit.

Snapshots live in tests/render/snapshots/; after an intended change of the output, rerun with
``MLOPSCTL_UPDATE_SNAPSHOTS=1`` and review the diff of the snapshot files.
"""

from __future__ import annotations

import re

import pytest

from mlopsctl.core.model import Action, Change, Plan
from mlopsctl.render.markdown import find_marker, marker, render_markdown
from tests.render.snapshot_files import assert_snapshot

DOCKERFILE_DIFF = """\
--- a/docker/iris/Dockerfile
+++ b/docker/iris/Dockerfile
@@ -1,4 +1,4 @@
-FROM python:3.10-slim
+FROM python:3.11-slim
 WORKDIR /app
 COPY serve.py /app/serve.py
 CMD ["python", "serve.py"]
"""


def mixed_plan() -> Plan:
    changes = (
        Change("file.dvc.yaml", Action.CREATE, after={"path": "dvc.yaml"}, reasons=("new managed file",)),
        Change("dataset.data/iris.csv", Action.CREATE, reasons=("data/iris.csv is not tracked by DVC yet",),
               model="iris"),
        Change(
            "stage.iris.train", Action.UPDATE, model="iris",
            reasons=("estimator.params.n_estimators 100 -> 200", "reruns because dataset.data/iris.csv changes"),
        ),
        Change(
            "model.iris", Action.UPDATE, model="iris",
            reasons=("new candidate from stage.iris.train", "gate accuracy >= 0.9 not met by candidate (0.87)"),
        ),
        Change(
            "file.docker/iris/Dockerfile", Action.UPDATE, model="iris", diff=DOCKERFILE_DIFF,
            reasons=("images.base python:3.10-slim -> python:3.11-slim",),
        ),
        Change(
            "file.params/iris.yaml", Action.UPDATE, model="iris",
            reasons=("edited by hand since it was rendered (drift)",),
            blocked="edited by hand and not committed: commit it, or rerun with --force",
        ),
        Change("deployment.iris.staging", Action.REPLACE, model="iris", reasons=("image.iris changes",),
               requires="a Docker engine"),
        Change("deployment.wine.production", Action.DELETE, model="wine",
               reasons=("models/wine.yaml no longer exists",)),
        Change("file.mlops-plan", Action.NOOP),
        Change("registry.iris.production", Action.NOOP, model="iris"),
    )
    return Plan(
        changes=changes,
        pins={"git_head": "0123456789abcdef0123"},
        project="demo",
        warnings=("model.iris: gate accuracy >= 0.9 not met by candidate (0.87); apply will not register it",),
        mlopsctl_version="0.1.0",
    )


def test_mixed_plan_snapshot() -> None:
    text = render_markdown(mixed_plan())
    assert_snapshot("mixed_plan.md", text)


def test_mixed_plan_structure() -> None:
    text = render_markdown(mixed_plan())
    lines = text.splitlines()
    assert lines[0] == marker("demo") == '<!-- mlopsctl-plan project=demo -->'
    # The summary comes before any table.
    assert text.index("**Plan: 3 to add, 4 to change, 2 to destroy.**") < text.index("| Resource |")
    assert "> [!CAUTION]" in text and "`deployment.wine.production`" in text.split("> [!CAUTION]")[1]
    assert "> [!WARNING]" in text and "blocked" in text
    assert "gate accuracy >= 0.9 not met by candidate (0.87)" in text
    assert "```diff\n--- a/docker/iris/Dockerfile" in text
    assert "<details><summary>2 unchanged resources</summary>" in text
    # No-op resources are folded away, not in the tables.
    table_rows = [ln for ln in lines if ln.startswith("| ")]
    assert not any("registry.iris.production" in ln for ln in table_rows)
    assert text.endswith("\n")


def test_no_changes_snapshot() -> None:
    plan = Plan(changes=(Change("file.dvc.yaml", Action.NOOP),), pins={}, project="demo", mlopsctl_version="0.1.0")
    text = render_markdown(plan)
    assert "**No changes.**" in text
    assert "[!CAUTION]" not in text
    assert_snapshot("no_changes.md", text)


def test_marker_per_project_and_found_again() -> None:
    a = render_markdown(Plan(changes=(), pins={}, project="alpha"))
    b = render_markdown(Plan(changes=(), pins={}, project="beta"))
    assert find_marker(a) == marker("alpha") != find_marker(b)
    assert find_marker("just a comment") is None


def test_pipes_and_html_in_reasons_do_not_break_the_table() -> None:
    plan = Plan(
        changes=(Change("file.x", Action.UPDATE, reasons=("a | b <script>alert(1)</script>\nsecond line",)),),
        pins={}, project="p",
    )
    text = render_markdown(plan)
    row = next(ln for ln in text.splitlines() if ln.startswith("| 🟡"))
    assert "a \\| b" in row and "<script>" not in text and "second line" in row
    assert len(re.findall(r"(?<!\\)\|", row)) == 5  # four cells: five unescaped pipes


def test_diff_with_backticks_keeps_its_fence() -> None:
    diff = "--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-```python\n+````python\n"
    text = render_markdown(Plan(changes=(Change("file.README.md", Action.UPDATE, diff=diff),), pins={}, project="p"))
    assert "`````diff\n" in text  # longer than any backtick run inside


def big_plan(n: int) -> Plan:
    diff = "".join(f"-old line {i}\n+new line {i}\n" for i in range(40))
    changes = tuple(
        Change(
            f"file.models/m{i:04d}/serve.py", Action.UPDATE, model=f"m{i:04d}",
            reasons=(f"estimator.params.n_estimators {i} -> {i + 1}", "template output changed"), diff=diff,
        )
        for i in range(n)
    ) + tuple(Change(f"file.unchanged/{i}.py", Action.NOOP) for i in range(300))
    return Plan(changes=changes, pins={}, project="big", mlopsctl_version="0.1.0")


def test_large_plan_drops_diffs_first() -> None:
    plan = big_plan(60)
    full = render_markdown(plan, limit=10**9)
    assert len(full) > 65_000
    text = render_markdown(plan)
    assert len(text) <= 65_000
    assert "```diff" not in text
    assert "Diffs are left out" in text
    assert all(f"m{i:04d}/serve.py" in text for i in range(60))  # every change still listed


def test_plan_over_the_limit_is_truncated_with_a_pointer() -> None:
    plan = big_plan(2_000)
    hint = "[the full plan](https://github.com/o/r/actions/runs/1)"
    text = render_markdown(plan, full_plan_hint=hint)
    assert len(text) <= 65_000
    assert text.startswith(marker("big"))
    assert "**Plan: 0 to add, 2000 to change, 0 to destroy.**" in text
    assert "more changes** not shown" in text and hint in text
    shown = sum(1 for ln in text.splitlines() if ln.startswith("| 🟡"))
    assert 100 < shown < 2_000
    assert_snapshot("truncated_tail.md", text[-600:])


@pytest.mark.parametrize("limit", [2_000, 500, 120])
def test_any_limit_is_honoured(limit: int) -> None:
    plan = big_plan(50).__class__(
        changes=big_plan(50).changes, pins={}, project="big", warnings=("w" * 5_000,) * 30,
    )
    text = render_markdown(plan, limit=limit)
    assert len(text) <= limit
    assert text.startswith("<!-- mlopsctl-plan")
