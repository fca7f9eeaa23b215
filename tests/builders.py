"""Builders for real temporary repositories, shared by every test and by the benchmarks.

The specs written here follow the agreed spec shape (schemas/ is the contract); tests that need
something else pass ``project=``/``model=`` overrides or their own file contents. Plain Python
only (no pytest, no heavy imports) so benchmarks can use these too.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# A fixed identity so commits and tags work on a bare CI machine with no git config at all.
GIT_ENV: dict[str, str] = {
    "GIT_AUTHOR_NAME": "mlopsctl tests",
    "GIT_AUTHOR_EMAIL": "tests@mlopsctl.invalid",
    "GIT_COMMITTER_NAME": "mlopsctl tests",
    "GIT_COMMITTER_EMAIL": "tests@mlopsctl.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    # Keep commit hashes reproducible between runs of one test.
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00+00:00",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00+00:00",
}

FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
SPECIES = ("setosa", "versicolor", "virginica")


def git(repo: str | os.PathLike[str], *args: str, check: bool = True) -> str:
    """Run git in ``repo`` with a fixed identity; returns stdout (stripped).

    Raises ``subprocess.CalledProcessError`` with git's stderr in the message on failure.
    """
    env = {**os.environ, **GIT_ENV}
    proc = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise subprocess.CalledProcessError(
            proc.returncode, ["git", *args], proc.stdout, f"git {' '.join(args)} failed:\n{proc.stderr}"
        )
    return proc.stdout.strip()


def write_tree(root: str | os.PathLike[str], tree: Mapping[str, str | bytes]) -> Path:
    """Write ``{relpath: content}`` under ``root`` (parents created); str is written as UTF-8."""
    base = Path(root)
    for rel, content in tree.items():
        target = base / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return base


def deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` with ``override`` merged in; a value of None removes the key."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def project_spec(name: str = "demo", **overrides: Any) -> dict[str, Any]:
    """A valid ``mlops.yaml`` document as data (overrides deep-merged, None removes a key)."""
    doc: dict[str, Any] = {
        "apiVersion": "mlopsctl/v1",
        "kind": "Project",
        "name": name,
        "environments": {"staging": {"port": 8101}, "production": {"port": 8102}},
        "data": {"remote": {"name": "local", "url": "../dvc-remote"}},
        "registry": {"type": "git"},
        "images": {"base": "python:3.11-slim", "ca_certificates": [], "repository": None},
        "ci": {"python": "3.11", "install": "mlopsctl==0.1.0", "default_branch": "main"},
    }
    # "repository: null" is part of the agreed shape; keep it unless removed explicitly.
    return deep_merge(doc, overrides) if overrides else doc


def model_spec(name: str = "iris", **overrides: Any) -> dict[str, Any]:
    """A valid ``models/<name>.yaml`` classifier document as data, on ``data/<name>.csv``."""
    doc: dict[str, Any] = {
        "apiVersion": "mlopsctl/v1",
        "kind": "Model",
        "name": name,
        "description": f"{name} species classifier",
        "task": "classification",
        "data": {"path": f"data/{name}.csv", "target": "species"},
        "features": {f: {"type": "float", "min": 0, "max": 100} for f in FEATURES},
        "estimator": {
            "class": "sklearn.ensemble.RandomForestClassifier",
            "params": {"n_estimators": 20, "random_state": 0},
        },
        "split": {"test_size": 0.25, "random_state": 0, "stratify": True},
        "metrics": ["accuracy", "f1_macro"],
        "gates": {"accuracy": ">= 0.8"},
        # No "serve" by default: serving adds image and deployment resources that need a
        # Docker engine; tests about serving pass model={"serve": {...}}.
    }
    return deep_merge(doc, overrides) if overrides else doc


def iris_like_csv(rows_per_class: int = 30, seed: int = 0) -> str:
    """A small, well separated iris-like CSV (header + rows), deterministic for a seed.

    Made here rather than loaded from scikit-learn so builders stay light and offline.
    """
    rng = random.Random(seed)
    centres = {
        "setosa": (5.0, 3.4, 1.5, 0.2),
        "versicolor": (5.9, 2.8, 4.3, 1.3),
        "virginica": (6.6, 3.0, 5.6, 2.0),
    }
    lines = [",".join((*FEATURES, "species"))]
    for _ in range(rows_per_class):
        for species in SPECIES:
            values = [max(0.1, rng.gauss(c, 0.15)) for c in centres[species]]
            lines.append(",".join(f"{v:.1f}" for v in values) + f",{species}")
    return "\n".join(lines) + "\n"


def to_yaml(doc: Mapping[str, Any]) -> str:
    """Block-style YAML for a spec document (JSON scalars are valid YAML, so no yaml import)."""
    out: list[str] = []
    _emit(doc, 0, out)
    return "\n".join(out) + "\n"


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def _key(key: Any) -> str:
    text = str(key)
    return text if _PLAIN_KEY.fullmatch(text) else _quoted(text)


_PLAIN_STR = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*( [A-Za-z0-9_./-]+)*")
_YAML_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}


def _scalar(value: Any) -> str:
    # Plain strings where YAML reads them back as the same string; JSON quoting otherwise
    # (JSON scalars are valid YAML: True -> true, None -> null, numbers as is).
    if isinstance(value, str) and _PLAIN_STR.fullmatch(value) and value.lower() not in _YAML_WORDS:
        return value
    return _quoted(value) if isinstance(value, str) else json.dumps(value)


def _quoted(text: str) -> str:
    # Not json.dumps alone: YAML readers do not join its \ud83d\ude00 surrogate pairs, so astral
    # characters stay raw; what YAML may not hold raw becomes a \uXXXX escape.
    return _NOT_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False))


_NOT_RAW = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")


def _emit(value: Any, indent: int, out: list[str]) -> None:
    pad = " " * indent
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(item, (Mapping, list)) and item:
                out.append(f"{pad}{_key(key)}:")
                _emit(item, indent + 2, out)
            else:
                out.append(f"{pad}{_key(key)}: {_inline(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping) and item:
                sub: list[str] = []
                _emit(item, indent + 2, sub)
                first = sub[0].lstrip()
                out.append(f"{pad}- {first}")
                out.extend(sub[1:])
            else:
                out.append(f"{pad}- {_inline(item)}")
    else:
        out.append(pad + _inline(value))


def _inline(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{}" if not value else "{" + ", ".join(f"{_key(k)}: {_inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return _scalar(value)


def make_repo(
    tmp_path: str | os.PathLike[str],
    *,
    models: Sequence[str] = ("iris",),
    files: Mapping[str, str | bytes] | None = None,
    commit: bool = True,
    name: str = "repo",
    project: Mapping[str, Any] | None = None,
    model: Mapping[str, Any] | None = None,
) -> Path:
    """A real Git repository at ``tmp_path/name`` with valid specs, one CSV per model, and a commit.

    ``project``/``model`` are deep-merged into every generated spec (None removes a key);
    ``files`` are written last, so they may replace a generated spec or CSV with other content.
    The DVC remote of the generated project is a sibling folder (``../dvc-remote``), so the
    repository is self-contained under ``tmp_path``.
    """
    root = Path(tmp_path) / name
    root.mkdir(parents=True, exist_ok=False)
    tree: dict[str, str | bytes] = {
        "mlops.yaml": to_yaml(project_spec(**dict(project or {}))),
        ".gitignore": ".mlopsctl/\n__pycache__/\n",
    }
    if not models:
        tree["models/.gitkeep"] = ""  # a missing models/ folder is an error, an empty one is not
    envs = project_spec(**dict(project or {})).get("environments") or {}
    for i, model_name in enumerate(models):
        spec = copy.deepcopy(model_spec(model_name, **dict(model or {})))
        for env, entry in (spec.get("serve") or {}).items() if i else ():
            # Every model after the first serves on its own port: two deployments on one address are invalid.
            port = (envs.get(env) or {}).get("port")
            if isinstance(entry, dict) and "port" not in entry and isinstance(port, int):
                entry["port"] = port + 100 * i
        tree[f"models/{model_name}.yaml"] = to_yaml(spec)
        tree[f"data/{model_name}.csv"] = iris_like_csv(seed=i)
    tree.update(files or {})
    write_tree(root, tree)
    (Path(tmp_path) / "dvc-remote").mkdir(exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    if commit:
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "Initial specs")
    return root


def mlopsctl_command() -> list[str]:
    """The console script of the running interpreter's environment (the venv's ``mlopsctl``)."""
    script = Path(sys.executable).parent / "mlopsctl"
    return [str(script)] if script.exists() else [sys.executable, "-m", "mlopsctl"]


_DEFAULT_SIGINT = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                   "os.execv(sys.argv[1], sys.argv[1:])")


def interruptible(cmd: Sequence[str]) -> list[str]:
    """``cmd`` for a child a test interrupts with SIGINT (same process: started through ``exec``):
    Ctrl-C acts as in a terminal even when the test run itself was started in the background,
    where SIGINT is ignored and every child inherits that."""
    return [sys.executable, "-c", _DEFAULT_SIGINT, *cmd]


def in_new_interpreter(module: str, scenario: str, path: Path, env: Mapping[str, str] | None = None,
                       timeout: float = 300) -> None:
    """Run ``scenario(path)``, a function of the test module ``module`` ("tests.core.test_readers"),
    in a new interpreter, and fail with its output unless it passes: a helper process is only ever
    forked from a process without threads, and the test run may have some (servers other tests start)."""
    code = f"from pathlib import Path; import {module} as t; t.{scenario}(Path({str(path)!r}))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def run_mlopsctl(
    args: Sequence[str],
    cwd: str | os.PathLike[str],
    *,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run the real ``mlopsctl ARGS`` in ``cwd``; never raises on a non-zero exit.

    stdin is empty unless ``input`` is given, so commands see no TTY, as in CI.
    """
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [*mlopsctl_command(), *args],
        cwd=cwd,
        env=full_env,
        input=input,
        stdin=subprocess.DEVNULL if input is None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    The generated project publishes staging/production on 8101/8102 (the agreed defaults), which a
    running quick start example also uses; tests that really deploy should pass
    ``project={"environments": {"staging": {"port": free_port()}, ...}}``.
    """
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sklearn_iris_csv() -> str:
    """scikit-learn's bundled iris data with the column names of :func:`model_spec` (real, and
    hard enough that models differ in accuracy, unlike :func:`iris_like_csv`)."""
    from sklearn.datasets import load_iris

    ds = load_iris()
    lines = [",".join((*FEATURES, "species"))]
    lines += [",".join(f"{v:g}" for v in row) + f",{ds.target_names[t]}" for row, t in zip(ds.data, ds.target,
                                                                                             strict=True)]
    return "\n".join(lines) + "\n"
