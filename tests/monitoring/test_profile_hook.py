"""The built-in trainer writes the reference profile with each run and records its digests."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from mlopsctl.monitoring.profile import SAMPLE_SIZE, load_profile


def test_trainer_writes_profile_and_records_it_in_lineage(repo: Path) -> None:
    from mlopsctl.training.train import train

    train(repo, "iris", progress=False)
    out = repo / "artifacts" / "iris"
    raw = (out / "profile.json").read_bytes()
    lineage = json.loads((out / "lineage.json").read_text())
    assert lineage["profile"] == {"path": "artifacts/iris/profile.json", "md5": hashlib.md5(raw).hexdigest(),
                                  "sha256": hashlib.sha256(raw).hexdigest()}
    prof = load_profile(out / "profile.json")
    # the training split (75% of 90 rows), as the model learned it
    assert prof["rows"] == 67 and prof["task"] == "classification" and prof["model"] == "iris"
    pw = prof["features"]["petal_width"]
    assert pw["kind"] == "numeric" and len(pw["shares"]) == len(pw["edges"]) + 1
    assert abs(sum(pw["shares"]) - 1) < 1e-9 and len(pw["sample"]) == 67 <= SAMPLE_SIZE
    assert set(prof["prediction"]["counts"]) <= {"setosa", "versicolor", "virginica"}
    assert sum(prof["prediction"]["counts"].values()) == 67
