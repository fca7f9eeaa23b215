"""The pipeline files' YAML writer writes exactly what PyYAML writes (or leaves it to PyYAML)."""

from __future__ import annotations

import random
from typing import Any

import pytest
import yaml

from mlopsctl.pipeline.emit import Unusual, emit
from mlopsctl.pipeline.stages import dvc_yaml, stage_def
from tests.builders import model_spec


def _pyyaml(data: Any) -> str:
    return yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False,
                     default_flow_style=False, width=4096, allow_unicode=True)


def _same_or_unusual(data: Any) -> bool:
    """True when :func:`emit` wrote the data (and wrote PyYAML's text), False when it declined."""
    try:
        text = emit(data)
    except Unusual:
        return False
    assert text == _pyyaml(data), repr(data)
    return True


def test_the_pipeline_files_of_a_model_are_written_without_pyyaml() -> None:
    spec = model_spec("iris", cv={"folds": 5}, fairness={"sensitive": ["sex"]},
                      estimator={"class": "sklearn.linear_model.LogisticRegression",
                                 "params": {"C": 0.5, "tol": 1e-06, "max_iter": 200, "penalty": None,
                                            "class_weight": "balanced", "l1_ratio": 1e20}})
    sdef = stage_def("iris", spec, "models/iris.yaml", None)
    assert _same_or_unusual(sdef.params)
    assert _same_or_unusual(dvc_yaml([sdef]))


STRINGS = ["plain", "two words", "a/b.c-d_e", "yes", "No", "ON", "null", "Null", "~", "", "1", "1.5", "0x1F", "1e3",
           "2024-01-01", "12:30", "a: b", "a:b", "key:", "#x", "a #b", "a#b", "-x", "- x", "x-", "?x", "? x", ":x",
           "it's", "'q'", '"q"', "a  b", " lead", "trail ", "tab\there", "line\nbreak", "caf\u00e9", "*star", "&amp",
           "!bang", "%pct", "@at", "`tick`", "|pipe", ">gt", "[x]", "{x}", "a,b", "=", "<<", ".inf", ".nan", "-.5",
           "+1", "True", "FALSE", "y", "n", "x" * 130, "m0000: confusion matrix", "mlopsctl train m0000", "_x", "/abs"]
SCALARS: list[Any] = [None, True, False, 0, -3, 10**20, 0.25, -0.0, 1e-05, 1e20, 1.5e300, 3.0, float("inf"), [], {}]


def _random(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth < 3 and roll < 0.3:
        return {rng.choice(STRINGS[:30]) + str(i): _random(rng, depth + 1) for i in range(rng.randint(1, 4))}
    if depth < 3 and roll < 0.45:
        return [_random(rng, depth + 1) for _ in range(rng.randint(1, 3))]
    return rng.choice(STRINGS + SCALARS)


@pytest.mark.parametrize("value", STRINGS + SCALARS, ids=repr)
def test_each_scalar_as_pyyaml_writes_it(value: Any) -> None:
    _same_or_unusual({"key": value})
    _same_or_unusual([value])
    if isinstance(value, str):
        _same_or_unusual({value: 1})


def test_words_resolve_as_pyyaml_resolves_them_without_importing_it() -> None:
    from yaml import ScalarNode
    from yaml.resolver import Resolver

    from mlopsctl.pipeline import emit as emitmod

    rng = random.Random(7)
    alphabet = "aeflnorstuyAEFLNORSTUY_0./-"
    words = {w for f in (str.lower, str.upper, str.title, str.capitalize, str.swapcase)
             for w in map(f, ["yes", "no", "true", "false", "on", "off", "null", "y", "n", "nul", "offf", "nulls"])}
    words |= {rng.choice("fnotyFNOTY_a") + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 5)))
              for _ in range(3000)}
    resolver = Resolver()
    checked = 0
    for word in sorted(words):
        if not emitmod._PLAIN.fullmatch(word):
            continue
        emitmod._RESOLVER.clear()  # the fast answer is given before PyYAML's resolver is made
        fast = emitmod._resolves_to_str(word)
        assert not emitmod._RESOLVER, word
        assert fast == (resolver.resolve(ScalarNode, word, (True, False)) == "tag:yaml.org,2002:str"), word
        checked += 1
    assert checked > 1000


def test_generated_documents() -> None:
    rng = random.Random(7)
    written = 0
    for _ in range(2000):
        doc = {f"k{i}": _random(rng) for i in range(rng.randint(1, 5))}
        written += _same_or_unusual(doc)
    assert written > 200  # plain documents (the strings above are mostly odd ones) are written without PyYAML
