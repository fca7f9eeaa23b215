"""Snapshots of the plan a person reads, computed from a fixed real repository (not hand-built
Plans): creates, an update with its diff, and the deletes left by a removed model."""

from __future__ import annotations

from pathlib import Path

from tests.builders import git, make_repo, project_spec, run_mlopsctl, to_yaml
from tests.render.snapshot_files import assert_snapshot

T = ("--target", "file")


def changed_repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path, models=("iris", "wine"), model={"serve": {"staging": {"version": "latest"}}})
    applied = run_mlopsctl(["apply", "--auto-approve", *T], repo)
    assert applied.returncode == 0, applied.stderr
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "managed files")
    # A reviewed change: a newer Python for CI, and the wine model retired.
    (repo / "mlops.yaml").write_text(to_yaml(project_spec(ci={"python": "3.12"})))
    (repo / "models" / "wine.yaml").unlink()
    (repo / "data" / "wine.csv").unlink()
    return repo


def test_text_and_markdown_plan_of_a_fixed_repository(tmp_path: Path) -> None:
    repo = changed_repo(tmp_path)
    text = run_mlopsctl(["--no-color", "plan", *T], repo)
    assert text.returncode == 0, text.stderr
    assert_snapshot("repo-plan.txt", text.stdout)
    markdown = run_mlopsctl(["plan", "--format", "markdown", *T], repo)
    assert markdown.returncode == 0, markdown.stderr
    assert_snapshot("repo-plan.md", markdown.stdout)
