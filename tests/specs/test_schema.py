"""The JSON Schemas and the words their errors are reported in."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlopsctl.specs import schema, yamlio
from mlopsctl.workspace.paths import SCHEMAS
from tests.builders import model_spec, project_spec, to_yaml


def problems(kind: str, src: str, file: str = "models/iris.yaml") -> list[Any]:
    parsed = yamlio.parse(file, src.encode())
    assert parsed.problems == []
    return schema.validate(kind, parsed.data, file, parsed.lines, src)


def one(kind: str, src: str) -> Any:
    found = problems(kind, src)
    assert len(found) == 1, [p.format() for p in found]
    return found[0]


MODEL = """\
apiVersion: mlopsctl/v1
kind: Model
name: iris
data: {path: data/iris.csv, target: species}
features:
  sepal_length: {type: float, min: 0}
estimator:
  class: sklearn.ensemble.RandomForestClassifier
  params: {n_estimators: 100}
"""


@pytest.mark.parametrize("name", ["project.schema.json", "model.schema.json"])
def test_schemas_are_valid_draft_2020_12(name: str) -> None:
    from jsonschema import Draft202012Validator

    doc = json.loads((SCHEMAS / name).read_text())
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(doc)


@pytest.mark.parametrize("name", ["project.schema.json", "model.schema.json"])
def test_every_property_is_described(name: str) -> None:
    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, sub in (node.get("properties") or {}).items():
                assert isinstance(sub, dict) and sub.get("description"), f"{where}.{key} has no description"
            for key, sub in node.items():
                walk(sub, f"{where}.{key}")
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                walk(sub, f"{where}.{i}")

    walk(json.loads((SCHEMAS / name).read_text()), name)


def test_agreed_shape_is_valid() -> None:
    full_model = model_spec(
        preprocessing="auto",
        gates={"accuracy": ">= 0.9", "f1_macro": "> .5", "no_worse_than": {"environment": "production",
                                                                            "metric": "accuracy", "by": 0.02}},
        train={"cmd": "python src/train.py", "deps": ["src/train.py"], "outs": ["artifacts/iris/model.joblib"],
               "metrics": "artifacts/iris/metrics.json"},
        serve={"staging": {"version": "latest"}, "production": {"version": 3}},
        monitor={"drift": {"method": "psi", "threshold": 0.2}, "schedule": "0 6 * * 1",
                 "capture": {"enabled": True, "sample": 1.0, "max_mb": 50}},
        features={"colour": {"type": "category", "values": ["red", "green"], "required": False,
                             "max_null_fraction": 0.1}},
    )
    assert problems("Model", to_yaml(full_model)) == []
    assert problems("Project", to_yaml(project_spec()), "mlops.yaml") == []
    cv_model = model_spec(split=None, cv={"folds": 5, "random_state": 0})
    assert problems("Model", to_yaml(cv_model)) == []


def test_the_example_message() -> None:
    src = MODEL.replace("  params: {n_estimators: 100}", "  params: [1, 2]")
    p = one("Model", src)
    assert p.format().splitlines()[0] == "models/iris.yaml:9:3: estimator.params: expected a mapping, got a list"
    assert " > 9 |   params: [1, 2]" in p.excerpt


def test_unknown_key_with_did_you_mean() -> None:
    p = one("Model", MODEL.replace("estimator:", "estimater:") + "estimator: {class: a.B}\n")
    assert (p.location.line, p.location.column) == (7, 1)
    assert p.path == "estimater"
    assert p.message == "unknown key 'estimater'"
    assert p.hint == "did you mean 'estimator'?"


def test_unknown_nested_key_without_close_match_lists_allowed_keys() -> None:
    p = one("Model", MODEL + "monitor: {zzz: 1}\n")
    assert p.path == "monitor.zzz" and (p.location.line, p.location.column) == (10, 11)
    assert p.hint == "allowed keys: capture, drift, retrain, schedule"


def test_wrong_type_names_the_value() -> None:
    p = one("Model", MODEL.replace("min: 0", "min: abc"))
    assert p.path == "features.sepal_length.min"
    assert (p.location.line, p.location.column) == (6, 31)
    assert p.message == "expected a number, got a string ('abc')"


def test_enum_with_did_you_mean() -> None:
    p = one("Model", MODEL.replace("type: float", "type: flaot"))
    assert p.message.startswith("expected one of 'float', 'int', 'category', 'bool'")
    assert p.hint == "did you mean 'float'?"


def test_missing_required_keys_are_each_reported() -> None:
    src = "apiVersion: mlopsctl/v1\nkind: Model\nname: iris\n"
    found = problems("Model", src)
    assert sorted(p.message for p in found) == [
        "missing required key 'data'", "missing required key 'estimator'", "missing required key 'features'",
    ]
    assert all((p.location.line, p.location.column) == (1, 1) for p in found)


def test_every_error_in_one_run_sorted_by_line() -> None:
    src = MODEL.replace("name: iris", "name: Iris!").replace("min: 0", "min: abc") + "metrics: []\nsplit: {test_size: 2}\n"
    found = problems("Model", src)
    assert [(p.location.line, p.path) for p in found] == [
        (3, "name"), (6, "features.sepal_length.min"), (10, "metrics"), (11, "split.test_size"),
    ]
    assert found[0].message.startswith("expected a model name of lowercase letters")
    assert found[2].message == "expected at least 1 item, got none"
    assert found[3].message == "expected a number < 1, got a number (2)"


def test_serve_version_alternatives_in_plain_words() -> None:
    p = one("Model", MODEL + "serve:\n  staging: {version: newest}\n")
    assert p.path == "serve.staging.version"
    assert p.message == "expected 'latest' or a registered version number like 3, got a string ('newest')"


def test_split_and_cv_are_exclusive() -> None:
    p = one("Model", MODEL + "split: {test_size: 0.2}\ncv: {folds: 5}\n")
    assert p.path == "cv" and p.location.line == 11
    assert "either split" in p.message


def test_gate_expression_is_checked() -> None:
    p = one("Model", MODEL + "gates: {accuracy: '=> 0.9'}\n")
    assert p.path == "gates.accuracy"
    assert p.message.startswith('expected a comparison like ">= 0.9"')


def test_number_where_a_string_belongs_suggests_quoting() -> None:
    src = to_yaml(project_spec()).replace('python: "3.11"', "python: 3.11")
    found = problems("Project", src, "mlops.yaml")
    assert len(found) == 1
    assert found[0].path == "ci.python"
    assert found[0].hint == 'quote it: "3.11"'


def test_environment_names_are_checked() -> None:
    src = to_yaml(project_spec(environments={"Prod_1": {"port": 8000}}))
    found = problems("Project", src, "mlops.yaml")
    assert [p.path for p in found] == ["environments.Prod_1"]
    assert found[0].message.startswith("invalid name 'Prod_1': expected an environment name")


def test_port_range_and_no_environments() -> None:
    src = to_yaml(project_spec(environments={"staging": {"port": 70000}}))
    assert [p.message for p in problems("Project", src, "mlops.yaml")] == ["expected a number <= 65535, got a number (70000)"]
    src = "apiVersion: mlopsctl/v1\nkind: Project\nname: demo\nenvironments: {}\n"
    assert [p.message for p in problems("Project", src, "mlops.yaml")] == ["expected at least 1 entry, got none"]


def test_duplicate_metrics() -> None:
    p = one("Model", MODEL + "metrics: [accuracy, r2, accuracy]\n")
    assert p.message == "items must be unique; 'accuracy' appears more than once"
