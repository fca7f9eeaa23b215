"""Wall time of a no-op ``mlopsctl plan`` on generated repositories of 100 and 1,000 models.

For each size: generate a committed repository with the shared test builders, apply once so
there is nothing left to do in the measured scope, run ``plan`` once to warm caches, then time
``plan --detailed-exitcode`` (median of N runs). Targets: 0.3 s at 100 models, 1.5 s at 1,000.
Prints figures only (no assertion); says so when the plan was not a no-op.

Scope ``files`` (default) plans the managed files only (``--target 'file.*'``): that is the
no-op plan the targets are about, and it needs neither training nor a Docker engine. Scope
``all`` plans every kind; it is a no-op only when the prepare apply trained every model.

Run: .venv/bin/python benchmarks/bench_noop_plan.py [--sizes 100 1000] [--runs 5] [--scope files|all]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from _common import summary, time_runs, venv_script

from tests.builders import make_repo, run_mlopsctl

TARGETS = {100: 0.3, 1000: 1.5}


def bench(size: int, workdir: Path, runs: int, scope: str) -> None:
    select = ["--target", "file.*"] if scope == "files" else []
    start = time.perf_counter()
    repo = make_repo(workdir, models=[f"m{i:04d}" for i in range(size)], name=f"repo-{size}")
    print(f"[{size} models] generated {repo} in {time.perf_counter() - start:.1f} s")

    start = time.perf_counter()
    applied = run_mlopsctl(["apply", "--auto-approve", *select], repo, timeout=3600)
    if applied.returncode != 0:
        raise SystemExit(f"apply failed (exit {applied.returncode}):\n{applied.stdout[-2000:]}{applied.stderr[-3000:]}")
    print(f"[{size} models] prepare: apply {' '.join(select)} took {time.perf_counter() - start:.1f} s")

    warm = run_mlopsctl(["plan", *select], repo)  # warms the OS cache and mlopsctl's stat cache
    if warm.returncode != 0:
        raise SystemExit(f"plan failed (exit {warm.returncode}):\n{warm.stderr[-3000:]}")
    last = (warm.stdout.strip().splitlines() or ["(no output)"])[-1]

    cmd = [venv_script("mlopsctl"), "plan", "--detailed-exitcode", *select]
    times = time_runs(cmd, runs=runs, cwd=repo, ok_codes=(0, 2))
    noop = run_mlopsctl(["plan", "--detailed-exitcode", *select], repo).returncode == 0
    median = statistics.median(times)
    target = TARGETS.get(size)
    verdict = "" if target is None else f"  target {target:.1f} s: {'met' if median <= target else 'NOT met'}"
    print(f"[{size} models] no-op plan ({scope}): {summary(times)}{verdict}")
    if not noop:
        print(f"[{size} models] NOTE: the plan was not a no-op; its last line: {last}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scope", choices=["files", "all"], default="files")
    parser.add_argument("--keep", action="store_true", help="keep the generated repositories")
    args = parser.parse_args()

    venv_script("mlopsctl")  # fail early outside the venv
    workdir = Path(tempfile.mkdtemp(prefix="mlopsctl-bench-"))
    try:
        for size in args.sizes:
            bench(size, workdir, args.runs, args.scope)
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
