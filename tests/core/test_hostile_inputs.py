"""Hostile and odd inputs through the CLI on real repositories: a located message, exit 1, never a crash.

Each case builds a real repository, breaks it one way (symlinks leading out, loops, folders
where files belong, a null environment, a state folder that is a file, a full disk, a read-only
file system, no models), runs the command, and checks: exit 1, no traceback, no "unexpected",
a message naming the file (and line where there is one), nothing written outside the repository.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from mlopsctl.errors import WriteError
from mlopsctl.workspace import fsafe
from tests.builders import git, make_repo

Break = Callable[[Path, Path], None]  # (repo, outside folder)


def _append(rel: str, text: str) -> Break:
    def fn(root: Path, out: Path) -> None:
        with (root / rel).open("a") as f:
            f.write(text)
    return fn


def _replace(rel: str, old: str, new: str) -> Break:
    def fn(root: Path, out: Path) -> None:
        p = root / rel
        p.write_text(p.read_text().replace(old, new))
    return fn


def _link_folder(name: str) -> Break:
    def fn(root: Path, out: Path) -> None:
        target = out / name.strip(".")
        target.mkdir()
        if (root / name).exists():
            shutil.copytree(root / name, target, dirs_exist_ok=True)
            shutil.rmtree(root / name)
        (root / name).symlink_to(target)
    return fn


def _symlink(rel: str, target: str) -> Break:
    def fn(root: Path, out: Path) -> None:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).symlink_to(target.format(out=out))
    return fn


def _null_env(root: Path, out: Path) -> None:
    _replace("mlops.yaml", "  production:\n    port: 8102", "  production: null")(root, out)
    _append("models/iris.yaml", "serve:\n  production: {version: latest}\n")(root, out)


def _models_dir_loop(root: Path, out: Path) -> None:
    shutil.rmtree(root / "models")
    (root / "models").symlink_to("m2")
    (root / "m2").symlink_to("models")


# name -> (how to break the repository, command, what the message must contain)
CASES: dict[str, tuple[Break, tuple[str, ...], tuple[str, ...]]] = {
    "environment null but served": (_null_env, ("validate",), ("models/iris.yaml:", "serve.production",
                                                               "has no port")),
    "data.path through .. ": (_replace("models/iris.yaml", "path: data/iris.csv", "path: ../outside.csv"),
                              ("validate",), ("models/iris.yaml:", "data.path", "outside the repository")),
    "data.path absolute": (_replace("models/iris.yaml", "path: data/iris.csv", "path: /etc/passwd"),
                           ("validate",), ("models/iris.yaml:", "data.path", "relative to the repository")),
    "data file symlinked out": (lambda r, o: ((o / "x.csv").write_text("a\n"),
                                              (r / "data/link.csv").symlink_to(o / "x.csv"),
                                              _replace("models/iris.yaml", "data/iris.csv", "data/link.csv")(r, o)),
                                ("validate",), ("models/iris.yaml:", "data.path", "outside the repository")),
    "retrain data outside": (_append("models/iris.yaml", "monitor:\n  retrain: {data: ../../new.csv}\n"),
                             ("validate",), ("models/iris.yaml:", "monitor.retrain.data", "outside the repository")),
    "model spec symlink loop": (_symlink("models/loop.yaml", "loop.yaml"), ("validate",),
                                ("models/loop.yaml", "loop of symbolic links")),
    "models folder loop": (_models_dir_loop, ("plan",), ("models/", "loop of symbolic links")),
    "model spec outside": (lambda r, o: ((o / "x.yaml").write_text((r / "models/iris.yaml").read_text()),
                                         (r / "models/x.yaml").symlink_to(o / "x.yaml")),
                           ("validate",), ("models/x.yaml", "outside the repository")),
    "no models folder": (lambda r, o: shutil.rmtree(r / "models"), ("plan",), ("models/", "folder is missing")),
    "state folder is a file": (lambda r, o: (r / ".mlopsctl").write_text("x"), ("apply", "--auto-approve"),
                               (".mlopsctl is a file",)),
}
for _args in (("state", "list"), ("state", "history"), ("destroy", "--auto-approve")):
    CASES[f"state folder is a file ({' '.join(_args)})"] = (
        lambda r, o: (r / ".mlopsctl").write_text("x"), _args, (".mlopsctl is a file",))
for _folder in (".github", "docker", "params", "artifacts", "data", ".dvc"):
    CASES[f"{_folder} symlinked out"] = (_link_folder(_folder), ("plan",), (_folder, "outside the repository"))
CASES["data.path is a folder"] = (
    lambda r, o: ((r / "data/dir").mkdir(), _replace("models/iris.yaml", "data/iris.csv", "data/dir")(r, o)),
    ("validate",), ("models/iris.yaml:", "data.path", "is a folder"))



def _fifo(rel: str) -> Break:
    """A named pipe where a file is read: opening it to read would wait for a writer forever."""
    def fn(root: Path, out: Path) -> None:
        (root / rel).unlink(missing_ok=True)
        os.mkfifo(root / rel)
    return fn


CASES["data file is a named pipe"] = (_fifo("data/iris.csv"), ("plan",),
                                      ("data/iris.csv", "a named pipe", "models/iris.yaml:"))
CASES["dvc.lock is a named pipe"] = (_fifo("dvc.lock"), ("plan",), ("dvc.lock", "a named pipe", "models/iris.yaml:"))
CASES["model spec is a named pipe"] = (_fifo("models/x.yaml"), ("plan",), ("models/x.yaml", "a named pipe"))
CASES["model spec is a folder"] = (lambda r, o: (r / "models/x.yaml").mkdir(), ("plan",), ("models/x.yaml", "a folder"))
CASES["model spec links to nothing"] = (_symlink("models/x.yaml", "gone.yaml"), ("plan",),
                                        ("models/x.yaml", "a symlink to nothing"))
CASES["mlops.yaml is a named pipe"] = (_fifo("mlops.yaml"), ("plan",), ("mlops.yaml", "not a regular file"))

def outside_listing(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_repository_gets_a_located_message(tmp_path: Path, cli, case: str) -> None:
    root = make_repo(tmp_path, name="hostile", project={"name": "hostile"})
    out = tmp_path / "outside"
    out.mkdir()
    breaker, args, expected = CASES[case]
    breaker(root, out)
    before = outside_listing(out)
    result = cli(*(args or ("validate",)), repo=root)
    text = result.output
    assert result.exit_code == 1, text
    assert "Traceback" not in text and "unexpected" not in text, text
    for piece in expected:
        assert piece in text, (piece, text)
    assert outside_listing(out) == before


def test_full_disk_is_a_message_naming_the_file(tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo(tmp_path, name="hostile", project={"name": "hostile"})

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    result = cli("plan", "-o", str(root / "plan.json"), repo=root)
    assert result.exit_code == 1 and "unexpected" not in result.output
    assert "cannot write" in result.stderr and "plan.json" in result.stderr and "disk is full" in result.stderr
    result = cli("apply", "--auto-approve", repo=root)
    assert result.exit_code == 1 and "unexpected" not in result.output
    assert ".mlopsctl/lock" in result.stderr and "disk is full" in result.stderr


def test_write_atomic_refuses_paths_leading_out(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "sub").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (root / "linked").symlink_to(tmp_path / "elsewhere")
    (root / "loop").symlink_to("loop")
    for bad in ("../x", str(tmp_path / "x"), "linked/x", "loop/x", "sub/../../x"):
        with pytest.raises(WriteError, match="never reads or writes outside"):
            fsafe.write_atomic(root / bad, "x", root=root)
    fsafe.write_atomic(root / "sub/new/ok.txt", "ok", 0o4755, root=root)
    assert (root / "sub/new/ok.txt").stat().st_mode & 0o7777 == 0o755  # never setuid
    assert not list((tmp_path / "elsewhere").iterdir()) and not (tmp_path / "x").exists()


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True, check=False).returncode == 0


@pytest.fixture
def mount_point(tmp_path: Path):
    """Something mounted for the test (skipped where this machine cannot mount), unmounted after."""
    mounted: list[Path] = []

    def do(*args: str) -> None:
        if os.geteuid() != 0 or shutil.which("mount") is None or not _mount(*args):
            pytest.skip("cannot mount file systems here (needs root)")
        mounted.append(Path(args[-1]))

    yield do
    for p in reversed(mounted):
        subprocess.run(["umount", "-l", str(p)], capture_output=True, check=False)


def test_read_only_repository(tmp_path: Path, cli, mount_point) -> None:
    root = make_repo(tmp_path, name="hostile", project={"name": "hostile"})
    mount_point("--bind", str(root), str(root))
    mount_point("-o", "remount,ro,bind", str(root))
    plan = cli("plan", repo=root)
    assert "unexpected" not in plan.output and "Traceback" not in plan.output
    result = cli("apply", "--auto-approve", repo=root)
    assert result.exit_code == 1 and "unexpected" not in result.output
    assert ".mlopsctl" in result.stderr and "read-only" in result.stderr


def test_really_full_disk(tmp_path: Path, cli, mount_point) -> None:
    root = make_repo(tmp_path, name="hostile", project={"name": "hostile"})
    disk = tmp_path / "tiny"
    disk.mkdir()
    mount_point("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk))
    with open(disk / "filler", "wb") as f:
        try:
            f.write(b"\0" * 200_000)
        except OSError:
            pass
    result = cli("plan", "-o", str(disk / "plan.json"), repo=root)
    assert result.exit_code == 1 and "unexpected" not in result.output
    assert "plan.json" in result.stderr and "disk is full" in result.stderr


def test_zero_models_where_models_existed_is_an_error(tmp_path: Path, cli) -> None:
    root = make_repo(tmp_path, name="hostile", project={"name": "hostile"})
    git(root, "tag", "-a", "iris@v1.0.0", "-m", "registered")
    (root / "models/iris.yaml").unlink()
    result = cli("plan", repo=root)
    assert result.exit_code == 1 and "models existed here (registered models iris)" in result.stderr
    assert "--allow-no-models" in result.stderr
    allowed = cli("plan", "--allow-no-models", repo=root)
    assert allowed.exit_code == 0, allowed.output


# -- a generated corpus: every spec path field x every way a path can lead out --------------------
PATH_FIELDS = {
    "data.path": lambda v: {"data": {"path": v, "target": "species"}},
    "monitor.retrain.data": lambda v: {"monitor": {"retrain": {"data": v}}},
    "train.deps.0": lambda v: {"train": {"cmd": "python train.py", "deps": [v]}},
    "train.outs.0": lambda v: {"train": {"cmd": "python train.py", "outs": [v]}},
    "train.metrics": lambda v: {"train": {"cmd": "python train.py", "metrics": v}},
}
ESCAPES = {
    "dotdot": "../outside/x.csv",
    "dotdot inside": "data/../../outside/x.csv",
    "absolute": "{out}/x.csv",
    "home": "~/x.csv",
    "linked folder": "linked/x.csv",
    "linked file": "data/linked.csv",
    "loop": "data/loop.csv",
}


@pytest.mark.parametrize("escape", sorted(ESCAPES))
@pytest.mark.parametrize("field", sorted(PATH_FIELDS))
def test_no_spec_path_leads_out_of_the_repository(tmp_path: Path, cli, field: str, escape: str) -> None:
    out = tmp_path / "outside"
    out.mkdir()
    (out / "x.csv").write_text("a\n1\n")
    value = ESCAPES[escape].format(out=out)
    root = make_repo(tmp_path, name="hostile", project={"name": "hostile"}, model=PATH_FIELDS[field](value))
    (root / "linked").symlink_to(out)
    (root / "data/linked.csv").symlink_to(out / "x.csv")
    (root / "data/loop.csv").symlink_to("loop.csv")
    result = cli("validate", repo=root)
    text = result.output
    assert result.exit_code == 1, text
    assert "Traceback" not in text and "unexpected" not in text, text
    assert "models/iris.yaml:" in text and f"{field}:" in text, text
    assert (out / "x.csv").read_text() == "a\n1\n" and sorted(p.name for p in out.iterdir()) == ["x.csv"]
