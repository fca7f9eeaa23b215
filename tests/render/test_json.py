from __future__ import annotations

import json
from dataclasses import replace

import pytest

from mlopsctl.core.model import Action, Change, Plan
from mlopsctl.errors import MlopsError
from mlopsctl.render import render
from mlopsctl.render.json import render_json
from tests.render.sample_plans import sample_plan
from tests.render.snapshot_files import assert_snapshot


def test_json_snapshot() -> None:
    assert_snapshot("plan.json", render_json(sample_plan()))


def test_terraform_shape() -> None:
    doc = json.loads(render_json(sample_plan()))
    assert doc["format_version"] == "1.0"
    assert doc["mlopsctl_version"] == "0.1.0"
    assert [rc["address"] for rc in doc["resource_changes"]] == [c.address for c in sample_plan().changes]
    by_address = {rc["address"]: rc for rc in doc["resource_changes"]}
    image = by_address["image.iris"]
    assert image["type"] == "image" and image["name"] == "iris"
    assert image["change"]["actions"] == ["delete", "create"]
    assert image["change"]["before"] == {"id": "sha256:111"}
    assert image["requires"] == "a Docker engine"
    assert image["depends_on"] == ["file.docker/iris/Dockerfile", "model.iris"]
    stage = by_address["stage.iris.train"]
    assert stage["name"] == "iris.train"
    assert stage["reasons"] == [
        "estimator.params.n_estimators 100 -> 200",
        "reruns because dataset.data/iris.csv changes",
    ]
    assert stage["source"] == "models/iris.yaml:12:3"
    assert by_address["file.params/old.yaml"]["change"] == {
        "actions": ["delete"],
        "before": {"digest": "sha256:fff"},
        "after": None,
    }
    assert by_address["registry.iris.staging"]["change"]["actions"] == ["no-op"]
    assert by_address["file.serve/iris/app.py"]["blocked"].startswith("the hand edit")
    assert by_address["file.dvc.yaml"]["diff"].startswith("--- a/dvc.yaml\n")
    assert doc["summary"] == {"add": 2, "change": 3, "destroy": 2, "no_op": 2, "blocked": 1}
    assert doc["has_changes"] is True
    assert doc["warnings"] == list(sample_plan().warnings)
    assert doc["pins"]["git_head"] == "0123abc"


def test_payload_is_never_rendered() -> None:
    out = render_json(sample_plan())
    assert "payload" not in out
    assert "FROM python:3.11-slim" not in out
    assert "fingerprint" not in out


def test_deterministic_whatever_the_dict_order() -> None:
    plan = sample_plan()
    shuffled = tuple(
        replace(c, before=dict(reversed(list(c.before.items()))) if c.before else c.before) for c in plan.changes
    )
    other = replace(plan, changes=shuffled, pins=dict(reversed(list(plan.pins.items()))))
    assert render_json(plan) == render_json(other)
    assert render_json(plan) == render_json(sample_plan())


def test_version_defaults_to_this_mlopsctl() -> None:
    from mlopsctl import __version__

    doc = json.loads(render_json(Plan(changes=(), pins={})))
    assert doc["mlopsctl_version"] == __version__
    assert doc["has_changes"] is False
    assert doc["resource_changes"] == []


def test_non_ascii_survives() -> None:
    plan = Plan(changes=(Change("file.données.csv", Action.CREATE, reasons=("nouvelle donnée",)),), pins={})
    assert json.loads(render_json(plan))["resource_changes"][0]["reasons"] == ["nouvelle donnée"]


def test_render_dispatch() -> None:
    assert render(sample_plan(), "json") == render_json(sample_plan())
    with pytest.raises(MlopsError, match="unknown output format 'yaml'"):
        render(sample_plan(), "yaml")


def test_render_markdown_is_delegated() -> None:
    markdown = pytest.importorskip("mlopsctl.render.markdown")
    out = render(sample_plan(), "markdown")
    assert out.endswith("\n")
    assert out.rstrip("\n") == markdown.render_markdown(sample_plan()).rstrip("\n")
