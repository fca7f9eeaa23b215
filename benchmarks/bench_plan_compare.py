"""Before and after on one repository: plans of two mlopsctl source trees, interleaved.

The machine is shared and its speed moves within minutes, so a change is measured against the
code before it in the same run, alternating which goes first. Each tree plans its own copy of the
repository (``cp -a``, beside it, so a remote relative to it is the same), so one tree's caches never
invalidate the other's. Measured (median of
--runs, wall and CPU of the plan process):

- computed: a no-op plan with the plan memo off (what a plan after ``apply`` costs);
- warm: a no-op plan run twice, the second timed (the memo reused);
- param: one model's ``n_estimators`` changed before each run (the memo misses; since the memo takes
  kept changes an edit cannot touch, the other models' changes come from it);
- cold: ``.mlopsctl/cache`` removed before each run (every fresh CI clone), and the user's cache
  folder too (each tree plans with its own ``XDG_CACHE_HOME``: a fresh machine, as a hosted runner);
- ci cold: the same on a CI runner (``CI=true``: no plan memo kept, nothing recorded; the
  target's case). Both cold plans fork the facts helper and the read worker (with two cores); the
  CPU time counts them (they are reaped by the plan);
- fresh param: both caches removed and a plan run, then a param changed and timed (a CI
  runner's first plan of a pull request that changes a param).

Give repositories that ``make_repos.py --applied`` left applied (``DIR/applied-N/repo``); the
"before" tree is an export of an older commit (``git archive C mlopsctl schemas templates``).

``--instructions``: every plan runs under valgrind's callgrind instead (the plan memo is keyed by
the environment, valgrind's included, so a warm plan's first run must be under it too), and the
instructions the timed plan executed are compared (user space, the interpreter's startup included). On a
shared machine whose speed moves by 1.5x within minutes, that count is the same from run to run,
so a change of a few percent shows; it leaves out system time and memory stalls, so the CPU times
remain the figures to quote against the targets.

Run: .venv/bin/python benchmarks/bench_plan_compare.py REPO --before SRC [--after SRC] [--runs 6] [--instructions]
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
from collections.abc import Callable
from pathlib import Path

from _common import ROOT, mlopsctl_command

MODES = ("computed", "warm", "param", "cold", "ci cold", "fresh param")


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


class Tree:
    """One source tree and its own copy of the repository."""

    def __init__(self, label: str, source: Path, repo: Path) -> None:
        self.label, self.source = label, source
        self.repo = repo.parent / f"{repo.name}.{label}"
        if not self.repo.exists():
            subprocess.run(["cp", "-a", str(repo), str(self.repo)], check=True)
        self.spec = min((self.repo / "models").glob("*.yaml"))
        self.text = self.spec.read_text()
        self.edits = 0
        self.user_cache = repo.parent / f"{repo.name}.{label}.user-cache"

    counting = False
    """Whether plans run under callgrind (``--instructions``)."""

    def plan(self, memo: str | None) -> tuple[float, float]:
        """(wall, CPU) seconds of one plan; with :attr:`counting`, its instructions (twice).
        ``memo`` None: a CI runner's plan (``CI=true``, the plan memo as a runner has it)."""
        env = {k: v for k, v in os.environ.items() if k not in ("CI", "MLOPSCTL_PLAN_MEMO")}
        env.update({"PYTHONPATH": str(self.source), "XDG_CACHE_HOME": str(self.user_cache)})
        env.update({"MLOPSCTL_PLAN_MEMO": memo} if memo is not None else {"CI": "true"})
        count = self.counting  # every plan: the plan memo is keyed by the environment, valgrind's included
        prefix = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] if count else []
        w, c = time.perf_counter(), _cpu()
        proc = subprocess.run([*prefix, *mlopsctl_command(), "plan", "--detailed-exitcode"], cwd=self.repo, env=env,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
        if proc.returncode not in (0, 1, 2):
            raise SystemExit(f"{self.label}: plan exited {proc.returncode}:\n{proc.stderr[-2000:]}")
        if count:
            found = re.search(r"Collected : (\d+)", proc.stderr)
            if found is None:
                raise SystemExit(f"{self.label}: no instruction count from valgrind:\n{proc.stderr[-2000:]}")
            return float(found.group(1)), float(found.group(1))
        return time.perf_counter() - w, _cpu() - c

    def settle(self) -> None:
        """One plan outside valgrind on a fresh copy, so the first counted one finds the stat-keyed
        caches as a second plan would (timed runs after the first do the same)."""
        counting, Tree.counting = Tree.counting, False
        try:
            self.plan("on")
        finally:
            Tree.counting = counting

    def edit_param(self) -> None:
        self.edits += 1
        self.spec.write_text(re.sub(r"n_estimators: (\d+)", lambda m: f"n_estimators: {int(m.group(1)) + self.edits}",
                                    self.text, count=1))
        time.sleep(0.1)  # the edit is not "within a timestamp tick" of the plan

    def restore(self) -> None:
        if self.spec.read_text() != self.text:
            self.spec.write_text(self.text)
            time.sleep(0.1)

    def drop_cache(self) -> None:
        shutil.rmtree(self.repo / ".mlopsctl" / "cache", ignore_errors=True)
        shutil.rmtree(self.user_cache, ignore_errors=True)


def measure(tree: Tree, mode: str) -> tuple[float, float]:
    steps: dict[str, Callable[[], tuple[float, float]]] = {
        "computed": lambda: (tree.restore(), tree.plan("off"))[1],
        "warm": lambda: (tree.restore(), tree.plan("on"), tree.plan("on"))[2],
        "param": lambda: (tree.edit_param(), tree.plan("on"))[1],
        "cold": lambda: (tree.restore(), tree.drop_cache(), tree.plan("on"))[2],
        "ci cold": lambda: (tree.restore(), tree.drop_cache(), tree.plan(None))[2],
        "fresh param": lambda: (tree.restore(), tree.drop_cache(), tree.plan("on"), tree.edit_param(),
                                tree.plan("on"))[4],
    }
    return steps[mode]()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--before", type=Path, required=True, help="the source tree before the change")
    parser.add_argument("--after", type=Path, default=ROOT, help="the source tree after it (default: this one)")
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--keep", action="store_true", help="keep the repository copies (beside REPO)")
    parser.add_argument("--modes", default=",".join(MODES), help=f"which plans, comma-separated (default: {', '.join(MODES)})")
    parser.add_argument("--instructions", action="store_true",
                        help="count each timed plan's instructions under valgrind (callgrind) instead of timing it")
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or any(m not in MODES for m in modes):
        parser.error(f"--modes: choose among {', '.join(MODES)}")
    if args.instructions and shutil.which("valgrind") is None:
        parser.error("--instructions needs valgrind (Debian: apt-get install valgrind)")
    Tree.counting = args.instructions
    repo = args.repo.resolve()
    trees = [Tree("before", args.before.resolve(), repo), Tree("after", args.after.resolve(), repo)]
    if args.instructions:
        for tree in trees:
            tree.settle()
    n = len(list((repo / "models").glob("*.yaml")))
    print(f"[{n} models: {trees[0].source} -> {trees[1].source}; median of {args.runs}, interleaved]")
    unit = "instructions, G" if args.instructions else "wall / CPU s"
    ratio = "after/before" if args.instructions else "after/before CPU"
    print(f"  {'plan':12s} {f'before ({unit})':>22s} {f'after ({unit})':>22s}   {ratio}")
    try:
        for mode in modes:
            got: dict[str, list[tuple[float, float]]] = {t.label: [] for t in trees}
            if mode == "param":
                # A kept plan of this very environment first (valgrind's is another key), whatever
                # mode ran before: else the first counted edit finds no memo and measures a whole plan.
                for tree in trees:
                    tree.restore()
                    tree.plan("on")
            for i in range(args.runs):
                for tree in trees if i % 2 == 0 else trees[::-1]:
                    got[tree.label].append(measure(tree, mode))
            (bw, bc), (aw, ac) = ((statistics.median(x[0] for x in got[t.label]),
                                   statistics.median(x[1] for x in got[t.label])) for t in trees)
            if args.instructions:
                print(f"  {mode:12s} {bc / 1e9:18.2f}     {ac / 1e9:18.2f}        {ac / bc:.2f}")
            else:
                print(f"  {mode:12s} {bw:10.2f} / {bc:5.2f}      {aw:10.2f} / {ac:5.2f}        {ac / bc:.2f}")
            sys.stdout.flush()
    finally:
        for tree in trees:
            tree.restore()
            if not args.keep:
                shutil.rmtree(tree.repo, ignore_errors=True)
            shutil.rmtree(tree.user_cache, ignore_errors=True)


if __name__ == "__main__":
    main()
