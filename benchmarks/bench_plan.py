"""Plans on a fully applied N-model repository, against ``dvc status`` on the same repository.

Give it repositories that ``make_repos.py --applied`` left applied (``DIR/applied-N/repo``), or
any applied repository. Measured, interleaved with ``dvc status`` (median of --runs, wall and CPU):

- cold no-op plan: ``.mlopsctl/cache`` removed before each run (a fresh clone), and the
  user's cache folder too (the plans run with their own ``XDG_CACHE_HOME``: a fresh machine);
  once as on a developer's machine, which keeps the plan memo for the next plan, and once as on a
  CI runner (``CI=true``), which keeps none (no later plan there could reuse it). With two cores
  or more, a cold plan forks the facts helper (``mlopsctl/pipeline/prefetch.py``): its wall time
  is then below its CPU time, which counts the helper's;
- warm no-op plan: the cache of the previous run kept, so the plan memo is reused; and the same
  plan computed (``MLOPSCTL_PLAN_MEMO=off``) for comparison;
- plan after one model's parameter changed (``n_estimators`` of the first model, a new value each
  run, restored after): the first plan after each edit, so the plan memo never applies; the median
  of the runs after the first, and the first alone (the cold runs removed ``.mlopsctl/cache``, so
  it may import scikit-learn once to remember the estimator's params, as on a fresh clone; an
  apply's trainer leaves them remembered too);
- the same with another model's parameter changed each time (the second, third... model, the
  earlier edits left in place until the end): each edit also changes ``git status``, which the
  edited models' blocked versions ask.

Targets at 1,000 models: cold <= 1.5 s and <= 0.2x ``dvc status``; one param change <= 1.0 s;
warm <= 0.5 s. Prints figures only. With ``--mlopsctl-path DIR`` the plans run that source tree
(e.g. an export of an older commit) instead, to measure before and after on one machine.

Run: .venv/bin/python benchmarks/bench_plan.py REPO... [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT, mlopsctl_command, venv_script


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run(cmd: list[str], cwd: Path, env: dict[str, str], ok: tuple[int, ...] = (0, 2)) -> tuple[float, float]:
    w, c = time.perf_counter(), _cpu()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
    if proc.returncode not in ok:
        raise SystemExit(f"`{' '.join(cmd)}` exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return time.perf_counter() - w, _cpu() - c


def med(xs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(x[0] for x in xs), statistics.median(x[1] for x in xs)


def bench(repo: Path, runs: int, source: Path) -> None:
    user_cache = repo.parent / f"{repo.name}.user-cache"
    base = {k: v for k, v in os.environ.items() if k not in ("CI", "MLOPSCTL_PLAN_MEMO")}
    env = {**base, "PYTHONPATH": str(source), "XDG_CACHE_HOME": str(user_cache), "MLOPSCTL_PLAN_MEMO": "on"}
    computed = {**env, "MLOPSCTL_PLAN_MEMO": "off"}
    runner = {**base, "PYTHONPATH": str(source), "XDG_CACHE_HOME": str(user_cache), "CI": "true"}
    plan = [*mlopsctl_command(), "plan", "--detailed-exitcode"]
    dvc = [venv_script("dvc"), "status"]
    n = len(list((repo / "models").glob("*.yaml")))
    cold, ci_cold, warm, warm_off, status, param, param_off = [], [], [], [], [], [], []
    for _ in range(runs):
        shutil.rmtree(repo / ".mlopsctl" / "cache", ignore_errors=True)
        shutil.rmtree(user_cache, ignore_errors=True)
        ci_cold.append(run(plan, repo, runner))
        shutil.rmtree(repo / ".mlopsctl" / "cache", ignore_errors=True)
        shutil.rmtree(user_cache, ignore_errors=True)
        cold.append(run(plan, repo, env))
        status.append(run(dvc, repo, env))
        warm.append(run(plan, repo, env))
        warm_off.append(run(plan, repo, computed))
    spec = min((repo / "models").glob("*.yaml"))
    text = spec.read_text()
    edited: dict[Path, str] = {}
    other_param: list[tuple[float, float]] = []
    other_off: list[tuple[float, float]] = []
    try:
        # Exit 1 is fine here: the plan may block the retrained version until it is committed.
        for i in range(runs + 1):
            spec.write_text(re.sub(r"n_estimators: (\d+)", lambda m, i=i: f"n_estimators: {int(m.group(1)) + 1 + i}",
                                   text, count=1))
            time.sleep(0.1)  # the edit is not "within a timestamp tick" of the plan
            # The first plan after an edit may fill caches the second then finds: alternate who is first.
            for memo in (True, False) if i % 2 == 0 else (False, True):
                (param if memo else param_off).append(run(plan, repo, env if memo else computed, ok=(0, 1, 2)))
        spec.write_text(text)
        time.sleep(0.1)
        run(plan, repo, env, ok=(0, 1, 2))  # the memo kept with this model as it was
        for i, other in enumerate(sorted((repo / "models").glob("*.yaml"))[1:runs + 2]):
            edited[other] = other.read_text()
            other.write_text(re.sub(r"n_estimators: (\d+)", lambda m: f"n_estimators: {int(m.group(1)) + 1}",
                                    edited[other], count=1))
            time.sleep(0.1)
            for memo in (True, False) if i % 2 == 0 else (False, True):
                (other_param if memo else other_off).append(run(plan, repo, env if memo else computed, ok=(0, 1, 2)))
    finally:
        spec.write_text(text)
        for other, was in edited.items():
            other.write_text(was)
        shutil.rmtree(user_cache, ignore_errors=True)
    (cw, cc), (ww, wc), (sw, sc) = med(cold), med(warm), med(status)
    (ow, oc), (pw, pc), (qw, qc) = med(warm_off), med(param[1:]), med(param_off[1:])
    print(f"[{n} models, {source}]")
    print(f"  cold no-op plan   {cw:6.2f} s wall {cc:6.2f} s CPU   dvc status {sw:6.2f} s wall {sc:6.2f} s CPU   "
          f"ratio wall {cw / sw:.2f}, CPU {cc / sc:.2f}")
    (rw, rc) = med(ci_cold)
    print(f"  cold, CI runner   {rw:6.2f} s wall {rc:6.2f} s CPU   ratio wall {rw / sw:.2f}, CPU {rc / sc:.2f}   "
          f"(CI=true: no memo kept)")
    print(f"  warm no-op plan   {ww:6.2f} s wall {wc:6.2f} s CPU   ratio to dvc status CPU {wc / sc:.2f}   "
          f"(memo off, computed: {ow:.2f} s wall {oc:.2f} s CPU)")
    print(f"  one param changed {pw:6.2f} s wall {pc:6.2f} s CPU   ratio to dvc status CPU {pc / sc:.2f}   "
          f"(memo off: {qw:.2f} s wall {qc:.2f} s CPU; first change after the cold runs "
          f"{param[0][0]:.2f} s wall {param[0][1]:.2f} s CPU)")
    (aw, ac), (bw, bc) = med(other_param[1:]), med(other_off[1:])
    print(f"  another model's   {aw:6.2f} s wall {ac:6.2f} s CPU   ratio to dvc status CPU {ac / sc:.2f}   "
          f"(memo off: {bw:.2f} s wall {bc:.2f} s CPU)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repos", type=Path, nargs="+")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mlopsctl-path", type=Path, default=ROOT)
    args = parser.parse_args()
    for repo in args.repos:
        bench(repo.resolve(), args.runs, args.mlopsctl_path.resolve())
    sys.stdout.flush()


if __name__ == "__main__":
    main()
