"""Registering N model versions in one apply, against ``gto register`` per model on the same repository.

For each size: the N-model repository of ``make_repos.py`` (reused from DIR), given every stage's
outputs without training (a small artifact, its lineage, the metrics and plots a finished stage
leaves) and recorded with one ``dvc commit`` and a Git commit, as after ``dvc repro``. On a fresh
copy of it, one process plans ``--target 'model.*'`` and applies that plan as ``mlopsctl apply``
does (the stages are up to date, so only the N ``model.*`` steps run: N versions registered).
Measured:

- the apply phase alone, wall and CPU (the process and every git process it ran);
- the ``model.*`` steps within it, summed from the apply's journal (wall; the rest is the
  journal's one fsync per finished step);
- the peer, interleaved: ``gto register MODEL`` for the first --peer models on another copy (one
  process per version, as a person or a script registers with GTO), per version and scaled to N.

Prints the figures and the growth ratio time(N) / time(previous N) (linear: about the size ratio).
Target: 1,000 versions registered in <= 5 s. With ``--mlopsctl-path SRC`` the commands run that
source tree (e.g. an export of an older commit), to measure before and after on one machine.

Run: .venv/bin/python benchmarks/bench_register.py DIR [--sizes 10 100 1000] [--peer 10]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import make_repos
from _common import ROOT, venv_script

from tests.builders import git


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run(cmd: list[str], cwd: Path, env: dict[str, str], ok: tuple[int, ...] = (0, 2)) -> tuple[float, float, str]:
    w, c = time.perf_counter(), _cpu()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
    if proc.returncode not in ok:
        raise SystemExit(f"`{' '.join(cmd)}` exited {proc.returncode}:\n{proc.stdout[-1500:]}{proc.stderr[-1500:]}")
    return time.perf_counter() - w, _cpu() - c, proc.stdout


# Plans ``model.*`` and applies it in one process as ``mlopsctl apply`` does, timing the two phases
# apart. CPU before the apply phase is the process's and its finished children's; the apply's
# share is the whole run's (measured by the parent once every git process has exited) minus it.
DRIVER = """
import json, resource, sys, time
from pathlib import Path
from mlopsctl.commands._common import make_context
from mlopsctl.core.apply import execute
from mlopsctl.core.plan import compute_plan
from mlopsctl.core.state import Journal
from mlopsctl.specs.load import load_project

def cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime

w0 = time.perf_counter()
ctx = make_context(load_project(Path.cwd()))
ctx.log = lambda _msg: None
plan = compute_plan(ctx, targets=("model.*",))
ctx.save_memos()
w1, c1 = time.perf_counter(), cpu()
execute(ctx, plan, Journal(ctx.state_dir))
w2 = time.perf_counter()
print(json.dumps({"plan_wall": w1 - w0, "cpu_before_apply": c1, "apply_wall": w2 - w1, "pending": len(plan.pending)}))
"""


def recorded(size: int, workdir: Path) -> Path:
    """``workdir/recorded-N``: the base repository with every stage's outputs recorded (built once)."""
    dest = workdir / f"recorded-{size}"
    repo = dest / "repo"
    if (repo / "dvc.lock").is_file():
        return repo
    make_repos.build(size, workdir)
    repo = make_repos.copy(size, workdir, f"recorded-{size}")
    models = sorted(p.stem for p in (repo / "models").glob("*.yaml"))
    for i, m in enumerate(models):
        art, rep = repo / "artifacts" / m, repo / "reports" / m
        (rep / "plots").mkdir(parents=True, exist_ok=True)
        art.mkdir(parents=True, exist_ok=True)
        (art / "model.joblib").write_bytes(b"model %d" % i)
        (art / "lineage.json").write_text(json.dumps({"model": m}))
        (rep / "metrics.json").write_text(json.dumps({"accuracy": 0.95, "f1_macro": 0.94}))
        (rep / "plots" / "confusion.csv").write_text("actual,predicted\nsetosa,setosa\n")
        (rep / "plots" / "roc.csv").write_text("fpr,tpr\n0,0\n1,1\n")
        (rep / "plots" / "precision_recall.csv").write_text("recall,precision\n0,1\n1,0\n")
    make_repos._dvc(repo, "commit", "-f", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "stages recorded")
    return repo


