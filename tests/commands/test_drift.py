"""``mlopsctl drift`` on a real repository with a registered, profiled version (Git tags + DVC)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.monitoring.monitor_builders import shifted_csv


@pytest.mark.slow
def test_same_distribution_no_drift_json(cli: Any, served: Path) -> None:
    (served / "new.csv").write_text(shifted_csv(0.0), encoding="utf-8")
    res = cli("drift", "iris", "--data", "new.csv", "--format", "json", "--fail-on-drift", repo=served)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["drifted"] is False and doc["version"] == 1 and doc["rows"] == 210
    assert {f["name"] for f in doc["features"]} == {"sepal_length", "sepal_width", "petal_length", "petal_width"}
    assert doc["prediction"]["name"] == "(prediction)" and doc["prediction"]["drifted"] is False
    assert all(f["test"] == "ks" and 0 <= f["pvalue"] <= 1 for f in doc["features"])
    # every run leaves its summary for plan's warnings
    local = json.loads((served / ".mlopsctl/drift/iris/data.json").read_text())
    assert local["drifted"] is False


@pytest.mark.slow
def test_shift_drifts_text_markdown_chart_and_exit_code(cli: Any, served: Path) -> None:
    (served / "new.csv").write_text(shifted_csv(1.5), encoding="utf-8")
    res = cli("drift", "iris", "--data", "new.csv", "--fail-on-drift", "--chart", "drift.png", repo=served)
    assert res.exit_code == 1, res.output
    lines = res.stdout.splitlines()
    assert "DRIFT" in lines[0] and "iris v1" in lines[0]
    first_row = next(line for line in lines if line.lstrip().startswith(("petal", "sepal")))
    assert first_row.lstrip().startswith("petal_width") and "DRIFT" in first_row and "█" in first_row
    assert "drift: psi" in res.stderr and "on petal_width" in res.stderr
    png = (served / "drift.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    md = cli("drift", "iris", "--data", "new.csv", "--format", "markdown", repo=served)
    assert md.exit_code == 0
    assert md.stdout.startswith("<!-- mlopsctl:drift model=iris -->") and "| `petal_width` |" in md.stdout
    assert "**DRIFT**" in md.stdout


def test_default_source_is_monitor_retrain_data(cli: Any, served: Path) -> None:
    (served / "incoming").mkdir()
    (served / "incoming/iris.csv").write_text(shifted_csv(2.0), encoding="utf-8")
    res = cli("drift", "iris", "--format", "json", repo=served)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["source"] == "incoming/iris.csv" and doc["drifted"] is True
    assert doc["data"]["path"] == "incoming/iris.csv" and len(doc["data"]["md5"]) == 32


def test_bad_input_is_a_clear_error(cli: Any, served: Path) -> None:
    res = cli("drift", "iris", "--data", "nope.csv", repo=served)
    assert res.exit_code == 1 and "data file nope.csv does not exist" in res.stderr
    res = cli("drift", "irsi", "--data", "nope.csv", repo=served)
    assert res.exit_code == 1 and "no model 'irsi'" in res.stderr and "did you mean 'iris'" in res.stderr
    res = cli("drift", "iris", "--env", "production", repo=served)
    assert res.exit_code == 1 and "no captured requests in .mlopsctl/capture/iris/production/" in res.stderr
    # rows captured without a version, in an environment the registry assigns nothing to
    (served / ".mlopsctl/capture/iris/production").mkdir(parents=True)
    (served / ".mlopsctl/capture/iris/production/requests.jsonl").write_text(
        '{"features": {"sepal_length": 5.0}, "prediction": "setosa"}\n', encoding="utf-8")
    res = cli("drift", "iris", "--env", "production", repo=served)
    assert res.exit_code == 1 and "production serves no version of iris" in res.stderr
    assert "models/iris.yaml:" in res.stderr
    res = cli("drift", "iris", "--env", "staging", repo=served)
    assert res.exit_code == 1 and "no captured requests in .mlopsctl/capture/iris/staging/" in res.stderr
    res = cli("drift", "iris", "--env", "qa", repo=served)
    assert res.exit_code == 1 and "no environment 'qa'" in res.stderr and "mlops.yaml:" in res.stderr
    assert "Traceback" not in res.output


def test_no_registered_version(cli: Any, repo: Path) -> None:
    (repo / "new.csv").write_text(shifted_csv(0.0), encoding="utf-8")
    res = cli("drift", "iris", "--data", "new.csv", repo=repo)
    assert res.exit_code == 1
    assert "models/iris.yaml:1:1: model 'iris' has no registered version yet" in res.stderr


def test_tampered_profile_is_refused(cli: Any, served: Path) -> None:
    import shutil

    prof = served / "artifacts/iris/profile.json"
    prof.write_text(prof.read_text().replace('"rows":', '"rows": 1, "x":'), encoding="utf-8")
    shutil.rmtree(served / ".dvc/cache")
    shutil.rmtree(served.parent / "dvc-remote")
    (served.parent / "dvc-remote").mkdir()
    (served / "new.csv").write_text(shifted_csv(0.0), encoding="utf-8")
    res = cli("drift", "iris", "--data", "new.csv", repo=served)
    assert res.exit_code == 1 and "reference profile of iris@v1.0.0 cannot be used" in res.stderr


def test_captured_requests_with_predictions(cli: Any, served: Path) -> None:
    from mlopsctl.monitoring.capture import Capture

    cap = Capture(str(served / ".mlopsctl/capture/iris/staging"), version=1)
    rows = [{"sepal_length": 5.0, "sepal_width": 3.0, "petal_length": 4.0, "petal_width": 2.9 + i % 3 * 0.1}
            for i in range(210)]
    cap.record(rows, ["virginica"] * 210)
    res = cli("drift", "iris", "--env", "staging", "--format", "json", repo=served)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["environment"] == "staging" and doc["rows"] == 210 and doc["drifted"] is True
    assert doc["prediction"]["drifted"] is True  # every captured prediction is one class
    assert doc["features"][0]["name"] in {"petal_width", "sepal_length", "petal_length", "sepal_width"}


def test_two_captured_requests_are_not_enough_data_and_never_fail(cli: Any, served: Path) -> None:
    from mlopsctl.monitoring.capture import Capture

    cap = Capture(str(served / ".mlopsctl/capture/iris/staging"), version=1)
    cap.record([{"sepal_length": 5.0, "sepal_width": 3.0, "petal_length": 4.0, "petal_width": 1.2}] * 2,
               ["versicolor"] * 2)
    res = cli("drift", "iris", "--env", "staging", "--fail-on-drift", repo=served)
    assert res.exit_code == 0, res.output
    assert "not enough data (2 rows, need 200)" in res.stdout and "DRIFT" not in res.stdout
    assert "--fail-on-drift fails only on drift" in res.stderr
    res = cli("drift", "iris", "--env", "staging", "--format", "json", repo=served)
    doc = json.loads(res.stdout)
    assert doc["verdict"] == "not enough data" and doc["drifted"] is False


def test_the_minimum_is_set_in_the_spec(cli: Any, served: Path) -> None:
    import yaml

    spec = served / "models/iris.yaml"
    doc = yaml.safe_load(spec.read_text())
    doc["monitor"]["drift"]["min_rows"] = 500
    spec.write_text(yaml.safe_dump(doc), encoding="utf-8")
    (served / "new.csv").write_text(shifted_csv(1.5), encoding="utf-8")
    res = cli("drift", "iris", "--data", "new.csv", "--fail-on-drift", repo=served)
    assert res.exit_code == 0 and "not enough data (210 rows, need 500)" in res.stdout


def test_a_csv_whose_header_names_no_feature_is_a_clear_error(cli: Any, served: Path) -> None:
    rows = shifted_csv(0.0).split("\n", 1)[1]  # the rows without their header line
    (served / "new.csv").write_text(rows, encoding="utf-8")
    res = cli("drift", "iris", "--data", "new.csv", repo=served)
    assert res.exit_code == 1, res.output
    assert "new.csv:1: the header names none of the model's features: missing " in res.stderr
    assert all(name in res.stderr for name in ("sepal_length", "petal_width")) and "unexpected " in res.stderr
    assert "Traceback" not in res.output
