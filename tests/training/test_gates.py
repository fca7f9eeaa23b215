from __future__ import annotations

import pytest

from mlopsctl.training.gates import Gate, GateSyntaxError, check_gates, failed, parse_gate


@pytest.mark.parametrize(("expr", "gate"), [(">= 0.9", Gate(">=", 0.9)), ("<0.5", Gate("<", 0.5)),
                                            ("  >  -1e-3 ", Gate(">", -0.001)), ("<= 10", Gate("<=", 10.0))])
def test_parse_gate(expr: str, gate: Gate) -> None:
    assert parse_gate(expr) == gate


@pytest.mark.parametrize("expr", ["0.9", "=> 0.9", ">= high", "", "== 1", True])
def test_parse_gate_rejects(expr: object) -> None:
    with pytest.raises(GateSyntaxError, match="expected an operator"):
        parse_gate(expr)  # type: ignore[arg-type]


def test_failed_gate_message_names_value_and_threshold() -> None:
    results = check_gates({"accuracy": ">= 0.9", "f1_macro": "> 0.5"}, {"accuracy": 0.87, "f1_macro": 0.8}, None)
    assert [r.passed for r in results] == [False, True]
    assert results[0].message == "gate accuracy >= 0.9 not met by candidate (0.87)"
    assert results[1].message == "gate f1_macro > 0.5 met (0.8)"
    assert failed(results) == [results[0]]


def test_missing_metric_fails_the_gate() -> None:
    (r,) = check_gates({"r2": ">= 0.3"}, {"accuracy": 1.0}, None)
    assert not r.passed and r.value is None and "no r2 metric" in r.message


def test_no_worse_than_production() -> None:
    gates = {"no_worse_than": {"environment": "production", "metric": "accuracy", "by": 0.02}}
    (ok,) = check_gates(gates, {"accuracy": 0.89}, {"accuracy": 0.9})
    assert ok.passed and ok.threshold == pytest.approx(0.88)
    (bad,) = check_gates(gates, {"accuracy": 0.85}, {"accuracy": 0.9})
    assert not bad.passed and "not met by candidate (0.85" in bad.message and "production 0.9" in bad.message
    (first,) = check_gates(gates, {"accuracy": 0.1}, None)
    assert first.passed and "serves no version yet" in first.message


def test_baseline_gate_refuses_a_candidate_no_better_than_a_constant_answer() -> None:
    (r,) = check_gates({}, {"accuracy": 0.9, "accuracy_baseline": 0.9}, None)
    assert (r.name, r.passed) == ("baseline", False)
    assert "gate baseline (accuracy above always answering the majority class, 0.9) not met by candidate (0.9)" \
        in r.message
    (ok,) = check_gates({}, {"r2": 0.4, "r2_baseline": -0.01}, None, task="regression")
    assert ok.passed and "the mean of the target" in ok.message


def test_baseline_gate_can_be_turned_off_and_needs_a_recorded_baseline() -> None:
    assert check_gates({"baseline": False}, {"accuracy": 0.5, "accuracy_baseline": 0.9}, None) == []
    assert check_gates({}, {"accuracy": 0.5}, None) == []  # a custom train command records none


def test_a_model_that_learned_nothing_fails_the_baseline_gate(tmp_path: object) -> None:
    from pathlib import Path

    from mlopsctl.training.train import train
    from tests.builders import make_repo, model_spec, to_yaml

    root = Path(str(tmp_path))
    # Constant features and 80% one class: the best any model can do is the majority class.
    header = "sepal_length,sepal_width,petal_length,petal_width,species"
    rows = [f"1,1,1,1,{'a' if i % 5 else 'b'}" for i in range(40)]
    repo = make_repo(root, files={"data/iris.csv": "\n".join([header, *rows]) + "\n",
                                  "models/iris.yaml": to_yaml(model_spec("iris", gates={"accuracy": ">= 0.5"}))})
    metrics = train(repo, "iris", progress=False)
    assert metrics["accuracy"] == metrics["accuracy_baseline"] == 0.8
    results = check_gates({"accuracy": ">= 0.5"}, metrics, None)
    assert [r.name for r in failed(results)] == ["baseline"]
