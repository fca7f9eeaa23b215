"""A no-op plan of the DVC side (datasets + training stages) against ``dvc status``.

For each size: generate a repository of N models with the shared builders, render the managed
files (``apply --target 'file.*'``), track and push every dataset with DVC, give every stage
outputs and record them with ``dvc commit`` (what a finished ``dvc repro`` leaves, without
training N models), then time on the same, up-to-date repository:

- ``dvc status`` (what a DVC user runs);
- ``mlopsctl plan --target 'stage.*'`` (a real no-op plan of the stages and what they need:
  the files and the datasets), end to end as a user runs it;
- the dataset and stage providers' read+diff alone, in-process (warm stat cache).

Targets: the no-op plan at most 1/3 of ``dvc status`` at 100 models and 1/4 at 1,000.
Prints figures only. Run: .venv/bin/python benchmarks/bench_stage_status.py [--sizes 100 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from _common import summary, time_runs, venv_script

from tests.builders import make_repo, run_mlopsctl


def _dvc(repo: Path, *args: str) -> None:
    proc = subprocess.run([venv_script("dvc"), *args], cwd=repo, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"dvc {' '.join(args)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def prepare(size: int, workdir: Path) -> Path:
    models = [f"m{i:04d}" for i in range(size)]
    t0 = time.perf_counter()
    repo = make_repo(workdir, models=models, name=f"repo-{size}")
    applied = run_mlopsctl(["apply", "--auto-approve", "--target", "file.*"], repo, timeout=3600)
    if applied.returncode != 0:
        raise SystemExit(f"apply failed:\n{applied.stderr[-3000:]}")
    _dvc(repo, "init", "-q")
    _dvc(repo, "remote", "add", "-d", "local", "../dvc-remote")
    subprocess.run(["git", "rm", "-r", "-q", "--cached", "data"], cwd=repo, check=True)
    _dvc(repo, "add", "-q", *[f"data/{m}.csv" for m in models])
    _dvc(repo, "push", "-q")
    for i, m in enumerate(models):
        out = repo / "artifacts" / m
        out.mkdir(parents=True)
        (out / "model.joblib").write_bytes(b"model %d" % i)
        (out / "metrics.json").write_text(json.dumps({"accuracy": 0.9, "f1_macro": 0.9}))
        (out / "lineage.json").write_text(json.dumps({"model": m}))
    _dvc(repo, "commit", "-f", "-q")
    time.sleep(2.5)  # let every file age past the stat cache's racy window, as on a real repo
    print(f"[{size} models] prepared {repo} in {time.perf_counter() - t0:.1f} s")
    return repo


def providers_only(repo: Path, runs: int) -> list[float]:
    from mlopsctl.core.model import Action
    from mlopsctl.core.plan import diff_one
    from mlopsctl.providers.dataset import DatasetProvider
    from mlopsctl.providers.stage import StageProvider
    from tests.pipeline.dvcrepos import context

    times = []
    for _ in range(runs + 1):
        ctx = context(repo, log=lambda _: None)
        t0 = time.perf_counter()
        pending = 0
        for provider in (DatasetProvider(), StageProvider()):
            for r in provider.expand(ctx):
                change = diff_one(ctx, r.address, r)
                ctx.upstream[r.address] = change
                pending += change.action is not Action.NOOP
        times.append(time.perf_counter() - t0)
        if pending:
            print(f"  warning: {pending} dataset/stage changes pending; not a no-op")
        ctx.save_memos()
    return times[1:]


def bench(size: int, workdir: Path, runs: int) -> None:
    repo = prepare(size, workdir)
    plan_cmd = [venv_script("mlopsctl"), "plan", "--detailed-exitcode", "--target", "stage.*"]
    cold = time_runs(plan_cmd, runs=1, cwd=repo)
    dvc_times = time_runs([venv_script("dvc"), "status", "-q"], runs=runs, cwd=repo)
    plan_times = time_runs(plan_cmd, runs=runs, cwd=repo)
    status = subprocess.run([venv_script("dvc"), "status", "--json"], cwd=repo, capture_output=True, text=True,
                            check=False)
    print(f"[{size} models] dvc status says: {status.stdout.strip()[:80] or '{}'}")
    print(f"[{size} models] dvc status                          {summary(dvc_times)}")
    print(f"[{size} models] mlopsctl plan --target 'stage.*'     {summary(plan_times)}  (first run {cold[0]:.2f} s)")
    inproc = providers_only(repo, runs)
    print(f"[{size} models] dataset+stage read/diff in-process   {summary(inproc)}")
    ratio = statistics.median(plan_times) / statistics.median(dvc_times)
    target = 1 / 3 if size <= 100 else 1 / 4
    print(f"[{size} models] plan / dvc status = {ratio:.2f} (target <= {target:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="Keep the generated repositories.")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="mlopsctl-bench-stage-"))
    try:
        for size in args.sizes:
            bench(size, workdir, args.runs)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
