"""``drift`` with predictions (the default) on 1,000,000 rows x 20 features, against plain scipy.

Prepared once: a reference profile from 200,000 training rows, a fitted scikit-learn pipeline
(one-hot categories + a 20-tree random forest) and a 1M-row current CSV with three features
shifted, in a process of its own. Each side runs in its own process too, so its peak RSS
(ru_maxrss) is its own (a child's ru_maxrss starts at its parent's RSS, so the parent stays small):

- ``mlopsctl``: read the CSV, predict and compare with the profile, chunk by chunk: what ``mlopsctl
  drift --data`` does after verifying the model (``monitoring.check.measure``);
- ``scipy``: read the CSV, predict every row at once, then per feature ``scipy.stats.ks_2samp``
  against the same stored sample (numeric) and ``scipy.stats.chisquare`` of the prediction classes:
  the plain per-feature computation.

Each side is timed from reading the CSV to the finished numbers: wall time and CPU time (user + sys,
all threads) of that span, and the whole process's CPU time besides (imports and loading the
model included). Targets: mlopsctl's time <= scipy's, peak <= 700 MB; KS statistics and p-values
equal to 1e-6.
Run: .venv/bin/python benchmarks/bench_drift_predict.py [--rows 1000000]  (--prepare DIR: only write the inputs)
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
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_drift import CATEGORICAL, FEATURES, NUMERIC, make_frame


def prepare(workdir: Path, rows: int) -> None:
    import joblib
    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    from mlopsctl.monitoring.profile import build_profile, dumps

    ref = make_frame(200_000, 1, shifted=False)
    y = np.where(ref["x01"] + 0.5 * ref["x02"] > 0, "yes", "no")  # type: ignore[index]
    pre = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)], remainder="passthrough")
    pipe = Pipeline([("pre", pre), ("est", RandomForestClassifier(n_estimators=20, max_depth=8, random_state=0))])
    pipe.fit(ref.iloc[:20_000], y[:20_000])  # type: ignore[attr-defined]
    joblib.dump(pipe, workdir / "model.joblib")
    preds_ref = pipe.predict(ref.iloc[:20_000])  # type: ignore[attr-defined]
    (workdir / "profile.json").write_text(dumps(build_profile(ref, preds_ref, FEATURES, "classification", "bench")))
    make_frame(rows, 2, shifted=True).to_csv(workdir / "current.csv", index=False)  # type: ignore[attr-defined]


def side(workdir: Path, which: str) -> dict[str, object]:
    import resource

    import joblib
    import numpy as np
    import pandas as pd

    from mlopsctl.monitoring.profile import load_profile

    profile = load_profile(workdir / "profile.json")
    pipe = joblib.load(workdir / "model.joblib")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    start, cpu = time.perf_counter(), usage.ru_utime + usage.ru_stime
    ks: dict[str, list[float]] = {}
    if which == "mlopsctl":
        from mlopsctl.monitoring.check import measure
        from mlopsctl.monitoring.current import read_file
        from mlopsctl.monitoring.drift import Comparison

        check = Comparison(profile, FEATURES)
        measure(check, read_file(workdir / "current.csv", "current.csv", FEATURES), FEATURES, pipe)
        report = check.report()
        for f in report.features:
            if f.test == "ks":
                ks[f.name] = [float(f.statistic), float(f.pvalue)]  # type: ignore[arg-type]
        pred = report.prediction
        pred_counts = {b: round(s * pred.values) for b, s in zip(pred.bins, pred.current, strict=True) if s} \
            if pred else None
    else:
        from scipy import stats

        frame = pd.read_csv(workdir / "current.csv")
        preds = pipe.predict(frame)
        for name in NUMERIC:
            sample = np.asarray(profile["features"][name]["sample"], dtype="float64")
            values = frame[name].to_numpy(dtype="float64")
            res = stats.ks_2samp(sample, values[~np.isnan(values)])
            ks[name] = [float(res.statistic), float(res.pvalue)]
        classes, counts = np.unique(preds, return_counts=True)
        pred_counts = dict(zip(classes.tolist(), counts.tolist(), strict=True))
        ref_counts = profile["prediction"].get("counts") or {}
        expected = np.array([float(ref_counts.get(c, 0)) for c in classes])
        if expected.sum():
            stats.chisquare(counts, expected / expected.sum() * counts.sum())
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime - cpu, "peak_mb": usage.ru_maxrss / 1024,
            "ks": ks, "predictions": str(pred_counts)[:200]}


def run_side(workdir: Path, which: str) -> dict[str, object]:
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([sys.executable, __file__, "--side", which, "--workdir", str(workdir)], capture_output=True,
                          text=True, check=False, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{which} failed:\n{proc.stderr[-3000:]}")
    out: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out["process_cpu"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--prepare", default=None, metavar="DIR", help="Only write the data and model into DIR.")
    parser.add_argument("--side", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.prepare:
        prepare(Path(args.prepare), args.rows)
        return
    if args.side:
        print(json.dumps(side(Path(args.workdir), args.side)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-drift-predict-") as tmp:
        workdir = Path(tmp)
        t0 = time.perf_counter()
        # In a process of its own: a child's ru_maxrss starts at its parent's RSS (Linux keeps the
        # high-water mark across fork and exec), so this process must stay small.
        subprocess.run([sys.executable, __file__, "--prepare", str(workdir), "--rows", str(args.rows)], check=True,
                       cwd=ROOT)
        print(f"prepared {args.rows:,} rows x {len(FEATURES)} features and a model in {time.perf_counter() - t0:.1f}s")
        runs = {"scipy": [], "mlopsctl": []}  # type: dict[str, list[dict[str, object]]]
        for which in ("scipy", "mlopsctl", "mlopsctl", "scipy"):  # interleaved
            runs[which].append(run_side(workdir, which))
        best = {k: min(v, key=lambda r: float(r["seconds"])) for k, v in runs.items()}  # type: ignore[arg-type]
        for k, r in best.items():
            print(f"{k:<9} {float(r['seconds']):6.2f} s wall  {float(r['cpu']):6.2f} s CPU  "  # type: ignore[arg-type]
                  f"(whole process with imports {float(r['process_cpu']):5.2f} s)  "  # type: ignore[arg-type]
                  f"peak {float(r['peak_mb']):6.0f} MB  predictions {r['predictions']}")  # type: ignore[arg-type]
        ours, peer = best["mlopsctl"], best["scipy"]
        print(f"ratio wall {float(ours['seconds']) / float(peer['seconds']):.2f}, "  # type: ignore[arg-type]
              f"CPU {float(ours['cpu']) / float(peer['cpu']):.2f} (target <= 1), "  # type: ignore[arg-type]
              f"peak {float(ours['peak_mb']):.0f} MB (target <= 700)")  # type: ignore[arg-type]
        worst = max(abs(a - b) for name, pair in ours["ks"].items()  # type: ignore[attr-defined]
                    for a, b in zip(pair, peer["ks"][name], strict=True))  # type: ignore[index]
        print(f"KS statistic and p-value, largest difference from scipy: {worst:.2e} (target <= 1e-6)")


if __name__ == "__main__":
    main()
