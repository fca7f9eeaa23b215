"""``mlopsctl new``: a model repository that works on its first apply, created offline.

The data comes from scikit-learn's bundled datasets (no download), the specs are rendered from
``templates/scaffold/`` with features derived from that data, and the repository gets a first
commit so ``plan`` has a Git HEAD to pin. The CSV is written but not committed: it is data for
DVC to track, so ``data/.gitignore`` says exactly what ``dvc add`` would. Every byte written
depends only on the arguments, so running it twice gives identical files (the bundled example
under ``examples/`` is checked against a fresh run).
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlopsctl.errors import MlopsError, UnavailableError
from mlopsctl.specs.project import DEFAULT_BASE_IMAGE

MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# Used only when neither Git config nor the environment names anyone: a bare CI machine must
# still be able to make the first commit.
FALLBACK_IDENTITY = {"user.name": "mlopsctl", "user.email": "mlopsctl@localhost"}


@dataclass(frozen=True)
class Dataset:
    columns: tuple[str, ...]
    """Feature columns, then the target (the CSV header)."""
    rows: list[tuple[Any, ...]]
    target: str
    source: str
    """Where the data comes from, for the README."""


@dataclass(frozen=True)
class Template:
    name: str
    default_model: str
    description: str
    load: Callable[[], Dataset]


def _iris() -> Dataset:
    from sklearn.datasets import load_iris

    bunch = load_iris()
    species = [str(bunch.target_names[i]) for i in bunch.target]
    columns = ("sepal_length", "sepal_width", "petal_length", "petal_width", "species")
    rows = [(*(float(v) for v in x), s) for x, s in zip(bunch.data, species, strict=True)]
    return Dataset(columns, rows, "species", "scikit-learn's bundled copy of Fisher's iris data (150 flowers)")


def _diabetes() -> Dataset:
    from sklearn.datasets import load_diabetes

    # Unscaled, so the data contract reads in real units (age in years, bmi, blood pressure...).
    bunch = load_diabetes(scaled=False)
    columns = (*(str(n) for n in bunch.feature_names), "progression")
    rows = [(*(float(v) for v in x), float(y)) for x, y in zip(bunch.data, bunch.target, strict=True)]
    return Dataset(
        columns, rows, "progression", "scikit-learn's bundled diabetes data (442 patients, Efron et al. 2004)"
    )


TEMPLATES: dict[str, Template] = {
    "classifier": Template("classifier", "iris", "Iris species classifier", _iris),
    "regressor": Template("regressor", "diabetes", "Diabetes progression regressor", _diabetes),
}


def derive_features(dataset: Dataset) -> dict[str, dict[str, Any]]:
    """The data contract the data itself satisfies: type, ``min: 0`` where no value is negative,
    the set of values for categories. Bounds beyond that would reject plausible requests."""
    features: dict[str, dict[str, Any]] = {}
    for i, column in enumerate(dataset.columns):
        if column == dataset.target:
            continue
        values = [row[i] for row in dataset.rows]
        if all(isinstance(v, bool) for v in values):
            features[column] = {"type": "bool"}
        elif all(isinstance(v, (int, float)) for v in values):
            spec: dict[str, Any] = {"type": "int" if all(float(v).is_integer() for v in values) else "float"}
            if min(values) >= 0:
                spec["min"] = 0
            features[column] = spec
        else:
            features[column] = {"type": "category", "values": sorted({str(v) for v in values})}
    return features


def csv_text(dataset: Dataset) -> str:
    """The CSV: whole-number columns without a trailing ``.0``, floats in their shortest exact form."""
    integral = {
        col
        for i, col in enumerate(dataset.columns)
        if all(isinstance(row[i], (int, float)) and float(row[i]).is_integer() for row in dataset.rows)
    }
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(dataset.columns)
    for row in dataset.rows:
        writer.writerow(
            [
                str(int(v)) if col in integral else repr(v) if isinstance(v, float) else v
                for col, v in zip(dataset.columns, row, strict=True)
            ]
        )
    return out.getvalue()


def flow(value: Any) -> str:
    """A one-line YAML flow mapping/sequence, strings quoted only where YAML would misread them."""
    from mlopsctl.files.templating import toyaml

    if isinstance(value, dict):
        return "{" + ", ".join(f"{flow(str(k))}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return toyaml(value)


def project_name_for(path: Path, model: str) -> str:
    """A valid project name from the directory name (``My Repo`` -> ``my-repo``)."""
    name = re.sub(r"[^a-z0-9]+", "-", path.name.lower()).strip("-")[:63].strip("-")
    return name if PROJECT_NAME.fullmatch(name) else model.replace("_", "-")


DEFAULT_PORTS = (8101, 8102)


def render_files(
    path: Path, template: str = "classifier", name: str | None = None, base_image: str | None = None,
    ports: tuple[int, int] = DEFAULT_PORTS,
) -> dict[str, str]:
    """Every file ``new`` writes (repository-relative path -> text), without touching the disk.

    ``ports``: the staging and production ports (``mlopsctl new`` picks ones free on the machine).
    """
    from mlopsctl import __version__
    from mlopsctl.files.templating import render

    if template not in TEMPLATES:
        raise MlopsError(f"unknown template {template!r}: expected one of {', '.join(sorted(TEMPLATES))}")
    tpl = TEMPLATES[template]
    model = tpl.default_model if name is None else name
    if not MODEL_NAME.fullmatch(model):
        raise MlopsError(
            f"invalid model name {model!r}: expected lowercase letters, digits, '_' and '-', "
            "starting with a letter or digit (at most 63 characters)"
        )
    if base_image is not None:
        from mlopsctl.files.escape import IMAGE_REF

        if not IMAGE_REF.fullmatch(base_image):
            raise MlopsError(f"invalid base image {base_image!r}: expected an image reference such as python:3.11-slim")
    dataset = tpl.load()
    features = derive_features(dataset)
    project = project_name_for(path, model)
    context = {
        "project": project,
        "project_yaml": flow(project),
        "model_yaml": flow(model),
        "data_yaml": flow({"path": f"data/{model}.csv", "target": dataset.target}),
        "model": model,
        "description": tpl.description,
        "template": template,
        "data_path": f"data/{model}.csv",
        "target": dataset.target,
        "source": dataset.source,
        "rows": len(dataset.rows),
        "features": [(k, flow(v)) for k, v in features.items()],
        "remote_url": f"../{path.name}-dvc-remote",
        "version": __version__,
        "base_image": flow(base_image or DEFAULT_BASE_IMAGE),
        "ports": {"staging": ports[0], "production": ports[1]},
    }
    files = {
        ".gitignore": render("scaffold/_common/gitignore.j2", context),
        "README.md": render("scaffold/_common/README.md.j2", context),
        "mlops.yaml": render("scaffold/_common/mlops.yaml.j2", context),
        f"models/{model}.yaml": render(f"scaffold/{template}/model.yaml.j2", context),
        "data/.gitignore": f"/{model}.csv\n",
        f"data/{model}.csv": csv_text(dataset),
    }
    return files


@dataclass(frozen=True)
class Scaffolded:
    path: Path
    model: str
    project: str
    files: tuple[str, ...]
    commit: str


def scaffold(
    path: Path, template: str = "classifier", name: str | None = None, base_image: str | None = None,
    ports: tuple[int, int] = DEFAULT_PORTS,
) -> Scaffolded:
    """Create the repository at ``path`` (new or empty directory) with a first commit on ``main``."""
    path = Path(path)
    _check_target(path)
    if shutil.which("git") is None:
        raise UnavailableError("mlopsctl new needs git, which is not installed (or not on PATH)")
    files = render_files(path.resolve(), template, name, base_image, ports)  # all checks and rendering before any write
    model = next(p for p in files if p.startswith("models/"))[len("models/") : -len(".yaml")]
    existed = path.exists()
    try:
        for rel, text in files.items():
            target = path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
        commit = _git_init_and_commit(path, f"Scaffold model {model} with mlopsctl new ({template})")
    except BaseException:
        _undo(path, existed)
        raise
    project = project_name_for(path.resolve(), model)
    return Scaffolded(path, model, project, tuple(files), commit)


def _check_target(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise MlopsError(f"{path} exists and is not a directory; mlopsctl new needs a new or empty directory")
    if path.is_dir():
        entries = sorted(p.name for p in path.iterdir())
        if entries:
            shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
            raise MlopsError(
                f"{path} is not empty ({shown}); mlopsctl new only writes into a new or empty directory, "
                "so nothing was written"
            )


def _undo(path: Path, existed: bool) -> None:
    """Remove what a failed run wrote: the directory was new or empty, so all of it is ours."""
    if not existed:
        shutil.rmtree(path, ignore_errors=True)
        return
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _git_init_and_commit(path: Path, message: str) -> str:
    from mlopsctl.workspace import git

    git.run(path, "init", "-q")
    # Set the branch this way rather than `init -b` (git >= 2.28) so older gits work too.
    git.run(path, "symbolic-ref", "HEAD", "refs/heads/main")
    for key, env in (("user.name", ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME")), ("user.email", _EMAIL_ENV)):
        configured = (git.output(path, "config", "--get", key) or b"").strip()
        if not configured and not all(os.environ.get(e) for e in env):
            git.run(path, "config", key, FALLBACK_IDENTITY[key])
    git.run(path, "add", "-A")
    git.run(path, "commit", "-q", "-m", message)
    return git.run(path, "rev-parse", "HEAD").strip()


_EMAIL_ENV: Sequence[str] = ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL")