def _copy(size: int, workdir: Path, name: str) -> Path:
    return make_repos.copy(size, workdir, name, kind="recorded")


def _step_seconds(repo: Path) -> tuple[int, float]:
    """How many ``model.*`` steps the last apply finished, and their summed seconds (its journal)."""
    n, total = 0, 0.0
    for line in (repo / ".mlopsctl" / "history.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if rec.get("event") == "step" and str(rec.get("address", "")).startswith("model.") and rec["status"] == "ok":
            n, total = n + 1, total + float(rec["seconds"])
    return n, total


def bench(size: int, workdir: Path, source: Path, peer: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(source), "NO_COLOR": "1"}
    recorded(size, workdir)
    time.sleep(2.5)  # let every file age past the stat caches' racy window, as on a real repository
    ours, theirs = (_copy(size, workdir, f"{k}-{size}") for k in ("apply", "gto"))
    _, total_c, out = run([sys.executable, "-c", DRIVER], ours, env, ok=(0,))
    figures = json.loads(out.strip().splitlines()[-1])
    apply_w, apply_c = figures["apply_wall"], total_c - figures["cpu_before_apply"]
    steps, step_w = _step_seconds(ours)
    models = sorted(p.stem for p in (theirs / "models").glob("*.yaml"))[:peer]
    gto_w = gto_c = 0.0
    for m in models:
        w, c, _ = run([venv_script("gto"), "register", m], theirs, env, ok=(0,))
        gto_w, gto_c = gto_w + w, gto_c + c
    tags = len(git(ours, "tag", "--list").split())
    print(f"[{size} models, {source}] {steps} versions registered ({tags} tags)")
    print(f"  plan  --target 'model.*'        {figures['plan_wall']:7.2f} s wall")
    print(f"  apply: registering {steps:>5} versions {apply_w:7.2f} s wall {apply_c:7.2f} s CPU   "
          f"{apply_w / max(steps, 1) * 1000:.2f} ms wall, {apply_c / max(steps, 1) * 1000:.2f} ms CPU per version"
          + (f"   target <= 5 s: {'met' if apply_w <= 5 and apply_c <= 5 else 'NOT met'}" if size >= 1000 else ""))
    print(f"    of which the model.* steps     {step_w:7.2f} s wall (the rest: the journal, one fsync per step)")
    if models:
        per_w, per_c = gto_w / len(models), gto_c / len(models)
        print(f"  gto register x{len(models):<4}              {gto_w:7.2f} s wall {gto_c:7.2f} s CPU   "
              f"per version {per_w * 1000:.0f} ms wall {per_c * 1000:.0f} ms CPU; x{size}: about "
              f"{per_w * size:.1f} s wall {per_c * size:.1f} s CPU")
        print(f"  ratio registering / gto register (same N): wall {apply_w / (per_w * size):.4f}, "
              f"CPU {apply_c / (per_c * size):.4f}")
    for name in ("apply", "gto"):
        shutil.rmtree(workdir / f"{name}-{size}", ignore_errors=True)
    return {"wall": apply_w, "cpu": apply_c, "steps": step_w}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path, help="where the repositories are built (and reused)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--peer", type=int, default=10, help="models registered with gto for the ratio (0: none)")
    parser.add_argument("--mlopsctl-path", type=Path, default=ROOT)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    previous: tuple[int, dict[str, float]] | None = None
    for size in args.sizes:
        figures = bench(size, args.dir.resolve(), args.mlopsctl_path.resolve(), args.peer)
        if previous is not None:
            n0, f0 = previous
            print(f"  growth {n0} -> {size} models (x{size / n0:g}): registering wall x{figures['wall'] / f0['wall']:.1f}, "
                  f"CPU x{figures['cpu'] / f0['cpu']:.1f}; model.* steps x{figures['steps'] / f0['steps']:.1f}")
        previous = (size, figures)


if __name__ == "__main__":
    main()
