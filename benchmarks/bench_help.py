"""Wall time of ``mlopsctl --help`` against ``dvc --help``: the median of N runs each, and the ratio.

Target: mlopsctl at most half of dvc's time. Prints figures only (no assertion).
Run: .venv/bin/python benchmarks/bench_help.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics

from _common import summary, time_runs, venv_script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    mlopsctl, dvc = venv_script("mlopsctl"), venv_script("dvc")
    for cmd in ([mlopsctl, "--help"], [dvc, "--help"]):
        time_runs(cmd, runs=2)  # warm the OS file cache and the bytecode caches
    ours = time_runs([mlopsctl, "--help"], runs=args.runs)
    theirs = time_runs([dvc, "--help"], runs=args.runs)

    ratio = statistics.median(ours) / statistics.median(theirs)
    print(f"mlopsctl --help  {summary(ours)}")
    print(f"dvc --help       {summary(theirs)}")
    print(f"ratio mlopsctl/dvc = {ratio:.2f}  (target <= 0.50: {'met' if ratio <= 0.5 else 'NOT met'})")


if __name__ == "__main__":
    main()
