"""The commit a version tag names: it must hold what produced the version.

A version tag is only worth something if ``git checkout TAG && dvc pull`` gives back the
version's artifact. So before a version is tagged, the working tree is looked at:

- files people write (specs, code, data not yet tracked by DVC, anything else Git tracks) must
  be committed: otherwise the tagged commit would show other specs or code than the ones that
  trained the version. Apply refuses, listing them (the same in a terminal and in CI);
- files apply itself writes (``dvc.lock``, ``dvc.yaml``, ``params/``, evaluation ``reports/``, ``.dvc`` files, DVC's
  own ``.dvc/`` config and ``.dvcignore``, the ``.gitignore`` files DVC keeps, and every file carrying mlopsctl's ownership header) are
  recorded by apply in a commit of its own, and the tag goes on that commit.

A detached HEAD is refused too: a record commit there would belong to no branch.
The record commit is built in a private index from HEAD plus the record paths only, so
nothing else the user staged slips into it, and the branch moves with a compare-and-swap.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlopsctl.errors import MlopsError

if TYPE_CHECKING:
    from mlopsctl.core.context import Context

RECORD_MESSAGE = "mlopsctl: record training outputs of {what} [skip ci]"
"""``[skip ci]``: pushing the record must not start another apply run."""

_OWNED_MARK = b"Managed by mlopsctl (templates/"


@dataclass(frozen=True)
class TreeState:
    """What Git sees in the working tree, split by who wrote it."""

    branch: str | None
    """The checked-out branch (``refs/heads/...``), None on a detached HEAD."""
    records: tuple[str, ...]
    """Changed paths apply writes (committed by apply in its record commit)."""
    edits: tuple[str, ...]
    """Changed paths people write (must be committed before a version is registered)."""


def _git(root: Path, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
    from mlopsctl.workspace import git

    proc = git.completed(root, *args, env=env, timeout=300)
    if check and proc.returncode != 0:
        raise MlopsError(f"git {' '.join(args[:2])} failed in {root}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def _is_record(root: Path, path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    if path in ("dvc.lock", "dvc.yaml", ".dvcignore") or path.startswith(("params/", ".dvc/", "reports/")) \
            or name.endswith(".dvc"):
        return True
    if name == ".gitignore" and path != ".gitignore":
        return True  # DVC keeps one beside each output it tracks
    if (root / f"{path}.dvc").is_file():
        return True  # a data file apply moved from Git to DVC (removed from Git's index)
    try:
        with open(root / path, "rb") as f:
            head = f.read(1024)
    except OSError:
        return False
    return _OWNED_MARK in head


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p.rstrip("/") or path.startswith(p.rstrip("/") + "/") for p in prefixes)


def tree_state(root: Path, inputs: tuple[str, ...] = ("mlops.yaml", "models", "src")) -> TreeState:
    """Git's view of the working tree. Changes to tracked files all count; an untracked file
    counts only under ``inputs`` (specs, code, stage dependencies): a plan written to
    ``plan.md`` or a scratch file does not change what trains."""
    root = Path(root)
    from mlopsctl.core import reuse
    from mlopsctl.workspace import git

    branch = git.read(root, "symbolic-ref", "-q", "HEAD")[1].strip() or None
    rc, out, err = git.read(root, *git.STATUS)
    # The answer lists every edited spec: a plan reusing kept changes after spec edits computes
    # again whatever looked at it (and may then reuse the rest while only specs' lines moved).
    reuse.saw_every_spec()
    if rc != 0:
        raise MlopsError(f"git status failed in {root}: {err.strip() or out.strip()}")
    records: list[str] = []
    edits: list[str] = []
    for code, path, _ in git.status_entries(out):
        if _is_record(root, path):
            records.append(path)
        elif code != "??" or _under(path, inputs):
            edits.append(path)
    return TreeState(branch, tuple(records), tuple(edits))


def refusal(state: TreeState, model: str) -> str | None:
    """Why a version of ``model`` cannot be tagged from this working tree, or None."""
    if state.branch is None:
        return ("HEAD is detached: check out a branch (git switch -c NAME) so the version's record commit "
                f"belongs to it, then apply; nothing of {model} was registered")
    if state.edits:
        shown = ", ".join(state.edits[:8]) + (f" and {len(state.edits) - 8} more" if len(state.edits) > 8 else "")
        return (f"uncommitted changes to {shown}: commit them first (git add ... && git commit), so the version's "
                f"tag names the commit that trained {model}")
    return None


def _identity_env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    for kind in ("AUTHOR", "COMMITTER"):
        if _git(root, "var", f"GIT_{kind}_IDENT", env=env, check=False) == "":
            env.setdefault(f"GIT_{kind}_NAME", "mlopsctl")
            env[f"GIT_{kind}_EMAIL"] = env.get(f"GIT_{kind}_EMAIL") or "mlopsctl@localhost"
    return env


def record_commit(root: Path, paths: tuple[str, ...] | list[str], what: str) -> str:
    """Commit exactly ``paths`` as they are in the working tree on top of HEAD; returns the new HEAD.

    Nothing to record: HEAD unchanged. Other staged changes stay staged and out of the commit.
    """
    root = Path(root)
    head = _git(root, "rev-parse", "--verify", "HEAD^{commit}").strip()
    branch = _git(root, "symbolic-ref", "-q", "HEAD", check=False).strip()
    if not paths:
        return head
    env = _identity_env(root)
    fd, index = tempfile.mkstemp(prefix="mlopsctl-record-", suffix=".index")
    os.close(fd)
    os.unlink(index)
    env_idx = {**env, "GIT_INDEX_FILE": index}
    try:
        _git(root, "read-tree", head, env=env_idx)
        present = [p for p in paths if (root / p).exists() and not (root / f"{p}.dvc").is_file()]
        gone = [p for p in paths if p not in present]
        if present:
            _git(root, "add", "-f", "-A", "--", *present, env=env_idx)
        if gone:
            _git(root, "update-index", "--force-remove", "--", *gone, env=env_idx)
        tree = _git(root, "write-tree", env=env_idx).strip()
    finally:
        Path(index).unlink(missing_ok=True)
    if tree == _git(root, "rev-parse", f"{head}^{{tree}}").strip():
        return head
    commit = _git(root, "commit-tree", tree, "-p", head, "-m", RECORD_MESSAGE.format(what=what), env=env).strip()
    _git(root, "update-ref", "-m", f"mlopsctl: record {what}", branch or "HEAD", commit, head)
    # The real index catches up with the new commit for the recorded paths only.
    _git(root, "reset", "-q", commit, "--", *paths, check=False)
    return commit


_TREE_NEUTRAL = ("model.", "registry.")
"""Steps that write nothing to the working tree but the record commits made here."""


@dataclass
class _RunTree:
    """The working tree as this run last looked at it."""

    state: TreeState
    applied: frozenset[str]
    """The steps applied when it looked, and those applied since that write nothing there."""


def _run_tree(ctx: Context, inputs: Callable[[], tuple[str, ...]]) -> _RunTree:
    def look() -> _RunTree:
        applied = frozenset(ctx.applied)  # before looking: a step that finishes meanwhile is seen next time
        return _RunTree(tree_state(ctx.root, inputs()), applied)

    memo = ctx.run_memo(_RunTree, look)
    if len(ctx.applied) != len(memo.applied):  # steps only add up within a run: same size, same steps
        if any(not step.startswith(_TREE_NEUTRAL) for step in ctx.applied - memo.applied):
            ctx.forget(_RunTree)  # a stage (or a file, a dataset) wrote since: look again
            return ctx.run_memo(_RunTree, look)
        memo.applied = frozenset(ctx.applied)
    return memo


def run_tree(ctx: Context, inputs: Callable[[], tuple[str, ...]]) -> TreeState:
    """The working tree as Git sees it, looked at once per plan, once when apply starts, and again
    only after a step that writes to it: registering N versions runs ``git status`` once, not N times.

    ``inputs``: the paths whose untracked files count (see :func:`tree_state`), asked on a new look.
    """
    return _run_tree(ctx, inputs).state


def record_for(ctx: Context, inputs: Callable[[], tuple[str, ...]], model: str, head: str | None,
               what: str) -> str:
    """Refuse people's uncommitted edits, commit what apply wrote, return the commit to tag.

    ``head``: HEAD as this run knows it (returned as is when there is nothing to record).
    """
    memo = _run_tree(ctx, inputs)
    why = refusal(memo.state, model)
    if why:
        raise MlopsError(f"{model}: {why}. Nothing was registered.")
    if not memo.state.records and head is not None:
        return head
    commit = record_commit(ctx.root, memo.state.records, what)
    memo.state = TreeState(memo.state.branch, (), memo.state.edits)  # what record_commit just committed
    return commit
