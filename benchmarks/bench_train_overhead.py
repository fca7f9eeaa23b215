"""Overhead of ``mlopsctl train`` over a bare scikit-learn fit of the same estimator and data.

Generates a classification dataset sized so the fit takes about ten seconds here, writes it as
a model repository, then times (wall clock, whole process, median of N):

- bare: a Python process that reads the CSV with pandas, splits it as the spec says and fits
  the same RandomForestClassifier;
- mlopsctl: ``mlopsctl train MODEL`` (contract check, preprocessing pipeline, fit, metrics,
  artifacts with lineage).

Target: at most 15 % overhead. Prints figures only.
Run: .venv/bin/python benchmarks/bench_train_overhead.py [--rows 50000] [--trees 60] [--runs 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from _common import summary, time_runs, venv_script

from tests.builders import make_repo, model_spec, to_yaml

BARE = """
import sys
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
df = pd.read_csv(sys.argv[1])
X, y = df.drop(columns=["label"]), df["label"]
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
RandomForestClassifier(n_estimators=int(sys.argv[2]), random_state=0).fit(X_tr, y_tr)
"""


def make_data(rows: int, features: int) -> str:
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=rows, n_features=features, n_informative=features // 2, random_state=0)
    names = [f"f{i}" for i in range(features)]
    lines = [",".join([*names, "label"])]
    lines += [",".join(f"{v:.5f}" for v in row) + f",c{t}" for row, t in zip(X, y, strict=True)]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50000)  # a fit of about ten seconds here
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--trees", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="mlopsctl-bench-train-"))
    try:
        spec = model_spec("big")
        spec["data"] = {"path": "data/big.csv", "target": "label"}
        spec["features"] = {f"f{i}": {"type": "float"} for i in range(args.features)}
        spec["estimator"] = {"class": "sklearn.ensemble.RandomForestClassifier",
                             "params": {"n_estimators": args.trees, "random_state": 0}}
        repo = make_repo(workdir, models=(), files={"data/big.csv": make_data(args.rows, args.features),
                                                    "models/big.yaml": to_yaml(spec)})
        (workdir / "bare.py").write_text(BARE)
        bare = time_runs([sys.executable, str(workdir / "bare.py"), str(repo / "data/big.csv"), str(args.trees)],
                         runs=args.runs)
        ours = time_runs([venv_script("mlopsctl"), "train", "big", "-q"], runs=args.runs, cwd=repo)
        print(f"rows={args.rows} features={args.features} trees={args.trees}")
        print(f"bare scikit-learn fit   {summary(bare)}")
        print(f"mlopsctl train          {summary(ours)}")
        over = statistics.median(ours) / statistics.median(bare) - 1
        print(f"overhead {over:+.1%} (target <= +15%)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
