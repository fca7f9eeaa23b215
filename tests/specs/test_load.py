"""Loading a repository's specs: the Project, cross-spec checks, and the stat-keyed cache."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mlopsctl.errors import MlopsError, SpecError
from mlopsctl.specs.load import collect_problems, load_project
from mlopsctl.workspace.paths import find_root
from tests.builders import make_repo, model_spec, to_yaml, write_tree


def age(root: Path) -> None:
    """Make every spec look written a while ago, so the cache does not treat it as racily new."""
    past = time.time() - 60
    for p in [root / "mlops.yaml", *(root / "models").glob("*")]:
        os.utime(p, (past, past))


def problems_of(root: Path) -> list[Any]:
    _, found = collect_problems(root, cache=False)
    return found


def where(found: list[Any]) -> list[tuple[str, int | None, str]]:
    return [(p.location.file, p.location.line, p.path) for p in found]


def test_find_root_walks_up(tmp_path: Path) -> None:
    root = make_repo(tmp_path, commit=False)
    deep = root / "data" / "sub"
    deep.mkdir()
    assert find_root(deep) == root
    assert find_root(root) == root


def test_find_root_without_a_project(tmp_path: Path) -> None:
    with pytest.raises(MlopsError) as e:
        find_root(tmp_path)
    assert str(e.value) == (
        f"no mlops.yaml in {tmp_path.resolve()} or any parent directory; create one with `mlopsctl new PATH`"
    )


def test_load_project(tmp_path: Path) -> None:
    root = make_repo(tmp_path, models=("iris", "wine"), commit=False)
    project = load_project(root)
    assert project.root == root.resolve()
    assert project.name == "demo"
    assert sorted(project.models) == ["iris", "wine"]
    iris = project.models["iris"]
    assert iris.path == "models/iris.yaml"
    assert iris.digest == hashlib.sha256((root / "models/iris.yaml").read_bytes()).hexdigest()
    assert iris.data["estimator"]["params"] == {"n_estimators": 20, "random_state": 0}
    assert iris.loc("estimator.params.n_estimators").line == 29
    assert project.spec.path == "mlops.yaml"
    assert set(project.spec_digests) == {"mlops.yaml", "models/iris.yaml", "models/wine.yaml"}


def test_yml_files_hidden_files_and_no_models_dir(tmp_path: Path) -> None:
    root = make_repo(tmp_path, models=(), commit=False)
    assert load_project(root).models == {}
    (root / "models/.gitkeep").unlink()
    (root / "models").rmdir()
    with pytest.raises(SpecError, match=r"models/: the models/ folder is missing"):
        load_project(root)
    write_tree(root, {
        "models/a.yml": to_yaml(model_spec("a", data={"path": "data/a.csv"})),
        "models/.b.yaml.swp": "not yaml: [",
        "models/notes.txt": "ignored",
        "data/a.csv": "x\n",
    })
    assert list(load_project(root).models) == ["a"]


def test_file_name_may_differ_from_model_name(tmp_path: Path) -> None:
    root = make_repo(tmp_path, commit=False)
    (root / "models/iris.yaml").rename(root / "models/flowers.yaml")
    assert list(load_project(root).models) == ["iris"]


def test_all_problems_of_all_files_in_one_run(tmp_path: Path) -> None:
    root = make_repo(tmp_path, models=("a", "b", "c"), commit=False)
    (root / "models/a.yaml").write_text("apiVersion: mlopsctl/v1\nkind: Model\nname: [a\n")
    text = (root / "models/b.yaml").read_text().replace("n_estimators: 20", "n_estimators: lots")
    (root / "models/b.yaml").write_text(text.replace("estimator:", "estimater:\n  class: x.Y\nestimator:"))
    (root / "models/c.yaml").write_text((root / "models/c.yaml").read_text() + "serve:\n  prod: {version: 1}\n")
    with pytest.raises(SpecError) as e:
        load_project(root, cache=False)
    assert where(e.value.problems) == [
        ("models/a.yaml", 4, ""),
        ("models/b.yaml", 26, "estimater"),
        ("models/c.yaml", 41, "serve.prod"),
    ]
    assert "3 problems in the specs:" in str(e.value)


def test_wrong_kind_and_api_version(tmp_path: Path) -> None:
    root = make_repo(tmp_path, commit=False)
    spec = root / "models/iris.yaml"
    spec.write_text(spec.read_text().replace("kind: Model", "kind: Project"))
    (p,) = problems_of(root)
    assert (p.location.file, p.location.line, p.path) == ("models/iris.yaml", 2, "kind")
    assert p.message == "expected kind 'Model' in models/, got a string ('Project')"
    assert p.hint == "the Project spec belongs in mlops.yaml"
    spec.write_text(spec.read_text().replace("kind: Project", "kind: model"))
    assert problems_of(root)[0].hint == "did you mean 'Model'?"
    spec.write_text(spec.read_text().replace("kind: model", "kind: Model").replace("mlopsctl/v1", "mlopsctl/v2"))
    (p,) = problems_of(root)
    assert (p.location.line, p.path) == (1, "apiVersion")
    assert p.message == "unsupported apiVersion 'mlopsctl/v2'; expected 'mlopsctl/v1'"


def test_missing_project_file_when_root_is_given(tmp_path: Path) -> None:
    project, found = collect_problems(tmp_path)
    assert project is None
    assert [p.message for p in found] == ["mlops.yaml is missing"]


def test_duplicate_model_names_reported_in_both_places(tmp_path: Path) -> None:
    root = make_repo(tmp_path, models=("iris",), commit=False)
    write_tree(root, {"models/copy.yaml": (root / "models/iris.yaml").read_text()})
    found = problems_of(root)
    assert where(found) == [("models/copy.yaml", 3, "name"), ("models/iris.yaml", 3, "name")]
    assert found[0].message == "model name 'iris' is also used by models/iris.yaml:3:1; model names must be unique"


def test_unknown_environments(tmp_path: Path) -> None:
    root = make_repo(tmp_path, commit=False, model={
        "serve": {"stagin": {"version": "latest"}},
        "gates": {"no_worse_than": {"environment": "prod", "metric": "accuracy"}},
    })
    found = problems_of(root)
    assert where(found) == [
        ("models/iris.yaml", 41, "gates.no_worse_than.environment"),
        ("models/iris.yaml", 44, "serve.stagin"),
    ]
    assert found[1].message == "unknown environment 'stagin'; the project's environments are: staging, production"
    assert found[1].hint == "did you mean 'staging'?"


def test_gate_metrics_must_be_computed(tmp_path: Path) -> None:
    root = make_repo(tmp_path, commit=False, model={"gates": {"acuracy": ">= 0.8"}})
    (p,) = problems_of(root)
    assert p.path == "gates.acuracy" and p.hint == "did you mean 'accuracy'?"


def test_target_as_feature_and_min_above_max(tmp_path: Path) -> None:
    root = make_repo(tmp_path, commit=False, model={
        "features": {"species": {"type": "category"}, "sepal_length": {"min": 10, "max": 5}},
    })
    found = problems_of(root)
    assert [p.path for p in found] == ["features.sepal_length.min", "features.species"]
    assert found[0].message == "min 10 is greater than max 5"


def test_environments_need_their_own_ports(tmp_path: Path) -> None:
    root = make_repo(tmp_path, commit=False, project={"environments": {"production": {"port": 8101}}})
    (p,) = problems_of(root)
    assert (p.location.file, p.path) == ("mlops.yaml", "environments.production.port")
    assert p.message == "port 8101 is also used by environment 'staging'; each environment needs its own port"


def test_two_deployments_on_one_address_are_reported_with_both_locations(tmp_path: Path) -> None:
    root = make_repo(tmp_path, commit=False, models=("iris", "wine"),
                     model={"serve": {"staging": {"version": "latest"}}})
    assert problems_of(root) == []  # the builder gives the second model its own port
    wine = (root / "models/wine.yaml").read_text()
    (root / "models/wine.yaml").write_text(wine.replace("port: 8201", "port: 8101"))
    found = problems_of(root)
    assert [(p.location.file, p.path) for p in found] == [
        ("models/iris.yaml", "serve.staging"), ("models/wine.yaml", "serve.staging.port")]
    iris, wine_p = found
    assert wine_p.message.startswith(
        "deployment.wine.staging would bind 127.0.0.1:8101 (models/wine.yaml:")
    assert "which deployment.iris.staging binds too (models/iris.yaml:" in wine_p.message
    assert iris.message.startswith("deployment.iris.staging would bind 127.0.0.1:8101 (environments.staging.port)")
    assert "which deployment.wine.staging binds too (models/wine.yaml:" in iris.message
    assert iris.hint == "give one of them its own port: serve.staging.port in models/wine.yaml"


def test_two_models_on_the_environment_port_collide(tmp_path: Path) -> None:
    root = make_repo(tmp_path, commit=False, models=("iris", "wine"),
                     model={"serve": {"staging": {"version": "latest"}}})
    wine = (root / "models/wine.yaml").read_text()
    (root / "models/wine.yaml").write_text(wine.replace("\n    port: 8201", ""))
    found = problems_of(root)
    assert [(p.location.file, p.path) for p in found] == [
        ("models/iris.yaml", "serve.staging"), ("models/wine.yaml", "serve.staging")]


@pytest.mark.parametrize(("path", "expected"), [
    ("data/missing.csv", "'data/missing.csv' does not exist (nor data/missing.csv.dvc); add the data file or fix the path"),
    ("/etc/passwd", "expected a path relative to the repository root, got '/etc/passwd'"),
    ("../outside.csv", "'../outside.csv' leads outside the repository; data must live inside it"),
    ("data/../../outside.csv", "'data/../../outside.csv' leads outside the repository; data must live inside it"),
])
def test_bad_data_paths(tmp_path: Path, path: str, expected: str) -> None:
    root = make_repo(tmp_path, commit=False, model={"data": {"path": path}})
    (tmp_path / "outside.csv").write_text("x\n")
    (p,) = problems_of(root)
    assert (p.location.file, p.location.line, p.location.column, p.path) == ("models/iris.yaml", 7, 3, "data.path")
    assert p.message == expected
    assert " > 7 |   path: " in p.excerpt


def test_data_path_through_a_symlink(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "iris.csv").write_text("x\n")
    root = make_repo(tmp_path, commit=False, model={"data": {"path": "data/link/iris.csv"}})
    (root / "data/link").symlink_to(outside)
    (p,) = problems_of(root)
    assert "leads outside the repository through a symlink" in p.message
    (root / "data/link").unlink()
    (root / "data/link").symlink_to(root / "data")  # a symlink that stays inside is fine
    assert problems_of(root) == []


def test_dvc_tracked_data_may_be_absent(tmp_path: Path) -> None:
    root = make_repo(tmp_path, commit=False)
    (root / "data/iris.csv").unlink()
    assert len(problems_of(root)) == 1
    (root / "data/iris.csv.dvc").write_text("outs:\n- md5: 0\n  path: iris.csv\n")
    assert problems_of(root) == []
    (root / "data/iris.csv.dvc").unlink()
    (root / "data.dvc").write_text("outs:\n- path: data\n")  # the whole folder is tracked
    assert problems_of(root) == []


# ----------------------------------------------------------------------------- the cache


def cache_file(root: Path) -> Path:
    return root / ".mlopsctl/cache/specs.json"


def cache_entries(root: Path) -> dict[str, Any]:
    """The cache's entries: its lines after the stamp, each ``[path, entry]``."""
    stamp, *lines = cache_file(root).read_text().split("\n")
    assert "stamp" in json.loads(stamp)
    return dict(json.loads(line) for line in lines)


