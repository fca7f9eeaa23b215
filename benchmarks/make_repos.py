"""Build the N-model repositories the scale benchmarks run on (anyone can run it).

For each size: a committed repository of N iris-like classifiers made with the shared test
builders (``tests/builders.py``), its managed files rendered (``mlopsctl apply --target
'file.*'``), every dataset tracked with one ``dvc add`` and pushed with one ``dvc push`` to the
local remote beside it, all committed. Nothing is trained: ``dvc repro`` and ``mlopsctl apply``
both start from here. Layout: ``DIR/base-N/repo`` and its remote ``DIR/base-N/dvc-remote``; copy
the whole ``base-N`` folder to get an independent pair.

With ``--applied``, also ``DIR/applied-N``: a copy of ``base-N`` brought to what a finished
``mlopsctl apply`` leaves (what ``bench_plan.py`` measures plans on), in minutes rather than
hours at 1,000 models: every model trained by the built-in trainer in this one process (the
ML stack imported once), the stages recorded by ``dvc commit`` (so ``dvc.lock`` is DVC's own,
``dvc status`` is clean), the outputs pushed, committed, then ``mlopsctl apply`` registers the
versions. A plan there is a no-op.

Run: .venv/bin/python benchmarks/make_repos.py DIR [--sizes 10 30 100 300 1000] [--applied]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _common import venv_script

from tests.builders import git, make_repo, run_mlopsctl


def _dvc(repo: Path, *args: str) -> None:
    proc = subprocess.run([venv_script("dvc"), *args], cwd=repo, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"dvc {' '.join(args)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def build(size: int, workdir: Path) -> Path:
    """``workdir/base-<size>/repo``, built once (an existing one is reused)."""
    base = workdir / f"base-{size}"
    repo = base / "repo"
    if (repo / "dvc.yaml").is_file() and (repo / ".dvc").is_dir():
        return repo
    shutil.rmtree(base, ignore_errors=True)
    models = [f"m{i:04d}" for i in range(size)]
    make_repo(base, models=models, name="repo")
    applied = run_mlopsctl(["apply", "--auto-approve", "--target", "file.*"], repo, timeout=3600)
    if applied.returncode != 0:
        raise SystemExit(f"apply --target 'file.*' failed:\n{applied.stderr[-3000:]}")
    _dvc(repo, "init", "-q")
    _dvc(repo, "remote", "add", "-d", "local", "../dvc-remote")
    git(repo, "rm", "-r", "-q", "--cached", "data")
    _dvc(repo, "add", "-q", *[f"data/{m}.csv" for m in models])
    _dvc(repo, "push", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"{size} models, data tracked")
    return repo


def applied(size: int, workdir: Path) -> Path:
    """``workdir/applied-<size>/repo``: base-<size> trained, recorded by DVC, registered (reused if done)."""
    dest = workdir / f"applied-{size}"
    repo = dest / "repo"
    if (dest / ".applied").is_file():
        return repo
    repo = copy(size, workdir, f"applied-{size}")
    from mlopsctl.training.train import train

    models = sorted(p.stem for p in (repo / "models").glob("*.yaml"))
    t0 = time.perf_counter()
    for i, model in enumerate(models):
        train(repo, model, progress=False)
        if i % 100 == 99:
            print(f"  trained {i + 1}/{len(models)} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    _dvc(repo, "commit", "-f", "-q")
    _dvc(repo, "push", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"{size} models trained")
    time.sleep(2.5)  # every file ages past the stat caches' racy window, as on a real repository
    done = run_mlopsctl(["apply", "--auto-approve"], repo, timeout=7200)
    if done.returncode != 0:
        raise SystemExit(f"apply failed:\n{done.stderr[-3000:]}")
    (dest / ".applied").write_text("")
    return repo


def copy(size: int, workdir: Path, name: str, *, kind: str = "base") -> Path:
    """A fresh copy of ``<kind>-<size>`` (repository and remote) as ``workdir/<name>``; its repo."""
    dest = workdir / name
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(workdir / f"{kind}-{size}", dest, symlinks=True)
    return dest / "repo"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 30, 100, 300, 1000])
    parser.add_argument("--applied", action="store_true", help="also DIR/applied-N: trained, recorded, registered")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    for size in args.sizes:
        t0 = time.perf_counter()
        repo = build(size, args.dir.resolve())
        print(f"{size} models: {repo} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
        if args.applied:
            t0 = time.perf_counter()
            repo = applied(size, args.dir.resolve())
            print(f"{size} models applied: {repo} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
