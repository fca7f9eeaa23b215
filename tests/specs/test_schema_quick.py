"""The quick schema check agrees with jsonschema on valid and broken specs alike."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from mlopsctl.specs import schema
from tests.builders import model_spec, project_spec

VALUES: list[Any] = [None, True, False, 0, 1, -1, 1.0, 0.5, 1e300, "x", "", "\x07", "a\nb", "\ud800", "1.5",
                     ">= 0.9", "sklearn.tree.DecisionTreeClassifier", "0 6 * * 1", "latest", "staging",
                     "main", "feature/x", "${{ secrets.X }}", [], ["a"], [1, 1], {}, {"zz": 1}, {"type": "float"}]


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


def _mutate(doc: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    for _ in range(rng.choice([1, 1, 2])):
        path = rng.choice(_paths(doc))
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        roll = rng.random()
        if roll < 0.15 and isinstance(parent, dict):
            del parent[path[-1]]
        elif roll < 0.25 and isinstance(parent, dict):
            parent[rng.choice(["zz", "Name", "gate", "extra"])] = rng.choice(VALUES)
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(VALUES))
    return doc


RICH_MODEL = model_spec("iris", serve={"staging": {"version": "latest"}, "production": {"version": 3}},
                        monitor={"drift": {"method": "psi", "threshold": 0.2}, "schedule": "0 6 * * 1"},
                        split=None, cv={"folds": 5}, fairness={"sensitive": ["sex"]}, gates={"accuracy": ">= 0.9",
                        "fairness": {"max_gap": {"accuracy": 0.1}}})


@pytest.mark.parametrize(("kind", "base"), [("Model", model_spec("iris")), ("Model", RICH_MODEL),
                                            ("Project", project_spec())])
def test_quick_and_full_checks_agree(kind: str, base: dict[str, Any]) -> None:
    full = Draft202012Validator(schema.load_schema(kind))
    assert full.is_valid(base) and schema._quickly_valid(kind, base)
    rng = random.Random(kind + str(len(base)))
    invalid = 0
    for _ in range(600):
        doc = _mutate(base, rng)
        expected = full.is_valid(doc)
        assert schema._quickly_valid(kind, doc) == expected, doc
        invalid += not expected
    assert invalid > 100


def test_validate_still_words_every_problem() -> None:
    doc = model_spec("iris")
    doc["estimator"]["params"] = "many"
    problems = schema.validate("Model", doc, "models/iris.yaml", {"estimator.params": (20, 3)})
    assert problems and problems[0].location.line == 20
