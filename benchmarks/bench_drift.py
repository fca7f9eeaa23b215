"""Drift over 1,000,000 current rows and 20 features, and the same comparison through Evidently.

Target: the drift computation within 5 s and 1 GB peak memory. Data: a reference profile built
from 200,000 training rows (16 numeric features, 4 categorical), current data of 1,000,000 rows
with three features shifted, plus predicted classes for the prediction distribution. Each phase
runs in its own process so its peak RSS (ru_maxrss) is its own:

- ``compare``: the in-memory comparison (PSI, KS against the stored sample, chi-square, missing and
  out-of-contract shares) of the 1M-row DataFrame;
- ``end-to-end``: read the 1M-row CSV, then compare (what ``mlopsctl drift --data`` does, minus
  loading a model);
- ``evidently``: Evidently's data-drift preset on the same reference and current data (its own
  defaults: for more than 1,000 rows, Wasserstein distance for numeric and Jensen-Shannon for
  categorical columns), when an interpreter with evidently is given (``--evidently-python``, or
  importable here). Evidently compares against the full reference rows; mlopsctl against the
  stored profile (bins + a 5,000-value sample per feature).

Prints figures only (no assertion).
Run: .venv/bin/python benchmarks/bench_drift.py [--rows 1000000] [--evidently-python PATH]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NUMERIC = [f"x{i:02d}" for i in range(16)]
CATEGORICAL = [f"c{i}" for i in range(4)]
FEATURES = {**{n: {"type": "float"} for n in NUMERIC}, **{c: {"type": "category"} for c in CATEGORICAL}}


def make_frame(n: int, seed: int, shifted: bool) -> object:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    data = {name: rng.normal(0.0, 1.0, n) for name in NUMERIC}
    if shifted:
        data["x00"] = data["x00"] + 1.0
        data["x07"] = data["x07"] * 2.0
    cats = ["a", "b", "c", "d", "e"]
    for i, name in enumerate(CATEGORICAL):
        p = np.array([0.4, 0.25, 0.15, 0.12, 0.08])
        if shifted and i == 0:
            p = p[::-1]
        data[name] = rng.choice(cats, n, p=p)
    return pd.DataFrame(data)


def prepare(workdir: Path, rows: int) -> None:
    import numpy as np

    from mlopsctl.monitoring.profile import build_profile, dumps

    ref = make_frame(200_000, 1, shifted=False)
    cur = make_frame(rows, 2, shifted=True)
    preds_ref = np.where(ref["x01"] > 0, "yes", "no")  # type: ignore[index]
    (workdir / "profile.json").write_text(dumps(build_profile(ref, preds_ref, FEATURES, "classification", "bench")))
    ref.to_csv(workdir / "reference.csv", index=False)  # type: ignore[attr-defined]
    cur.to_pickle(workdir / "current.pkl")  # type: ignore[attr-defined]
    cur.to_csv(workdir / "current.csv", index=False)  # type: ignore[attr-defined]
    np.save(workdir / "predictions.npy", np.where(cur["x01"] > 0.3, "yes", "no"))  # type: ignore[index]


def phase(workdir: Path, which: str) -> dict[str, float]:
    """One measured phase, in this (fresh) process."""
    import resource

    import numpy as np
    import pandas as pd

    from mlopsctl.monitoring.drift import compare
    from mlopsctl.monitoring.profile import load_profile

    out: dict[str, float] = {}
    if which == "evidently":
        from evidently import Report
        from evidently.presets import DataDriftPreset

        ref = pd.read_csv(workdir / "reference.csv")
        cur = pd.read_csv(workdir / "current.csv")
        start = time.perf_counter()
        result = Report([DataDriftPreset()]).run(cur, ref)
        out["seconds"] = time.perf_counter() - start
        out["drifted"] = float(sum(1 for m in result.dict()["metrics"] if "ValueDrift" in str(m.get("metric_id"))
                                   and (m.get("value") or 0) > 0.1))
    else:
        profile = load_profile(workdir / "profile.json")
        preds = np.load(workdir / "predictions.npy", allow_pickle=False)
        if which == "compare":
            frame = pd.read_pickle(workdir / "current.pkl")
            start = time.perf_counter()
        else:
            start = time.perf_counter()
            frame = pd.read_csv(workdir / "current.csv")
        report = compare(profile, frame, FEATURES, predictions=preds)
        out["seconds"] = time.perf_counter() - start
        out["drifted"] = float(len(report.drifted_features))
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def run_phase(python: str, workdir: Path, which: str) -> dict[str, float] | str:
    proc = subprocess.run([python, __file__, "--phase", which, "--workdir", str(workdir)], capture_output=True,
                          text=True, check=False, cwd=ROOT)
    if proc.returncode != 0:
        return (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--evidently-python", default=None, help="An interpreter with evidently.")
    parser.add_argument("--phase", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(phase(Path(args.workdir), args.phase)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-drift-") as tmp:
        workdir = Path(tmp)
        t0 = time.perf_counter()
        prepare(workdir, args.rows)
        print(f"prepared {args.rows:,} current rows x {len(FEATURES)} features in {time.perf_counter() - t0:.1f}s")
        results = {}
        for which in ("compare", "end-to-end"):
            res = run_phase(sys.executable, workdir, which)
            results[which] = res
            if isinstance(res, str):
                print(f"{which:<11} failed: {res}")
            else:
                print(f"{which:<11} {res['seconds']:6.2f}s  peak {res['peak_mb']:6.0f} MB  drifted features "
                      f"{res['drifted']:.0f} of 3 shifted  (target <= 5 s, <= 1024 MB: "
                      f"{'met' if res['seconds'] <= 5 and res['peak_mb'] <= 1024 else 'NOT met'})")
        ev_python = args.evidently_python
        if ev_python is None:
            import importlib.util

            ev_python = sys.executable if importlib.util.find_spec("evidently") else None
        if ev_python is None:
            print("evidently   not installed here: pass --evidently-python PATH (an interpreter with evidently)")
            return
        ev = run_phase(ev_python, workdir, "evidently")
        if isinstance(ev, str):
            print(f"evidently   failed: {ev}")
            return
        print(f"evidently   {ev['seconds']:6.2f}s  peak {ev['peak_mb']:6.0f} MB  (DataDriftPreset, same data)")
        ours = results["compare"]
        if not isinstance(ours, str):
            print(f"ratio mlopsctl/evidently (comparison only) = {ours['seconds'] / ev['seconds']:.3f}")


if __name__ == "__main__":
    main()