def write_cache_entries(root: Path, entries: dict[str, Any]) -> None:
    stamp = cache_file(root).read_text().split("\n")[0]
    cache_file(root).write_text("\n".join([stamp, *(json.dumps([k, v]) for k, v in entries.items())]))


def test_cache_hit_gives_the_same_project(tmp_path: Path) -> None:
    root = make_repo(tmp_path, models=("iris", "wine"), commit=False)
    age(root)
    cold = load_project(root)
    assert cache_file(root).is_file()
    assert not [p for p in cache_file(root).parent.iterdir() if p.name != "specs.json"]  # no temp files left
    warm = load_project(root)
    assert warm == cold
    assert cache_entries(root).keys() == {"mlops.yaml", "models/iris.yaml", "models/wine.yaml"}


def test_cache_notices_edits_and_never_hides_problems(tmp_path: Path) -> None:
    root = make_repo(tmp_path, commit=False)
    age(root)
    load_project(root)
    spec = root / "models/iris.yaml"
    spec.write_text(spec.read_text().replace("n_estimators: 20", "n_estimators: 30"))
    age(root)
    assert load_project(root).models["iris"].data["estimator"]["params"]["n_estimators"] == 30
    spec.write_text(spec.read_text().replace("kind: Model", "kind: Modle"))
    age(root)
    for _ in range(2):  # an invalid document is not cached: the problem shows every time
        with pytest.raises(SpecError):
            load_project(root)
    assert "models/iris.yaml" not in cache_entries(root)


