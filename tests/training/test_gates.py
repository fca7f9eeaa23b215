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
