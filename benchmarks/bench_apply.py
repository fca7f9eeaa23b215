"""Fresh apply of N models against ``dvc repro`` + ``dvc push`` of the same ``dvc.yaml`` and data.

For each size, two copies of the same prepared repository (``make_repos.py``: managed files
rendered, datasets tracked and pushed, nothing trained): on one, ``dvc repro`` then ``dvc push``;
on the other, ``mlopsctl apply --auto-approve`` (training every stage, recording ``dvc.lock``,
pushing, registering every version). The two runs alternate order from size to size. Figures:
wall time and CPU time (this process's children: every worker and DVC process). Afterwards
``dvc status`` on our copy must say up to date. Then the growth is fitted (a·N + b·N², least
squares) and 1,000 models extrapolated when not measured.

Targets: CPU at 100 models <= 0.5x the peer; time(100) / time(10) <= 11.
Run: .venv/bin/python benchmarks/bench_apply.py [--sizes 10 30 100] [--dir DIR] [--parallelism N]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import venv_script
from make_repos import build, copy


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def measure(cmds: list[list[str]], cwd: Path) -> tuple[float, float]:
    """(wall, cpu) seconds of running ``cmds`` one after the other; stops on a failure."""
    # `mlopsctl train` in the stages' cmd must be this environment's, for DVC too.
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    wall0, cpu0 = time.perf_counter(), _children_cpu()
    for cmd in cmds:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False,
                              env=env)
        if proc.returncode != 0:
            raise SystemExit(f"`{' '.join(cmd)}` exited {proc.returncode}:\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}")
    return time.perf_counter() - wall0, _children_cpu() - cpu0


def fit(points: list[tuple[int, float]]) -> list[float]:
    """Least squares of t = c + a·N (+ b·N² from three sizes on): [c, a, b]."""
    import numpy as np

    n = np.array([p[0] for p in points], dtype="float64")
    t = np.array([p[1] for p in points], dtype="float64")
    cols = [np.ones_like(n), n] + ([n * n] if len(points) >= 3 else [])
    coef = np.linalg.lstsq(np.stack(cols, axis=1), t, rcond=None)[0].tolist()
    return coef + [0.0] * (3 - len(coef))


def curve(coef: list[float]) -> str:
    c, a, b = coef
    return f"{c:.2f} + {a:.4f} N + {b:.7f} N^2 s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 30, 100])
    parser.add_argument("--dir", type=Path, default=None, help="where the repositories go (kept; reused)")
    parser.add_argument("--parallelism", type=int, default=None)
    parser.add_argument("--skip-peer", type=int, nargs="*", default=[], metavar="N",
                        help="sizes at which dvc is not run (too long on this machine)")
    args = parser.parse_args()
    workdir = (args.dir or Path(tempfile.mkdtemp(prefix="mlopsctl-bench-apply-"))).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    dvc, ours = venv_script("dvc"), venv_script("mlopsctl")
    extra = ["--parallelism", str(args.parallelism)] if args.parallelism else []
    print(f"{os.cpu_count()} cores; repositories under {workdir}")
    rows: list[tuple[int, float, float, float, float]] = []
    for i, size in enumerate(args.sizes):
        build(size, workdir)
        runs = {}
        order = ["peer", "ours"] if i % 2 == 0 else ["ours", "peer"]
        for who in order:
            if who == "peer" and size in args.skip_peer:
                runs[who] = (float("nan"), float("nan"))
                continue
            repo = copy(size, workdir, f"{who}-{size}")
            if who == "peer":
                runs[who] = measure([[dvc, "repro", "-q"], [dvc, "push", "-q"]], repo)
            else:
                runs[who] = measure([[ours, "apply", "--auto-approve", *extra]], repo)
                status = subprocess.run([dvc, "status"], cwd=repo, capture_output=True, text=True, check=False)
                clean = "up to date" in status.stdout
                print(f"  [{size}] dvc status after apply: {'clean' if clean else 'NOT clean: ' + status.stdout[:300]}")
        (pw, pc), (ow, oc) = runs["peer"], runs["ours"]
        rows.append((size, ow, oc, pw, pc))
        print(f"{size:5d} models  mlopsctl apply {ow:7.1f} s wall {oc:7.1f} s CPU   dvc repro+push {pw:7.1f} s wall "
              f"{pc:7.1f} s CPU   ratio CPU {oc / pc:.2f}, wall {ow / pw:.2f}", flush=True)
    by = {r[0]: r for r in rows}
    if 10 in by and 100 in by:
        print(f"growth time(100)/time(10): wall {by[100][1] / by[10][1]:.2f}, CPU {by[100][2] / by[10][2]:.2f} "
              "(target <= 11)")
    if len(rows) >= 2:
        for label, col in (("mlopsctl CPU", 2), ("dvc CPU", 4), ("mlopsctl wall", 1), ("dvc wall", 3)):
            points = [(r[0], r[col]) for r in rows if r[col] == r[col]]  # NaN: not measured
            if len(points) < 2:
                continue
            coef = fit(points)
            at = coef[0] + coef[1] * 1000 + coef[2] * 1e6
            print(f"fit {label}: {curve(coef)}  ->  1,000 models: {at:.0f} s")


if __name__ == "__main__":
    main()