def test_cross_checks_run_on_cached_documents(tmp_path: Path) -> None:
    root = make_repo(tmp_path, commit=False)
    age(root)
    load_project(root)
    (root / "data/iris.csv").unlink()
    with pytest.raises(SpecError) as e:
        load_project(root)
    assert [p.path for p in e.value.problems] == ["data.path"]
    assert e.value.problems[0].excerpt  # read from the file even though the document came from the cache


@pytest.mark.parametrize("content", ["{not json", '{"stamp": "v0|other", "entries": {}}', "[]", "",
                                     '{"stamp": null, "entries": {"models/iris.yaml": 1}}',
                                     '{"stamp": "v2|x"}\n["models/iris.yaml", 1]', "\n\n"])
def test_corrupt_or_foreign_cache_is_ignored(tmp_path: Path, content: str) -> None:
    root = make_repo(tmp_path, commit=False)
    age(root)
    cache_file(root).parent.mkdir(parents=True)
    cache_file(root).write_text(content)
    assert list(load_project(root).models) == ["iris"]
    assert cache_entries(root)  # rebuilt


def test_cache_entry_with_bad_fields_is_ignored(tmp_path: Path) -> None:
    root = make_repo(tmp_path, commit=False)
    age(root)
    load_project(root)
    entries = cache_entries(root)
    entries["models/iris.yaml"]["pos"] = "garbage"
    write_cache_entries(root, entries)
    assert list(load_project(root).models) == ["iris"]
    assert cache_entries(root)["models/iris.yaml"]["pos"] != "garbage"  # parsed again, and kept right


