"""``drift`` with predictions (the default) on 1,000,000 rows x 20 features, against plain scipy.

Prepared once: a reference profile from 200,000 training rows, a fitted scikit-learn pipeline
(one-hot categories + a 20-tree random forest) and a 1M-row current CSV with three features
shifted. Each side runs in its own process, so its peak RSS (ru_maxrss) is its own:

- ``mlopsctl``: read the CSV, predict (chunked), compare with the profile: what ``mlopsctl drift
  --data`` does after verifying the model;
- ``scipy``: read the CSV, predict every row at once, then per feature ``scipy.stats.ks_2samp``
  against the same stored sample (numeric) and ``scipy.stats.chisquare`` of the prediction classes:
  the plain per-feature computation.

Targets: mlopsctl's time <= scipy's, peak <= 700 MB; KS statistics and p-values equal to 1e-6.
Run: .venv/bin/python benchmarks/bench_drift_predict.py [--rows 1000000]
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
    start = time.perf_counter()
    frame = pd.read_csv(workdir / "current.csv")
    ks: dict[str, list[float]] = {}
    if which == "mlopsctl":
        from mlopsctl.monitoring.drift import compare
        from mlopsctl.monitoring.reference import predict_rows

        preds = predict_rows(pipe, frame, FEATURES)
        report = compare(profile, frame, FEATURES, predictions=preds)
        for f in report.features:
            if f.test == "ks":
                ks[f.name] = [float(f.statistic), float(f.pvalue)]  # type: ignore[arg-type]
        pred_counts = report.prediction.current if report.prediction else None
    else:
        from scipy import stats

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
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mb": peak, "ks": ks, "predictions": str(pred_counts)[:200]}


def run_side(workdir: Path, which: str) -> dict[str, object]:
    proc = subprocess.run([sys.executable, __file__, "--side", which, "--workdir", str(workdir)], capture_output=True,
                          text=True, check=False, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{which} failed:\n{proc.stderr[-3000:]}")
    out: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--side", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.side:
        print(json.dumps(side(Path(args.workdir), args.side)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-drift-predict-") as tmp:
        workdir = Path(tmp)
        t0 = time.perf_counter()
        prepare(workdir, args.rows)
        print(f"prepared {args.rows:,} rows x {len(FEATURES)} features and a model in {time.perf_counter() - t0:.1f}s")
        runs = {"scipy": [], "mlopsctl": []}  # type: dict[str, list[dict[str, object]]]
        for which in ("scipy", "mlopsctl", "mlopsctl", "scipy"):  # interleaved
            runs[which].append(run_side(workdir, which))
        best = {k: min(v, key=lambda r: float(r["seconds"])) for k, v in runs.items()}  # type: ignore[arg-type]
        for k, r in best.items():
            print(f"{k:<9} {float(r['seconds']):6.2f} s  peak {float(r['peak_mb']):6.0f} MB  "  # type: ignore[arg-type]
                  f"predictions {r['predictions']}")
        ours, peer = best["mlopsctl"], best["scipy"]
        print(f"ratio time {float(ours['seconds']) / float(peer['seconds']):.2f} (target <= 1), "  # type: ignore[arg-type]
              f"peak {float(ours['peak_mb']):.0f} MB (target <= 700)")  # type: ignore[arg-type]
        worst = max(abs(a - b) for name, pair in ours["ks"].items()  # type: ignore[union-attr]
                    for a, b in zip(pair, peer["ks"][name], strict=True))  # type: ignore[index]
        print(f"KS statistic and p-value, largest difference from scipy: {worst:.2e} (target <= 1e-6)")


if __name__ == "__main__":
    main()