def test_an_edit_rewrites_its_entry_and_keeps_the_others_as_they_were(tmp_path: Path) -> None:
    root = make_repo(tmp_path, models=("iris", "wine"), commit=False)
    age(root)
    load_project(root)
    entries = cache_entries(root)
    # The same entries spelled with spaces: equal when read, but not the text mlopsctl writes.
    write_cache_entries(root, entries)
    spaced = cache_file(root).read_text().split("\n")
    spec = root / "models/iris.yaml"
    spec.write_text(spec.read_text().replace("n_estimators: 20", "n_estimators: 30"))
    past = time.time() - 30
    os.utime(spec, (past, past))  # only this spec moves
    assert load_project(root).models["iris"].data["estimator"]["params"]["n_estimators"] == 30
    lines = cache_file(root).read_text().split("\n")
    wine = [line for line in lines if line.startswith('["models/wine.yaml"')]
    assert wine and wine[0] in spaced  # written back as read
    iris = [line for line in lines if line.startswith('["models/iris.yaml"')]
    assert iris and iris[0] not in spaced and json.loads(iris[0])[1]["data"]["estimator"]["params"]["n_estimators"] == 30


def test_warm_load_imports_neither_ruamel_nor_jsonschema(tmp_path: Path) -> None:
    root = make_repo(tmp_path, models=("iris", "wine"), commit=False)
    age(root)
    load_project(root)
    code = (
        "import sys\n"
        "from mlopsctl.specs.load import load_project\n"
        f"p = load_project({str(root)!r})\n"
        "assert sorted(p.models) == ['iris', 'wine']\n"
        "print(sorted(m for m in sys.modules if m.startswith(('ruamel', 'jsonschema'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert out.stdout.strip() == "[]"


def test_warm_load_of_many_models_parses_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unchanged documents come from the cache: a warm load of 300 models parses no YAML
    (benchmarks/bench_noop_plan.py has the timings)."""
    from mlopsctl.specs import yamlio

    root = make_repo(tmp_path, models=(), commit=False)
    tree: dict[str, str | bytes] = {"data/iris.csv": "x\n"}
    for i in range(300):
        tree[f"models/m{i}.yaml"] = to_yaml(model_spec(f"m{i}", data={"path": "data/iris.csv"}))
    write_tree(root, tree)
    age(root)
    load_project(root)
    parsed: list[str] = []
    real_parse = yamlio.parse
    monkeypatch.setattr(yamlio, "parse", lambda rel, raw: parsed.append(rel) or real_parse(rel, raw))
    project = load_project(root)
    assert len(project.models) == 300
    assert parsed == []
